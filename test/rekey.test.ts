// sys/rekey over HTTP on a real server process: new shares (and a new root key) from a quorum of the current
// ones, with and without verification; after each, the old shares no longer unseal, the new ones do, and
// what was stored before is intact. Vault's errors; shares of another cluster refused; `coffer operator rekey`;
// sys/rotate/root (a new root key, the same shares).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { openStorageEnv } from '../actors/storage/env.js';
import { FsmReader } from '../actors/storage/fsm-reader.js';
import { UNAUTHED_SHARE_ENDPOINTS, untilActive } from './helpers/cluster.js';
import { http, runCli, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('sys/rekey over HTTP', () => {
  const dirA = tempDir('rekey-a');
  const dirB = tempDir('rekey-b');
  const home = tempDir('rekey-home');
  let a: ServerProcess;
  let b: ServerProcess;
  let keys: string[];
  let root: string;
  let foreign: string[];
  const call = (method: string, path: string, body?: unknown, token?: string) => http(a.url, method, path, { body, ...(token ? { token } : {}) });
  const unsealWith = async (shares: string[]) => {
    let last: { status: number; body: any } = { status: 0, body: null };
    for (const key of shares) last = await call('PUT', 'sys/unseal', { key });
    return last;
  };
  /** Seal, show that `old` no longer unseals (when given), unseal with `fresh`, and read the canary. */
  const resealWith = async (fresh: string[], old: string[] | null) => {
    assert.equal((await call('PUT', 'sys/seal', undefined, root)).status, 204);
    if (old !== null) {
      const refused = await unsealWith(old);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.errors[0], /invalid key|failed to compute combined key/);
      assert.equal((await call('GET', 'sys/seal-status')).body.sealed, true);
    }
    const opened = await unsealWith(fresh);
    assert.equal(opened.body.sealed, false, JSON.stringify(opened.body));
    await untilActive(a.url);
    const canary = await call('GET', 'sys/raw/canary', undefined, root);
    assert.equal(canary.body.data.value, 'written-before-any-rekey');
  };

  before(async () => {
    // A opts in to the unauthenticated endpoints (off by default, as OpenBao 2.5+); B does not.
    [a, b] = await Promise.all([startServerProcess(dirA.path, '', UNAUTHED_SHARE_ENDPOINTS), startServerProcess(dirB.path)]);
    const init = (await http(a.url, 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } })).body;
    keys = init.keys_base64;
    root = init.root_token;
    await unsealWith(keys.slice(0, 2));
    await untilActive(a.url);
    assert.equal((await call('PUT', 'sys/raw/canary', { value: 'written-before-any-rekey' }, root)).status, 204);
    const initB = (await http(b.url, 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } })).body;
    foreign = initB.keys_base64;
  });
  after(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    dirA.remove();
    dirB.remove();
    home.remove();
  });

  it('3/2 → 5/3 at once: new shares unseal, old ones do not, stored data intact', async () => {
    const idle = (await call('GET', 'sys/rekey/init')).body;
    assert.deepEqual(idle, { nonce: '', started: false, t: 0, n: 0, progress: 0, required: 2, pgp_fingerprints: null, backup: false, verification_required: false });
    const started = await call('PUT', 'sys/rekey/init', { secret_shares: 5, secret_threshold: 3 });
    assert.equal(started.status, 200);
    const { nonce } = started.body;
    assert.deepEqual({ ...started.body, nonce: '' }, { ...idle, started: true, t: 3, n: 5 });
    const one = await call('PUT', 'sys/rekey/update', { key: keys[1], nonce });
    assert.deepEqual([one.body.progress, one.body.started], [1, true]);
    const done = await call('PUT', 'sys/rekey/update', { key: keys[2], nonce });
    assert.equal(done.status, 200);
    assert.deepEqual([done.body.complete, done.body.nonce, done.body.keys.length, done.body.keys_base64.length, done.body.verification_required], [true, nonce, 5, 5, false]);
    assert.equal(Buffer.from(done.body.keys_base64[0], 'base64').toString('hex'), done.body.keys[0]);
    const status = (await call('GET', 'sys/seal-status')).body;
    assert.deepEqual([status.n, status.t], [5, 3]);
    assert.equal((await call('GET', 'sys/rekey/init')).body.started, false);
    const fresh: string[] = done.body.keys_base64;
    await resealWith([fresh[4] as string, fresh[0] as string, fresh[2] as string], keys);
    keys = fresh;
  });

  it('with require_verification the new shares count only once a quorum of them is confirmed', async () => {
    const { nonce } = (await call('PUT', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 2, require_verification: true })).body;
    for (const k of keys.slice(0, 2)) await call('PUT', 'sys/rekey/update', { key: k, nonce });
    const done = (await call('PUT', 'sys/rekey/update', { key: keys[2], nonce })).body;
    assert.deepEqual([done.complete, done.verification_required, done.keys.length], [true, true, 2]);
    const vnonce = done.verification_nonce as string;
    assert.match(vnonce, /^[0-9a-f-]{36}$/);
    // Not in effect yet: still 5/3, and a current-share update is refused.
    assert.deepEqual([(await call('GET', 'sys/seal-status')).body.n, (await call('GET', 'sys/seal-status')).body.t], [5, 3]);
    const early = await call('PUT', 'sys/rekey/update', { key: keys[3], nonce });
    assert.deepEqual(early.body, { errors: [`rekey operation already finished; verification must be performed; nonce for the verification operation is "${vnonce}"`] });
    assert.deepEqual((await call('GET', 'sys/rekey/verify')).body, { nonce: vnonce, started: true, t: 2, n: 2, progress: 0 });

    const fresh: string[] = done.keys_base64;
    // A share that is not one of the new ones: verification fails at the threshold, progress resets.
    assert.equal((await call('PUT', 'sys/rekey/verify', { key: fresh[0], nonce: vnonce })).body.progress, 1);
    const wrong = await call('PUT', 'sys/rekey/verify', { key: keys[4], nonce: vnonce });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.errors[0], /failed to verify key|failed to compute combined key/);
    // DELETE starts the verification over, under a new nonce.
    const restarted = (await call('DELETE', 'sys/rekey/verify')).body;
    assert.notEqual(restarted.nonce, vnonce);
    await call('PUT', 'sys/rekey/verify', { key: fresh[1], nonce: restarted.nonce });
    const verified = await call('PUT', 'sys/rekey/verify', { key: fresh[0], nonce: restarted.nonce });
    assert.deepEqual(verified.body, { nonce: restarted.nonce, complete: true });
    const status = (await call('GET', 'sys/seal-status')).body;
    assert.deepEqual([status.n, status.t], [2, 2]);
    await resealWith(fresh, null);
    keys = fresh;
  });

  it('refuses what Vault refuses; another cluster\'s shares change nothing', async () => {
    const expect400 = async (method: string, path: string, body: unknown, message: string) => {
      const r = await call(method, path, body);
      assert.deepEqual([r.status, r.body], [400, { errors: [message] }], `${path} ${JSON.stringify(body)}`);
    };
    await expect400('PUT', 'sys/rekey/update', { key: keys[0], nonce: 'x' }, 'no barrier rekey in progress');
    await expect400('GET', 'sys/rekey/verify', undefined, 'no rekey configuration found');
    await expect400('PUT', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 3 }, 'provided threshold greater than the total shares');
    await expect400('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 1 }, 'invalid rekey seal configuration: threshold must be greater than one for multiple shares');
    await expect400('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: ['x', 'y', 'z'] }, 'pgp key 1: not a base64-encoded binary OpenPGP public key');
    await expect400('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: ['x', 'y'] }, 'count mismatch between number of provided PGP keys and number of shares');
    const { nonce } = (await call('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 })).body;
    await expect400('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 }, 'rekey already in progress');
    await expect400('GET', 'sys/rekey/verify', undefined, 'no rekey verification is in progress: this rekey does not require verification');
    await expect400('PUT', 'sys/rekey/update', { nonce }, "'key' must be specified in request body as JSON");
    await expect400('PUT', 'sys/rekey/update', { key: keys[0], nonce: 'wrong' }, `incorrect nonce supplied; nonce for this rekey operation is "${nonce}"`);
    await call('PUT', 'sys/rekey/update', { key: foreign[0], nonce });
    await expect400('PUT', 'sys/rekey/update', { key: foreign[0], nonce }, 'given key has already been provided during this generation operation');
    const refused = await call('PUT', 'sys/rekey/update', { key: foreign[1], nonce });
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0], /^root key verification failed: /);
    assert.deepEqual([(await call('GET', 'sys/seal-status')).body.n, (await call('GET', 'sys/rekey/init')).body.progress], [2, 0]);
    assert.equal((await call('DELETE', 'sys/rekey/init')).status, 204);
    assert.equal((await call('GET', 'sys/rekey/init')).body.started, false);
  });

  it('sys/rotate/root: a new root key (stored-keys blob and keyring rewritten), the same shares unseal', async () => {
    // Read the seal's records from the node's LMDB file, as an attacker with the disk would (read-only).
    const stored = async (): Promise<{ blob: Buffer; keyring: Buffer }> => {
      const env = openStorageEnv(join(dirA.path, 'data'), { readOnly: true });
      try {
        const r = new FsmReader(env);
        return { blob: Buffer.from(r.get('core/hsm/barrier-unseal-keys') as Buffer), keyring: Buffer.from(r.get('core/keyring') as Buffer) };
      } finally {
        await env.close();
      }
    };
    const before = await stored();
    const term = (await call('GET', 'sys/key-status', undefined, root)).body.data.term;
    await call('PUT', 'sys/policies/acl/rotator', { policy: 'path "sys/rotate/root" { capabilities = ["update"] }' }, root);
    const noSudo = (await call('POST', 'auth/token/create', { policies: ['rotator'] }, root)).body.auth.client_token as string;
    assert.equal((await call('POST', 'sys/rotate/root', {}, noSudo)).status, 403);
    assert.equal((await call('POST', 'sys/rotate/root', {}, root)).status, 204);
    const after = await stored();
    assert.ok(!after.blob.equals(before.blob) && !after.keyring.equals(before.keyring), 'the stored-keys blob and the keyring are rewritten');
    assert.equal((await call('GET', 'sys/key-status', undefined, root)).body.data.term, term, 'the data keys stay');
    await resealWith(keys.slice(0, 2), null);
  });

  it('coffer operator rekey -init, shares from arguments and stdin', async () => {
    const env = { VAULT_ADDR: a.url, HOME: home.path };
    const init = await runCli(['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2', '-format=json'], env);
    assert.equal(init.code, 0, init.stderr);
    const { nonce } = JSON.parse(init.stdout);
    const one = await runCli(['operator', 'rekey', `-nonce=${nonce}`, keys[0] as string], env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Rekey Progress\s+1\/2/);
    const two = await runCli(['operator', 'rekey', '-'], env, `${keys[1]}\n`);
    assert.equal(two.code, 0, two.stderr);
    const fresh = [...two.stdout.matchAll(/^Key \d+: (\S+)$/gm)].map((m) => m[1] as string);
    assert.equal(fresh.length, 3);
    await resealWith(fresh.slice(1), keys);
  });
});
