// ACL policies and capabilities over HTTP on an embedded dev node: sys/policies/acl and the legacy
// sys/policy (node-vault's addPolicy / getPolicy / policies / removePolicy used unchanged), Vault's
// error bodies, a policy change taking effect on the very next request, and sys/capabilities*.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  body: any;
}

const HCL = `# team policy
path "secret/data/team/*" {
  capabilities = ["read", "list"]
}
`;

describe('policies and capabilities over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const root = () => node.rootToken;
  const tokenWith = async (policies: string[]): Promise<{ token: string; accessor: string }> => {
    const r = await call('POST', 'auth/token/create', root(), { policies });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { token: r.body.auth.client_token as string, accessor: r.body.auth.accessor as string };
  };

  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  it('sys/policies/acl: PUT 204, GET verbatim, LIST with default and root, DELETE, then 404', async () => {
    assert.equal((await call('PUT', 'sys/policies/acl/team', root(), { policy: HCL })).status, 204);
    const r = await call('GET', 'sys/policies/acl/team', root());
    assert.equal(r.status, 200);
    assert.equal(r.body.data.name, 'team');
    assert.equal(r.body.data.policy, HCL);
    assert.equal(r.body.policy, undefined, 'sys/policies/acl is not an injected path');
    const l = await call('LIST', 'sys/policies/acl', root());
    assert.deepEqual(l.body.data.keys, ['default', 'team', 'root']);
    assert.equal((await call('DELETE', 'sys/policies/acl/team', root())).status, 204);
    assert.deepEqual(await call('GET', 'sys/policies/acl/team', root()), { status: 404, body: { errors: [] } });
  });

  it("refuses invalid HCL (nothing stored), root writes and deletes, default deletes, with Vault's messages", async () => {
    const bad = await call('PUT', 'sys/policies/acl/broken', root(), { policy: 'path "x" { capabilities = ["fly"] }' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /^failed to parse policy: /);
    assert.equal((await call('GET', 'sys/policies/acl/broken', root())).status, 404);
    assert.deepEqual((await call('PUT', 'sys/policies/acl/root', root(), { policy: HCL })).body, { errors: ['cannot update "root" policy'] });
    assert.deepEqual((await call('DELETE', 'sys/policies/acl/root', root())).body, { errors: ['cannot delete "root" policy'] });
    assert.deepEqual((await call('DELETE', 'sys/policies/acl/default', root())).body, { errors: ['cannot delete default policy'] });
    assert.deepEqual((await call('PUT', 'sys/policies/acl/empty', root(), {})).body, { errors: ["'policy' parameter not supplied or empty"] });
  });

  it('accepts a base64 body and lower-cases the name with a warning', async () => {
    const r = await call('PUT', 'sys/policies/acl/Upper', root(), { policy: Buffer.from(HCL).toString('base64') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.warnings, ['policy name was converted to upper']);
    assert.equal((await call('GET', 'sys/policies/acl/upper', root())).body.data.policy, HCL);
  });

  it('legacy sys/policy: keys and policies injected; rules instead of policy', async () => {
    assert.equal((await call('PUT', 'sys/policy/legacy', root(), { policy: HCL })).status, 204);
    const l = await call('GET', 'sys/policy', root());
    assert.deepEqual(l.body.keys, l.body.data.keys);
    assert.deepEqual(l.body.policies, l.body.data.keys);
    assert.ok(l.body.keys.includes('legacy') && l.body.keys.includes('default') && l.body.keys.at(-1) === 'root');
    const r = await call('GET', 'sys/policy/legacy', root());
    assert.equal(r.body.rules, HCL);
    assert.equal(r.body.data.rules, HCL);
    assert.equal(r.body.data.name, 'legacy');
  });

  it('node-vault: addPolicy, getPolicy, policies, removePolicy', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    await vault.addPolicy({ name: 'nv', rules: HCL });
    const got = await vault.getPolicy({ name: 'nv' });
    assert.equal(got.rules, HCL);
    assert.equal(got.name, 'nv');
    const all = await vault.policies();
    assert.ok(all.policies.includes('nv'));
    assert.ok(all.policies.includes('root'));
    await vault.removePolicy({ name: 'nv' });
    await assert.rejects(vault.getPolicy({ name: 'nv' }), (e: any) => e.response?.statusCode === 404);
    await assert.rejects(vault.addPolicy({ name: 'nvbad', rules: 'path {' }), (e: any) => e.response?.statusCode === 400 && /failed to parse policy/.test(e.message));
  });

  it('a policy change takes effect on the very next request', async () => {
    assert.equal((await call('POST', 'secret/data/app/db', root(), { data: { password: 'hunter2' } })).status, 200);
    assert.equal((await call('PUT', 'sys/policies/acl/p', root(), { policy: 'path "secret/data/other/*" { capabilities = ["read"] }' })).status, 204);
    const { token } = await tokenWith(['p']);
    assert.equal((await call('GET', 'secret/data/app/db', token)).status, 403);
    assert.equal((await call('PUT', 'sys/policies/acl/p', root(), { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' })).status, 204);
    const r = await call('GET', 'secret/data/app/db', token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.data.password, 'hunter2');
    // and back: removing the grant denies the next request
    assert.equal((await call('DELETE', 'sys/policies/acl/p', root())).status, 204);
    assert.equal((await call('GET', 'secret/data/app/db', token)).status, 403);
  });

  it('sys/capabilities-self, sys/capabilities and sys/capabilities-accessor (injected)', async () => {
    assert.equal((await call('PUT', 'sys/policies/acl/caps', root(), { policy: 'path "secret/data/caps/*" { capabilities = ["update", "read"] }' })).status, 204);
    const { token, accessor } = await tokenWith(['caps']);
    const self = await call('POST', 'sys/capabilities-self', token, { paths: ['secret/data/caps/x'] });
    assert.equal(self.status, 200, JSON.stringify(self.body));
    assert.deepEqual(self.body.data, { 'secret/data/caps/x': ['read', 'update'], capabilities: ['read', 'update'] });
    assert.deepEqual(self.body.capabilities, ['read', 'update']);
    assert.deepEqual(self.body['secret/data/caps/x'], ['read', 'update']);

    const other = await call('POST', 'sys/capabilities', root(), { token, paths: ['secret/data/caps/x', 'elsewhere'] });
    assert.deepEqual(other.body.data, { 'secret/data/caps/x': ['read', 'update'], elsewhere: ['deny'] });
    const byAcc = await call('POST', 'sys/capabilities-accessor', root(), { accessor, path: 'secret/data/caps/x' });
    assert.deepEqual(byAcc.body.capabilities, ['read', 'update']);
    assert.deepEqual((await call('POST', 'sys/capabilities-self', root(), { paths: ['x'] })).body.capabilities, ['root']);
    assert.deepEqual((await call('POST', 'sys/capabilities', root(), { token: 's.nope', paths: ['x'] })).body, { errors: ['invalid token'] });
    assert.deepEqual((await call('POST', 'sys/capabilities-accessor', root(), { accessor: 'nope', paths: ['x'] })).body, { errors: ['invalid accessor'] });
    assert.deepEqual((await call('POST', 'sys/capabilities-self', token, {})).body, { errors: ['paths must be supplied'] });
  });
  it('sys/internal/ui/resultant-acl: the merged exact and glob paths of the caller, root for a root token', async () => {
    const policy = 'path "team/data/app" { capabilities = ["read"] }\npath "team/data/*" { capabilities = ["list"] }\npath "team/+/cfg" { capabilities = ["update"] }\n';
    assert.equal((await call('PUT', 'sys/policies/acl/ui-a', root(), { policy })).status, 204);
    assert.equal((await call('PUT', 'sys/policies/acl/ui-b', root(), { policy: 'path "team/data/app" { capabilities = ["update"] }' })).status, 204);
    const { token } = await tokenWith(['ui-a', 'ui-b']);
    const r = await call('GET', 'sys/internal/ui/resultant-acl', token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.root, false);
    assert.deepEqual(r.body.data.exact_paths['team/data/app'], { capabilities: ['read', 'update'] }, 'merged across policies');
    assert.deepEqual(r.body.data.glob_paths['team/data/'], { capabilities: ['list'] });
    assert.deepEqual(r.body.data.glob_paths['team/+/cfg'], { capabilities: ['update'] });
    assert.deepEqual(r.body.data.exact_paths['auth/token/lookup-self'], { capabilities: ['read'] }, 'the default policy is part of it');
    assert.deepEqual((await call('GET', 'sys/internal/ui/resultant-acl', root())).body.data, { root: true });
    assert.equal((await call('GET', 'sys/internal/ui/resultant-acl', null)).status, 403);
  });
});
