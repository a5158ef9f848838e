// No plaintext at rest: after writing a secret, the node is stopped and its LMDB files are opened
// with the lmdb package directly (and read as raw bytes): neither the secret, nor the root token, nor
// the unseal key appears anywhere.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';
import { http, startServerProcess, tempDir } from './helpers/server-process.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('secrets at rest', () => {
  const dir = tempDir('at-rest');
  after(() => dir.remove());

  it('stores no secret, token or key in plaintext', async () => {
    const server = await startServerProcess(dir.path);
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    const secret = 'correct-horse-battery-staple-4f1c2a';
    const path = 'app/database/password';
    assert.equal((await http(server.url, 'PUT', `sys/raw/${path}`, { token: init.root_token, body: { value: secret } })).status, 204);
    assert.equal((await http(server.url, 'PUT', 'sys/rotate', { token: init.root_token })).status, 204);
    await server.kill('SIGTERM');

    const needles = [
      Buffer.from(secret),
      Buffer.from(init.root_token),
      Buffer.from(init.root_token.slice(2)),
      Buffer.from(init.keys[0], 'hex'),
      Buffer.from(init.keys[0]),
      Buffer.from(init.keys_base64[0]),
    ];
    const files = filesUnder(join(dir.path, 'data'));
    assert.ok(files.length > 0, 'the node wrote its storage under the configured path');
    let bytesScanned = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      bytesScanned += bytes.length;
      for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${f} contains a secret in plaintext`);
    }
    // The same through lmdb itself, value by value, for every named database of every environment.
    const envs = files.filter((f) => f.endsWith('.mdb'));
    assert.ok(envs.length >= 1, 'found the LMDB environment');
    let values = 0;
    for (const f of envs) {
      const env = open({ path: f, noSubdir: true, readOnly: true, encoding: 'binary', keyEncoding: 'binary' });
      // The main database lists the named databases (fsm, meta, log, hard); scan each one's entries.
      const dbNames = [...env.getKeys()].map((k) => Buffer.from(k as Buffer).toString('utf8').replace(/\0+$/, ''));
      assert.ok(dbNames.includes('fsm'), `named databases: ${dbNames.join(', ')}`);
      for (const name of dbNames) {
        const db = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' });
        for (const { key, value } of db.getRange()) {
          values++;
          const k = Buffer.from(key as Buffer);
          const v = Buffer.from(value as Buffer);
          for (const n of needles) {
            assert.equal(k.indexOf(n), -1, `a key in ${f}:${name} contains a secret`);
            assert.equal(v.indexOf(n), -1, `a value in ${f}:${name} contains a secret`);
          }
        }
      }
      await env.close();
    }
    assert.ok(values > 5, `read ${values} values through lmdb`);
    assert.ok(bytesScanned > 0);
  });

  // SEC-AT-REST (RELIABILITY.md §7.2): random canaries in every place a user puts a secret or a name —
  // KV values (hex and base64 forms), policy names and bodies, token metadata, a userpass password (also
  // used to log in) — then a Raft snapshot is saved into the data dir and the keyring is rotated; every
  // file under the node's directory (LMDB, snapshot, audit log), the saved snapshot and the server's own
  // output are scanned for each canary as UTF-8, UTF-16LE and base64 text, and for its raw bytes.
  const dir2 = tempDir('at-rest-canary');
  after(() => dir2.remove());

  it('SEC-AT-REST: no canary in plaintext in any file, encoding or log', async () => {
    const auditFile = join(dir2.path, 'audit', 'audit.log');
    const server = await startServerProcess(dir2.path, 'unsafe_allow_api_audit_creation = true\n');
    let stdout = '';
    server.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
      await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
      const root = init.root_token as string;
      const call = async (method: string, path: string, body?: unknown, token = root) => {
        const r = await http(server.url, method, path, { token, ...(body !== undefined ? { body } : {}) });
        assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
        return r;
      };
      await call('PUT', 'sys/audit/file', { type: 'file', options: { file_path: auditFile } });
      await call('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
      await call('POST', 'sys/auth/userpass', { type: 'userpass' });

      const canaries: Array<{ where: string; raw: Buffer; text: string }> = [];
      const canary = (where: string, form: 'hex' | 'base64') => {
        const raw = randomBytes(32);
        const c = { where: `${where} (${form})`, raw, text: raw.toString(form) };
        canaries.push(c);
        return c.text;
      };
      await call('POST', 'secret/data/app/hex', { data: { password: canary('KV value', 'hex') } });
      await call('POST', 'secret/data/app/b64', { data: { password: canary('KV value', 'base64') } });
      const policyName = canary('policy name', 'hex');
      await call('PUT', `sys/policies/acl/${policyName}`, { policy: `# ${canary('policy comment', 'hex')}\npath "secret/data/${canary('policy path', 'hex')}" { capabilities = ["read"] }\n` });
      const tok = await call('POST', 'auth/token/create', { policies: ['default'], meta: { note: canary('token metadata', 'hex'), other: canary('token metadata', 'base64') } });
      const password = canary('userpass password', 'base64');
      await call('POST', 'auth/userpass/users/alice', { password, token_policies: 'default' });
      const login = await call('POST', 'auth/userpass/login/alice', { password });
      // Secrets as they travel back out, through reads, so responses pass the audit device too.
      await call('GET', 'secret/data/app/hex');
      await call('GET', 'auth/token/lookup-self', undefined, tok.body.auth.client_token);
      await call('GET', 'auth/token/lookup-self', undefined, login.body.auth.client_token);

      const snap = await fetch(`${server.url}/v1/sys/storage/raft/snapshot`, { headers: { 'X-Vault-Token': root } });
      assert.equal(snap.status, 200);
      const snapshot = Buffer.from(await snap.arrayBuffer());
      writeFileSync(join(dir2.path, 'saved.snap'), snapshot);
      await call('PUT', 'sys/rotate');
      await call('POST', 'secret/data/app/after-rotate', { data: { password: canary('KV value after rotation', 'hex') } });
      await server.kill('SIGTERM');

      const needlesOf = (c: { raw: Buffer; text: string }) => [c.raw, Buffer.from(c.text, 'utf8'), Buffer.from(c.text, 'utf16le'), Buffer.from(Buffer.from(c.text).toString('base64'))];
      const files = filesUnder(dir2.path);
      assert.ok(files.some((f) => f.endsWith('coffer.mdb')) && files.includes(auditFile), files.join(','));
      const blobs: Array<[string, Buffer]> = [...files.map((f) => [f, readFileSync(f)] as [string, Buffer]), ['server stdout+stderr', Buffer.from(stdout + server.stderr())]];
      const bytes = blobs.reduce((n, [, b]) => n + b.length, 0);
      const m = canaries.length * 4;
      // Two clear fields are Vault's design, reported apart: storage paths are not encrypted (§6: keys such
      // as sys/policy/<name> are plain; existence of names is out of scope, threat model §5.1), so a policy
      // NAME is visible in LMDB, the Raft log, snapshots and the audit log's request paths; and audit entries
      // carry auth.metadata unhashed (OpenBao internal/audit/hashstructure.go HashAuth hashes only the
      // token and accessor), so token METADATA shows in the audit log — never in storage.
      const byDesign = (where: string, file: string) => where === 'policy name (hex)' || (where.startsWith('token metadata') && file === auditFile);
      const found: string[] = [];
      const namesFound: string[] = [];
      for (const c of canaries) {
        for (const [i, n] of needlesOf(c).entries()) {
          for (const [f, b] of blobs) {
            if (b.indexOf(n) < 0) continue;
            (byDesign(c.where, f) ? namesFound : found).push(`${c.where} as ${['raw bytes', 'utf-8', 'utf-16le', 'base64'][i]} in ${f}`);
          }
        }
      }
      console.log(`plaintext canaries found: ${found.length} of ${m} (files ${blobs.length}, bytes ${bytes})`);
      if (namesFound.length > 0) console.log(`clear by design (policy names as storage paths, token metadata in audit auth.metadata): ${namesFound.length}: ${namesFound.join('; ')}`);
      assert.deepEqual(found, []);
      assert.ok(readFileSync(auditFile, 'utf8').includes('hmac-sha256:'), 'the audit log holds HMACs');
    } finally {
      await server.kill();
    }
  });
});

