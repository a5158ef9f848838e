// sys/tools/random and sys/tools/hash, and the same endpoints on a transit mount, sys/host-info and sys/config/state/sanitized, over HTTP on a dev server
// process (one implementation, transit's): sizes, encodings and algorithms as Vault's, known digests,
// Vault's error messages, and the default policy granting hash but not random.
import assert from 'node:assert/strict';
import { cpus, hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const ROOT = 'tools-root';
const HELLO = Buffer.from('hello').toString('base64');

describe('sys/tools and transit random/hash over HTTP', () => {
  let dev: ServerProcess;
  const call = (method: string, path: string, body?: unknown, token = ROOT) => http(dev.url, method, path, { token, body });

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    assert.equal((await call('POST', 'sys/mounts/transit', { type: 'transit' })).status, 204);
  });
  after(async () => {
    await dev?.kill();
  });

  for (const base of ['sys/tools', 'transit']) {
    it(`${base}/random: 32 base64 bytes by default, counts and sources in the path, hex, Vault's errors`, async () => {
      const a = (await call('POST', `${base}/random`, {})).body.data.random_bytes as string;
      const b = (await call('POST', `${base}/random`, {})).body.data.random_bytes as string;
      assert.equal(Buffer.from(a, 'base64').length, 32);
      assert.notEqual(a, b);
      assert.equal(Buffer.from((await call('POST', `${base}/random/64`, {})).body.data.random_bytes, 'base64').length, 64);
      assert.match((await call('POST', `${base}/random/platform/16`, { format: 'hex' })).body.data.random_bytes, /^[0-9a-f]{32}$/);
      assert.equal(Buffer.from((await call('POST', `${base}/random/all`, { bytes: 8 })).body.data.random_bytes, 'base64').length, 8);
      const refused: Array<[string, unknown, string]> = [
        ['random', { bytes: 0 }, "'bytes' cannot be less than 1"],
        ['random/200000', {}, "'bytes' should be less than 131072"],
        ['random', { format: 'base32' }, 'unsupported encoding format "base32"; must be "hex" or "base64"'],
        ['random/quantum/8', {}, 'unsupported entropy source "quantum"; must be "platform" or "seal", or "all"'],
      ];
      for (const [path, body, message] of refused) {
        const r = await call('POST', `${base}/${path}`, body);
        assert.deepEqual([r.status, r.body], [400, { errors: [message] }], path);
      }
    });

    it(`${base}/hash: sha2 and sha3 digests of base64 input, hex or base64, Vault's errors`, async () => {
      const sha256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
      assert.equal((await call('POST', `${base}/hash`, { input: HELLO })).body.data.sum, sha256);
      assert.equal((await call('POST', `${base}/hash/sha2-256`, { input: HELLO, format: 'base64' })).body.data.sum, Buffer.from(sha256, 'hex').toString('base64'));
      assert.equal((await call('POST', `${base}/hash/sha3-256`, { input: HELLO })).body.data.sum, '3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392');
      assert.equal((await call('POST', `${base}/hash`, { input: HELLO, algorithm: 'sha2-512' })).body.data.sum.length, 128);
      const bad = await call('POST', `${base}/hash/md5`, { input: HELLO });
      assert.deepEqual([bad.status, bad.body], [400, { errors: ['unsupported algorithm md5'] }]);
      const notB64 = await call('POST', `${base}/hash`, { input: 'not base64!' });
      assert.equal(notB64.status, 400);
      assert.match(notB64.body.errors[0], /^unable to decode input as base64/);
    });
  }

  it('the default policy grants sys/tools/hash, not sys/tools/random', async () => {
    const user = (await call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token as string;
    assert.equal((await call('POST', 'sys/tools/hash', { input: HELLO }, user)).status, 200);
    assert.equal((await call('POST', 'sys/tools/random', {}, user)).status, 403);
  });
  it('sys/host-info: this node\'s CPUs, memory, data disk and host; sudo only', async () => {
    const r = await call('GET', 'sys/host-info');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body.data;
    assert.equal(d.cpu.length, cpus().length);
    assert.equal(d.cpu_times.length, cpus().length);
    assert.ok(d.memory.total > 0 && d.memory.used > 0 && d.memory.usedPercent > 0 && d.memory.usedPercent < 100);
    assert.equal(d.host.hostname, hostname());
    assert.ok(d.disk[0].total > 0 && d.disk[0].free > 0, JSON.stringify(d.disk));
    assert.ok(Math.abs(Date.parse(d.timestamp) - Date.now()) < 60_000);
    const user = (await call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token as string;
    assert.equal((await call('GET', 'sys/host-info', undefined, user)).status, 403);
  });
  it('sys/config/state/sanitized: the listener and storage this node runs with; sudo only', async () => {
    const r = await call('GET', 'sys/config/state/sanitized');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const c = r.body.data;
    assert.equal(c.listeners[0].type, 'tcp');
    assert.equal(c.listeners[0].config.address, '127.0.0.1:0', 'as configured (-dev-listen-address)');
    assert.deepEqual([c.listeners[0].config.disable_unauthed_generate_root_endpoints, c.raw_storage_endpoint, c.storage.type], [true, true, 'raft']);
    const user = (await call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token as string;
    assert.equal((await call('GET', 'sys/config/state/sanitized', undefined, user)).status, 403);
  });
});
