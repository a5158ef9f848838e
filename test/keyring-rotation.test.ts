// The barrier's automatic rotation settings over HTTP (sys/rotate/keyring/config and its alias
// sys/rotate/config) on a dev server process, and the encryption count sys/key-status reports: the
// handler workers' encryptions reach the core (actors/barrier/encryption-reports.ts), so the count that
// decides an automatic rotation grows with every write. The rotation itself: actors/core/auto-rotate.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const ROOT = 'keyring-rotation-root';

describe('sys/rotate/keyring/config and encryption counts over HTTP', () => {
  let dev: ServerProcess;
  const call = (method: string, path: string, body?: unknown, token = ROOT) => http(dev.url, method, path, { token, body });

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
  });
  after(async () => {
    await dev?.kill();
  });

  it('reads and writes the settings with Vault\'s shapes and messages; sudo only', async () => {
    const initial = await call('GET', 'sys/rotate/keyring/config');
    assert.equal(initial.status, 200);
    assert.deepEqual(initial.body.data, { max_operations: 3865470566, enabled: true, interval: 0 });
    assert.equal((await call('POST', 'sys/rotate/keyring/config', { max_operations: 2_000_000, interval: '72h' })).status, 204);
    assert.deepEqual((await call('GET', 'sys/rotate/config')).body.data, { max_operations: 2000000, enabled: true, interval: '72h0m0s' });
    assert.equal((await call('PUT', 'sys/rotate/config', { enabled: false })).status, 204);
    assert.deepEqual((await call('GET', 'sys/rotate/keyring/config')).body.data, { max_operations: 2000000, enabled: false, interval: '72h0m0s' });

    const bad = await call('POST', 'sys/rotate/keyring/config', { interval: '2h' });
    assert.deepEqual([bad.status, bad.body], [400, { errors: ['interval must be greater or equal to 24h0m0s'] }]);
    const range = await call('POST', 'sys/rotate/keyring/config', { max_operations: 10 });
    assert.deepEqual([range.status, range.body], [400, { errors: ['max_operations must be in the range [1000000,3865470566]'] }]);

    assert.equal((await call('PUT', 'sys/policies/acl/rot', { policy: 'path "sys/rotate/*" { capabilities = ["read", "update"] }' })).status, 204);
    const noSudo = (await call('POST', 'auth/token/create', { policies: ['rot'] })).body.auth.client_token as string;
    assert.equal((await call('GET', 'sys/rotate/keyring/config', undefined, noSudo)).status, 403);
    assert.equal((await call('PUT', 'sys/policies/acl/rot', { policy: 'path "sys/rotate/*" { capabilities = ["read", "update", "sudo"] }' })).status, 204);
    assert.equal((await call('GET', 'sys/rotate/keyring/config', undefined, noSudo)).status, 200);
  });

  it('sys/key-status counts the encryptions of the handler workers', async () => {
    const before = (await call('GET', 'sys/key-status')).body.data.encryptions as number;
    for (let i = 0; i < 40; i++) assert.equal((await call('POST', `secret/data/count/${i}`, { data: { v: i } })).status, 200);
    // Each KV v2 write of a new key encrypts at least its metadata and its version; reports come every second.
    let after = before;
    for (let i = 0; i < 50 && after < before + 80; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await call('GET', 'sys/key-status')).body.data.encryptions as number;
    }
    assert.ok(after >= before + 80, `encryptions ${before} -> ${after} after 40 writes`);
  });
});
