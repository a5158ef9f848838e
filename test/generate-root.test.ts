// sys/generate-root over HTTP on a real server process (3 shares, threshold 2), the way an operator who
// lost every root token recovers one: start an attempt (the server makes the OTP), feed shares with the
// nonce, decode the OTP-encoded token, use it. node-vault's generateRootInit/Update/Cancel unchanged,
// `coffer operator generate-root` end to end, Vault's errors, and shares of another cluster refused.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { UNAUTHED_SHARE_ENDPOINTS, untilActive } from './helpers/cluster.js';
import { http, runCli, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

/** What an operator does with the encoded token and the OTP: XOR them back. */
function decode(encoded: string, otp: string): string {
  const e = Buffer.from(encoded, 'base64');
  const o = Buffer.from(otp, 'utf8');
  assert.equal(e.length, o.length);
  return Buffer.from(e.map((b, i) => b ^ (o[i] as number))).toString('utf8');
}

async function initUnsealed(url: string): Promise<{ keys: string[]; root: string }> {
  const init = (await http(url, 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } })).body;
  for (const k of init.keys.slice(0, 2)) await http(url, 'PUT', 'sys/unseal', { body: { key: k } });
  await untilActive(url);
  return { keys: init.keys as string[], root: init.root_token as string };
}

describe('sys/generate-root over HTTP', () => {
  const dirA = tempDir('genroot-a');
  const dirB = tempDir('genroot-b');
  const home = tempDir('genroot-home');
  let a: ServerProcess;
  let b: ServerProcess;
  let keysA: string[];
  let rootA: string;
  let keysB: string[];
  let rootB: string;
  const call = (method: string, path: string, body?: unknown, token?: string) => http(a.url, method, path, { body, ...(token ? { token } : {}) });

  before(async () => {
    // A opts in to the unauthenticated endpoints (off by default, as OpenBao 2.5+); B does not.
    [a, b] = await Promise.all([startServerProcess(dirA.path, '', UNAUTHED_SHARE_ENDPOINTS), startServerProcess(dirB.path)]);
    ({ keys: keysA, root: rootA } = await initUnsealed(a.url));
    ({ keys: keysB, root: rootB } = await initUnsealed(b.url));
  });
  after(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    dirA.remove();
    dirB.remove();
    home.remove();
  });

  it('a new root token from two of three shares, only ever seen encoded with the OTP', async () => {
    const idle = await call('GET', 'sys/generate-root/attempt');
    assert.deepEqual(idle.body, { nonce: '', started: false, progress: 0, required: 2, complete: false, encoded_token: '', encoded_root_token: '', pgp_fingerprint: '', otp: '', otp_length: 26 });

    const start = await call('PUT', 'sys/generate-root/attempt', {});
    assert.equal(start.status, 200);
    const { nonce, otp } = start.body;
    assert.match(nonce, /^[0-9a-f-]{36}$/);
    assert.match(otp, /^[0-9A-Za-z]{26}$/);
    assert.deepEqual({ ...start.body, nonce: '', otp: '' }, { ...idle.body, started: true });
    // The OTP is told once: the status does not repeat it.
    const status = await call('GET', 'sys/generate-root/attempt');
    assert.deepEqual([status.body.started, status.body.nonce, status.body.otp], [true, nonce, '']);

    const first = await call('PUT', 'sys/generate-root/update', { key: keysA[2], nonce });
    assert.deepEqual([first.status, first.body.progress, first.body.complete, first.body.encoded_token], [200, 1, false, '']);
    const done = await call('PUT', 'sys/generate-root/update', { key: keysA[0], nonce });
    assert.equal(done.status, 200);
    assert.deepEqual([done.body.complete, done.body.progress, done.body.required], [true, 2, 2]);
    assert.equal(done.body.encoded_root_token, done.body.encoded_token);
    assert.doesNotMatch(JSON.stringify(done.body), /s\.[0-9A-Za-z]{24}/, 'no token in the clear');

    const token = decode(done.body.encoded_token, otp);
    assert.match(token, /^s\.[0-9A-Za-z]{24}$/);
    assert.notEqual(token, rootA);
    const look = await call('GET', 'auth/token/lookup-self', undefined, token);
    assert.equal(look.status, 200);
    assert.deepEqual([look.body.data.policies, look.body.data.path, look.body.data.ttl], [['root'], 'auth/token/root', 0]);
    // The attempt is over.
    assert.equal((await call('GET', 'sys/generate-root/attempt')).body.started, false);
  });

  it('refuses what Vault refuses; shares of another cluster abort without a token', async () => {
    const expect400 = async (method: string, path: string, body: unknown, message: string) => {
      const r = await call(method, path, body);
      assert.deepEqual([r.status, r.body], [400, { errors: [message] }], `${path} ${JSON.stringify(body)}`);
    };
    await expect400('PUT', 'sys/generate-root/update', { key: keysA[0], nonce: 'x' }, 'no root generation in progress');
    await expect400('PUT', 'sys/generate-root/attempt', { otp: 'short' }, 'OTP string has incorrect length');
    await expect400('PUT', 'sys/generate-root/attempt', { pgp_key: 'xyz' }, 'pgp key 1: not a base64-encoded binary OpenPGP public key');
    await expect400('PUT', 'sys/generate-root/attempt', { pgp_key: 'xyz', otp: 'a'.repeat(26) }, 'only one of "otp" and "pgp_key" must be specified');
    const { nonce } = (await call('PUT', 'sys/generate-root/attempt', {})).body;
    await expect400('PUT', 'sys/generate-root/attempt', {}, 'root generation already in progress');
    await expect400('PUT', 'sys/generate-root/update', { nonce }, "'key' must be specified in request body as JSON");
    await expect400('PUT', 'sys/generate-root/update', { key: keysA[0], nonce: 'wrong' }, `incorrect nonce supplied; nonce for this root generation operation is "${nonce}"`);
    await expect400('PUT', 'sys/generate-root/update', { key: '!!', nonce }, "'key' must be a valid hex or base64 string");
    assert.equal((await call('PUT', 'sys/generate-root/update', { key: keysB[0], nonce })).body.progress, 1);
    await expect400('PUT', 'sys/generate-root/update', { key: keysB[0], nonce }, 'given key has already been provided during this generation operation');
    const aborted = await call('PUT', 'sys/generate-root/update', { key: keysB[1], nonce });
    assert.equal(aborted.status, 400);
    assert.match(aborted.body.errors[0], /^root generation aborted: /);
    // Progress is back to 0 and the attempt (same nonce) stays for a retry with the right shares.
    const after = (await call('GET', 'sys/generate-root/attempt')).body;
    assert.deepEqual([after.started, after.nonce, after.progress], [true, nonce, 0]);
    assert.equal((await call('DELETE', 'sys/generate-root/attempt')).status, 204);
    assert.equal((await call('GET', 'sys/generate-root/attempt')).body.started, false);
  });

  it('off unless the listener opts in: 403 without a token, 405 naming the setting with one', async () => {
    for (const [method, path, flag] of [
      ['GET', 'sys/generate-root/attempt', 'disable_unauthed_generate_root_endpoints'],
      ['PUT', 'sys/generate-root/attempt', 'disable_unauthed_generate_root_endpoints'],
      ['DELETE', 'sys/generate-root/attempt', 'disable_unauthed_generate_root_endpoints'],
      ['PUT', 'sys/generate-root/update', 'disable_unauthed_generate_root_endpoints'],
      ['PUT', 'sys/rekey/init', 'disable_unauthed_rekey_endpoints'],
      ['DELETE', 'sys/rekey/init', 'disable_unauthed_rekey_endpoints'],
      ['PUT', 'sys/rekey/update', 'disable_unauthed_rekey_endpoints'],
      ['GET', 'sys/rekey/verify', 'disable_unauthed_rekey_endpoints'],
    ] as const) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : { key: keysB[0], nonce: 'x' };
      const anonymous = await http(b.url, method, path, { body });
      assert.deepEqual([anonymous.status, anonymous.body], [403, { errors: ['permission denied'] }], `${method} ${path} without a token`);
      const r = await http(b.url, method, path, { body, token: rootB });
      assert.deepEqual([r.status, r.body], [405, { errors: [`this endpoint is disabled on this listener; set ${flag} = false in its listener block to serve it`] }], `${method} ${path}`);
    }
  });

  it('node-vault generateRootInit / generateRootUpdate / generateRootCancel', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: a.url });
    const started = await vault.generateRootInit({});
    assert.equal(started.started, true);
    await vault.generateRootCancel();
    const again = await vault.generateRootInit({});
    await vault.generateRootUpdate({ key: keysA[1], nonce: again.nonce });
    const done = await vault.generateRootUpdate({ key: keysA[2], nonce: again.nonce });
    assert.equal(done.complete, true);
    assert.equal((await call('GET', 'auth/token/lookup-self', undefined, decode(done.encoded_token, again.otp))).status, 200);
  });

  it('coffer operator generate-root -init, shares, -decode', async () => {
    const env = { VAULT_ADDR: a.url, HOME: home.path };
    const init = await runCli(['operator', 'generate-root', '-init', '-format=json'], env);
    assert.equal(init.code, 0, init.stderr);
    const { nonce, otp } = JSON.parse(init.stdout);
    const one = await runCli(['operator', 'generate-root', `-nonce=${nonce}`, keysA[0] as string], env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Progress\s+1\/2/);
    // The last share from stdin, as an operator pastes it.
    const two = await runCli(['operator', 'generate-root', `-nonce=${nonce}`, '-'], env, `${keysA[1]}\n`);
    assert.equal(two.code, 0, two.stderr);
    const encoded = /Encoded Token\s+(\S+)/.exec(two.stdout)?.[1];
    assert.ok(encoded, two.stdout);
    const dec = await runCli(['operator', 'generate-root', `-decode=${encoded}`, `-otp=${otp}`], env);
    assert.equal(dec.code, 0, dec.stderr);
    const token = dec.stdout.trim();
    assert.equal((await call('GET', 'auth/token/lookup-self', undefined, token)).body.data.policies[0], 'root');
    const status = await runCli(['operator', 'generate-root', '-status'], env);
    assert.match(status.stdout, /Started\s+false/);
  });
});
