// PGP-encrypted shares and root tokens on a real server process, the way operators who keep their key
// share in their own PGP key use Vault: init with pgp_keys and root_token_pgp_key, generate-root with
// pgp_key, rekey with pgp_keys. Every value is decrypted here with the matching private key (the openpgp
// library, as `gpg -dq` would) and then used: the shares unseal, the tokens work.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNAUTHED_SHARE_ENDPOINTS, untilActive } from './helpers/cluster.js';
import { http, runCli, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

interface Operator {
  /** base64 of the binary public key, as `gpg --export <id> | base64` prints it. */
  publicB64: string;
  privateKey: openpgp.PrivateKey;
  fingerprint: string;
}

async function operator(name: string): Promise<Operator> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'binary' });
  const priv = await openpgp.readPrivateKey({ binaryKey: privateKey });
  return { publicB64: Buffer.from(publicKey).toString('base64'), privateKey: priv, fingerprint: priv.getFingerprint() };
}

async function decrypt(op: Operator, b64: string): Promise<Buffer> {
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(b64, 'base64')) });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: op.privateKey, format: 'binary' });
  return Buffer.from(data as Uint8Array);
}

describe('PGP-encrypted shares and root tokens', () => {
  const dir = tempDir('pgp');
  let server: ServerProcess;
  const ops: Operator[] = [];
  let root = '';
  let shares: string[] = [];
  const call = (method: string, path: string, body?: unknown, token?: string) => http(server.url, method, path, { body, ...(token ? { token } : {}) });
  const unsealWith = async (keys: string[]) => {
    for (const key of keys) await call('PUT', 'sys/unseal', { key });
    await untilActive(server.url);
  };

  before(async () => {
    server = await startServerProcess(dir.path, '', UNAUTHED_SHARE_ENDPOINTS);
    for (const name of ['alice', 'bob', 'carol']) ops.push(await operator(name));
  });
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('init with pgp_keys and root_token_pgp_key: each share readable only by its operator; they unseal', async () => {
    const mismatch = await call('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: [ops[0]!.publicB64] });
    assert.deepEqual([mismatch.status, mismatch.body], [400, { errors: ['count mismatch between number of provided PGP keys and number of shares'] }]);
    const bad = await call('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: [ops[0]!.publicB64, 'bm90IGEga2V5', ops[2]!.publicB64] });
    assert.deepEqual([bad.status, bad.body], [400, { errors: ['pgp key 2: not a base64-encoded binary OpenPGP public key'] }]);
    assert.equal((await call('GET', 'sys/init')).body.initialized, false, 'a refused init writes nothing');

    const init = await call('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: ops.map((o) => o.publicB64), root_token_pgp_key: ops[0]!.publicB64 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    assert.doesNotMatch(init.body.root_token, /^s\./, 'the root token is not in the clear');
    root = (await decrypt(ops[0]!, init.body.root_token)).toString('utf8');
    assert.match(root, /^s\.[0-9A-Za-z]{24}$/);
    shares = await Promise.all(ops.map(async (o, i) => (await decrypt(o, init.body.keys_base64[i])).toString('base64')));
    assert.equal(Buffer.from(init.body.keys[1], 'hex').toString('base64'), init.body.keys_base64[1]);
    // Another operator's key does not open a share.
    await assert.rejects(decrypt(ops[1]!, init.body.keys_base64[0]));
    await unsealWith([shares[2] as string, shares[0] as string]);
    assert.equal((await call('GET', 'auth/token/lookup-self', undefined, root)).body.data.policies[0], 'root');
  });

  it('generate-root with pgp_key: the fingerprint is reported, the token decrypts and works', async () => {
    const start = await call('PUT', 'sys/generate-root/attempt', { pgp_key: ops[1]!.publicB64 });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.deepEqual([start.body.pgp_fingerprint, start.body.otp], [ops[1]!.fingerprint, '']);
    await call('PUT', 'sys/generate-root/update', { key: shares[0], nonce: start.body.nonce });
    const done = (await call('PUT', 'sys/generate-root/update', { key: shares[1], nonce: start.body.nonce })).body;
    assert.equal(done.complete, true);
    const token = (await decrypt(ops[1]!, done.encoded_token)).toString('utf8');
    assert.equal((await call('GET', 'auth/token/lookup-self', undefined, token)).body.data.policies[0], 'root');
  });

  it('coffer operator init -pgp-keys with key files (binary and base64) and -root-token-pgp-key', async () => {
    const dir2 = tempDir('pgp-cli');
    const other = await startServerProcess(dir2.path);
    try {
      const binaryFile = join(dir2.path, 'alice.gpg');
      const base64File = join(dir2.path, 'bob.b64');
      writeFileSync(binaryFile, Buffer.from(ops[0]!.publicB64, 'base64'));
      writeFileSync(base64File, `${ops[1]!.publicB64}\n`);
      const env = { VAULT_ADDR: other.url, HOME: dir2.path };
      const armored = join(dir2.path, 'armored.asc');
      writeFileSync(armored, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxyz\n-----END PGP PUBLIC KEY BLOCK-----\n');
      const refused = await runCli(['operator', 'init', '-key-shares=2', '-key-threshold=2', `-pgp-keys=${armored},${base64File}`], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /ASCII-armored/);
      const r = await runCli(['operator', 'init', '-key-shares=2', '-key-threshold=2', `-pgp-keys=${binaryFile},${base64File}`, `-root-token-pgp-key=${base64File}`, '-format=json'], env);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      const keys = [(await decrypt(ops[0]!, out.unseal_keys_b64[0])).toString('base64'), (await decrypt(ops[1]!, out.unseal_keys_b64[1])).toString('base64')];
      const rootToken = (await decrypt(ops[1]!, out.root_token)).toString('utf8');
      for (const key of keys) await http(other.url, 'PUT', 'sys/unseal', { body: { key } });
      assert.equal((await http(other.url, 'GET', 'sys/seal-status')).body.sealed, false);
      await untilActive(other.url);
      assert.equal((await http(other.url, 'GET', 'auth/token/lookup-self', { token: rootToken })).status, 200);
    } finally {
      await other.kill();
      dir2.remove();
    }
  });

  it('rekey with pgp_keys: the new shares come encrypted, decrypt, and unseal', async () => {
    const start = await call('PUT', 'sys/rekey/init', { secret_shares: 2, secret_threshold: 2, pgp_keys: [ops[2]!.publicB64, ops[1]!.publicB64] });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.deepEqual(start.body.pgp_fingerprints, [ops[2]!.fingerprint, ops[1]!.fingerprint]);
    await call('PUT', 'sys/rekey/update', { key: shares[1], nonce: start.body.nonce });
    const done = (await call('PUT', 'sys/rekey/update', { key: shares[2], nonce: start.body.nonce })).body;
    assert.equal(done.complete, true);
    const fresh = [(await decrypt(ops[2]!, done.keys_base64[0])).toString('base64'), (await decrypt(ops[1]!, done.keys_base64[1])).toString('base64')];
    assert.equal((await call('PUT', 'sys/seal', undefined, root)).status, 204);
    await unsealWith(fresh);
    assert.equal((await call('GET', 'sys/seal-status')).body.sealed, false);
  });
});
