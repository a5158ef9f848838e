// The lifecycle API of one node over HTTP, against a real server process: init, unseal (with its edge
// cases), seal, health, leader, rotate, key-status, and the error shapes of bad input.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('node lifecycle over HTTP', () => {
  const dir = tempDir('lifecycle');
  let server: ServerProcess;
  let keys: string[] = [];
  let keysB64: string[] = [];
  let root = '';

  before(async () => {
    server = await startServerProcess(dir.path);
  });
  after(async () => {
    await server.kill();
    dir.remove();
  });

  it('reports an uninitialised node', async () => {
    assert.deepEqual((await http(server.url, 'GET', 'sys/init')).body, { initialized: false });
    const health = await http(server.url, 'GET', 'sys/health');
    assert.equal(health.status, 501);
    assert.equal(health.body.initialized, false);
    assert.equal(health.body.standby, true);
    const st = await http(server.url, 'GET', 'sys/seal-status');
    assert.equal(st.body.initialized, false);
    assert.equal(st.body.t, 0);
    assert.equal(st.body.n, 0);
    const unseal = await http(server.url, 'PUT', 'sys/unseal', { body: { key: 'abcd' } });
    assert.equal(unseal.status, 400);
    assert.deepEqual(unseal.body, { errors: ['Vault is not initialized'] });
  });

  it('rejects invalid seal configurations with Vault messages', async () => {
    const cases: [unknown, string][] = [
      [{ secret_shares: 0, secret_threshold: 0 }, 'invalid seal configuration: shares must be at least one'],
      [{ secret_shares: 3, secret_threshold: 5 }, 'invalid seal configuration: threshold cannot be larger than shares'],
      [{ secret_shares: 3, secret_threshold: 1 }, 'invalid seal configuration: threshold must be greater than one for multiple shares'],
      [{ secret_shares: 300, secret_threshold: 3 }, 'invalid seal configuration: shares must be less than 256'],
    ];
    for (const [body, message] of cases) {
      const r = await http(server.url, 'PUT', 'sys/init', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(r.body, { errors: [message] });
    }
    const recovery = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1, recovery_shares: 1 } });
    assert.equal(recovery.status, 400);
    assert.match(recovery.body.errors[0], /not applicable to seal type shamir/);
    assert.deepEqual((await http(server.url, 'GET', 'sys/init')).body, { initialized: false });
  });

  it('initialises with 5 shares and threshold 3, and stays sealed', async () => {
    const r = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 5, secret_threshold: 3 } });
    assert.equal(r.status, 200);
    keys = r.body.keys;
    keysB64 = r.body.keys_base64;
    root = r.body.root_token;
    assert.equal(keys.length, 5);
    for (const k of keys) assert.match(k, /^[0-9a-f]{66}$/);
    for (const k of keysB64) assert.equal(Buffer.from(k, 'base64').length, 33);
    assert.match(root, /^s\.[0-9A-Za-z]{24}$/);
    const again = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { errors: ['Vault is already initialized'] });
    const st = (await http(server.url, 'GET', 'sys/seal-status')).body;
    assert.equal(st.sealed, true);
    assert.equal(st.t, 3);
    assert.equal(st.n, 5);
    assert.equal(st.cluster_id, undefined);
  });

  it('answers 503 Vault is sealed on everything else while sealed', async () => {
    for (const [method, path] of [['GET', 'sys/key-status'], ['PUT', 'sys/raw/a'], ['GET', 'secret/data/x'], ['PUT', 'sys/rotate']] as const) {
      const r = await http(server.url, method, path, { token: root, body: method === 'PUT' ? { value: 'x' } : undefined });
      assert.equal(r.status, 503, `${method} ${path}`);
      assert.deepEqual(r.body, { errors: ['Vault is sealed'] });
    }
    const health = await http(server.url, 'GET', 'sys/health');
    assert.equal(health.status, 503);
    assert.equal(health.body.sealed, true);
    assert.equal((await http(server.url, 'GET', 'sys/health?sealedcode=299')).status, 299);
  });

  it('unseals: duplicate shares ignored, a wrong set resets progress, nonce per attempt', async () => {
    let st = (await http(server.url, 'PUT', 'sys/unseal', { body: { key: keys[0] } })).body;
    assert.equal(st.progress, 1);
    assert.match(st.nonce, /^[0-9a-f-]{36}$/);
    const nonce = st.nonce;
    st = (await http(server.url, 'PUT', 'sys/unseal', { body: { key: keysB64[0] } })).body; // same share, base64
    assert.equal(st.progress, 1, 'a repeated share is ignored');
    assert.equal(st.nonce, nonce);
    st = (await http(server.url, 'PUT', 'sys/unseal', { body: { key: keys[1] } })).body;
    assert.equal(st.progress, 2);
    // A share of a different secret completes the threshold with a wrong set.
    const bogus = Buffer.from(keys[2] as string, 'hex');
    bogus[0] = (bogus[0] as number) ^ 0xff;
    const wrong = await http(server.url, 'PUT', 'sys/unseal', { body: { key: bogus.toString('hex') } });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.errors[0], /^invalid key: failed to decrypt keys from storage/);
    st = (await http(server.url, 'GET', 'sys/seal-status')).body;
    assert.equal(st.sealed, true);
    assert.equal(st.progress, 0, 'progress resets after any threshold attempt');
    assert.equal(st.nonce, '');

    const garbage = await http(server.url, 'PUT', 'sys/unseal', { body: { key: 'not a key!' } });
    assert.equal(garbage.status, 400);
    assert.deepEqual(garbage.body, { errors: ["'key' must be a valid hex or base64 string"] });
    const missing = await http(server.url, 'PUT', 'sys/unseal', { body: {} });
    assert.deepEqual(missing.body, { errors: ["'key' must be specified in request body as JSON, or 'reset' set to true"] });

    await http(server.url, 'PUT', 'sys/unseal', { body: { key: keys[3] } });
    st = (await http(server.url, 'PUT', 'sys/unseal', { body: { reset: true } })).body;
    assert.equal(st.progress, 0, 'reset discards submitted shares');

    for (const k of [keys[4], keysB64[2], keys[0]]) st = (await http(server.url, 'PUT', 'sys/unseal', { body: { Key: k } })).body;
    assert.equal(st.sealed, false);
    assert.equal(st.progress, 0);
    assert.match(st.cluster_id, /^[0-9a-f-]{36}$/);
    assert.ok(st.cluster_name);
    const resetUnsealed = await http(server.url, 'PUT', 'sys/unseal', { body: { reset: true } });
    assert.deepEqual(resetUnsealed.body, { errors: ['vault is unsealed'] });
  });

  it('serves health, leader and sys/raw once unsealed', async () => {
    const health = await http(server.url, 'GET', 'sys/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.standby, false);
    assert.equal(health.body.replication_dr_mode, 'disabled');
    assert.equal((await http(server.url, 'GET', 'sys/health?activecode=220')).status, 220);
    const bad = await http(server.url, 'GET', 'sys/health?activecode=abc');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errors: [] });
    const head = await http(server.url, 'HEAD', 'sys/health');
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.deepEqual((await http(server.url, 'GET', 'sys/leader')).body, { ha_enabled: false });

    assert.equal((await http(server.url, 'PUT', 'sys/raw/app/one', { token: root, body: { value: 'hello' } })).status, 204);
    const read = await http(server.url, 'GET', 'sys/raw/app/one', { token: root });
    assert.equal(read.status, 200);
    assert.equal(read.body.data.value, 'hello');
    assert.equal(read.headers.get('cache-control'), 'no-store');
    for (const k of ['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth']) assert.ok(k in read.body, k);
    const list = await http(server.url, 'GET', 'sys/raw/app?list=true', { token: root });
    assert.deepEqual(list.body.data.keys, ['one']);
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/none', { token: root })).status, 404);
    const protectedRead = await http(server.url, 'GET', 'sys/raw/core/keyring', { token: root });
    assert.equal(protectedRead.status, 400);
  });

  it('refuses bad tokens, methods and bodies with Vault statuses, changing nothing', async () => {
    assert.deepEqual((await http(server.url, 'GET', 'sys/raw/app/one')).body, { errors: ['permission denied'] });
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/one', { token: 's.000000000000000000000000' })).status, 403);
    const bearer = await http(server.url, 'GET', 'sys/raw/app/one', { headers: { Authorization: `Bearer ${root}` } });
    assert.equal(bearer.status, 200);
    const miss = await http(server.url, 'GET', 'nowhere/at/all', { token: root });
    assert.equal(miss.status, 404);
    assert.deepEqual(miss.body, { errors: ['no handler for route "nowhere/at/all". route entry not found.'] });
    assert.equal((await http(server.url, 'GET', 'nowhere/at/all')).status, 403);
    assert.equal((await http(server.url, 'GET', 'sys/seal', { token: root })).status, 405);
    assert.equal((await http(server.url, 'PROPFIND', 'sys/health')).status, 405);
    const malformed = await http(server.url, 'PUT', 'sys/raw/app/one', { token: root, rawBody: '{"value": ', headers: { 'Content-Type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.errors[0], /^failed to parse JSON input/);
    const wrongType = await http(server.url, 'PUT', 'sys/raw/app/one', { token: root, body: { value: 42 } });
    assert.equal(wrongType.status, 400);
    // Bodies over 32 MiB (413) and over-complex JSON: test/sec-limits.
    const overEntry = await http(server.url, 'PUT', 'sys/raw/app/one', { token: root, body: { value: 'y'.repeat(2 * 1024 * 1024) } });
    assert.equal(overEntry.status, 413);
    assert.match(overEntry.body.errors[0], /^request too large: \d+ bytes, the largest request the storage accepts is \d+ bytes$/);
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/one', { token: root })).body.data.value, 'hello', 'stored value unchanged');
    const outside = await fetch(`${server.url}/not-under-v1`);
    assert.equal(outside.status, 404);
    assert.deepEqual(await outside.json(), { errors: [] });
  });

  it('rotates the keyring: new term, old data still readable', async () => {
    const before = (await http(server.url, 'GET', 'sys/key-status', { token: root })).body;
    assert.equal(before.data.term, 1);
    assert.equal(before.term, 1, 'key-status data is injected at the top level');
    assert.equal((await http(server.url, 'PUT', 'sys/rotate', { token: root })).status, 204);
    const afterRotate = (await http(server.url, 'GET', 'sys/key-status', { token: root })).body;
    assert.equal(afterRotate.data.term, 2);
    assert.ok(Date.parse(afterRotate.data.install_time) > 0);
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/one', { token: root })).body.data.value, 'hello');
    assert.equal((await http(server.url, 'PUT', 'sys/rotate', {})).status, 403);
  });

  it('seals with the root token only, and unseals again', async () => {
    assert.equal((await http(server.url, 'PUT', 'sys/seal', {})).status, 403);
    assert.equal((await http(server.url, 'PUT', 'sys/seal', { token: root })).status, 204);
    assert.equal((await http(server.url, 'GET', 'sys/seal-status')).body.sealed, true);
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/one', { token: root })).status, 503);
    for (const k of keys.slice(0, 3)) await http(server.url, 'PUT', 'sys/unseal', { body: { key: k } });
    assert.equal((await http(server.url, 'GET', 'sys/seal-status')).body.sealed, false);
    assert.equal((await http(server.url, 'GET', 'sys/key-status', { token: root })).body.data.term, 2, 'rotation survived seal/unseal');
    assert.equal((await http(server.url, 'GET', 'sys/raw/app/one', { token: root })).body.data.value, 'hello');
  });
});
