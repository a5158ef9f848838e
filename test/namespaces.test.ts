// Namespaces through the public API of a dev server process: sys/namespaces, addressing by header and by
// path, isolation of mounts, data, policies and tokens between namespaces, nested namespaces, what deleting
// one takes with it, response wrapping and capabilities inside one, node-vault's `namespace` option, and
// the CLI (`coffer namespace ...`, the global -namespace / -ns flag).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, runCli, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string; namespace?: string }) => any;

const ROOT = 'namespaces-root';

describe('namespaces', () => {
  let dev: ServerProcess;
  const call = (method: string, path: string, opts: { ns?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
    http(dev.url, method, path, {
      token: opts.token ?? ROOT,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      headers: { ...(opts.ns !== undefined ? { 'X-Vault-Namespace': opts.ns } : {}), ...(opts.headers ?? {}) },
    });
  const ok = async (method: string, path: string, opts: Parameters<typeof call>[2] = {}) => {
    const r = await call(method, path, opts);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} (ns ${opts.ns ?? '-'}): ${r.status} ${r.text}`);
    return r.body;
  };
  const tokenFor = async (path: string, body: unknown, opts: { ns?: string; token?: string } = {}) => (await ok('POST', path, { ...opts, body })).auth.client_token as string;
  const policy = (hcl: string) => ({ policy: hcl });
  const rootSuffix = /^s\.[0-9A-Za-z]{24}\./;

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
  });
  after(async () => {
    await dev?.kill();
  });

  it('sys/namespaces: create, read, list, patch, nested by header and by path, and the errors', async () => {
    const created = (await ok('POST', 'sys/namespaces/alpha', { body: { custom_metadata: { owner: 'ops' } } })).data;
    assert.equal(created.path, 'alpha/');
    assert.match(created.id, /^[0-9A-Za-z]{6}$/);
    assert.deepEqual(created.custom_metadata, { owner: 'ops' });
    // Nested: through the header and through the path alike.
    assert.equal((await ok('PUT', 'sys/namespaces/one', { ns: 'alpha' })).data.path, 'alpha/one/');
    assert.equal((await ok('PUT', 'alpha/sys/namespaces/two')).data.path, 'alpha/two/');
    assert.equal((await ok('PUT', 'alpha/one/sys/namespaces/deep')).data.path, 'alpha/one/deep/');

    const rootList = (await ok('LIST', 'sys/namespaces')).data;
    assert.ok(rootList.keys.includes('alpha/'));
    assert.ok(!rootList.keys.includes('alpha/one/'), 'only direct children are listed');
    const alphaList = (await ok('GET', 'sys/namespaces?list=true', { ns: 'alpha/' })).data;
    assert.deepEqual(alphaList.keys, ['one/', 'two/']);
    assert.equal(alphaList.key_info['one/'].path, 'alpha/one/');
    assert.equal((await ok('GET', 'alpha/sys/namespaces/one')).data.id, alphaList.key_info['one/'].id);
    assert.equal((await call('GET', 'sys/namespaces/missing')).status, 404);
    assert.equal((await call('LIST', 'alpha/two/sys/namespaces')).status, 404, 'no children: 404');

    // PATCH merges custom_metadata (null removes a key); a create of an existing path replaces it.
    const patched = await call('PATCH', 'sys/namespaces/alpha', { body: { custom_metadata: { tier: 'gold', owner: null } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.data.custom_metadata, { tier: 'gold' });
    assert.deepEqual((await ok('POST', 'sys/namespaces/alpha', { body: { custom_metadata: { a: '1' } } })).data.custom_metadata, { a: '1' });
    assert.equal((await ok('GET', 'sys/namespaces/alpha')).data.id, created.id, 'an update keeps the namespace');

    const refused: [string, string, number, string][] = [
      ['POST', 'sys/namespaces/sys', 400, '"sys/" is a reserved path and cannot be used as a namespace name'],
      ['POST', 'sys/namespaces/a%2Fb', 400, 'namespace name cannot contain /'],
      ['POST', 'sys/namespaces/a%20b', 400, '"a b" contains space characters that cannot be used in a namespace name'],
      ['POST', 'sys/namespaces/secret', 400, 'new namespace conflicts with existing mount: secret/'],
      ['DELETE', 'sys/namespaces/alpha', 400, 'unable to delete namespace containing child namespaces'],
    ];
    for (const [method, path, status, message] of refused) {
      const r = await call(method, path);
      assert.deepEqual([r.status, r.body], [status, { errors: [message] }], `${method} ${path}`);
    }
    // GHSA-mwr2-wmgp-crj6: no spelling of "root" names a namespace or reaches past one.
    assert.equal((await call('POST', 'sys/namespaces/ROOT')).status, 400);
    for (const header of ['root/x', 'ROOT', 'ROOT/', 'alpha/root', 'alpha/../x']) {
      const r = await call('GET', 'sys/mounts', { ns: header });
      assert.ok(r.status === 404 || r.status === 400, `X-Vault-Namespace: ${header} → ${r.status} ${r.text}`);
    }
    assert.equal((await call('GET', 'sys/namespaces', { ns: 'root' })).status, 405, 'root is the root namespace');
    const missing = await call('DELETE', 'sys/namespaces/never');
    assert.deepEqual([missing.status, missing.body.warnings], [200, ['requested namespace does not exist']]);
    // A mount inside a child namespace's name could never be reached: refused.
    assert.equal((await call('POST', 'sys/mounts/alpha/kv', { body: { type: 'kv' } })).status, 400);
  });

  it('each namespace has its own mounts, data and policies; paths and the header address the same namespace', async () => {
    await ok('POST', 'sys/namespaces/iso');
    const mounts = (await ok('GET', 'iso/sys/mounts')).data;
    assert.deepEqual(Object.keys(mounts).sort(), ['cubbyhole/', 'sys/']);
    assert.equal(mounts['sys/'].type, 'ns_system');
    assert.equal((await ok('GET', 'iso/sys/auth')).data['token/'].type, 'ns_token');
    assert.deepEqual((await ok('LIST', 'iso/sys/policies/acl')).data.keys, ['default', 'root']);

    await ok('POST', 'iso/sys/mounts/secret', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'iso/secret/data/app', { body: { data: { owner: 'iso' } } });
    await ok('POST', 'secret/data/app', { body: { data: { owner: 'root' } } });
    assert.equal((await ok('GET', 'iso/secret/data/app')).data.data.owner, 'iso');
    assert.equal((await ok('GET', 'secret/data/app', { ns: 'iso' })).data.data.owner, 'iso');
    assert.equal((await ok('GET', 'secret/data/app')).data.data.owner, 'root');
    assert.ok(!('iso/secret/' in (await ok('GET', 'sys/mounts')).data), "the root's table does not list a namespace's mounts");

    await ok('PUT', 'iso/sys/policies/acl/only-iso', { body: policy('path "secret/*" { capabilities = ["read"] }') });
    assert.equal((await call('GET', 'sys/policies/acl/only-iso')).status, 404, 'policies are per namespace');

    // The cluster's own sys/ paths are not a namespace's.
    const rootOnly = await call('GET', 'iso/sys/storage/raft/configuration');
    assert.deepEqual([rootOnly.status, rootOnly.body], [400, { errors: ['operation only available in root namespace'] }]);
    // The lifecycle endpoints are outside namespaces: refused with a namespace header, root-only through a path.
    assert.deepEqual((await call('GET', 'sys/seal-status', { ns: 'iso' })).body, { errors: ['operation unavailable in namespaces'] });
    assert.deepEqual((await call('GET', 'iso/sys/seal-status')).body, { errors: ['operation only available in root namespace'] });
    assert.equal((await ok('GET', 'sys/seal-status', { ns: 'root' })).sealed, false);
    // A header naming no namespace: 404 `namespace not found`, even below an existing one.
    assert.deepEqual((await call('GET', 'secret/data/app', { ns: 'iso/nope' })).body, { errors: ['namespace not found'] });
  });

  it('tokens: valid in their namespace and below, with its policies; a parent policy names child paths', async () => {
    await ok('POST', 'sys/namespaces/tok');
    await ok('POST', 'tok/sys/namespaces/child');
    await ok('POST', 'tok/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'tok/child/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'tok/kv/data/s', { body: { data: { v: 'tok' } } });
    await ok('POST', 'tok/child/kv/data/s', { body: { data: { v: 'child' } } });
    await ok('POST', 'secret/data/tok-root', { body: { data: { v: 'root' } } });
    await ok('PUT', 'tok/sys/policies/acl/reader', { body: policy('path "kv/data/*" { capabilities = ["read"] }\npath "child/kv/data/*" { capabilities = ["read"] }') });

    const t = await tokenFor('tok/auth/token/create', { policies: ['reader'] });
    assert.equal((await ok('GET', 'tok/kv/data/s', { token: t })).data.data.v, 'tok');
    assert.equal((await ok('GET', 'kv/data/s', { token: t, ns: 'tok' })).data.data.v, 'tok');
    assert.equal((await ok('GET', 'tok/child/kv/data/s', { token: t })).data.data.v, 'child', 'valid in a child namespace, with its own policies');
    assert.equal((await call('GET', 'secret/data/tok-root', { token: t })).status, 403, 'not valid in the parent namespace');
    assert.equal((await call('GET', 'tok/kv/metadata/s', { token: t })).status, 403);
    const self = (await ok('GET', 'tok/auth/token/lookup-self', { token: t })).data;
    assert.equal(self.namespace_path, 'tok/');
    const tokId = (await ok('GET', 'sys/namespaces/tok')).data.id as string;
    assert.ok(t.endsWith(`.${tokId}`) && self.accessor.endsWith(`.${tokId}`), `the .<namespace id> suffix (API.md §0.5): ${t} ${self.accessor}`);
    assert.ok(!rootSuffix.test((await ok('POST', 'auth/token/create', { body: { policies: ['default'] } })).auth.client_token), 'none at the root');
    assert.equal(self.path, 'tok/auth/token/create');
    assert.equal((await call('GET', 'auth/token/lookup-self', { token: t })).status, 403);

    // A root-namespace policy grants a child's paths by their full path.
    await ok('PUT', 'sys/policies/acl/tok-reader', { body: policy('path "tok/kv/data/*" { capabilities = ["read"] }\npath "tok/sys/capabilities-self" { capabilities = ["update"] }') });
    const r = await tokenFor('auth/token/create', { policies: ['tok-reader'] });
    assert.equal((await ok('GET', 'tok/kv/data/s', { token: r })).data.data.v, 'tok');
    assert.equal((await call('GET', 'tok/child/kv/data/s', { token: r })).status, 403);
    assert.equal((await call('GET', 'secret/data/tok-root', { token: r })).status, 403);

    // A namespace's token store sees only its own tokens: a root token's accessor is unknown there.
    const rootAccessor = (await ok('GET', 'auth/token/lookup-self')).data.accessor as string;
    const admin = await tokenFor('tok/auth/token/create', { policies: ['admin'] });
    await ok('PUT', 'tok/sys/policies/acl/admin', { body: policy('path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }') });
    const peek = await call('POST', 'tok/auth/token/lookup-accessor', { token: admin, body: { accessor: rootAccessor } });
    assert.deepEqual([peek.status, peek.body.errors], [403, ['bad token']]);
    const revoke = await call('POST', 'tok/auth/token/revoke-accessor', { token: admin, body: { accessor: rootAccessor } });
    assert.deepEqual([revoke.status, revoke.body.errors], [400, ['token not found']]);
    assert.equal((await call('GET', 'auth/token/lookup-self')).status, 200, 'the root token survives a namespace admin');
    // ...while it manages its own namespace's tokens.
    const own = (await ok('POST', 'tok/auth/token/lookup', { token: admin, body: { token: t } })).data;
    assert.equal(own.namespace_path, 'tok/');
    assert.equal((await ok('POST', 'tok/auth/token/lookup-accessor', { token: admin, body: { accessor: own.accessor } })).data.accessor, own.accessor);

    // The root namespace's own endpoints (served by the core, not a handler) refuse a namespace's token even
    // when the root has a policy of the same name that would grant them.
    await ok('PUT', 'sys/policies/acl/admin', { body: policy('path "sys/storage/raft/*" { capabilities = ["read"] }\npath "sys/ha-status" { capabilities = ["read"] }') });
    assert.equal((await call('GET', 'sys/storage/raft/configuration', { token: admin })).status, 403);
    assert.equal((await call('GET', 'sys/ha-status', { token: admin })).status, 403);
    assert.equal((await call('GET', 'sys/storage/raft/snapshot', { token: admin })).status, 403);
    const rootAdmin = await tokenFor('auth/token/create', { policies: ['admin'] });
    assert.equal((await call('GET', 'sys/storage/raft/configuration', { token: rootAdmin })).status, 200, 'the same policy at the root grants it');
    await ok('DELETE', 'sys/policies/acl/admin');

    // Making tokens in a child from a parent namespace: sudo needed, and never root tokens.
    await ok('PUT', 'sys/policies/acl/tok-creator', { body: policy('path "tok/auth/token/create" { capabilities = ["create", "update"] }') });
    const creator = await tokenFor('auth/token/create', { policies: ['tok-creator'] });
    const noSudo = await call('POST', 'tok/auth/token/create', { token: creator, body: { policies: ['reader'] } });
    assert.deepEqual([noSudo.status, noSudo.body.errors], [400, ['root or sudo privileges required to directly generate a token in a child namespace']]);
    const rootFromParent = await call('POST', 'tok/auth/token/create', { body: { policies: ['root'] } });
    assert.deepEqual([rootFromParent.status, rootFromParent.body.errors], [400, ['root tokens may not be created from a parent namespace']]);
    const customId = await call('POST', 'tok/auth/token/create', { body: { id: 'my-own-id', policies: ['reader'] } });
    assert.deepEqual(customId.body.errors, ['token IDs can only be manually specified in the root namespace']);

    // capabilities-self inside the namespace: paths relative to it, the token's policies from its namespace.
    const caps = (await ok('POST', 'tok/sys/capabilities-self', { token: t, body: { paths: ['kv/data/s', 'kv/metadata/s'] } })) as Record<string, string[]>;
    assert.deepEqual([caps['kv/data/s'], caps['kv/metadata/s']], [['read'], ['deny']]);
    const parentCaps = (await ok('POST', 'tok/sys/capabilities-self', { token: r, body: { paths: ['kv/data/s'] } })) as Record<string, string[]>;
    assert.deepEqual(parentCaps['kv/data/s'], ['read'], "a parent's token: its policies, read on the full path");
    // KV clients ask which mount serves a path: answered for both, each by its own policies.
    for (const token of [t, r]) assert.deepEqual((await ok('GET', 'tok/sys/internal/ui/mounts/kv/data/s', { token })).data.options, { version: '2' });
    assert.equal((await call('GET', 'tok/sys/internal/ui/mounts/kv/data/s', { token: creator })).status, 403, 'no access to the mount: the preflight says 403');
  });

  it("token roles are per namespace: a namespace's role of the same name neither reads nor replaces the root's", async () => {
    await ok('POST', 'sys/namespaces/roles');
    await ok('POST', 'auth/token/roles/shared', { body: { allowed_policies: ['root-only-policy'] } });
    await ok('POST', 'roles/auth/token/roles/shared', { body: { allowed_policies: ['ns-policy'], orphan: true } });
    assert.deepEqual((await ok('GET', 'auth/token/roles/shared')).data.allowed_policies, ['root-only-policy']);
    assert.deepEqual((await ok('GET', 'roles/auth/token/roles/shared')).data.allowed_policies, ['ns-policy']);
    await ok('POST', 'roles/auth/token/roles/only-here', { body: { allowed_policies: ['ns-policy'] } });
    assert.deepEqual((await ok('LIST', 'roles/auth/token/roles')).data.keys.sort(), ['only-here', 'shared']);
    assert.equal((await call('GET', 'auth/token/roles/only-here')).status, 404);
    const made = (await ok('POST', 'roles/auth/token/create/shared', { body: { policies: ['ns-policy'] } })).auth;
    assert.deepEqual([made.policies, made.orphan], [['default', 'ns-policy'], true]);
    const self = (await ok('GET', 'roles/auth/token/lookup-self', { token: made.client_token })).data;
    assert.deepEqual([self.role, self.namespace_path], ['shared', 'roles/']);
    // Renewal consults the role in the token's namespace.
    assert.equal((await call('POST', 'roles/auth/token/renew-self', { token: made.client_token })).status, 200);
    await ok('DELETE', 'roles/auth/token/roles/shared');
    assert.deepEqual((await call('POST', 'roles/auth/token/renew-self', { token: made.client_token })).body.errors, ['original token role (shared) could not be found, not renewing']);
    assert.deepEqual((await ok('GET', 'auth/token/roles/shared')).data.allowed_policies, ['root-only-policy']);
  });

  it('userpass in a namespace: login tokens live there; disabling the method logs its users out', async () => {
    await ok('POST', 'sys/namespaces/up');
    await ok('POST', 'up/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'up/kv/data/s', { body: { data: { v: 'up' } } });
    await ok('PUT', 'up/sys/policies/acl/reader', { body: policy('path "kv/data/*" { capabilities = ["read"] }') });
    await ok('POST', 'up/sys/auth/userpass', { body: { type: 'userpass' } });
    await ok('POST', 'up/auth/userpass/users/bob', { body: { password: 'correct horse', policies: 'reader' } });
    assert.equal((await call('POST', 'auth/userpass/login/bob', { token: '', body: { password: 'correct horse' } })).status, 403, 'no userpass at the root');
    const login = (await ok('POST', 'up/auth/userpass/login/bob', { token: '', body: { password: 'correct horse' } })).auth;
    assert.equal((await ok('GET', 'up/kv/data/s', { token: login.client_token })).data.data.v, 'up');
    assert.equal((await ok('POST', 'up/auth/token/renew-self', { token: login.client_token })).auth.client_token, login.client_token);
    // The user's policies change: the auth method refuses the renewal, as at the root.
    await ok('POST', 'up/auth/userpass/users/bob/policies', { body: { policies: 'default' } });
    assert.deepEqual((await call('POST', 'up/auth/token/renew-self', { token: login.client_token })).body.errors, ['policies have changed, not renewing']);
    await ok('DELETE', 'up/sys/auth/userpass');
    assert.equal((await call('GET', 'up/kv/data/s', { token: login.client_token })).status, 403, 'disabling the method revoked its tokens');
  });

  it('deleting a namespace deletes its data and revokes its tokens; a new one of the same name starts empty', async () => {
    await ok('POST', 'sys/namespaces/gone');
    await ok('POST', 'gone/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'gone/kv/data/s', { body: { data: { v: 'doomed' } } });
    await ok('PUT', 'gone/sys/policies/acl/reader', { body: policy('path "kv/data/*" { capabilities = ["read"] }') });
    const t = await tokenFor('gone/auth/token/create', { policies: ['reader'] });
    const accessor = (await ok('GET', 'gone/auth/token/lookup-self', { token: t })).data.accessor as string;
    const id = (await ok('GET', 'sys/namespaces/gone')).data.uuid as string;
    assert.ok((await ok('LIST', 'sys/raw/namespaces/')).data.keys.includes(`${id}/`));

    assert.equal((await call('DELETE', 'sys/namespaces/gone')).status, 204);
    assert.equal((await call('GET', 'gone/kv/data/s', { token: t })).status, 403);
    assert.equal((await call('POST', 'auth/token/lookup-accessor', { body: { accessor } })).status, 400, 'the token entry is gone');
    const raw = await call('LIST', 'sys/raw/namespaces/');
    assert.ok(raw.status === 404 || !raw.body.data.keys.includes(`${id}/`), 'the segment is gone');
    assert.equal((await call('GET', 'gone/kv/data/s')).status, 404);

    await ok('POST', 'sys/namespaces/gone');
    assert.equal((await call('GET', 'gone/kv/data/s')).status, 404, 'nothing of the old namespace');
    assert.equal((await call('GET', 'gone/kv/data/s', { token: t })).status, 403, 'nor its tokens');
  });

  it('rate-limit quotas on a namespace (inherited by its children only when asked) and on its mounts', async () => {
    await ok('POST', 'sys/namespaces/qns');
    await ok('POST', 'qns/sys/namespaces/kid');
    for (const ns of ['qns/', 'qns/kid/']) {
      await ok('POST', `${ns}sys/mounts/kv`, { body: { type: 'kv', options: { version: '2' } } });
      await ok('POST', `${ns}kv/data/s`, { body: { data: { v: ns } } });
    }
    const statuses = async (path: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call('GET', path)).status);
      return out;
    };
    await ok('POST', 'sys/quotas/rate-limit/qns-wide', { body: { path: 'qns/', rate: 3, interval: '1h' } });
    const stored = (await ok('GET', 'sys/quotas/rate-limit/qns-wide')).data;
    assert.deepEqual([stored.path, stored.inheritable], ['qns/', false]);
    assert.deepEqual(await statuses('qns/kv/data/s', 5), [200, 200, 200, 429, 429]);
    assert.deepEqual(await statuses('qns/kid/kv/data/s', 4), [200, 200, 200, 200], 'not inheritable: the child is not limited');
    assert.deepEqual(await statuses('secret/data/app', 4), [200, 200, 200, 200], 'nor the root');

    // A mount of the child gets a quota of its own; a path that is no mount is refused.
    await ok('POST', 'sys/quotas/rate-limit/kid-kv', { body: { path: 'qns/kid/kv/', rate: 1, interval: '1h' } });
    assert.deepEqual(await statuses('qns/kid/kv/data/s', 2), [200, 429]);
    const bad = await call('POST', 'sys/quotas/rate-limit/nope', { body: { path: 'qns/nomount/', rate: 1 } });
    assert.deepEqual([bad.status, bad.body.errors], [400, ['invalid mount path "qns/nomount/"']]);

    // Deleting the namespace deletes its quotas (and its mounts' ones). A looser quota first, so the
    // delete itself (a request in qns/) is not limited.
    await ok('POST', 'sys/quotas/rate-limit/qns-wide', { body: { path: 'qns/', rate: 100, interval: '1h' } });
    await ok('DELETE', 'qns/sys/namespaces/kid');
    assert.equal((await call('GET', 'sys/quotas/rate-limit/kid-kv')).status, 404);
    await ok('DELETE', 'sys/namespaces/qns');
    assert.equal((await call('GET', 'sys/quotas/rate-limit/qns-wide')).status, 404);
  });

  it("sys/leases in a namespace: its leases, named relative to it; nothing outside it", async () => {
    await ok('POST', 'sys/namespaces/lns');
    await ok('POST', 'lns/sys/mounts/leased', { body: { type: 'kv', options: { version: '1', leased_passthrough: 'true' } } });
    await ok('PUT', 'lns/leased/app', { body: { user: 'web', ttl: '1h' } });
    const read = await ok('GET', 'lns/leased/app');
    assert.match(read.lease_id, /^leased\/app\/[0-9A-Za-z]{24}$/, 'relative to the namespace');
    const look = (await ok('PUT', 'lns/sys/leases/lookup', { body: { lease_id: read.lease_id } })).data;
    assert.deepEqual([look.id, look.path], [read.lease_id, 'leased/app']);
    assert.equal((await ok('PUT', 'sys/leases/lookup', { body: { lease_id: `lns/${read.lease_id}` } })).data.id, `lns/${read.lease_id}`, 'the root names it by its full path');
    assert.deepEqual((await ok('LIST', 'lns/sys/leases/lookup/leased/app/')).data.keys, [read.lease_id.split('/').pop()]);
    const renewed = await ok('PUT', 'lns/sys/leases/renew', { body: { lease_id: read.lease_id, increment: '2h' } });
    assert.deepEqual([renewed.lease_id, renewed.lease_duration], [read.lease_id, 7200]);

    // A root lease cannot be named from the namespace.
    await ok('POST', 'sys/mounts/lns-root', { body: { type: 'kv', options: { version: '1', leased_passthrough: 'true' } } });
    await ok('PUT', 'lns-root/app', { body: { user: 'web', ttl: '1h' } });
    const rootLease = (await ok('GET', 'lns-root/app')).lease_id as string;
    assert.equal((await call('PUT', 'lns/sys/leases/lookup', { body: { lease_id: rootLease } })).status, 400);
    await ok('PUT', 'lns/sys/leases/revoke-prefix/lns-root');
    assert.equal((await ok('PUT', 'sys/leases/lookup', { body: { lease_id: rootLease } })).data.id, rootLease, 'untouched');

    await ok('PUT', 'lns/sys/leases/revoke-prefix/leased');
    assert.equal((await call('PUT', 'lns/sys/leases/lookup', { body: { lease_id: read.lease_id } })).status, 400, 'revoked');
    assert.equal((await call('POST', 'lns/sys/leases/tidy')).status, 400, 'tidy is the root namespace\'s');
  });

  it('sys/remount inside a namespace and from one namespace into another (the data moves segments)', async () => {
    await ok('POST', 'sys/namespaces/mv');
    await ok('POST', 'mv/sys/namespaces/sub');
    await ok('POST', 'sys/namespaces/mv2');
    await ok('POST', 'mv/sys/mounts/a', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'mv/a/data/s', { body: { data: { v: 'moving' } } });
    await ok('POST', 'mv/a/data/s', { body: { data: { v: 'moving-2' } } });

    const inside = await ok('POST', 'sys/remount', { ns: 'mv', body: { from: 'a', to: 'b' } });
    assert.equal((await ok('GET', `mv/sys/remount/status/${inside.data.migration_id}`)).data.migration_info.status, 'success');
    assert.equal((await ok('GET', 'mv/b/data/s')).data.data.v, 'moving-2');
    assert.equal((await call('GET', 'mv/a/data/s')).status, 404);

    // Into a child namespace, from the parent; then across to a sibling, from the root.
    await ok('POST', 'mv/sys/remount', { body: { from: 'b', to: 'sub/c' } });
    assert.equal((await ok('GET', 'mv/sub/c/data/s?version=1')).data.data.v, 'moving', 'every version came along');
    assert.ok('c/' in (await ok('GET', 'mv/sub/sys/mounts')).data);
    assert.ok(!('b/' in (await ok('GET', 'mv/sys/mounts')).data));
    await ok('POST', 'sys/remount', { body: { from: 'mv/sub/c', to: 'mv2/d' } });
    assert.equal((await ok('GET', 'mv2/d/data/s')).data.data.v, 'moving-2');
    assert.equal((await call('GET', 'mv/sub/c/data/s')).status, 404);

    const clash = await call('POST', 'sys/remount', { body: { from: 'mv2/d', to: 'mv2/sys' } });
    assert.equal(clash.status, 400);
    const missing = await call('POST', 'mv/sys/remount', { body: { from: 'nothing', to: 'x' } });
    assert.deepEqual(missing.body.errors, ['no matching mount at "nothing/"']);
  });

  it('API lock: a locked namespace and those below it answer 503 until unlocked, by key or by sudo', async () => {
    await ok('POST', 'sys/namespaces/lk');
    await ok('POST', 'lk/sys/namespaces/below');
    await ok('POST', 'lk/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'lk/kv/data/s', { body: { data: { v: 'locked-away' } } });
    const key = (await ok('POST', 'sys/namespaces/api-lock/lock/lk')).data.unlock_key as string;
    assert.match(key, /^[0-9A-Za-z]{24}$/);
    const message = 'API access to this namespace has been locked by an administrator - "lk/" must be unlocked to gain access.';
    for (const [path, ns] of [['lk/kv/data/s', undefined], ['kv/data/s', 'lk'], ['lk/below/sys/mounts', undefined]] as const) {
      const r = await call('GET', path, ns ? { ns } : {});
      assert.deepEqual([r.status, r.body], [503, { errors: [message] }], `${path} (${ns ?? '-'})`);
    }
    const read = (await ok('GET', 'sys/namespaces/lk')).data;
    assert.equal(read.locked, true);
    assert.ok(!('unlock_key' in read), 'the key is answered once, by the lock');
    assert.equal((await call('GET', 'secret/data/app')).status, 200, 'the root is not locked');
    const again = await call('POST', 'lk/sys/namespaces/api-lock/lock/below');
    assert.equal(again.status, 503, 'nothing inside runs, not even a lock');
    assert.deepEqual((await call('POST', 'sys/namespaces/api-lock/lock/lk')).body.errors, ['cannot lock namespace "lk/": is already locked']);
    assert.deepEqual((await call('POST', 'sys/namespaces/api-lock/unlock/lk/below', { body: { unlock_key: key } })).body.errors, ['namespace "lk/below/" is not locked']);
    assert.deepEqual((await call('POST', 'sys/namespaces/api-lock/unlock/lk', { body: { unlock_key: 'x'.repeat(24) } })).body.errors, ['incorrect unlock key']);

    // Unlocked from inside with the key (the one path a locked namespace serves), then locked and unlocked by sudo.
    assert.equal((await call('POST', 'lk/sys/namespaces/api-lock/unlock', { body: { unlock_key: key } })).status, 204);
    assert.equal((await ok('GET', 'lk/kv/data/s')).data.data.v, 'locked-away');
    await ok('POST', 'sys/namespaces/api-lock/lock/lk/below');
    assert.equal((await call('GET', 'lk/below/sys/mounts')).status, 503);
    assert.equal((await call('GET', 'lk/kv/data/s')).status, 200, 'a locked child leaves its parent alone');
    const bySudo = await ok('POST', 'lk/sys/namespaces/api-lock/unlock/below');
    assert.deepEqual(bySudo.warnings, ['Namespace unlocked using sudo capabilities']);
    assert.equal((await call('GET', 'lk/below/sys/mounts')).status, 200);
    assert.deepEqual((await call('POST', 'sys/namespaces/api-lock/lock')).body.errors, ['root namespace cannot be locked/unlocked']);
  });

  it("a token's cubbyhole is one per namespace, and goes with the token", async () => {
    await ok('POST', 'sys/namespaces/cub');
    const t = await tokenFor('auth/token/create', { policies: ['cubby'] });
    await ok('PUT', 'sys/policies/acl/cubby', { body: policy('path "cubbyhole/*" { capabilities = ["create", "read", "update", "list"] }\npath "cub/cubbyhole/*" { capabilities = ["create", "read", "update", "list"] }') });
    await ok('POST', 'cubbyhole/note', { token: t, body: { where: 'root' } });
    await ok('POST', 'cub/cubbyhole/note', { token: t, body: { where: 'cub' } });
    assert.equal((await ok('GET', 'cubbyhole/note', { token: t })).data.where, 'root');
    assert.equal((await ok('GET', 'cubbyhole/note', { token: t, ns: 'cub' })).data.where, 'cub');
    assert.equal((await ok('LIST', 'sys/raw/sys/cubbyhole-ns/')).data.keys.length, 1, "the token's namespace cubbyholes are stored beside its root one");
    await ok('POST', 'auth/token/revoke', { body: { token: t } });
    const left = await call('LIST', 'sys/raw/sys/cubbyhole-ns/');
    assert.ok(left.status === 404 || left.body.data.keys.length === 0, `revocation took the namespace cubbyholes too: ${left.text}`);
  });

  it('response wrapping in a namespace: the wrapping token unwraps there only', async () => {
    await ok('POST', 'sys/namespaces/wrap');
    await ok('POST', 'wrap/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await ok('POST', 'wrap/kv/data/s', { body: { data: { v: 'wrapped' } } });
    const wrapped = await ok('GET', 'wrap/kv/data/s', { headers: { 'X-Vault-Wrap-TTL': '60' } });
    const wt = wrapped.wrap_info.token as string;
    assert.equal((await call('POST', 'sys/wrapping/unwrap', { token: wt })).status, 403, 'not valid at the root');
    assert.equal((await ok('POST', 'wrap/sys/wrapping/unwrap', { token: wt })).data.data.v, 'wrapped');
    assert.equal((await call('POST', 'wrap/sys/wrapping/unwrap', { token: wt })).status, 403, 'single use');
  });

  it("the audit log names a request's namespace and its path within it; the namespace's secret is not logged in plaintext", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-ns-audit-'));
    try {
      const file = join(dir, 'audit.log');
      await ok('PUT', 'sys/audit/ns-file', { body: { type: 'file', options: { file_path: file } } });
      const ns = (await ok('POST', 'sys/namespaces/aud')).data;
      await ok('POST', 'aud/sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
      await ok('POST', 'kv/data/s', { ns: 'aud', body: { data: { pw: 'aud-secret-value' } } });
      await ok('DELETE', 'sys/audit/ns-file');
      const text = readFileSync(file, 'utf8');
      assert.ok(!text.includes('aud-secret-value'), 'values are HMAC-ed');
      const write = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'request' && e.request.path === 'kv/data/s');
      assert.ok(write, 'the namespaced write was logged with its path within the namespace');
      assert.deepEqual(write.request.namespace, { id: ns.id, path: 'aud/' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('node-vault with its namespace option', async () => {
    await ok('POST', 'sys/namespaces/nv');
    const vault = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: ROOT, namespace: 'nv' });
    await vault.mount({ mount_point: 'kv', type: 'kv', options: { version: '2' } });
    assert.ok('kv/' in (await vault.mounts()).data);
    await vault.write('kv/data/app', { data: { owner: 'node-vault' } });
    assert.equal((await vault.read('kv/data/app')).data.data.owner, 'node-vault');
    assert.deepEqual((await vault.list('kv/metadata/')).data.keys, ['app']);
    await vault.addPolicy({ name: 'nv-reader', rules: 'path "kv/data/*" { capabilities = ["read"] }' });
    const created = await vault.tokenCreate({ policies: ['nv-reader'] });
    const user = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: created.auth.client_token, namespace: 'nv' });
    assert.equal((await user.read('kv/data/app')).data.data.owner, 'node-vault');
    await assert.rejects(user.write('kv/data/app', { data: { owner: 'x' } }), (e: any) => e.response?.statusCode === 403);
    const atRoot = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: created.auth.client_token });
    await assert.rejects(atRoot.read('secret/data/app'), (e: any) => e.response?.statusCode === 403);
    assert.equal((await call('GET', 'kv/data/app')).status, 404, 'nothing written at the root');
  });

  it('CLI: coffer namespace create|list|lookup|patch|delete and the global -namespace / -ns flag', async () => {
    const env = { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT };
    const created = await runCli(['namespace', 'create', '-custom-metadata=team=blue', 'cli'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /path\s+cli\//);
    assert.match(created.stdout, /custom_metadata\s+map\[team:blue\]/);
    assert.equal((await runCli(['-namespace=cli', 'namespace', 'create', 'inner'], env)).code, 0);
    const listed = await runCli(['namespace', 'list', '-ns', 'cli'], env);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['Keys', '------', 'inner/']);
    const json = await runCli(['namespace', 'lookup', '-format=json', 'cli'], env);
    assert.equal(JSON.parse(json.stdout).data.path, 'cli/');
    const patched = await runCli(['namespace', 'patch', 'cli', '-custom-metadata=tier=1', '-remove-custom-metadata=team'], env);
    assert.match(patched.stdout, /custom_metadata\s+map\[tier:1\]/);
    assert.equal((await runCli(['namespace', 'lookup', 'nope'], env)).code, 2);

    assert.equal((await runCli(['secrets', 'enable', '-namespace=cli', '-path=kv', '-version=2', 'kv'], env)).code, 0);
    assert.equal((await runCli(['kv', 'put', 'kv/app', 'pw=from-cli'], { ...env, VAULT_NAMESPACE: 'cli' })).code, 0);
    const got = await runCli(['kv', 'get', '-ns=cli', '-field=pw', 'kv/app'], env);
    assert.equal(got.stdout.trim(), 'from-cli');
    assert.equal((await ok('GET', 'cli/kv/data/app')).data.data.pw, 'from-cli');
    // The status command still works with a namespace set: it asks the node, outside any namespace.
    assert.equal((await runCli(['status'], { ...env, VAULT_NAMESPACE: 'cli' })).code, 0);

    const locked = await runCli(['namespace', 'lock', 'cli'], env);
    const unlockKey = /^Unlock Key: ([0-9A-Za-z]{24})$/m.exec(locked.stdout)?.[1];
    assert.ok(unlockKey, locked.stdout + locked.stderr);
    assert.equal((await runCli(['kv', 'get', '-ns=cli', 'kv/app'], env)).code, 2, 'locked');
    const unlocked = await runCli(['namespace', 'unlock', `-unlock-key=${unlockKey}`, 'cli'], env);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.equal((await runCli(['kv', 'get', '-ns=cli', 'kv/app'], env)).code, 0);

    const refused = await runCli(['namespace', 'delete', 'cli'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /unable to delete namespace containing child namespaces/);
    assert.equal((await runCli(['namespace', 'delete', '-ns=cli', 'inner'], env)).stdout.trim(), 'Success! Namespace deleted: inner/');
    assert.equal((await runCli(['namespace', 'delete', 'cli'], env)).code, 0);
    assert.match((await runCli(['namespace', 'delete', 'cli'], env)).stdout, /Requested namespace does not exist/);
  });
});
