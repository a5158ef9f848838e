// auth/userpass over HTTP on an embedded dev node: enable through sys/auth, users CRUD, node-vault's
// userpassLogin used unchanged, the issued token limited to the user's policies (403 outside, 200
// inside), wrong password 400, and no password (nor token) in plaintext anywhere in the data dir.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  body: any;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('auth/userpass over HTTP', () => {
  let node: EmbeddedNode;
  let closed = false;
  const PASSWORD = 'Tr0ub4dor-and-3-horse-staples-9d2e';
  const issued: string[] = [];
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const root = () => node.rootToken;

  before(async () => {
    // Its own directory: the plaintext scan reads it after close(), and a dev node removes a temp dir it made.
    node = await startNode({ dataDir: mkdtempSync(join(tmpdir(), 'coffer-scan-')) });
    assert.equal((await call('POST', 'sys/auth/userpass', root(), { type: 'userpass' })).status, 204);
    const pol = await call('PUT', 'sys/policies/acl/app-reader', root(), { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
    assert.ok(pol.status === 200 || pol.status === 204);
    assert.equal((await call('PUT', 'secret/data/app/db', root(), { data: { password: 'db-pw' } })).status, 200);
  });
  after(async () => {
    if (!closed) await node?.close();
    if (node) rmSync(node.dataDir, { recursive: true, force: true });
  });

  it('creates users (username case-insensitive), reads them without the password, lists them', async () => {
    assert.equal((await call('POST', 'auth/userpass/users/Alice', root(), { password: PASSWORD, token_policies: 'app-reader', token_ttl: '1h' })).status, 204);
    assert.equal((await call('POST', 'auth/userpass/users/bob', root(), { password: 'bob-pw-1' })).status, 204);
    const r = await call('GET', 'auth/userpass/users/ALICE', root());
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.token_policies, ['app-reader']);
    assert.equal(r.body.data.token_ttl, 3600);
    assert.ok(!('password' in r.body.data) && !('password_hash' in r.body.data));
    assert.ok(!JSON.stringify(r.body).includes(PASSWORD));
    const list = await call('LIST', 'auth/userpass/users', root());
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.keys, ['alice', 'bob']);
    assert.equal((await call('GET', 'auth/userpass/users/nobody', root())).status, 404);
  });

  it('node-vault userpassLogin; the token has the user policies: 200 inside them, 403 outside', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address });
    const res = await vault.userpassLogin({ username: 'alice', password: PASSWORD });
    const auth = res.auth;
    assert.match(auth.client_token, /^s\.[0-9A-Za-z]{24}$/);
    issued.push(auth.client_token);
    assert.equal(vault.token, auth.client_token, 'node-vault took the login token');
    assert.deepEqual(auth.policies, ['app-reader', 'default']);
    assert.deepEqual(auth.token_policies, ['app-reader', 'default']);
    assert.deepEqual(auth.metadata, { username: 'alice' });
    assert.equal(auth.lease_duration, 3600);
    assert.equal(auth.renewable, true);
    assert.equal(auth.orphan, true);
    assert.equal(auth.token_type, 'service');

    assert.equal((await vault.read('secret/data/app/db')).data.data.password, 'db-pw');
    assert.equal((await call('GET', 'secret/data/app/db', auth.client_token)).status, 200);
    const denied = await call('GET', 'secret/data/other', auth.client_token);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, { errors: ['permission denied'] });
    assert.equal((await call('PUT', 'secret/data/app/db', auth.client_token, { data: { x: 1 } })).status, 403);
    assert.equal((await call('GET', 'auth/userpass/users/alice', auth.client_token)).status, 403);

    const self = await call('GET', 'auth/token/lookup-self', auth.client_token);
    assert.equal(self.status, 200);
    assert.equal(self.body.data.path, 'auth/userpass/login/alice');
    assert.equal(self.body.data.display_name, 'userpass-alice');
    assert.deepEqual(self.body.data.meta, { username: 'alice' });
    const renewed = await call('POST', 'auth/token/renew-self', auth.client_token, { increment: '30m' });
    assert.equal(renewed.status, 200);
    assert.equal(renewed.body.auth.lease_duration, 1800);
    assert.equal((await call('POST', 'auth/token/revoke-self', auth.client_token)).status, 204);
    assert.equal((await call('GET', 'secret/data/app/db', auth.client_token)).status, 403);
  });

  it('wrong password or unknown user: 400 invalid username or password; login is unauthenticated', async () => {
    for (const [user, pw] of [['alice', 'nope'], ['nobody', PASSWORD]] as const) {
      const r = await call('POST', `auth/userpass/login/${user}`, null, { password: pw });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { errors: ['invalid username or password'] });
    }
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address });
    await assert.rejects(vault.userpassLogin({ username: 'alice', password: 'nope' }), (err: any) => err.response?.statusCode === 400);
    const ok = await call('POST', 'auth/userpass/login/ALICE', null, { password: PASSWORD });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.data, null);
    issued.push(ok.body.auth.client_token);
  });

  it('password change, token_num_uses and token_bound_cidrs', async () => {
    assert.equal((await call('POST', 'auth/userpass/users/bob/password', root(), { password: 'bob-pw-2' })).status, 204);
    assert.equal((await call('POST', 'auth/userpass/login/bob', null, { password: 'bob-pw-1' })).status, 400);
    assert.equal((await call('POST', 'auth/userpass/users/bob', root(), { token_num_uses: 2 })).status, 204);
    const bob = await call('POST', 'auth/userpass/login/bob', null, { password: 'bob-pw-2' });
    assert.equal(bob.status, 200);
    assert.equal(bob.body.auth.num_uses, 2);
    const t = bob.body.auth.client_token as string;
    issued.push(t);
    assert.equal((await call('GET', 'auth/token/lookup-self', t)).status, 200);
    assert.equal((await call('GET', 'auth/token/lookup-self', t)).status, 200);
    assert.equal((await call('GET', 'auth/token/lookup-self', t)).status, 403, 'used up');
    // token_bound_cidrs: a token bound to the client's own address works; one bound elsewhere does not.
    assert.equal((await call('POST', 'auth/userpass/users/bob', root(), { token_bound_cidrs: '127.0.0.1/32', token_num_uses: 0 })).status, 204);
    const here = await call('POST', 'auth/userpass/login/bob', null, { password: 'bob-pw-2' });
    assert.equal(here.status, 200);
    assert.equal((await call('GET', 'auth/token/lookup-self', here.body.auth.client_token)).status, 200);
    assert.equal((await call('POST', 'auth/userpass/users/bob', root(), { token_bound_cidrs: '10.0.0.0/8' })).status, 204);
    const elsewhere = await call('POST', 'auth/userpass/login/bob', null, { password: 'bob-pw-2' });
    if (elsewhere.status === 200) assert.equal((await call('GET', 'auth/token/lookup-self', elsewhere.body.auth.client_token)).status, 403, 'a token bound to 10.0.0.0/8 is refused from 127.0.0.1');
    else assert.equal(elsewhere.status, 403);
  });

  it('renewal asks the method: refused once the user\'s policies changed or the user is gone', async () => {
    assert.equal((await call('POST', 'auth/userpass/users/carol', root(), { password: 'carol-pw-1', token_policies: 'app-reader' })).status, 204);
    const login = async () => (await call('POST', 'auth/userpass/login/carol', null, { password: 'carol-pw-1' })).body.auth.client_token as string;
    const t = await login();
    issued.push(t);
    assert.equal((await call('POST', 'auth/token/renew-self', t, {})).status, 200);
    assert.equal((await call('POST', 'auth/userpass/users/carol', root(), { token_policies: 'app-reader,other' })).status, 204);
    const changed = await call('POST', 'auth/token/renew-self', t, {});
    assert.deepEqual([changed.status, changed.body], [400, { errors: ['policies have changed, not renewing'] }]);
    const fresh = await login();
    issued.push(fresh);
    assert.equal((await call('POST', 'auth/token/renew', root(), { token: fresh })).status, 200);
    assert.equal((await call('DELETE', 'auth/userpass/users/carol', root())).status, 204);
    const gone = await call('POST', 'auth/token/renew', root(), { token: fresh });
    assert.deepEqual([gone.status, gone.body], [400, { errors: ['user "carol" no longer exists, not renewing'] }]);
    // As in Vault, the token itself stays valid until it expires; only its renewal is refused.
    assert.equal((await call('GET', 'auth/token/lookup-self', fresh)).status, 200);
  });

  it('no password, password hash material or token in plaintext in the data dir', async () => {
    assert.ok(issued.length >= 3);
    await node.close();
    closed = true;
    const needles = [PASSWORD, 'bob-pw-1', 'bob-pw-2', '$scrypt$', ...issued, ...issued.map((t) => t.slice(2))].map((s) => Buffer.from(s));
    const files = filesUnder(node.dataDir);
    assert.ok(files.some((f) => f.endsWith('.mdb')), `LMDB files under ${node.dataDir}`);
    let bytes = 0;
    for (const f of files) {
      const b = readFileSync(f);
      bytes += b.length;
      for (const n of needles) assert.equal(b.indexOf(n), -1, `${f} contains ${n.toString()} in plaintext`);
    }
    assert.ok(bytes > 0);
  });
});
