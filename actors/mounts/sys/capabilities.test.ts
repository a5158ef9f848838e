import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { TOKEN_SALT_KEY, saltedId, tokenAccessorKey, tokenIdKey, type TokenEntry } from '../../core/tokens.js';
import type { TestMount } from '../framework/test-harness.js';
import { callerWith, putPlain, seededSys } from './test-seed.js';

async function rejects(p: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CofferError, `expected a CofferError, got ${String(e)}`);
    assert.equal(e.value.code, code);
    assert.deepEqual(e.value.messages, [message]);
    return true;
  });
}

const SALT = 'test-salt';

function seedToken(sys: TestMount, token: string, accessor: string, policies: string[], extra: Partial<TokenEntry> = {}): void {
  const entry: TokenEntry = { accessor, policies, path: 'auth/token/create', display_name: 'token', creation_time_ms: 1_000, ttl_s: 0, num_uses: 0, orphan: false, meta: null, ...extra };
  putPlain(sys.physical, TOKEN_SALT_KEY, SALT);
  putPlain(sys.physical, tokenIdKey(SALT, token), JSON.stringify(entry));
  putPlain(sys.physical, tokenAccessorKey(SALT, accessor), tokenIdKey(SALT, token));
}

async function withPolicies(): Promise<TestMount> {
  const sys = seededSys();
  await sys.request('update', 'policies/acl/app', {
    policy: 'path "secret/data/app/*" { capabilities = ["read", "list", "update"] }\npath "secret/data/app/locked" { capabilities = ["deny"] }',
  });
  await sys.request('update', 'policies/acl/ops', { policy: 'path "secret/data/app/*" { capabilities = ["delete"] }' });
  return sys;
}

describe('sys/capabilities-self', () => {
  it('one path: data and top level carry the path and "capabilities", sorted', async () => {
    const sys = await withPolicies();
    const { result } = await sys.request('update', 'capabilities-self', { paths: ['secret/data/app/db'] }, { caller: callerWith(['app', 'ops']) });
    assert.equal(result?.injectData, true);
    assert.deepEqual(result?.data, { 'secret/data/app/db': ['delete', 'list', 'read', 'update'], capabilities: ['delete', 'list', 'read', 'update'] });
  });

  it('several paths (paths as a comma string, or the deprecated path): no "capabilities" key', async () => {
    const sys = await withPolicies();
    const { result } = await sys.request('update', 'capabilities-self', { path: 'secret/data/app/db,secret/data/app/locked,other/x' }, { caller: callerWith(['app']) });
    assert.deepEqual(result?.data, { 'secret/data/app/db': ['list', 'read', 'update'], 'secret/data/app/locked': ['deny'], 'other/x': ['deny'] });
  });

  it('root gives ["root"]; no paths is a 400; missing policies are ignored', async () => {
    const sys = await withPolicies();
    assert.deepEqual((await sys.request('update', 'capabilities-self', { paths: ['anything'] })).result?.data, { anything: ['root'], capabilities: ['root'] });
    await rejects(sys.request('update', 'capabilities-self', {}), 'COFFER_ERR_INVALID_REQUEST', 'paths must be supplied');
    await rejects(sys.request('update', 'capabilities-self', { paths: [] }), 'COFFER_ERR_INVALID_REQUEST', 'paths must be supplied');
    const { result } = await sys.request('update', 'capabilities-self', { paths: 'secret/data/app/x' }, { caller: callerWith(['ghost', 'app']) });
    assert.deepEqual(result?.data?.capabilities, ['list', 'read', 'update']);
  });

  it('the default policy (built-in text when not stored) applies', async () => {
    const sys = seededSys();
    const { result } = await sys.request('update', 'capabilities-self', { paths: ['auth/token/lookup-self'] }, { caller: callerWith(['default']) });
    assert.deepEqual(result?.data?.capabilities, ['read']);
  });

  it('sees a rewritten policy at once (no stale cache)', async () => {
    const sys = await withPolicies();
    const caller = callerWith(['app']);
    assert.deepEqual((await sys.request('update', 'capabilities-self', { paths: ['kv/x'] }, { caller })).result?.data?.capabilities, ['deny']);
    await sys.request('update', 'policies/acl/app', { policy: 'path "kv/*" { capabilities = ["read"] }' });
    assert.deepEqual((await sys.request('update', 'capabilities-self', { paths: ['kv/x'] }, { caller })).result?.data?.capabilities, ['read']);
  });
});

describe('sys/capabilities and sys/capabilities-accessor', () => {
  it('look up another token by token or accessor', async () => {
    const sys = await withPolicies();
    seedToken(sys, 's.othertoken00000000000000', 'accessorOther000000000000', ['app']);
    const byToken = await sys.request('update', 'capabilities', { token: 's.othertoken00000000000000', paths: ['secret/data/app/a'] });
    assert.equal(byToken.result?.injectData, true);
    assert.deepEqual(byToken.result?.data, { 'secret/data/app/a': ['list', 'read', 'update'], capabilities: ['list', 'read', 'update'] });
    assert.notEqual(byToken.spec.sudo, true);
    const byAcc = await sys.request('update', 'capabilities-accessor', { accessor: 'accessorOther000000000000', paths: ['secret/data/app/a', 'x'] });
    assert.deepEqual(byAcc.result?.data, { 'secret/data/app/a': ['list', 'read', 'update'], x: ['deny'] });
  });

  it('errors as Vault: invalid token / missing accessor / invalid accessor / expired token', async () => {
    const sys = await withPolicies();
    seedToken(sys, 's.expired000000000000000000', 'accessorExpired0000000000', ['app'], { ttl_s: 1, creation_time_ms: 0 });
    await rejects(sys.request('update', 'capabilities', { token: 's.nope', paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid token');
    await rejects(sys.request('update', 'capabilities', { token: 's.expired000000000000000000', paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid token');
    await rejects(sys.request('update', 'capabilities', { paths: ['a'] }), 'COFFER_ERR_INTERNAL', 'no token found');
    // a child whose parent is gone is gone too
    seedToken(sys, 's.orphaned00000000000000000', 'accessorOrphaned000000000', ['app'], { parent: saltedId(SALT, 's.revokedparent') });
    await rejects(sys.request('update', 'capabilities', { token: 's.orphaned00000000000000000', paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid token');
    await rejects(sys.request('update', 'capabilities-accessor', { accessor: 'accessorOrphaned000000000', paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid accessor');
    await rejects(sys.request('update', 'capabilities-accessor', { paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'missing accessor');
    await rejects(sys.request('update', 'capabilities-accessor', { accessor: 'nope', paths: ['a'] }), 'COFFER_ERR_INVALID_REQUEST', 'invalid accessor');
  });
});
