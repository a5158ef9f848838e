// Token roles as a platform team uses them (Nomad, CI runners): a role lets a narrowly-privileged
// token mint tokens with the role's policies, not its own. Driven over HTTP by a real dev server
// process, with node-vault's token-role commands used unchanged and `coffer token create -role`; and
// auth/token/tidy.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { http, runCli, spawnCoffer, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

const ROOT = 'token-roles-root';

describe('auth/token/roles over HTTP', () => {
  let dev: ServerProcess;
  const home = tempDir('token-roles-home');
  const call = (method: string, path: string, token: string, body?: unknown) => http(dev.url, method, path, { token, body });

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    const put = async (name: string, policy: string) => assert.equal((await call('PUT', `sys/policies/acl/${name}`, ROOT, { policy })).status, 204);
    await put('app-read', 'path "secret/data/app/*" { capabilities = ["read"] }');
    // The minter may only create tokens through the "app" role.
    await put('minter', 'path "auth/token/create/app" { capabilities = ["update"] }');
    assert.equal((await call('PUT', 'secret/data/app/db', ROOT, { data: { password: 'pw-1' } })).status, 200);
  });
  after(async () => {
    await dev?.kill();
    home.remove();
  });

  it('node-vault: addTokenRole, getTokenRole, tokenRoles, tokenCreateRole, removeTokenRole', async () => {
    const admin = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: ROOT });
    // node-vault sends only the fields its schema knows: the legacy `period` (an integer), which maps to token_period.
    await admin.addTokenRole({ role_name: 'app', allowed_policies: 'app-read', orphan: true, period: 3600, path_suffix: 'v1' });
    const role = await admin.getTokenRole({ role_name: 'app' });
    assert.deepEqual([role.data.allowed_policies, role.data.orphan, role.data.token_period, role.data.path_suffix], [['app-read'], true, 3600, 'v1']);
    assert.deepEqual((await admin.tokenRoles()).data.keys, ['app']);

    const minterToken = (await call('POST', 'auth/token/create', ROOT, { policies: ['minter'] })).body.auth.client_token as string;
    const minter = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: minterToken });
    // Its own policies do not include app-read; the role grants it anyway, as an orphan, periodic token.
    const made = await minter.tokenCreateRole({ role_name: 'app' });
    assert.deepEqual([made.auth.policies, made.auth.orphan, made.auth.lease_duration], [['app-read', 'default'], true, 3600]);
    const appToken = made.auth.client_token as string;
    const read = await call('GET', 'secret/data/app/db', appToken);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.data.password, 'pw-1');
    const look = await call('GET', 'auth/token/lookup-self', appToken);
    assert.deepEqual([look.body.data.role, look.body.data.path], ['app', 'auth/token/create/app/v1']);
    // Outside the role, the minter gets nothing: no plain create, no policy beyond the role's.
    assert.equal((await call('POST', 'auth/token/create', minterToken, { policies: ['app-read'] })).status, 403);
    const beyond = await call('POST', 'auth/token/create/app', minterToken, { policies: ['root'] });
    assert.equal(beyond.status, 400);
    assert.match(beyond.body.errors[0], /must be subset of the role's allowed policies/);

    await admin.removeTokenRole({ role_name: 'app' });
    await assert.rejects(admin.getTokenRole({ role_name: 'app' }), (e: any) => e.response?.statusCode === 404);
    // A token of a deleted role keeps working until it expires, but is no longer renewed.
    assert.equal((await call('GET', 'secret/data/app/db', appToken)).status, 200);
    const renew = await call('POST', 'auth/token/renew-self', appToken, {});
    assert.equal(renew.status, 400);
    assert.deepEqual(renew.body, { errors: ['original token role (app) could not be found, not renewing'] });
    const unknown = await call('POST', 'auth/token/create/app', ROOT, {});
    assert.deepEqual([unknown.status, unknown.body], [400, { errors: ['unknown role app'] }]);
  });

  it('a role\'s token_bound_cidrs bind its tokens to those addresses; revoke-prefix ends a role\'s tokens', async () => {
    assert.equal((await call('POST', 'auth/token/roles/far', ROOT, { allowed_policies: 'app-read', token_bound_cidrs: '10.0.0.0/8' })).status, 204);
    assert.equal((await call('POST', 'auth/token/roles/near', ROOT, { allowed_policies: 'app-read', token_bound_cidrs: ['127.0.0.0/8'] })).status, 204);
    const far = (await call('POST', 'auth/token/create/far', ROOT, {})).body.auth.client_token as string;
    const near = (await call('POST', 'auth/token/create/near', ROOT, {})).body.auth.client_token as string;
    assert.equal((await call('GET', 'secret/data/app/db', far)).status, 403, 'used from 127.0.0.1, outside 10.0.0.0/8');
    assert.equal((await call('GET', 'secret/data/app/db', near)).status, 200);
    // A role's tokens live under auth/token/create/<role>: one revoke-prefix ends them all.
    const prefix = await call('PUT', 'sys/leases/revoke-prefix/auth/token/create/near', ROOT, {});
    assert.equal(prefix.status, 204, JSON.stringify(prefix.body));
    assert.equal((await call('GET', 'secret/data/app/db', near)).status, 403);
  });

  it('auth/token/tidy: 202 with Vault\'s warning; a dangling accessor index planted through sys/raw is removed', async () => {
    const planted = 'sys/raw/sys/token/accessor/h00000000000000000000000000000000000000000000000000000000000000aa';
    assert.equal((await call('PUT', planted, ROOT, { value: 'sys/token/id/h00000000000000000000000000000000000000000000000000000000000000bb' })).status, 204);
    const live = (await call('POST', 'auth/token/create', ROOT, { policies: ['app-read'] })).body.auth;
    const r = await call('POST', 'auth/token/tidy', ROOT, {});
    assert.equal(r.status, 202);
    assert.deepEqual(r.body.warnings, ['Tidy operation successfully started. Any information from the operation will be printed to the server logs.']);
    assert.equal((await call('GET', planted, ROOT)).status, 404);
    assert.equal((await call('POST', 'auth/token/lookup-accessor', ROOT, { accessor: live.accessor })).status, 200, 'live tokens keep their index');
  });

  it('coffer token create -role', async () => {
    assert.equal((await call('POST', 'auth/token/roles/cli', ROOT, { allowed_policies: 'app-read', renewable: false })).status, 204);
    const r = await runCli(['token', 'create', '-role=cli', '-format=json'], { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT, HOME: home.path });
    assert.equal(r.code, 0, r.stderr);
    const auth = JSON.parse(r.stdout).auth;
    assert.deepEqual([auth.policies, auth.renewable], [['app-read', 'default'], false]);
  });
});
