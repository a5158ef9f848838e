// Automatic rotation of the barrier's data key (§5), driven through the core's own messages on a real LMDB
// environment with a clock the test moves: by interval, by encryption count (including counts the workers
// report), by the one-year ceiling even when disabled; counts written to core/keyring survive a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CofferError } from '../../runtime/errors.js';
import { CoreNode } from './core.js';

const DAY = 24 * 3600 * 1000;

describe('automatic keyring rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-autorotate-'));
  let now = Date.parse('2026-01-01T00:00:00Z');
  const open = () => CoreNode.open({ dataDir: dir, rawStorageEndpoint: false, nowMs: () => now });
  let core = open();
  let root = '';
  let unsealKey = '';
  const term = async () => (await core.handle({ t: 'key-status', token: root })).term;
  after(async () => {
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates by interval, by count (worker reports included), and at a year even when disabled', async () => {
    const init = await core.handle({ t: 'init', secretShares: 1, secretThreshold: 1, pgpKeys: [], rootTokenPgpKey: '', hasRecoveryParams: false });
    root = init.root_token;
    unsealKey = init.keys_base64[0] as string;
    await core.handle({ t: 'unseal', key: unsealKey, reset: false });
    assert.deepEqual(await core.handle({ t: 'rotation-config', token: root }), { max_operations: 3_865_470_566, enabled: true, interval: 0 });
    assert.equal(await core.autoRotate(), false);

    await core.handle({ t: 'rotation-config-write', token: root, maxOperations: 1_000_000, interval: '48h', enabled: undefined });
    assert.deepEqual(await core.handle({ t: 'rotation-config', token: root }), { max_operations: 1_000_000, enabled: true, interval: '48h0m0s' });
    now += 47 * 3600 * 1000;
    assert.equal(await core.autoRotate(), false);
    now += 2 * 3600 * 1000;
    assert.equal(await core.autoRotate(), true);
    assert.equal(await term(), 2);

    // Encryptions reported by workers count towards the limit.
    await core.handle({ t: 'encryptions', counts: [[2, 999_990]] });
    assert.equal(await core.autoRotate(), false);
    await core.handle({ t: 'encryptions', counts: [[2, 10], [1, 5]] });
    assert.equal(await core.autoRotate(), true);
    assert.equal(await term(), 3);

    // Disabled: neither count nor interval rotates, but a term a year old does.
    await core.handle({ t: 'rotation-config-write', token: root, maxOperations: undefined, interval: undefined, enabled: false });
    await core.handle({ t: 'encryptions', counts: [[3, 2_000_000]] });
    now += 300 * DAY;
    assert.equal(await core.autoRotate(), false);
    now += 66 * DAY;
    assert.equal(await core.autoRotate(), true);
    assert.equal(await term(), 4);
  });

  it('refuses out-of-range settings with Vault\'s messages, and non-root callers', async () => {
    const write = (f: { maxOperations?: unknown; interval?: unknown; enabled?: unknown }, token = root) =>
      core.handle({ t: 'rotation-config-write', token, maxOperations: f.maxOperations, interval: f.interval, enabled: f.enabled });
    const refused = async (p: Promise<unknown>, message: string) =>
      assert.rejects(p, (e: unknown) => e instanceof CofferError && e.value.messages[0] === message);
    await refused(write({ interval: '1h' }), 'interval must be greater or equal to 24h0m0s');
    await refused(write({ maxOperations: 5 }), 'max_operations must be in the range [1000000,3865470566]');
    await refused(write({ maxOperations: 4_000_000_000 }), 'max_operations must be in the range [1000000,3865470566]');
    await refused(write({ maxOperations: 'many' }), 'error converting input for field "max_operations": expected an integer');
    await assert.rejects(write({ interval: '72h' }, 's.notarealtoken0000000000'), (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_PERMISSION_DENIED');
    assert.deepEqual(await core.handle({ t: 'rotation-config', token: root }), { max_operations: 1_000_000, enabled: false, interval: '48h0m0s' });
  });

  it('counts reach core/keyring once they grew by 1% of the limit, and survive a restart', async () => {
    await core.handle({ t: 'rotation-config-write', token: root, maxOperations: 1_000_000, interval: 0, enabled: true });
    await core.handle({ t: 'encryptions', counts: [[4, 25_000]] });
    assert.equal(await core.autoRotate(), false); // writes the counts
    await core.handle({ t: 'encryptions', counts: [[4, 5_000]] }); // below 1% more: stays in memory
    assert.equal(await core.autoRotate(), false);
    await core.close();
    core = open();
    await core.handle({ t: 'unseal', key: unsealKey, reset: false });
    const status = await core.handle({ t: 'key-status', token: root });
    assert.equal(status.term, 4);
    assert.ok(status.encryptions >= 25_000 && status.encryptions < 30_000, `encryptions after restart: ${status.encryptions}`);
    assert.deepEqual(await core.handle({ t: 'rotation-config', token: root }), { max_operations: 1_000_000, enabled: true, interval: 0 });
  });
});
