import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { dueKey, tokenIndexKey, type LeaseEntry } from '../../expiration/leases.js';
import { AUTH_KEY, MOUNTS_KEY, newMountEntry, type MountTable } from '../mount-table.js';
import { anonymous, callerWith, getJson, getPlain, putPlain, seededSys } from './test-seed.js';

async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CofferError, `expected a CofferError, got ${String(e)}`);
    assert.equal(e.value.code, code);
    if (message !== undefined) assert.deepEqual(e.value.messages, [message]);
    return true;
  });
}

const ENTRY_KEYS = [
  'accessor',
  'config',
  'description',
  'external_entropy_access',
  'local',
  'options',
  'plugin_version',
  'running_plugin_version',
  'running_sha256',
  'seal_wrap',
  'type',
  'uuid',
];

describe('sys/mounts', () => {
  it('lists every secrets engine with Vault fields, data injected at the top level', async () => {
    const sys = seededSys();
    const { result } = await sys.request('read', 'mounts');
    assert.ok(result);
    assert.equal(result.injectData, true);
    const data = result.data as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(data).sort(), ['secret/', 'sys/']);
    const secret = data['secret/'] as Record<string, unknown>;
    for (const k of ENTRY_KEYS) assert.ok(k in secret, `missing ${k}`);
    assert.equal(secret.type, 'kv');
    assert.deepEqual(secret.options, { version: '2' });
    assert.deepEqual(secret.config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false });
    assert.equal((data['sys/'] as Record<string, unknown>).type, 'system');
  });

  it('enables a kv mount (204), then lists and reads it', async () => {
    const sys = seededSys();
    const { result, operation } = await sys.request('update', 'mounts/kv1', { type: 'kv', description: 'first', config: { default_lease_ttl: '1h', max_lease_ttl: 7200 } });
    assert.equal(result, null);
    assert.equal(operation, 'update');
    const table = getJson<MountTable>(sys.physical, MOUNTS_KEY) as MountTable;
    const e = table.entries.find((x) => x.path === 'kv1/');
    assert.ok(e);
    assert.match(e.accessor, /^kv_[0-9a-f]{8}$/);
    assert.match(e.uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(e.config, { default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: false });
    const read = await sys.request('read', 'mounts/kv1');
    assert.equal(read.result?.injectData, true);
    assert.equal((read.result?.data as Record<string, unknown>).description, 'first');
    // the router's longest-prefix match: a path inside the mount reads the mount
    const inner = await sys.request('read', 'mounts/kv1/some/key');
    assert.equal((inner.result?.data as Record<string, unknown>).uuid, e.uuid);
  });

  it('kv-v1 / kv-v2 aliases set the version option', async () => {
    const sys = seededSys();
    await sys.request('update', 'mounts/v2', { type: 'kv-v2' });
    await sys.request('update', 'mounts/v1', { type: 'kv-v1' });
    await sys.request('update', 'mounts/opt', { type: 'kv', options: { version: 2 } });
    const data = (await sys.request('read', 'mounts')).result?.data as Record<string, Record<string, unknown>>;
    assert.equal(data['v2/']?.type, 'kv');
    assert.deepEqual(data['v2/']?.options, { version: '2' });
    assert.deepEqual(data['v1/']?.options, { version: '1' });
    assert.deepEqual(data['opt/']?.options, { version: '2' });
  });

  it('refuses paths in use, overlapping paths and protected prefixes with Vault messages', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'mounts/secret', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'path is already in use at secret/');
    await rejects(sys.request('update', 'mounts/secret/nested', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'path is already in use at secret/');
    await sys.request('update', 'mounts/a/b', { type: 'kv' });
    await rejects(sys.request('update', 'mounts/a', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'path is already in use at a/b/');
    await rejects(sys.request('update', 'mounts/sys/x', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "sys/x/"');
    await rejects(sys.request('update', 'mounts/sys', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "sys/"');
    await rejects(sys.request('update', 'mounts/auth/x', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "auth/x/"');
    await rejects(sys.request('update', 'mounts/cubbyhole', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "cubbyhole/"');
    await rejects(sys.request('update', 'mounts/identity', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "identity/"');
    await rejects(sys.request('update', 'mounts/audit', { type: 'kv' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot mount "audit/"');
  });

  it('refuses unknown, missing and built-in types, and version options on non-kv engines', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'mounts/x', { type: 'nope' }), 'COFFER_ERR_INVALID_REQUEST', 'plugin not found in the catalog: nope');
    await rejects(sys.request('update', 'mounts/x', {}), 'COFFER_ERR_INVALID_REQUEST', 'backend type must be specified as a string');
    await rejects(sys.request('update', 'mounts/x', { type: 'system' }), 'COFFER_ERR_INVALID_REQUEST', 'mount type of "system" is not mountable');
    await rejects(sys.request('update', 'mounts/x', { type: 'token' }), 'COFFER_ERR_INVALID_REQUEST', 'mount type of "token" is not mountable');
    await rejects(sys.request('update', 'mounts/x', { type: 'transit', options: { version: '2' } }), 'COFFER_ERR_INVALID_REQUEST', 'secrets engine "transit" does not allow setting a version');
    await rejects(sys.request('update', 'mounts/x', { type: 'plugin' }), 'COFFER_ERR_INVALID_REQUEST', 'plugin_name must be provided for plugin backend');
    // the conflict check runs before the catalog lookup, as in Vault
    await rejects(sys.request('update', 'mounts/secret', { type: 'nope' }), 'COFFER_ERR_INVALID_REQUEST', 'path is already in use at secret/');
    assert.equal((getJson<MountTable>(sys.physical, MOUNTS_KEY) as MountTable).entries.length, 2);
  });

  it('validates lease TTLs in config', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'mounts/x', { type: 'kv', config: { default_lease_ttl: 'abc' } }), 'COFFER_ERR_INVALID_REQUEST', 'unable to parse default TTL of abc: time: invalid duration "abc"');
    await rejects(sys.request('update', 'mounts/x', { type: 'kv', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } }), 'COFFER_ERR_INVALID_REQUEST', 'given default lease TTL greater than given max lease TTL');
    await rejects(sys.request('update', 'mounts/x', { type: 'kv', config: { default_lease_ttl: '1000h' } }), 'COFFER_ERR_INVALID_REQUEST', 'given default lease TTL greater than system max lease TTL of 2764800');
    await rejects(sys.request('update', 'mounts/x', { type: 'kv', config: { listing_visibility: 'loud' } }), 'COFFER_ERR_INVALID_REQUEST', 'invalid listing_visibility loud');
  });

  it('reading a missing mount is a 400 with Vault\'s message', async () => {
    const sys = seededSys();
    await rejects(sys.request('read', 'mounts/none'), 'COFFER_ERR_INVALID_REQUEST', 'No secret engine mount at none/');
  });

  it('disabling removes the entry and every key of the mount in one write-set', async () => {
    const sys = seededSys();
    await sys.request('update', 'mounts/doomed', { type: 'kv' });
    const uuid = (getJson<MountTable>(sys.physical, MOUNTS_KEY) as MountTable).entries.find((e) => e.path === 'doomed/')?.uuid as string;
    putPlain(sys.physical, `logical/${uuid}/x`, 'one');
    putPlain(sys.physical, `logical/${uuid}/deep/er/y`, 'two');
    putPlain(sys.physical, 'logical/uuid-secret/keep', 'three');
    // A secret lease issued under the mount, with its two index keys: the disable revokes it.
    const lease: LeaseEntry = { lease_id: 'doomed/lease1', kind: 'secret', path: 'doomed/x', token_key: 'howner', issue_time_ms: 1, expire_time_ms: 5000, last_renewal_time_ms: null, ttl_s: 5, renewable: false, max_ttl_s: 0, due_ms: 5000 };
    putPlain(sys.physical, 'sys/expire/id/doomed/lease1', JSON.stringify(lease));
    putPlain(sys.physical, tokenIndexKey('howner', lease.lease_id), lease.lease_id);
    putPlain(sys.physical, dueKey(5000, lease.lease_id), lease.lease_id);
    const { result, index } = await sys.request('delete', 'mounts/doomed');
    assert.equal(result, null);
    assert.equal(index, 1 + 1); // the enable was write 1; the disable is exactly one more write
    assert.equal(getPlain(sys.physical, `logical/${uuid}/x`), undefined);
    assert.equal(getPlain(sys.physical, `logical/${uuid}/deep/er/y`), undefined);
    assert.equal(getPlain(sys.physical, 'sys/expire/id/doomed/lease1'), undefined);
    assert.equal(getPlain(sys.physical, tokenIndexKey('howner', lease.lease_id)), undefined);
    assert.equal(getPlain(sys.physical, dueKey(5000, lease.lease_id)), undefined);
    assert.equal(getPlain(sys.physical, 'logical/uuid-secret/keep'), 'three');
    assert.ok(!(getJson<MountTable>(sys.physical, MOUNTS_KEY) as MountTable).entries.some((e) => e.path === 'doomed/'));
  });

  it('disabling a missing mount is a silent 204; protected mounts cannot be disabled', async () => {
    const sys = seededSys();
    assert.equal((await sys.request('delete', 'mounts/never')).result, null);
    await rejects(sys.request('delete', 'mounts/sys'), 'COFFER_ERR_INVALID_REQUEST', 'cannot unmount "sys/"');
    await rejects(sys.request('delete', 'mounts/auth/token'), 'COFFER_ERR_INVALID_REQUEST', 'cannot unmount "auth/token/"');
  });
});

describe('sys/mounts/<path>/tune', () => {
  it('reads effective TTLs and options, writes TTLs and description', async () => {
    const sys = seededSys();
    const before = await sys.request('read', 'mounts/secret/tune');
    assert.equal(before.result?.injectData, true);
    assert.deepEqual(before.result?.data, { description: 'key/value secret storage', default_lease_ttl: 2764800, max_lease_ttl: 2764800, force_no_cache: false, options: { version: '2' } });
    assert.equal((await sys.request('update', 'mounts/secret/tune', { default_lease_ttl: '1h', max_lease_ttl: 7200, description: 'tuned' })).result, null);
    const after = await sys.request('read', 'mounts/secret/tune');
    assert.equal((after.result?.data as Record<string, unknown>).default_lease_ttl, 3600);
    assert.equal((after.result?.data as Record<string, unknown>).max_lease_ttl, 7200);
    assert.equal((after.result?.data as Record<string, unknown>).description, 'tuned');
    const listed = (await sys.request('read', 'mounts')).result?.data as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(listed['secret/']?.config?.default_lease_ttl, 3600);
    await sys.request('update', 'mounts/secret/tune', { default_lease_ttl: 'system' });
    assert.equal(((await sys.request('read', 'mounts/secret/tune')).result?.data as Record<string, unknown>).default_lease_ttl, 2764800);
  });

  it('refuses max < default, untunable mounts, kv downgrades; warns on the v1→v2 upgrade', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'mounts/secret/tune', { default_lease_ttl: '2h', max_lease_ttl: '1h' }), 'COFFER_ERR_INVALID_REQUEST', 'backend max lease TTL of 3600 would be less than backend default lease TTL of 7200');
    await rejects(sys.request('update', 'mounts/sys/tune', { default_lease_ttl: '1h' }), 'COFFER_ERR_INVALID_REQUEST', 'cannot tune parameter default_lease_ttl of sys/');
    assert.equal((await sys.request('update', 'mounts/sys/tune', { audit_non_hmac_request_keys: 'a,b' })).result, null);
    await rejects(sys.request('update', 'mounts/nothere/tune', { description: 'x' }), 'COFFER_ERR_INVALID_REQUEST', 'tune of path "nothere/" failed: no mount entry found');
    await rejects(sys.request('read', 'mounts/nothere/tune'), 'COFFER_ERR_INVALID_REQUEST', 'cannot fetch sysview for path "nothere/"');
    await rejects(sys.request('update', 'mounts/secret/tune', { options: { version: '1' } }), 'COFFER_ERR_INVALID_REQUEST', 'cannot downgrade mount from version 2');
    await rejects(sys.request('update', 'mounts/secret/tune', { options: { version: '3' } }), 'COFFER_ERR_INVALID_REQUEST', 'invalid version provided: 3');
    await rejects(sys.request('update', 'mounts/secret/tune', { token_type: 'batch' }), 'COFFER_ERR_INVALID_REQUEST', "'token_type' can only be modified on auth mounts");
    await sys.request('update', 'mounts/old', { type: 'kv', options: { version: '1' } });
    const up = await sys.request('update', 'mounts/old/tune', { options: { version: '2' } });
    assert.deepEqual(up.result?.warnings, ['Upgrading mount from version 1 to version 2. This mount will be unavailable for a brief period and will resume service shortly.']);
    assert.deepEqual((getJson<MountTable>(sys.physical, MOUNTS_KEY) as MountTable).entries.find((e) => e.path === 'old/')?.options, { version: '2' });
    await rejects(sys.request('delete', 'mounts/secret/tune'), 'COFFER_ERR_METHOD_NOT_ALLOWED');
  });
});

describe('sys/auth', () => {
  it('lists auth methods keyed without "auth/", with token_type, injected', async () => {
    const sys = seededSys();
    const { result } = await sys.request('read', 'auth');
    assert.equal(result?.injectData, true);
    const token = (result?.data as Record<string, Record<string, unknown>>)['token/'];
    assert.ok(token);
    assert.equal(token.type, 'token');
    assert.deepEqual(token.config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, token_type: 'default-service' });
    const one = await sys.request('read', 'auth/token');
    assert.equal((one.result?.data as Record<string, unknown>).accessor, 'auth_token_00000003');
    await rejects(sys.request('read', 'auth/none'), 'COFFER_ERR_INVALID_REQUEST', 'No auth engine at none/');
  });

  it('is root-protected (sudo) under sys/auth/*', async () => {
    const sys = seededSys();
    const { spec } = await sys.request('read', 'auth/token');
    assert.equal(spec.sudo, true);
    assert.notEqual((await sys.request('read', 'auth')).spec.sudo, true);
  });

  it('refuses the token type, unknown types, and disabling token/', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'auth/tok2', { type: 'token' }), 'COFFER_ERR_INVALID_REQUEST', 'token credential backend cannot be instantiated');
    await rejects(sys.request('update', 'auth/up', { type: 'nope' }), 'COFFER_ERR_INVALID_REQUEST', 'plugin not found in the catalog: nope');
    await rejects(sys.request('update', 'auth/token', { type: 'userpass' }), 'COFFER_ERR_INVALID_REQUEST', 'path is already in use at token/');
    await rejects(sys.request('update', 'auth/up', { type: 'userpass', config: { token_type: 'weird' } }), 'COFFER_ERR_INVALID_REQUEST', "invalid value for 'token_type'");
    await rejects(sys.request('update', 'auth/up', { type: 'userpass', options: { version: '2' } }), 'COFFER_ERR_INVALID_REQUEST', 'auth method "userpass" does not allow setting a version');
    await rejects(sys.request('delete', 'auth/token'), 'COFFER_ERR_INVALID_REQUEST', 'token credential backend cannot be disabled');
    assert.equal((await sys.request('delete', 'auth/never')).result, null);
  });

  it('disabling an auth method deletes auth/<uuid>/ data with the entry', async () => {
    const sys = seededSys();
    const auth = getJson<MountTable>(sys.physical, AUTH_KEY) as MountTable;
    auth.entries.push(newMountEntry('userpass', 'userpass/', {}, 'uuid-up', 'auth_userpass_0000000a'));
    putPlain(sys.physical, AUTH_KEY, JSON.stringify(auth));
    putPlain(sys.physical, 'auth/uuid-up/user/alice', '{}');
    putPlain(sys.physical, 'auth/uuid-token-other/keep', '{}');
    assert.equal((await sys.request('delete', 'auth/userpass')).result, null);
    assert.equal(getPlain(sys.physical, 'auth/uuid-up/user/alice'), undefined);
    assert.equal(getPlain(sys.physical, 'auth/uuid-token-other/keep'), '{}');
    assert.deepEqual((getJson<MountTable>(sys.physical, AUTH_KEY) as MountTable).entries.map((e) => e.path), ['token/']);
  });

  it('tunes auth mounts through sys/auth/<path>/tune and sys/mounts/auth/<path>/tune', async () => {
    const sys = seededSys();
    const r = await sys.request('read', 'auth/token/tune');
    assert.deepEqual(r.result?.data, { description: 'token based credentials', default_lease_ttl: 2764800, max_lease_ttl: 2764800, force_no_cache: false, token_type: 'default-service' });
    await sys.request('update', 'auth/token/tune', { max_lease_ttl: '48h' });
    assert.equal(((await sys.request('read', 'mounts/auth/token/tune')).result?.data as Record<string, unknown>).max_lease_ttl, 172800);
    await rejects(sys.request('update', 'auth/token/tune', { token_type: 'batch' }), 'COFFER_ERR_INVALID_REQUEST', "'token_type' cannot be set for 'token' or 'ns_token' auth mounts");
  });
});

describe('sys/internal/ui/mounts', () => {
  async function withPolicy(name: string, hcl: string) {
    const sys = seededSys();
    await sys.request('update', `policies/acl/${name}`, { policy: hcl });
    return sys;
  }

  it('is unauthenticated; without a token only listing_visibility=unauth mounts, reduced to type/description/options', async () => {
    const sys = seededSys();
    const { result, spec } = await sys.request('read', 'internal/ui/mounts', {}, { caller: anonymous });
    assert.equal(spec.unauthenticated, true);
    assert.deepEqual(result?.data, { secret: {}, auth: {} });
    await sys.request('update', 'mounts/secret/tune', { listing_visibility: 'unauth' });
    const after = await sys.request('read', 'internal/ui/mounts', {}, { caller: anonymous });
    assert.deepEqual(after.result?.data, { secret: { 'secret/': { type: 'kv', description: 'key/value secret storage', options: { version: '2' } } }, auth: {} });
  });

  it('with a token: the mounts it has any capability on, with full info', async () => {
    const sys = await withPolicy('reader', 'path "secret/data/app/*" { capabilities = ["read"] }');
    const { result } = await sys.request('read', 'internal/ui/mounts', {}, { caller: callerWith(['reader']) });
    const data = result?.data as { secret: Record<string, Record<string, unknown>>; auth: Record<string, unknown> };
    assert.deepEqual(Object.keys(data.secret), ['secret/']);
    assert.equal(data.secret['secret/']?.uuid, 'uuid-secret');
    assert.deepEqual(data.auth, {});
    const root = await sys.request('read', 'internal/ui/mounts');
    const rd = root.result?.data as { secret: Record<string, unknown>; auth: Record<string, unknown> };
    assert.deepEqual(Object.keys(rd.secret).sort(), ['secret/', 'sys/']);
    assert.deepEqual(Object.keys(rd.auth), ['token/']);
  });

  it('a + rule that reaches the mount counts too; a deny does not', async () => {
    const sys = await withPolicy('seg', 'path "secret/+/team" { capabilities = ["read"] }\npath "sys/*" { capabilities = ["deny"] }');
    const data = (await sys.request('read', 'internal/ui/mounts', {}, { caller: callerWith(['seg']) })).result?.data as { secret: Record<string, unknown> };
    assert.deepEqual(Object.keys(data.secret), ['secret/']);
  });

  it('<path>: the mount serving a path (type, options, path); 403 preflight without access', async () => {
    const sys = await withPolicy('reader', 'path "secret/data/app/*" { capabilities = ["read"] }');
    const { result } = await sys.request('read', 'internal/ui/mounts/secret/data/app/db', {}, { caller: callerWith(['reader']) });
    const d = result?.data as Record<string, unknown>;
    assert.equal(d.path, 'secret/');
    assert.equal(d.type, 'kv');
    assert.deepEqual(d.options, { version: '2' });
    assert.equal(result?.injectData, undefined);
    const msg = 'preflight capability check returned 403, please ensure client\'s policies grant access to path "secret/x/"';
    await rejects(sys.request('read', 'internal/ui/mounts/secret/x', {}, { caller: callerWith(['nothing']) }), 'COFFER_ERR_PERMISSION_DENIED', msg);
    await rejects(
      sys.request('read', 'internal/ui/mounts/nomount/x', {}, { caller: callerWith(['reader']) }),
      'COFFER_ERR_PERMISSION_DENIED',
      'preflight capability check returned 403, please ensure client\'s policies grant access to path "nomount/x/"',
    );
    await rejects(sys.request('read', 'internal/ui/mounts/secret/x', {}, { caller: anonymous }), 'COFFER_ERR_PERMISSION_DENIED', 'permission denied');
  });
});
