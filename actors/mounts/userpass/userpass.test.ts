// auth/userpass/ through the real router, field validation and guarded commits (testMount): users
// CRUD and LIST, password never returned nor stored in plaintext, login issuing a token in the token
// store within the same write-set, Vault's errors, TTL capping, bound CIDRs.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { TOKEN_SALT_KEY } from '../../core/tokens.js';
import { testCrypto } from '../framework/storage-view.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import type { AuthResponse } from '../framework/types.js';
import { resolveToken } from '../token/store.js';
import { userpassBackend } from './backend.js';
import { destroyPasswordPool } from './password.js';

after(() => destroyPasswordPool());

const NOW = 1_700_000_000_000;

async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CofferError, String(err));
    assert.equal(err.value.code, code);
    if (message !== undefined) assert.deepEqual(err.value.messages, [message]);
    return true;
  });
}

function setup(maxLeaseTtlS = 2764800): TestMount {
  const t = testMount(userpassBackend, { type: 'userpass', path: 'auth/userpass/', uuid: 'up-uuid', maxLeaseTtlS });
  t.physical.data.set(TOKEN_SALT_KEY, testCrypto.encrypt(TOKEN_SALT_KEY, Buffer.from('salt-for-tests')));
  return t;
}

async function login(t: TestMount, user: string, password: string, opts: { clientAddr?: string; nowMs?: number } = {}): Promise<AuthResponse & { warnings: string[] }> {
  const r = await t.request('update', `login/${user}`, { password }, { nowMs: opts.nowMs ?? NOW, ...(opts.clientAddr ? { clientAddr: opts.clientAddr } : {}) });
  assert.ok(r.result?.auth, 'login answers with auth');
  return { ...r.result.auth, warnings: r.result.warnings ?? [] };
}

describe('userpass', () => {
  it('creates, reads (never the password), lists and deletes users; names are case-insensitive', async () => {
    const t = setup();
    const w = await t.request('update', 'users/Alice', { password: 'pw-1', token_policies: 'reader, writer', token_ttl: '1h' });
    assert.equal(w.operation, 'create');
    assert.equal(w.result, null);
    const r = await t.request('read', 'users/alice');
    assert.deepEqual(r.result?.data, {
      token_bound_cidrs: [],
      token_explicit_max_ttl: 0,
      token_max_ttl: 0,
      token_no_default_policy: false,
      token_period: 0,
      token_policies: ['reader', 'writer'],
      token_type: 'default',
      token_ttl: 3600,
      token_num_uses: 0,
      token_strictly_bind_ip: false,
    });
    assert.equal((await t.request('update', 'users/ALICE', { token_num_uses: 3 })).operation, 'update');
    await t.request('update', 'users/bob', { password: 'pw-2', policies: ['Ops'] });
    const bob = await t.request('read', 'users/bob');
    assert.deepEqual(bob.result?.data?.['policies'], ['ops'], 'legacy policies are shown while set');
    assert.deepEqual(bob.result?.data?.['token_policies'], ['ops']);
    assert.deepEqual((await t.request('list', 'users/')).result?.data, { keys: ['alice', 'bob'] });
    await t.request('delete', 'users/Bob');
    assert.equal((await t.request('read', 'users/bob')).result, null);
    for (const [, value] of t.physical.data) assert.equal(value.indexOf('pw-1'), -1, 'no plaintext password in storage');
  });

  it("refuses Vault's invalid inputs", async () => {
    const t = setup();
    await rejects(t.request('update', 'users/u', {}), 'COFFER_ERR_INVALID_REQUEST', 'must provide either password or password_hash');
    await rejects(t.request('update', 'users/u', { password: 'a', password_hash: 'b' }), 'COFFER_ERR_INVALID_REQUEST', 'only one of password or password_hash may be provided');
    await rejects(t.request('update', 'users/u', { password: 'a', token_ttl: 7200, token_max_ttl: 3600 }), 'COFFER_ERR_INVALID_REQUEST', "'token_ttl' cannot be greater than 'token_max_ttl'");
    await rejects(t.request('update', 'users/u', { password: 'a', token_type: 'weird' }), 'COFFER_ERR_INVALID_REQUEST', `invalid 'token_type' value "weird"`);
    await rejects(t.request('update', 'users/u', { password: 'a', token_num_uses: -1 }), 'COFFER_ERR_INVALID_REQUEST', "'token_num_uses' cannot be negative");
    await rejects(t.request('update', 'users/u/password', { password: 'x' }), 'COFFER_ERR_INVALID_REQUEST', 'username does not exist');
    await rejects(t.request('update', 'users/-bad', { password: 'x' }), 'COFFER_ERR_UNSUPPORTED_PATH');
  });

  it('login issues a token in the token store in the same write-set, with the user policies and metadata', async () => {
    const t = setup();
    await t.request('update', 'users/alice', { password: 's3cret', token_policies: ['reader'], token_ttl: '30m' });
    const before = t.physical.data.size;
    const r = await t.request('update', 'login/ALICE', { password: 's3cret' }, { nowMs: NOW });
    assert.ok(r.index !== null, 'the login committed');
    const auth = r.result?.auth as AuthResponse;
    assert.match(auth.client_token, /^s\.[0-9A-Za-z]{24}$/);
    assert.deepEqual({ ...auth, client_token: '', accessor: '' }, {
      client_token: '',
      accessor: '',
      policies: ['default', 'reader'],
      token_policies: ['default', 'reader'],
      metadata: { username: 'alice' },
      lease_duration: 1800,
      renewable: true,
      entity_id: '',
      token_type: 'service',
      orphan: true,
      num_uses: 0,
    });
    assert.equal(r.result?.data, null);
    const added = [...t.physical.data.keys()].slice(before).sort();
    assert.equal(added.length, 5, `token entry, accessor index, auth lease and its two indexes: ${added.join(', ')}`);
    assert.ok(added.some((k) => k.startsWith('sys/expire/id/auth/userpass/login/ALICE/h')), 'the auth lease');
    const resolved = resolveToken(t.physical, testCrypto, 'salt-for-tests', auth.client_token, NOW + 1000);
    assert.ok(resolved);
    assert.deepEqual(resolved.caller.policies, ['default', 'reader']);
    assert.equal(resolved.entry.path, 'auth/userpass/login/ALICE');
    assert.equal(resolved.entry.display_name, 'userpass-alice');
    assert.equal(resolved.entry.parent, null);
    assert.equal(resolveToken(t.physical, testCrypto, 'salt-for-tests', auth.client_token, NOW + 1801_000), null, 'expires after token_ttl');
    for (const [key, value] of t.physical.data) {
      assert.ok(!key.includes(auth.client_token) && value.indexOf(auth.client_token) === -1, 'no token in storage');
      assert.equal(value.indexOf('s3cret'), -1, 'no password in storage');
    }
  });

  it('wrong password and unknown user give the same 400, and write nothing', async () => {
    const t = setup();
    await t.request('update', 'users/alice', { password: 'right' });
    const before = t.physical.data.size;
    await rejects(t.request('update', 'login/alice', { password: 'wrong' }), 'COFFER_ERR_INVALID_REQUEST', 'invalid username or password');
    await rejects(t.request('update', 'login/nobody', { password: 'right' }), 'COFFER_ERR_INVALID_REQUEST', 'invalid username or password');
    await rejects(t.request('update', 'login/alice', {}), 'COFFER_ERR_INVALID_REQUEST', 'missing password');
    assert.equal(t.physical.data.size, before);
  });

  it('password and policies updates take effect at the next login', async () => {
    const t = setup();
    await t.request('update', 'users/alice', { password: 'old' });
    await t.request('update', 'users/alice/password', { password: 'new' });
    await rejects(t.request('update', 'login/alice', { password: 'old' }), 'COFFER_ERR_INVALID_REQUEST', 'invalid username or password');
    await t.request('update', 'users/alice/policies', { token_policies: 'B,a' });
    const auth = await login(t, 'alice', 'new');
    assert.deepEqual(auth.token_policies, ['a', 'b', 'default']);
    await t.request('update', 'users/alice', { token_no_default_policy: true });
    assert.deepEqual((await login(t, 'alice', 'new')).policies, ['a', 'b']);
    await t.request('update', 'users/alice/policies', { token_policies: 'root' });
    await rejects(t.request('update', 'login/alice', { password: 'new' }), 'COFFER_ERR_INVALID_REQUEST', 'auth methods cannot create root tokens');
  });

  it('caps the TTL by token_max_ttl and the mount max (with warnings); num_uses and period carried', async () => {
    const t = setup(7200);
    await t.request('update', 'users/a', { password: 'p', token_ttl: '3h' });
    const capped = await login(t, 'a', 'p');
    assert.equal(capped.lease_duration, 7200);
    assert.deepEqual(capped.warnings, ['TTL of "3h" exceeded the effective max_ttl of "2h"; TTL value is capped accordingly']);
    await rejects(t.request('update', 'users/b', { password: 'p', token_ttl: '50m', token_max_ttl: '40m' }), 'COFFER_ERR_INVALID_REQUEST', "'token_ttl' cannot be greater than 'token_max_ttl'");
    await t.request('update', 'users/c', { password: 'p', token_max_ttl: '40m', token_num_uses: 2 });
    const c = await login(t, 'c', 'p');
    assert.equal(c.lease_duration, 2400);
    assert.equal(c.num_uses, 2);
    const entry = resolveToken(t.physical, testCrypto, 'salt-for-tests', c.client_token, NOW)?.entry;
    assert.equal(entry?.explicit_max_ttl_s, 2400, 'the ceiling survives token-store renewals');
    await t.request('update', 'users/d', { password: 'p', token_period: '1h' });
    const d = await login(t, 'd', 'p');
    assert.equal(d.lease_duration, 3600);
    assert.equal(resolveToken(t.physical, testCrypto, 'salt-for-tests', d.client_token, NOW)?.entry.period_s, 3600);
  });

  it('token_bound_cidrs: login only from inside the blocks (fails closed without a client address); the entry carries them', async () => {
    const t = setup();
    await t.request('update', 'users/a', { password: 'p', token_bound_cidrs: '10.0.0.0/8,192.168.1.7' });
    await rejects(t.request('update', 'login/a', { password: 'p' }), 'COFFER_ERR_PERMISSION_DENIED');
    await rejects(t.request('update', 'login/a', { password: 'p' }, { clientAddr: '172.16.0.1' }), 'COFFER_ERR_PERMISSION_DENIED');
    const ok = await login(t, 'a', 'p', { clientAddr: '::ffff:10.1.2.3' });
    const entry = resolveToken(t.physical, testCrypto, 'salt-for-tests', ok.client_token, NOW)?.entry as { bound_cidrs?: string[] } | undefined;
    assert.deepEqual(entry?.bound_cidrs, ['10.0.0.0/8', '192.168.1.7']);
    await login(t, 'a', 'p', { clientAddr: '192.168.1.7' });
    await rejects(t.request('update', 'users/a', { token_bound_cidrs: 'nonsense' }), 'COFFER_ERR_INVALID_REQUEST');
  });
});
