// auth/approle/ through the real router, field validation and guarded commits (testMount): roles,
// role-id, secret IDs (generate, custom, list, lookup, destroy, by accessor), login issuing a token in
// the same write-set as the secret-ID use, num_uses, expiry, CIDR bindings, and no secret ID at rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { TOKEN_SALT_KEY } from '../../core/tokens.js';
import { testCrypto } from '../framework/storage-view.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import type { AuthResponse } from '../framework/types.js';
import { resolveToken } from '../token/store.js';
import { approleBackend } from './backend.js';

const NOW = 1_700_000_000_000;

async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CofferError, String(err));
    assert.equal(err.value.code, code);
    if (message !== undefined) assert.deepEqual(err.value.messages, [message]);
    return true;
  });
}

async function setup(): Promise<TestMount> {
  const t = testMount(approleBackend, { type: 'approle', path: 'auth/approle/', uuid: 'ar-uuid' });
  t.physical.data.set(TOKEN_SALT_KEY, testCrypto.encrypt(TOKEN_SALT_KEY, Buffer.from('salt-for-tests')));
  return t;
}

const data = (r: Awaited<ReturnType<TestMount['request']>>) => r.result?.data as Record<string, any>;

async function roleId(t: TestMount, role: string): Promise<string> {
  return data(await t.request('read', `role/${role}/role-id`))['role_id'];
}
async function secretId(t: TestMount, role: string, body: Record<string, unknown> = {}, nowMs = NOW): Promise<Record<string, any>> {
  return data(await t.request('update', `role/${role}/secret-id`, body, { nowMs }));
}
async function login(t: TestMount, body: Record<string, unknown>, opts: { nowMs?: number; clientAddr?: string } = {}): Promise<AuthResponse> {
  const r = await t.request('update', 'login', body, { nowMs: opts.nowMs ?? NOW, ...(opts.clientAddr ? { clientAddr: opts.clientAddr } : {}) });
  return r.result?.auth as AuthResponse;
}

describe('approle', () => {
  it('roles: create with defaults, read, list, role-id read and custom role-id, delete', async () => {
    const t = await setup();
    assert.equal((await t.request('update', 'role/Web', { token_policies: 'reader', token_ttl: '20m' })).operation, 'create');
    assert.deepEqual(data(await t.request('read', 'role/web')), {
      bind_secret_id: true,
      secret_id_bound_cidrs: [],
      secret_id_num_uses: 0,
      secret_id_ttl: 0,
      local_secret_ids: false,
      token_bound_cidrs: [],
      token_explicit_max_ttl: 0,
      token_max_ttl: 0,
      token_no_default_policy: false,
      token_period: 0,
      token_policies: ['reader'],
      token_type: 'default',
      token_ttl: 1200,
      token_num_uses: 0,
      token_strictly_bind_ip: false,
    });
    assert.match(await roleId(t, 'web'), /^[0-9a-f-]{36}$/);
    await t.request('update', 'role/web/role-id', { role_id: 'my-custom-role-id' });
    assert.equal(await roleId(t, 'web'), 'my-custom-role-id');
    await t.request('update', 'role/db', { bind_secret_id: true });
    await rejects(t.request('update', 'role/db/role-id', { role_id: 'my-custom-role-id' }), 'COFFER_ERR_INVALID_REQUEST', 'role_id already in use');
    await rejects(t.request('update', 'role/db/role-id', {}), 'COFFER_ERR_INVALID_REQUEST', 'missing role_id');
    assert.deepEqual(data(await t.request('list', 'role/')), { keys: ['db', 'web'] });
    await rejects(t.request('update', 'role/x', { bind_secret_id: false }), 'COFFER_ERR_INVALID_REQUEST', 'at least one constraint should be enabled on the role');
    await rejects(t.request('update', 'role/web', { local_secret_ids: true }), 'COFFER_ERR_INVALID_REQUEST', 'local_secret_ids can only be modified during role creation');
    assert.deepEqual((await t.request('update', 'role/svc', { token_type: 'default-service' })).result?.warnings, ['default-service has no useful meaning; adjusting to service']);
    await rejects(t.request('update', 'role/b', { token_type: 'batch' }), 'COFFER_ERR_INVALID_REQUEST', 'batch tokens are not supported');
    // Per-field endpoints.
    await t.request('update', 'role/web/secret-id-num-uses', { secret_id_num_uses: 5 });
    assert.deepEqual(data(await t.request('read', 'role/web/secret-id-num-uses')), { secret_id_num_uses: 5 });
    await t.request('delete', 'role/web/secret-id-num-uses');
    assert.deepEqual(data(await t.request('read', 'role/web/policies')), { token_policies: ['reader'] });
    await t.request('delete', 'role/db');
    assert.equal((await t.request('read', 'role/db')).result, null);
    assert.equal((await t.request('read', 'role/db/role-id')).result, null);
  });

  it('login with role_id + secret_id issues a token with the role policies and role_name metadata, in the same write-set', async () => {
    const t = await setup();
    await t.request('update', 'role/web', { token_policies: ['reader'], token_ttl: '20m' });
    const rid = await roleId(t, 'web');
    const sid = await secretId(t, 'web', { metadata: '{"team":"blue"}' });
    assert.match(sid['secret_id'], /^[0-9a-f-]{36}$/);
    assert.match(sid['secret_id_accessor'], /^[0-9a-f-]{36}$/);
    assert.equal(sid['secret_id_ttl'], 0);
    assert.equal(sid['secret_id_num_uses'], 0);
    const before = t.physical.data.size;
    const auth = await login(t, { role_id: rid, secret_id: sid['secret_id'] });
    assert.deepEqual({ ...auth, client_token: '', accessor: '' }, {
      client_token: '',
      accessor: '',
      policies: ['default', 'reader'],
      token_policies: ['default', 'reader'],
      metadata: { team: 'blue', role_name: 'web' },
      lease_duration: 1200,
      renewable: true,
      entity_id: '',
      token_type: 'service',
      orphan: true,
      num_uses: 0,
    });
    assert.ok(t.physical.data.size > before);
    const resolved = resolveToken(t.physical, testCrypto, 'salt-for-tests', auth.client_token, NOW);
    assert.equal(resolved?.entry.display_name, 'approle');
    assert.equal(resolved?.entry.path, 'auth/approle/login');
    // No secret ID (nor token) anywhere in storage: only HMACs.
    for (const [key, value] of t.physical.data) {
      for (const needle of [sid['secret_id'] as string, auth.client_token]) {
        assert.ok(!key.includes(needle), `key ${key} holds a secret`);
        assert.equal(value.indexOf(needle), -1, `value of ${key} holds a secret`);
      }
    }
  });

  it("refuses bad credentials with Vault's messages", async () => {
    const t = await setup();
    await t.request('update', 'role/web', {});
    const rid = await roleId(t, 'web');
    const sid = (await secretId(t, 'web'))['secret_id'];
    await rejects(t.request('update', 'login', { secret_id: sid }), 'COFFER_ERR_INVALID_REQUEST', 'missing role_id');
    await rejects(t.request('update', 'login', { role_id: 'nope', secret_id: sid }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
    await rejects(t.request('update', 'login', { role_id: rid }), 'COFFER_ERR_INVALID_REQUEST', 'missing secret_id');
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: 'wrong' }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
    // bind_secret_id=false with a CIDR constraint: role_id alone, from inside the block only.
    await t.request('update', 'role/open', { bind_secret_id: false, secret_id_bound_cidrs: '127.0.0.0/8' });
    const openId = await roleId(t, 'open');
    await rejects(t.request('update', 'login', { role_id: openId }), 'COFFER_ERR_INVALID_REQUEST', 'failed to get connection information');
    await rejects(t.request('update', 'login', { role_id: openId }, { clientAddr: '10.0.0.1' }), 'COFFER_ERR_INVALID_REQUEST', 'source address "10.0.0.1" unauthorized by CIDR restrictions on the role');
    assert.ok((await login(t, { role_id: openId }, { clientAddr: '127.0.0.1' })).client_token);
  });

  it('secret_id_num_uses: each login spends one in the write-set of its token; the last use deletes the secret ID', async () => {
    const t = await setup();
    await t.request('update', 'role/web', { secret_id_num_uses: 2 });
    const rid = await roleId(t, 'web');
    const sid = await secretId(t, 'web');
    assert.equal(sid['secret_id_num_uses'], 2);
    await rejects(t.request('update', 'role/web/secret-id', { num_uses: 3 }), 'COFFER_ERR_INVALID_REQUEST', "num_uses cannot be higher than the role's secret_id_num_uses");
    await login(t, { role_id: rid, secret_id: sid['secret_id'] });
    assert.equal(data(await t.request('update', 'role/web/secret-id/lookup', { secret_id: sid['secret_id'] }))['secret_id_num_uses'], 1);
    await login(t, { role_id: rid, secret_id: sid['secret_id'] });
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: sid['secret_id'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
    assert.equal((await t.request('update', 'role/web/secret-id/lookup', { secret_id: sid['secret_id'] })).result, null);
    assert.deepEqual(data(await t.request('list', 'role/web/secret-id/'))?.['keys'] ?? [], []);
  });

  it('a login whose commit conflicts re-runs: two logins racing on a one-use secret ID yield one token', async () => {
    const t = await setup();
    await t.request('update', 'role/web', { secret_id_num_uses: 1 });
    const rid = await roleId(t, 'web');
    const sid = (await secretId(t, 'web'))['secret_id'];
    const results = await Promise.allSettled([login(t, { role_id: rid, secret_id: sid }), login(t, { role_id: rid, secret_id: sid })]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });

  it('secret IDs expire (secret_id_ttl), are listed by accessor, looked up and destroyed by id or accessor', async () => {
    const t = await setup();
    await t.request('update', 'role/web', { secret_id_ttl: '10m' });
    const rid = await roleId(t, 'web');
    const a = await secretId(t, 'web', { ttl: 60, cidr_list: '10.0.0.0/8' });
    assert.equal(a['secret_id_ttl'], 60);
    await rejects(t.request('update', 'role/web/secret-id', { ttl: '1h' }), 'COFFER_ERR_INVALID_REQUEST', "ttl cannot be longer than the role's secret_id_ttl");
    const b = data(await t.request('update', 'role/web/custom-secret-id', { secret_id: 'my-own-secret-id' }, { nowMs: NOW }));
    assert.equal(b['secret_id'], 'my-own-secret-id');
    assert.equal(b['secret_id_ttl'], 600);
    await rejects(t.request('update', 'role/web/custom-secret-id', { secret_id: 'my-own-secret-id' }), 'COFFER_ERR_INVALID_REQUEST', 'failed to store secret_id: SecretID is already registered');
    const keys = data(await t.request('list', 'role/web/secret-id/'))['keys'] as string[];
    assert.deepEqual([...keys].sort(), [a['secret_id_accessor'], b['secret_id_accessor']].sort());

    const look = data(await t.request('update', 'role/web/secret-id/lookup', { secret_id: a['secret_id'] }, { nowMs: NOW + 1000 }));
    assert.deepEqual(look['cidr_list'], ['10.0.0.0/8']);
    assert.equal(look['expiration_time'], '2023-11-14T22:14:20Z');
    assert.equal(look['creation_time'], '2023-11-14T22:13:20Z');
    const byAcc = data(await t.request('update', 'role/web/secret-id-accessor/lookup', { secret_id_accessor: b['secret_id_accessor'] }, { nowMs: NOW }));
    assert.equal(byAcc['secret_id_ttl'], 600);
    await rejects(t.request('update', 'role/web/secret-id-accessor/lookup', { secret_id_accessor: 'nope' }), 'COFFER_ERR_NOT_FOUND', 'failed to find accessor entry for secret_id_accessor: "nope"');

    // CIDR-bound secret ID: from inside only.
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: a['secret_id'] }, { nowMs: NOW, clientAddr: '192.168.0.1' }), 'COFFER_ERR_INVALID_REQUEST', 'source address "192.168.0.1" unauthorized through CIDR restrictions on the secret ID');
    assert.ok((await login(t, { role_id: rid, secret_id: a['secret_id'] }, { nowMs: NOW, clientAddr: '10.9.9.9' })).client_token);
    // Expired: refused, and gone from lookups (as after Vault's tidy).
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: a['secret_id'] }, { nowMs: NOW + 61_000, clientAddr: '10.9.9.9' }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
    assert.equal((await t.request('update', 'role/web/secret-id/lookup', { secret_id: a['secret_id'] }, { nowMs: NOW + 61_000 })).result, null);
    const tidied = await t.request('update', 'tidy/secret-id', {}, { nowMs: NOW + 61_000 });
    assert.equal(tidied.result?.statusCode, 202);
    assert.deepEqual(data(await t.request('list', 'role/web/secret-id/'))['keys'], [b['secret_id_accessor']]);

    await t.request('update', 'role/web/secret-id-accessor/destroy', { secret_id_accessor: b['secret_id_accessor'] });
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: 'my-own-secret-id' }, { nowMs: NOW }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
    const c = await secretId(t, 'web');
    await t.request('update', 'role/web/secret-id/destroy', { secret_id: c['secret_id'] });
    await rejects(t.request('update', 'login', { role_id: rid, secret_id: c['secret_id'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid role or secret ID');
  });

  it('secret-ID CIDRs must lie inside the role bounds; token_bound_cidrs on the secret ID bind the token', async () => {
    const t = await setup();
    await t.request('update', 'role/web', { secret_id_bound_cidrs: '10.0.0.0/8', token_bound_cidrs: '10.0.0.0/8' });
    await rejects(t.request('update', 'role/web/secret-id', { cidr_list: '192.168.0.0/16' }), 'COFFER_ERR_INVALID_REQUEST', 'failed to verify subset relationship between CIDR blocks on the role ["10.0.0.0/8"] and CIDR blocks on the secret ID ["192.168.0.0/16"]');
    const sid = await secretId(t, 'web', { cidr_list: '10.1.0.0/16', token_bound_cidrs: '10.1.2.0/24' });
    const auth = await login(t, { role_id: await roleId(t, 'web'), secret_id: sid['secret_id'] }, { clientAddr: '10.1.2.3' });
    const entry = resolveToken(t.physical, testCrypto, 'salt-for-tests', auth.client_token, NOW)?.entry as { bound_cidrs?: string[] };
    assert.deepEqual(entry.bound_cidrs, ['10.1.2.0/24']);
  });

  it('deleting a role removes its secret IDs, accessors and role-id index', async () => {
    const t = await setup();
    await t.request('update', 'role/web', {});
    await secretId(t, 'web');
    await secretId(t, 'web');
    await t.request('delete', 'role/web');
    const left = [...t.physical.data.keys()].filter((k) => k.startsWith('auth/ar-uuid/') && k !== 'auth/ar-uuid/salt');
    assert.deepEqual(left, []);
  });
});
