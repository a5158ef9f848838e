// auth/approle over HTTP on an embedded dev node: enable through sys/auth, node-vault's
// addApproleRole / getApproleRoleId / getApproleRoleSecret / approleLogin used unchanged, the issued
// token limited to the role's policies, secret_id_num_uses spent per login, Vault's login errors, and
// no secret ID (nor token) in plaintext anywhere in the data dir.
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

describe('auth/approle over HTTP', () => {
  let node: EmbeddedNode;
  let closed = false;
  const secrets: string[] = [];
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const root = () => node.rootToken;

  before(async () => {
    // Its own directory: the plaintext scan reads it after close(), and a dev node removes a temp dir it made.
    node = await startNode({ dataDir: mkdtempSync(join(tmpdir(), 'coffer-scan-')) });
    assert.equal((await call('POST', 'sys/auth/approle', root(), { type: 'approle' })).status, 204);
    const pol = await call('PUT', 'sys/policies/acl/app-reader', root(), { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
    assert.ok(pol.status === 200 || pol.status === 204);
    assert.equal((await call('PUT', 'secret/data/app/db', root(), { data: { password: 'db-pw' } })).status, 200);
  });
  after(async () => {
    if (!closed) await node?.close();
    if (node) rmSync(node.dataDir, { recursive: true, force: true });
  });

  it('node-vault: role, role-id, secret-id, approleLogin; the token has the role policies', async () => {
    const admin = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    // node-vault sends only the fields its schema knows: the legacy `policies`, upgraded to token_policies.
    await admin.addApproleRole({ role_name: 'web', policies: 'app-reader', token_ttl: 1200, secret_id_num_uses: 2 });
    const roleId = (await admin.getApproleRoleId({ role_name: 'web' })).data.role_id as string;
    assert.match(roleId, /^[0-9a-f-]{36}$/);
    const sid = (await admin.getApproleRoleSecret({ role_name: 'web', metadata: '{"team":"blue"}' })).data;
    assert.match(sid.secret_id, /^[0-9a-f-]{36}$/);
    assert.equal(sid.secret_id_num_uses, 2);
    assert.equal(sid.secret_id_ttl, 0);
    secrets.push(sid.secret_id);

    const app = nodeVault({ apiVersion: 'v1', endpoint: node.address });
    const res = await app.approleLogin({ role_id: roleId, secret_id: sid.secret_id });
    const auth = res.auth;
    secrets.push(auth.client_token);
    assert.equal(app.token, auth.client_token);
    assert.deepEqual(auth.policies, ['app-reader', 'default']);
    assert.deepEqual(auth.metadata, { role_name: 'web', team: 'blue' });
    assert.equal(auth.lease_duration, 1200);
    assert.equal((await app.read('secret/data/app/db')).data.data.password, 'db-pw');
    assert.equal((await call('GET', 'secret/data/other', auth.client_token)).status, 403);
    assert.equal((await call('GET', 'auth/approle/role/web/role-id', auth.client_token)).status, 403);
    const self = await call('GET', 'auth/token/lookup-self', auth.client_token);
    assert.equal(self.body.data.path, 'auth/approle/login');
    assert.equal(self.body.data.display_name, 'approle');

    // secret_id_num_uses = 2: one use left, then the secret ID is gone.
    const look = await call('POST', 'auth/approle/role/web/secret-id/lookup', root(), { secret_id: sid.secret_id });
    assert.equal(look.status, 200);
    assert.equal(look.body.data.secret_id_num_uses, 1);
    assert.equal(look.body.data.secret_id_accessor, sid.secret_id_accessor);
    const second = await call('POST', 'auth/approle/login', null, { role_id: roleId, secret_id: sid.secret_id });
    assert.equal(second.status, 200);
    secrets.push(second.body.auth.client_token);
    const third = await call('POST', 'auth/approle/login', null, { role_id: roleId, secret_id: sid.secret_id });
    assert.equal(third.status, 400);
    assert.deepEqual(third.body, { errors: ['invalid role or secret ID'] });
    assert.equal((await call('POST', 'auth/approle/role/web/secret-id/lookup', root(), { secret_id: sid.secret_id })).status, 204);
  });

  it('renewal of a login token is refused once its role is gone', async () => {
    assert.equal((await call('POST', 'auth/approle/role/shortlived', root(), { token_policies: 'app-reader', bind_secret_id: false, secret_id_bound_cidrs: '127.0.0.1/32' })).status, 204);
    const roleId = (await call('GET', 'auth/approle/role/shortlived/role-id', root())).body.data.role_id as string;
    const t = (await call('POST', 'auth/approle/login', null, { role_id: roleId })).body.auth.client_token as string;
    secrets.push(t);
    assert.equal((await call('POST', 'auth/token/renew-self', t, {})).status, 200);
    assert.equal((await call('DELETE', 'auth/approle/role/shortlived', root())).status, 204);
    const refused = await call('POST', 'auth/token/renew-self', t, {});
    assert.deepEqual([refused.status, refused.body], [400, { errors: ['role "shortlived" does not exist during renewal'] }]);
  });

  it("login errors, accessors list/lookup/destroy, custom role_id and secret_id", async () => {
    const login = (body: unknown) => call('POST', 'auth/approle/login', null, body);
    assert.deepEqual((await login({ secret_id: 'x' })).body, { errors: ['missing role_id'] });
    assert.deepEqual((await login({ role_id: 'nope', secret_id: 'x' })).body, { errors: ['invalid role or secret ID'] });
    assert.equal((await call('POST', 'auth/approle/role/web/role-id', root(), { role_id: 'web-role-id' })).status, 204);
    assert.deepEqual((await login({ role_id: 'web-role-id' })).body, { errors: ['missing secret_id'] });
    const custom = await call('POST', 'auth/approle/role/web/custom-secret-id', root(), { secret_id: 'custom-secret-id-7f3a9c' });
    assert.equal(custom.status, 200);
    secrets.push('custom-secret-id-7f3a9c');
    const gen = await call('POST', 'auth/approle/role/web/secret-id', root(), {});
    secrets.push(gen.body.data.secret_id);
    const list = await call('LIST', 'auth/approle/role/web/secret-id', root());
    assert.equal(list.status, 200);
    assert.deepEqual([...list.body.data.keys].sort(), [custom.body.data.secret_id_accessor, gen.body.data.secret_id_accessor].sort());
    const byAcc = await call('POST', 'auth/approle/role/web/secret-id-accessor/lookup', root(), { secret_id_accessor: gen.body.data.secret_id_accessor });
    assert.equal(byAcc.status, 200);
    assert.equal(byAcc.body.data.secret_id_num_uses, 2);
    const ok = await login({ role_id: 'web-role-id', secret_id: 'custom-secret-id-7f3a9c' });
    assert.equal(ok.status, 200);
    secrets.push(ok.body.auth.client_token);
    assert.equal((await call('POST', 'auth/approle/role/web/secret-id-accessor/destroy', root(), { secret_id_accessor: custom.body.data.secret_id_accessor })).status, 204);
    assert.equal((await login({ role_id: 'web-role-id', secret_id: 'custom-secret-id-7f3a9c' })).status, 400);
    const missing = await call('POST', 'auth/approle/role/web/secret-id-accessor/lookup', root(), { secret_id_accessor: 'nope' });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { errors: ['failed to find accessor entry for secret_id_accessor: "nope"'] });
    const roles = await call('LIST', 'auth/approle/role', root());
    assert.deepEqual(roles.body.data.keys, ['web']);
    const read = await call('GET', 'auth/approle/role/web', root());
    assert.equal(read.body.data.secret_id_num_uses, 2);
    assert.deepEqual(read.body.data.token_policies, ['app-reader']);
    assert.deepEqual(read.body.data.policies, ['app-reader']);
  });

  it('no secret ID or token in plaintext in the data dir', async () => {
    assert.ok(secrets.length >= 6);
    await node.close();
    closed = true;
    const needles = [...secrets, ...secrets.filter((s) => s.startsWith('s.')).map((t) => t.slice(2))].map((s) => Buffer.from(s));
    const files = filesUnder(node.dataDir);
    assert.ok(files.some((f) => f.endsWith('.mdb')));
    for (const f of files) {
      const b = readFileSync(f);
      for (const n of needles) assert.equal(b.indexOf(n), -1, `${f} contains ${n.toString()} in plaintext`);
    }
  });
});
