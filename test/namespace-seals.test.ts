// Sealable namespaces (OpenBao 2.6, docs/namespace-seals.md) through a `coffer server` process: a namespace
// created with a seal of its own starts sealed, answers 503 until a threshold of its own shares unseals it,
// keeps its data under its own keyring (the root keyring cannot open it: checked in the LMDB file), goes
// dark again when sealed or when the server restarts, and is deleted while sealed only with sudo. Its
// non-sealable children live under its keyring. node-vault works inside it; the CLI drives the seal.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { open } from 'lmdb';
import * as openpgp from 'openpgp';
import { combine } from 'shamir-secret-sharing';
import { Barrier } from '../actors/barrier/barrier.js';
import { openKeyring } from '../actors/barrier/seal.js';
import { until } from './helpers/cluster.js';
import { http, runCli, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string; namespace?: string }) => any;

const SEAL_3_OF_2 = 'seal "shamir" {\n  shares = 3\n  threshold = 2\n}\n';
const SECRET = 'tenant-secret-5fd0c1';

describe('sealable namespaces (one server process)', { timeout: 120_000 }, () => {
  const dir = tempDir('ns-seals');
  let server: ServerProcess;
  let root = '';
  let unsealKey = '';
  let shares: string[] = [];
  let uuid = '';
  const call = (method: string, path: string, opts: { body?: unknown; token?: string; ns?: string } = {}) =>
    http(server.url, method, path, { token: opts.token ?? root, ...(opts.body !== undefined ? { body: opts.body } : {}), headers: opts.ns !== undefined ? { 'X-Vault-Namespace': opts.ns } : {} });
  const status = async (name: string) => {
    const r = await call('GET', `sys/namespaces/${name}/seal-status`);
    assert.equal(r.status, 200, r.text);
    return r.body.data;
  };
  const unsealWith = async (name: string, keys: string[]) => {
    let last: any = null;
    for (const key of keys) {
      const r = await call('PUT', `sys/namespaces/${name}/unseal`, { body: { key } });
      assert.equal(r.status, 200, r.text);
      last = r.body.data;
    }
    return last;
  };
  // OpenBao's default refuses audit devices created through the API; this test enables one.
  const start = () => startServerProcess(dir.path, 'unsafe_allow_api_audit_creation = true\n');
  const startAndUnseal = async () => {
    server = await start();
    assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { key: unsealKey } })).status, 200);
  };

  before(async () => {
    server = await start();
    const init = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    root = init.body.root_token;
    unsealKey = init.body.keys_base64[0];
    assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { key: unsealKey } })).status, 200);
  });
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('is created sealed with shares of its own, answers 503 until a threshold of them unseals it', async () => {
    const auditFile = join(dir.path, 'audit.log');
    assert.equal((await call('PUT', 'sys/audit/file', { body: { type: 'file', options: { file_path: auditFile } } })).status, 204);
    const created = await call('POST', 'sys/namespaces/tenant', { body: { seal: SEAL_3_OF_2, custom_metadata: { team: 'a' } } });
    assert.equal(created.status, 200, created.text);
    const d = created.body.data;
    assert.equal(d.path, 'tenant/');
    assert.equal(d.key_threshold, 2);
    assert.equal(d.key_shares.length, 3);
    for (const s of d.key_shares) assert.match(s, /^[0-9a-f]{66}$/, 'a share is 33 bytes, hex');
    shares = d.key_shares;
    uuid = d.uuid;
    assert.deepEqual(await status('tenant'), { type: 'shamir', initialized: true, sealed: true, t: 2, n: 3, progress: 0, nonce: '' });

    // Sealed: the parent still lists and reads it; nothing in it answers, by path or by header.
    assert.deepEqual((await call('LIST', 'sys/namespaces')).body.data.keys, ['tenant/']);
    assert.equal((await call('GET', 'sys/namespaces/tenant')).body.data.uuid, uuid);
    for (const r of [await call('GET', 'tenant/sys/mounts'), await call('GET', 'sys/policies/acl', { ns: 'tenant' })]) {
      assert.equal(r.status, 503, r.text);
      assert.deepEqual(r.body, { errors: ['namespace is sealed'] });
    }

    // Progress, nonce and reset; a share given twice is ignored.
    const one = await unsealWith('tenant', [shares[0]!]);
    assert.equal(one.progress, 1);
    assert.match(one.nonce, /^[0-9a-f-]{36}$/);
    assert.equal((await unsealWith('tenant', [shares[0]!])).progress, 1, 'the same share twice counts once');
    const reset = await call('PUT', 'sys/namespaces/tenant/unseal', { body: { reset: true } });
    assert.equal(reset.body.data.progress, 0);
    assert.equal((await call('PUT', 'sys/namespaces/tenant/unseal', { body: {} })).status, 400);

    // Shares of another sealable namespace do not open this one: 400 at the threshold, still sealed.
    const other = (await call('POST', 'sys/namespaces/other', { body: { seal: SEAL_3_OF_2 } })).body.data.key_shares as string[];
    await unsealWith('tenant', [shares[0]!]);
    const wrong = await call('PUT', 'sys/namespaces/tenant/unseal', { body: { key: other[1] } });
    assert.equal(wrong.status, 400, wrong.text);
    assert.match(wrong.body.errors[0], /^invalid key/);
    assert.equal((await status('tenant')).sealed, true);

    // The key sync's endpoint answers only on the cluster's mutual-TLS forwarding listener, never here.
    const internal = await call('GET', `sys/internal/coffer/namespace-keys?uuids=${uuid}`);
    assert.equal(internal.status, 404, internal.text);

    // Two right shares (hex and base64 alike) unseal it; then it is a namespace like any other.
    const open = await unsealWith('tenant', [shares[0]!, Buffer.from(shares[2]!, 'hex').toString('base64')]);
    assert.equal(open.sealed, false);
    assert.equal(open.progress, 0);
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: root, namespace: 'tenant' });
    await vault.mount({ mount_point: 'kv', type: 'kv', options: { version: '2' } });
    await vault.write('kv/data/app', { data: { password: SECRET } });
    assert.equal((await vault.read('kv/data/app')).data.data.password, SECRET);

    // The shares went through the audit log (the create's response, the unseal requests) only as HMACs.
    const audit = readFileSync(auditFile, 'utf8');
    assert.ok(audit.includes('sys/namespaces/tenant/unseal'), 'the unseal requests were audited');
    for (const share of [...shares, ...other]) {
      assert.equal(audit.includes(share), false, 'a share in the audit log (hex)');
      assert.equal(audit.includes(Buffer.from(share, 'hex').toString('base64')), false, 'a share in the audit log (base64)');
    }
  });

  it('keeps its data under its own keyring: sys/raw reads it only while unsealed, the root keyring cannot open it', async () => {
    // Find the secret's storage key through sys/raw (root only), walking the namespace's mount data.
    const walk = async (prefix: string): Promise<string[]> => {
      const r = await call('LIST', `sys/raw/${prefix}`);
      if (r.status !== 200) return [];
      const out: string[] = [];
      for (const k of r.body.data.keys as string[]) out.push(...(k.endsWith('/') ? await walk(prefix + k) : [prefix + k]));
      return out;
    };
    const keys = await walk(`namespaces/${uuid}/logical/`);
    let secretKey = '';
    for (const k of keys) {
      const r = await call('GET', `sys/raw/${k}`);
      assert.equal(r.status, 200, `${k}: ${r.text}`);
      if (String(r.body.data.value).includes(SECRET)) secretKey = k;
    }
    assert.notEqual(secretKey, '', `found the secret among ${keys.length} keys`);
    assert.equal((await call('GET', `sys/raw/namespaces/${uuid}/core/hsm/barrier-unseal-keys`)).status, 400, 'seal material is not readable through sys/raw');

    assert.equal((await call('PUT', 'sys/namespaces/tenant/seal')).status, 204);
    const dark = await call('GET', `sys/raw/${secretKey}`);
    assert.equal(dark.status, 503, dark.text);
    assert.deepEqual(dark.body, { errors: ['namespace is sealed'] });

    // The file itself: the node's keyring (opened with the node's unseal key) cannot decrypt the value;
    // the namespace's keyring, opened with two of its shares, can.
    const env = open({ path: join(dir.path, 'data', 'coffer.mdb'), noSubdir: true, readOnly: true });
    try {
      const fsm = env.openDB<Buffer, string>('fsm', { encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
      const read = (prefix: string) => (k: string) => {
        const v = fsm.get(prefix + k);
        return v === undefined ? undefined : Buffer.from(v);
      };
      const blob = read('')(secretKey) as Buffer;
      assert.ok(blob !== undefined && !blob.includes(Buffer.from(SECRET)), 'the value is stored encrypted');
      const nodeBarrier = new Barrier(openKeyring(Buffer.from(unsealKey, 'base64'), read('')));
      assert.throws(() => nodeBarrier.decrypt(secretKey, blob), 'the root keyring cannot open a sealable namespace\'s data');
      const kek = Buffer.from(await combine([Uint8Array.from(Buffer.from(shares[1]!, 'hex')), Uint8Array.from(Buffer.from(shares[2]!, 'hex'))]));
      const tenantBarrier = new Barrier(openKeyring(kek, read(`namespaces/${uuid}/`)));
      assert.ok(tenantBarrier.decrypt(secretKey, blob).toString('utf8').includes(SECRET));
    } finally {
      await env.close();
    }
  });

  it('stays sealed across a restart, refuses a plain delete while sealed, and serves its data again once unsealed', async () => {
    assert.equal((await status('tenant')).sealed, true);
    const refused = await call('DELETE', 'sys/namespaces/tenant');
    assert.equal(refused.status, 503, refused.text);
    assert.equal((await unsealWith('tenant', [shares[1]!, shares[0]!])).sealed, false);

    await server.kill('SIGTERM');
    await startAndUnseal();
    assert.equal((await status('tenant')).sealed, true, 'a restart seals every sealable namespace');
    assert.equal((await call('GET', 'tenant/kv/data/app')).status, 503);
    await unsealWith('tenant', [shares[2]!, shares[1]!]);
    const back = await call('GET', 'tenant/kv/data/app');
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.data.data.password, SECRET);

    // Its own keyring rotates (sys/rotate sent to the namespace); the node's does not move.
    const nodeTerm = (await call('GET', 'sys/key-status')).body.data.term;
    assert.equal((await call('GET', 'sys/key-status', { ns: 'tenant' })).body.data.term, 1);
    assert.equal((await call('PUT', 'sys/rotate', { ns: 'tenant' })).status, 204);
    assert.equal((await call('GET', 'tenant/sys/key-status')).body.data.term, 2);
    assert.equal((await call('GET', 'sys/key-status')).body.data.term, nodeTerm);
    assert.equal((await call('PUT', 'tenant/kv/data/after-rotation', { body: { data: { v: 'term 2' } } })).status, 200);
    assert.equal((await call('GET', 'tenant/kv/data/after-rotation')).body.data.data.v, 'term 2');
    assert.equal((await call('GET', 'tenant/kv/data/app')).body.data.data.password, SECRET, 'term 1 still decrypts');
    const plain = await call('POST', 'tenant/sys/namespaces/plain');
    assert.equal(plain.status, 200, plain.text);
    const notOwn = await call('PUT', 'tenant/plain/sys/rotate');
    assert.equal(notOwn.status, 400, notOwn.text);
    assert.deepEqual(notOwn.body.errors, ['operation only available in root namespace']);
    assert.equal((await call('DELETE', 'tenant/sys/namespaces/plain')).status, 204);
  });

  it('a sealed namespace does not stop the front from taking up new rate-limit quotas elsewhere', async () => {
    assert.equal((await status('other')).sealed, true);
    assert.equal((await call('POST', 'sys/mounts/limited', { body: { type: 'kv' } })).status, 204);
    assert.equal((await call('PUT', 'limited/x', { body: { v: 1 } })).status, 204);
    assert.equal((await call('PUT', 'sys/quotas/rate-limit/limited', { body: { path: 'limited/', rate: 1 } })).status, 204);
    // The front refreshes its view of mounts and quotas from every namespace but the sealed one.
    await until('the quota is enforced', 10_000, async () => (await call('GET', 'limited/x')).status === 429);
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/limited')).status, 204);
  });

  it('holds its non-sealable children under its keyring; delete-sealed needs sudo, and force for a tree', async () => {
    const parent = (await call('POST', 'sys/namespaces/org', { body: { seal: 'seal "shamir" {\n  shares = 1\n  threshold = 1\n}' } })).body.data;
    assert.equal(parent.key_shares.length, 1);
    await unsealWith('org', parent.key_shares);
    assert.equal((await call('POST', 'org/sys/namespaces/team')).status, 200);
    assert.equal((await call('POST', 'org/team/sys/mounts/kv', { body: { type: 'kv' } })).status, 204);
    assert.equal((await call('PUT', 'org/team/kv/x', { body: { v: 'inside' } })).status, 204);
    assert.equal((await call('GET', 'org/sys/namespaces/team/seal-status')).status, 400, 'a plain child has no seal of its own');
    assert.equal((await call('PUT', 'sys/namespaces/org/seal')).status, 204);
    const child = await call('GET', 'org/team/kv/x');
    assert.equal(child.status, 503, 'its child goes dark with it');

    // delete-sealed: sudo only; a tree only with force.
    const policy = 'path "sys/namespaces/*" {\n  capabilities = ["read", "update", "delete", "list"]\n}\n';
    assert.equal((await call('PUT', 'sys/policies/acl/ns-admin', { body: { policy } })).status, 204);
    const admin = (await call('POST', 'auth/token/create', { body: { policies: ['ns-admin'] } })).body.auth.client_token as string;
    assert.equal((await call('DELETE', 'sys/namespaces/org/delete-sealed', { token: admin })).status, 403);
    const tree = await call('DELETE', 'sys/namespaces/org/delete-sealed');
    assert.equal(tree.status, 409, tree.text);
    assert.match(tree.body.errors[0], /sealed namespace has leftover child namespaces; pass force=true/);
    assert.equal((await call('DELETE', 'sys/namespaces/tenant/delete-sealed')).status, 400, 'tenant is unsealed: delete it as usual');
    const gone = await call('DELETE', 'sys/namespaces/org/delete-sealed?force=true');
    assert.ok(gone.status === 200 || gone.status === 204, gone.text);
    assert.deepEqual((await call('LIST', 'sys/namespaces')).body.data.keys, ['other/', 'tenant/']);
    assert.equal((await call('LIST', `sys/raw/namespaces/${parent.uuid}/`)).status, 404, 'its segment is gone');

    // The errors of a bad seal document, OpenBao's words.
    for (const [seal, message] of [
      ['seal "awskms" {}', 'namespaces currently only support shamir seals'],
      ['{"seal": {"shamir": {"shares": 2, "threshold": 1}}}', 'invalid seal config: threshold must be greater than one for multiple shares'],
      ['seal "shamir" {\n  shares = "x"\n  threshold = 1\n}', 'value of shares parameter must be integer'],
      ['', 'seal config must be a HCL or JSON string'],
    ] as const) {
      const r = await call('POST', 'sys/namespaces/bad', { body: { seal: seal === '' ? 7 : seal } });
      assert.equal(r.status, 400, `${seal}: ${r.text}`);
      assert.equal(r.body.errors[0], message);
    }
    assert.equal((await call('POST', 'sys/namespaces/tenant', { body: { seal: SEAL_3_OF_2 } })).body.errors[0], 'cannot modify existing namespace seal config');
  });

  it('answers each share encrypted to its PGP key when pgp_keys are given', async () => {
    const keys = await Promise.all(['tenant-a', 'tenant-b'].map((name) => openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'binary' })));
    const mismatch = await call('POST', 'sys/namespaces/pgp', { body: { seal: SEAL_3_OF_2, pgp_keys: keys.map((k) => Buffer.from(k.publicKey).toString('base64')) } });
    assert.equal(mismatch.status, 400, mismatch.text);
    assert.match(mismatch.body.errors[0], /count mismatch between number of provided PGP keys and number of shares/);
    const created = await call('POST', 'sys/namespaces/pgp', {
      body: { seal: 'seal "shamir" {\n  shares = 2\n  threshold = 2\n}', pgp_keys: keys.map((k) => Buffer.from(k.publicKey).toString('base64')) },
    });
    assert.equal(created.status, 200, created.text);
    const encrypted = created.body.data.key_shares as string[];
    const plain = await Promise.all(
      encrypted.map(async (hex, i) => {
        const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(hex, 'hex')) });
        const decryptionKeys = await openpgp.readPrivateKey({ binaryKey: keys[i]!.privateKey });
        return Buffer.from((await openpgp.decrypt({ message, decryptionKeys, format: 'binary' })).data as Uint8Array);
      }),
    );
    for (const share of plain) assert.equal(share.length, 33, 'each decrypts to a 33-byte share');
    assert.equal((await unsealWith('pgp', plain.map((p) => p.toString('hex')))).sealed, false);
    assert.equal((await call('PUT', 'sys/namespaces/pgp/seal')).status, 204);

    // The CLI's -pgp-keys: the printed share is the PGP message, which decrypts to a share that unseals.
    const cli = await runCli(['namespace', 'create', '-key-shares=1', '-key-threshold=1', `-pgp-keys=${Buffer.from(keys[0]!.publicKey).toString('base64')}`, 'pgpcli'], { VAULT_ADDR: server.url, VAULT_TOKEN: root });
    assert.equal(cli.code, 0, cli.stderr);
    const printed = /Unseal Key 1: ([0-9a-f]+)/.exec(cli.stdout)?.[1] as string;
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(printed, 'hex')) });
    const share = Buffer.from((await openpgp.decrypt({ message, decryptionKeys: await openpgp.readPrivateKey({ binaryKey: keys[0]!.privateKey }), format: 'binary' })).data as Uint8Array);
    assert.equal((await unsealWith('pgpcli', [share.toString('hex')])).sealed, false);
  });

  it('the CLI creates, unseals, reports and seals one', async () => {
    const env = { VAULT_ADDR: server.url, VAULT_TOKEN: root };
    const created = await runCli(['namespace', 'create', '-key-shares=2', '-key-threshold=2', 'cli'], env);
    assert.equal(created.code, 0, created.stderr);
    const keys = [...created.stdout.matchAll(/Unseal Key \d: ([0-9a-f]+)/g)].map((m) => m[1] as string);
    assert.equal(keys.length, 2, created.stdout);
    assert.match(created.stdout, /Namespace initialized with 2 key shares and a key threshold of 2/);
    const sealed = await runCli(['namespace', 'seal-status', 'cli'], env);
    assert.match(sealed.stdout, /Sealed\s+true/);
    assert.match((await runCli(['namespace', 'unseal', 'cli', keys[0]!], env)).stdout, /Unseal Progress\s+1\/2/);
    const opened = await runCli(['namespace', 'unseal', 'cli'], env, `${keys[1]}\n`);
    assert.equal(opened.code, 0, opened.stderr);
    assert.match(opened.stdout, /Sealed\s+false/);
    assert.equal((await call('GET', 'cli/sys/mounts')).status, 200);
    const seal = await runCli(['namespace', 'seal', 'cli'], env);
    assert.equal(seal.code, 0, seal.stderr);
    assert.equal((await call('GET', 'cli/sys/mounts')).status, 503);
  });
});
