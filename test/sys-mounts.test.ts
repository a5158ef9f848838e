// sys/mounts, sys/auth and sys/internal/ui/mounts over HTTP on an embedded dev node: the envelope with
// the injected top-level copy, enable / tune / disable (the mount's data gone, checked through sys/raw),
// Vault's error bodies, the sudo requirement on sys/auth/*, and node-vault's mounts/mount/unmount/auths.
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

const ENTRY_KEYS = ['accessor', 'config', 'description', 'external_entropy_access', 'local', 'options', 'plugin_version', 'running_plugin_version', 'running_sha256', 'seal_wrap', 'type', 'uuid'];

describe('sys/mounts and sys/auth over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const root = () => node.rootToken;
  const tokenWith = async (policies: string[]): Promise<string> => {
    const r = await call('POST', 'auth/token/create', root(), { policies });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.auth.client_token as string;
  };
  const putPolicy = async (name: string, policy: string) => {
    const r = await call('PUT', `sys/policies/acl/${name}`, root(), { policy });
    assert.equal(r.status, 204, JSON.stringify(r.body));
  };

  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  it('GET sys/mounts: every engine with Vault fields, in data and copied to the top level', async () => {
    const r = await call('GET', 'sys/mounts', root());
    assert.equal(r.status, 200);
    for (const p of ['sys/', 'secret/']) {
      assert.ok(r.body.data[p], `data.${p}`);
      assert.deepEqual(r.body[p], r.body.data[p], `top-level ${p}`);
      for (const k of ENTRY_KEYS) assert.ok(k in r.body.data[p], `${p} lacks ${k}`);
      assert.deepEqual(Object.keys(r.body.data[p].config).sort(), ['default_lease_ttl', 'force_no_cache', 'max_lease_ttl']);
    }
    assert.equal(r.body.data['secret/'].type, 'kv');
    assert.deepEqual(r.body.data['secret/'].options, { version: '2' });
    assert.equal(r.body.request_id.length, 36);
  });

  it('enable, read, tune, disable; disabling deletes the data of the mount', async () => {
    assert.equal((await call('POST', 'sys/mounts/apps', root(), { type: 'kv', description: 'apps', options: { version: '2' }, config: { max_lease_ttl: '48h' } })).status, 204);
    const read = await call('GET', 'sys/mounts/apps', root());
    assert.equal(read.status, 200);
    assert.equal(read.body.data.description, 'apps');
    assert.equal(read.body.description, 'apps'); // injected
    assert.equal(read.body.data.config.max_lease_ttl, 172800);
    const uuid = read.body.data.uuid as string;

    const w = await call('POST', 'apps/data/db', root(), { data: { password: 'p1' } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    assert.equal((await call('GET', 'apps/data/db', root())).body.data.data.password, 'p1');
    const raw = await call('LIST', `sys/raw/logical/${uuid}/`, root());
    assert.equal(raw.status, 200, JSON.stringify(raw.body));
    assert.ok(raw.body.data.keys.length > 0);

    const tune = await call('GET', 'sys/mounts/apps/tune', root());
    assert.deepEqual(tune.body.data, { description: 'apps', default_lease_ttl: 2764800, max_lease_ttl: 172800, force_no_cache: false, options: { version: '2' } });
    assert.equal((await call('POST', 'sys/mounts/apps/tune', root(), { default_lease_ttl: '1h', description: 'tuned' })).status, 204);
    assert.equal((await call('GET', 'sys/mounts/apps/tune', root())).body.default_lease_ttl, 3600);

    assert.equal((await call('DELETE', 'sys/mounts/apps', root())).status, 204);
    assert.equal((await call('GET', 'sys/mounts', root())).body.data['apps/'], undefined);
    assert.equal((await call('LIST', `sys/raw/logical/${uuid}/`, root())).status, 404);
    // the same path enabled again starts empty
    assert.equal((await call('POST', 'sys/mounts/apps', root(), { type: 'kv-v2' })).status, 204);
    assert.equal((await call('GET', 'apps/data/db', root())).status, 404);
  });

  it("errors carry Vault's messages with status 400; disabling a missing mount is 204", async () => {
    const cases: Array<[string, unknown, string]> = [
      ['sys/mounts/secret', { type: 'kv' }, 'path is already in use at secret/'],
      ['sys/mounts/secret/inner', { type: 'kv' }, 'path is already in use at secret/'],
      ['sys/mounts/sys/x', { type: 'kv' }, 'cannot mount "sys/x/"'],
      ['sys/mounts/cubbyhole', { type: 'kv' }, 'cannot mount "cubbyhole/"'],
      ['sys/mounts/x', { type: 'nosuch' }, 'plugin not found in the catalog: nosuch'],
      ['sys/mounts/x', {}, 'backend type must be specified as a string'],
    ];
    for (const [path, body, msg] of cases) {
      const r = await call('POST', path, root(), body);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { errors: [msg] });
    }
    assert.equal((await call('DELETE', 'sys/mounts/never-mounted', root())).status, 204);
    assert.deepEqual((await call('DELETE', 'sys/mounts/sys', root())).body, { errors: ['cannot unmount "sys/"'] });
    assert.deepEqual((await call('GET', 'sys/mounts/nowhere', root())).body, { errors: ['No secret engine mount at nowhere/'] });
    assert.deepEqual((await call('POST', 'sys/mounts/secret/tune', root(), { options: { version: '1' } })).body, { errors: ['cannot downgrade mount from version 2'] });
  });

  it('sys/auth: token/ listed and injected, cannot be disabled; sys/auth/* needs sudo', async () => {
    const r = await call('GET', 'sys/auth', root());
    assert.equal(r.status, 200);
    assert.equal(r.body.data['token/'].type, 'token');
    assert.equal(r.body['token/'].type, 'token');
    assert.equal(r.body.data['token/'].config.token_type, 'default-service');
    assert.deepEqual((await call('DELETE', 'sys/auth/token', root())).body, { errors: ['token credential backend cannot be disabled'] });
    assert.deepEqual((await call('POST', 'sys/auth/other', root(), { type: 'token' })).body, { errors: ['token credential backend cannot be instantiated'] });

    await putPolicy('auth-read', 'path "sys/auth/*" { capabilities = ["read"] }');
    await putPolicy('auth-sudo', 'path "sys/auth/*" { capabilities = ["read", "sudo"] }');
    const plain = await tokenWith(['auth-read']);
    const sudo = await tokenWith(['auth-sudo']);
    assert.equal((await call('GET', 'sys/auth/token/tune', plain)).status, 403);
    const ok = await call('GET', 'sys/auth/token/tune', sudo);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.data.token_type, 'default-service');
    // sys/mounts needs a policy like any other path
    assert.equal((await call('GET', 'sys/mounts', plain)).status, 403);
  });

  it('sys/internal/ui/mounts: unauthenticated listing, filtered by the token when one is sent', async () => {
    const anon = await call('GET', 'sys/internal/ui/mounts', null);
    assert.equal(anon.status, 200, JSON.stringify(anon.body));
    assert.deepEqual(anon.body.data, { secret: {}, auth: {} });

    await putPolicy('secret-reader', 'path "secret/data/team/*" { capabilities = ["read"] }');
    const t = await tokenWith(['secret-reader']);
    const seen = await call('GET', 'sys/internal/ui/mounts', t);
    assert.ok(seen.body.data.secret['secret/'], JSON.stringify(seen.body.data));
    assert.equal(seen.body.data.secret['secret/'].type, 'kv');

    const one = await call('GET', 'sys/internal/ui/mounts/secret/data/team/x', t);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.data.path, 'secret/');
    assert.deepEqual(one.body.data.options, { version: '2' });
    // (sys/ is visible: the default policy grants paths under it)
    assert.equal((await call('POST', 'sys/mounts/private', root(), { type: 'kv' })).status, 204);
    const denied = await call('GET', 'sys/internal/ui/mounts/private/x', t);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body, { errors: ['preflight capability check returned 403, please ensure client\'s policies grant access to path "private/x/"'] });
    assert.equal((await call('GET', 'sys/internal/ui/mounts', t)).body.data.secret['private/'], undefined);
    assert.equal((await call('GET', 'sys/internal/ui/mounts/secret/x', null)).status, 403);

    assert.equal((await call('POST', 'sys/mounts/secret/tune', root(), { listing_visibility: 'unauth' })).status, 204);
    const anon2 = await call('GET', 'sys/internal/ui/mounts', null);
    assert.deepEqual(anon2.body.data.secret, { 'secret/': { type: 'kv', description: 'key/value secret storage', options: { version: '2' } } });
  });

  it('node-vault: mounts(), mount(), unmount(), auths()', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    const before = await vault.mounts();
    assert.ok(before['secret/'], 'node-vault sees the injected top-level copy');
    assert.ok(before.data['sys/']);
    await vault.mount({ mount_point: 'nv', type: 'kv', description: 'from node-vault', options: { version: '1' } });
    const afterMount = await vault.mounts();
    assert.equal(afterMount['nv/'].description, 'from node-vault');
    assert.deepEqual(afterMount['nv/'].options, { version: '1' });
    await vault.write('nv/hello', { value: 'world' });
    assert.equal((await vault.read('nv/hello')).data.value, 'world');
    await vault.unmount({ mount_point: 'nv' });
    assert.equal((await vault.mounts())['nv/'], undefined);
    await assert.rejects(vault.mount({ mount_point: 'secret', type: 'kv' }), (e: any) => e.response?.statusCode === 400 && /path is already in use at secret\//.test(e.message));
    const auths = await vault.auths();
    assert.equal(auths['token/'].type, 'token');
  });
});
