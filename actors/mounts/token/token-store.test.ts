// auth/token/ through the real router, field validation and guarded commits (testMount), against an
// in-memory physical store. Tokens are resolved as the pipeline does (resolveToken, consumeUse).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError } from '../../../runtime/errors.js';
import { saltedId, tokenAccessorKey, tokenIdKey, tokenParentKey } from '../../core/tokens.js';
import { ScopedStorage, testCrypto } from '../framework/storage-view.js';
import type { AuthResponse } from '../framework/types.js';
import { revokeTree } from './entries.js';
import { consumeUse, resolveToken } from './store.js';
import { H, NOW, rejects, SALT, setup, type Env } from './test-env.js';

const TOKEN_RE = /^s\.[0-9A-Za-z]{24}$/;
const ACCESSOR_RE = /^[0-9A-Za-z]{24}$/;

describe('auth/token/create', () => {
  it('returns the auth block: policies sorted, deduped, "default" added; ttl from the mount default', async () => {
    const env = setup();
    const r = await env.t.request('update', 'create', { policies: ['b', 'A', 'a', ' b '], meta: { app: 'web', n: 3 } }, env.as(env.root));
    assert.equal(r.result?.data, null);
    assert.deepEqual(r.result?.warnings, []);
    const auth = r.result?.auth as AuthResponse;
    assert.match(auth.client_token, TOKEN_RE);
    assert.match(auth.accessor, ACCESSOR_RE);
    assert.deepEqual(auth, {
      client_token: auth.client_token,
      accessor: auth.accessor,
      policies: ['a', 'b', 'default'],
      token_policies: ['a', 'b', 'default'],
      metadata: { app: 'web', n: '3' },
      lease_duration: 2764800,
      renewable: true,
      entity_id: '',
      token_type: 'service',
      orphan: false,
      num_uses: 0,
    });
    assert.ok(env.resolves(auth.client_token));
  });

  it('a child of root without policies is a non-expiring, non-renewable root token', async () => {
    const env = setup();
    const a = await env.create(env.root);
    assert.deepEqual([a.policies, a.lease_duration, a.renewable, a.metadata, a.orphan], [['root'], 0, false, null, false]);
  });

  it('ttl, explicit_max_ttl cap with Vault warning, mount max cap, display_name, renewable=false, num_uses', async () => {
    const env = setup({ maxLeaseTtlS: 7200 });
    assert.equal((await env.create(env.root, { policies: ['p'], ttl: '1h' })).lease_duration, 3600);
    assert.equal((await env.create(env.root, { policies: ['p'], ttl: 90 })).lease_duration, 90);
    const capped = await env.create(env.root, { policies: ['p'], ttl: '1h', explicit_max_ttl: '30m' });
    assert.equal(capped.lease_duration, 1800);
    assert.deepEqual(capped.warnings, ['TTL of "1h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly']);
    const mountCapped = await env.create(env.root, { policies: ['p'], ttl: '3h' });
    assert.equal(mountCapped.lease_duration, 7200);
    assert.deepEqual(mountCapped.warnings, ['TTL of "3h" exceeded the effective max_ttl of "2h"; TTL value is capped accordingly']);
    const named = await env.create(env.root, { policies: ['p'], display_name: 'my app!', renewable: false, num_uses: 3 });
    assert.equal(named.renewable, false);
    assert.equal(named.num_uses, 3);
    const look = await env.t.request('read', 'lookup-self', {}, env.as(named.client_token));
    assert.equal(look.result?.data?.['display_name'], 'token-my-app');
    assert.equal(look.result?.data?.['path'], 'auth/token/create');
  });

  it('rejects bad input with Vault messages', async () => {
    const env = setup();
    const opts = env.as(env.root);
    await rejects(env.t.request('update', 'create', { num_uses: -1 }, opts), 'COFFER_ERR_INVALID_REQUEST', 'number of uses cannot be negative');
    await rejects(env.t.request('update', 'create', { ttl: -5 }, opts), 'COFFER_ERR_INVALID_REQUEST', 'ttl must be positive');
    await rejects(env.t.request('update', 'create', { explicit_max_ttl: '-1' }, opts), 'COFFER_ERR_INVALID_REQUEST', 'explicit_max_ttl must be positive');
    await rejects(env.t.request('update', 'create', { period: -1 }, opts), 'COFFER_ERR_INVALID_REQUEST', 'period must be positive');
    await rejects(env.t.request('update', 'create', { type: 'weird' }, opts), 'COFFER_ERR_INVALID_REQUEST', "invalid 'token_type' value");
    await rejects(env.t.request('update', 'create', { policies: ['response-wrapping'] }, opts), 'COFFER_ERR_INVALID_REQUEST', 'cannot assign policy "response-wrapping"');
  });

  it('custom id: root/sudo only, validated per §0.5, no duplicates; stored by hash', async () => {
    const env = setup();
    const opts = env.as(env.root);
    await rejects(env.t.request('update', 'create', { id: 's.abc' }, opts), 'COFFER_ERR_INVALID_REQUEST', "custom token ID cannot have the 's.' prefix");
    await rejects(env.t.request('update', 'create', { id: 'hvs.abc' }, opts), 'COFFER_ERR_INVALID_REQUEST', "custom token ID cannot have the 'hvs.' prefix");
    await rejects(env.t.request('update', 'create', { id: 'a.b' }, opts), 'COFFER_ERR_INVALID_REQUEST', "custom token ID cannot have a '.' in the value");
    const a = await env.create(env.root, { id: 'my-chosen-token', policies: ['p'] });
    assert.equal(a.client_token, 'my-chosen-token');
    assert.ok(env.resolves('my-chosen-token'));
    await rejects(env.t.request('update', 'create', { id: 'my-chosen-token' }, opts), 'COFFER_ERR_INVALID_REQUEST', 'cannot create a token with a duplicate ID');
    const user = await env.create(env.root, { policies: ['p'] });
    await rejects(env.t.request('update', 'create', { id: 'other' }, env.as(user.client_token)), 'COFFER_ERR_INVALID_REQUEST', 'root or sudo privileges required to specify token id');
    const viaSudo = await env.t.request('update', 'create', { id: 'sudo-chosen', policies: ['p'] }, env.as(user.client_token, NOW, { sudo: true }));
    assert.equal(viaSudo.result?.auth?.client_token, 'sudo-chosen');
  });
});

describe('policy rules for non-root callers', () => {
  it('only a subset of the caller\'s policies; "default" added when the parent has it; inherit when none asked', async () => {
    const env = setup();
    const user = (await env.create(env.root, { policies: ['a', 'b'] })).client_token; // a, b, default
    const opts = env.as(user);
    await rejects(env.t.request('update', 'create', { policies: ['a', 'c'] }, opts), 'COFFER_ERR_INVALID_REQUEST', 'child policies must be subset of parent');
    await rejects(env.t.request('update', 'create', { policies: ['root'] }, opts), 'COFFER_ERR_INVALID_REQUEST', 'child policies must be subset of parent');
    assert.deepEqual((await env.create(user, { policies: ['b'] })).policies, ['b', 'default']);
    assert.deepEqual((await env.create(user, { policies: ['b'], no_default_policy: true })).policies, ['b']);
    assert.deepEqual((await env.create(user)).policies, ['a', 'b', 'default']);
    // A parent without "default" does not hand it out.
    const bare = (await env.create(env.root, { policies: ['a'], no_default_policy: true })).client_token;
    assert.deepEqual((await env.create(bare, { policies: ['a'] })).policies, ['a']);
  });

  it('sudo skips the subset check but never mints root; no_parent and period need sudo; create-orphan does not', async () => {
    const env = setup();
    const user = (await env.create(env.root, { policies: ['a'] })).client_token;
    const plain = env.as(user);
    const sudo = env.as(user, NOW, { sudo: true });
    assert.deepEqual((await env.t.request('update', 'create', { policies: ['x'] }, sudo)).result?.auth?.policies, ['default', 'x']);
    await rejects(env.t.request('update', 'create', { policies: ['root'] }, sudo), 'COFFER_ERR_INVALID_REQUEST', 'root tokens may not be created without parent token being root');
    await rejects(env.t.request('update', 'create', { no_parent: true }, plain), 'COFFER_ERR_INVALID_REQUEST', 'root or sudo privileges required to create orphan token');
    await rejects(env.t.request('update', 'create', { period: '1h' }, plain), 'COFFER_ERR_INVALID_REQUEST', 'root or sudo privileges required to create periodic token');
    assert.equal((await env.t.request('update', 'create', { no_parent: true }, sudo)).result?.auth?.orphan, true);
    const orphan = await env.create(user, {}, NOW, 'create-orphan');
    assert.equal(orphan.orphan, true);
    const look = await env.t.request('read', 'lookup-self', {}, env.as(orphan.client_token));
    assert.equal(look.result?.data?.['path'], 'auth/token/create-orphan');
    assert.equal(look.result?.data?.['orphan'], true);
  });
});

describe('lookup', () => {
  it('lookup-self of the init root token', async () => {
    const env = setup();
    const r = await env.t.request('read', 'lookup-self', {}, env.as(env.root));
    assert.deepEqual(r.result?.data, {
      id: env.root,
      accessor: env.rootAccessor,
      policies: ['root'],
      path: 'auth/token/root',
      meta: null,
      display_name: 'root',
      num_uses: 0,
      orphan: true,
      creation_time: (NOW - H) / 1000,
      creation_ttl: 0,
      expire_time: null,
      ttl: 0,
      explicit_max_ttl: 0,
      entity_id: '',
      type: 'service',
    });
  });

  it('lookup-self, lookup {token} and lookup-accessor of a created token: exact fields', async () => {
    const env = setup();
    const a = await env.create(env.root, { policies: ['p'], ttl: '1h', explicit_max_ttl: '2h', meta: { k: 'v' }, display_name: 'svc' });
    const later = NOW + 10 * 60_000;
    const expected = {
      id: a.client_token,
      accessor: a.accessor,
      policies: ['default', 'p'],
      path: 'auth/token/create',
      meta: { k: 'v' },
      display_name: 'token-svc',
      num_uses: 0,
      orphan: false,
      creation_time: NOW / 1000,
      creation_ttl: 3600,
      expire_time: '2023-11-14T23:13:20Z',
      ttl: 3000,
      explicit_max_ttl: 7200,
      entity_id: '',
      type: 'service',
      renewable: true,
      issue_time: '2023-11-14T22:13:20Z',
    };
    const self = await env.t.request('read', 'lookup-self', {}, env.as(a.client_token, later));
    assert.deepEqual(self.result?.data, expected);
    assert.equal(self.result?.auth, undefined);
    const byToken = await env.t.request('update', 'lookup', { token: a.client_token }, env.as(env.root, later));
    assert.deepEqual(byToken.result?.data, expected);
    const byGet = await env.t.request('read', 'lookup', { token: a.client_token }, env.as(env.root, later));
    assert.deepEqual(byGet.result?.data, expected);
    const byAccessor = await env.t.request('update', 'lookup-accessor', { accessor: a.accessor }, env.as(env.root, later));
    assert.deepEqual(byAccessor.result?.data, { ...expected, id: '' });
  });

  it('errors: bad token 403, missing token/accessor 400, invalid accessor 400; lookup-self needs the request token', async () => {
    const env = setup();
    const opts = env.as(env.root);
    await rejects(env.t.request('update', 'lookup', { token: 's.doesnotexist000000000000' }, opts), 'COFFER_ERR_PERMISSION_DENIED', 'bad token');
    await rejects(env.t.request('update', 'lookup', {}, { ...opts, headers: {} }), 'COFFER_ERR_INVALID_REQUEST', 'missing token ID');
    await rejects(env.t.request('update', 'lookup-accessor', {}, opts), 'COFFER_ERR_INVALID_REQUEST', 'missing accessor');
    await rejects(env.t.request('update', 'lookup-accessor', { accessor: 'nope' }, opts), 'COFFER_ERR_INVALID_REQUEST', 'invalid accessor');
    // Without the request's token (or with another token's), lookup-self does not answer.
    await rejects(env.t.request('read', 'lookup-self', {}, { ...opts, headers: {} }), 'COFFER_ERR_PERMISSION_DENIED');
    await rejects(env.t.request('read', 'lookup-self', {}, { ...opts, headers: { 'x-vault-token': 's.someoneelse0000000000000' } }), 'COFFER_ERR_PERMISSION_DENIED');
    // Authorization: Bearer works like X-Vault-Token.
    const bearer = await env.t.request('read', 'lookup-self', {}, { ...opts, headers: { authorization: `Bearer ${env.root}` } });
    assert.equal(bearer.result?.data?.['id'], env.root);
    // lookup with no token looks up the caller.
    assert.equal((await env.t.request('read', 'lookup', {}, opts)).result?.data?.['id'], env.root);
  });
});

describe('expiry', () => {
  it('a token stops resolving at its TTL; explicit_max_ttl holds across renewals; children die with an expired parent', async () => {
    const env = setup();
    const a = await env.create(env.root, { policies: ['p'], ttl: '1h' });
    assert.ok(env.resolves(a.client_token, NOW + H - 1));
    assert.ok(!env.resolves(a.client_token, NOW + H));
    await rejects(env.t.request('update', 'lookup', { token: a.client_token }, env.as(env.root, NOW + H)), 'COFFER_ERR_PERMISSION_DENIED', 'bad token');

    const capped = await env.create(env.root, { policies: ['p'], ttl: '1h', explicit_max_ttl: '90m' });
    const r = await env.t.request('update', 'renew', { token: capped.client_token, increment: '1h' }, env.as(env.root, NOW + 50 * 60_000));
    assert.equal(r.result?.auth?.lease_duration, 40 * 60);
    assert.deepEqual(r.result?.warnings, ['TTL of "1h" exceeded the effective max_ttl of "40m"; TTL value is capped accordingly']);
    assert.ok(env.resolves(capped.client_token, NOW + 90 * 60_000 - 1));
    assert.ok(!env.resolves(capped.client_token, NOW + 90 * 60_000));

    const parent = await env.create(env.root, { policies: ['p'], ttl: '1m' });
    const child = await env.create(parent.client_token, { ttl: '1h' });
    assert.ok(env.resolves(child.client_token, NOW + 30_000));
    assert.ok(!env.resolves(child.client_token, NOW + 120_000));
    await rejects(env.t.request('update', 'lookup', { token: child.client_token }, env.as(env.root, NOW + 120_000)), 'COFFER_ERR_PERMISSION_DENIED', 'bad token');
  });
});

describe('renew', () => {
  it('renew {token, increment}, renew-self, renew-accessor return the auth block', async () => {
    const env = setup();
    const a = await env.create(env.root, { policies: ['p'], ttl: '1h' });
    const at = NOW + 30 * 60_000;
    const r = await env.t.request('update', 'renew', { token: a.client_token, increment: '2h' }, env.as(env.root, at));
    assert.deepEqual(r.result?.auth, {
      client_token: a.client_token, accessor: a.accessor, policies: ['default', 'p'], token_policies: ['default', 'p'], metadata: null,
      lease_duration: 7200, renewable: true, entity_id: '', token_type: 'service', orphan: false, num_uses: 0,
    });
    assert.ok(env.resolves(a.client_token, at + 2 * H - 1));
    assert.ok(!env.resolves(a.client_token, at + 2 * H));
    const look = await env.t.request('read', 'lookup-self', {}, env.as(a.client_token, at));
    assert.equal(look.result?.data?.['last_renewal_time'], at / 1000);
    assert.equal(look.result?.data?.['creation_ttl'], 3600);
    assert.equal(look.result?.data?.['ttl'], 7200);

    // No increment: the lease's last TTL again.
    const self = await env.t.request('update', 'renew-self', {}, env.as(a.client_token, at + H));
    assert.equal(self.result?.auth?.lease_duration, 7200);
    assert.equal(self.result?.auth?.client_token, a.client_token);
    const byAcc = await env.t.request('update', 'renew-accessor', { accessor: a.accessor, increment: 600 }, env.as(env.root, at + H));
    assert.equal(byAcc.result?.auth?.lease_duration, 600);
    assert.equal(byAcc.result?.auth?.client_token, '');
  });

  it('periodic tokens renew to the period (capped by explicit_max_ttl)', async () => {
    const env = setup();
    const p = await env.create(env.root, { policies: ['p'], period: '1h', ttl: '5m', explicit_max_ttl: '150m' });
    assert.equal(p.lease_duration, 3600);
    const look = await env.t.request('read', 'lookup-self', {}, env.as(p.client_token));
    assert.equal(look.result?.data?.['period'], 3600);
    const r1 = await env.t.request('update', 'renew-self', { increment: '10h' }, env.as(p.client_token, NOW + 50 * 60_000));
    assert.equal(r1.result?.auth?.lease_duration, 3600);
    const r2 = await env.t.request('update', 'renew-self', {}, env.as(p.client_token, NOW + 100 * 60_000));
    assert.equal(r2.result?.auth?.lease_duration, 50 * 60);
    assert.deepEqual(r2.result?.warnings, ['TTL of "1h" exceeded the effective max_ttl of "50m"; TTL value is capped accordingly']);
    assert.ok(env.resolves(p.client_token, NOW + 150 * 60_000 - 1));
    assert.ok(!env.resolves(p.client_token, NOW + 150 * 60_000));
  });

  it('errors: missing, unknown, non-renewable, root without lease', async () => {
    const env = setup();
    const opts = env.as(env.root);
    await rejects(env.t.request('update', 'renew', {}, opts), 'COFFER_ERR_INVALID_REQUEST', 'missing token ID');
    await rejects(env.t.request('update', 'renew', { token: 's.nope00000000000000000000' }, opts), 'COFFER_ERR_INVALID_REQUEST', 'token not found');
    const fixed = await env.create(env.root, { policies: ['p'], renewable: false });
    await rejects(env.t.request('update', 'renew', { token: fixed.client_token }, opts), 'COFFER_ERR_INVALID_REQUEST', 'lease is not renewable');
    const rootChild = await env.create(env.root);
    await rejects(env.t.request('update', 'renew', { token: rootChild.client_token }, opts), 'COFFER_ERR_INVALID_REQUEST', 'lease is not renewable');
    await rejects(env.t.request('update', 'renew-self', {}, opts), 'COFFER_ERR_INVALID_REQUEST', 'invalid lease ID');
    await rejects(env.t.request('update', 'renew-accessor', { accessor: 'nope' }, opts), 'COFFER_ERR_INVALID_REQUEST', 'invalid accessor');
  });
});

describe('revoke', () => {
  async function tree(env: Env) {
    const parent = await env.create(env.root, { policies: ['p'] });
    const child = await env.create(parent.client_token);
    const grandchild = await env.create(child.client_token);
    const sibling = await env.create(parent.client_token);
    return { parent, child, grandchild, sibling };
  }

  it('revoke {token} removes the whole subtree in one write-set, indexes included', async () => {
    const env = setup();
    const before = new Set(env.t.physical.data.keys());
    const { parent, child, grandchild, sibling } = await tree(env);
    const other = await env.create(env.root, { policies: ['p'] });
    const last = await env.t.request('update', 'lookup', { token: other.client_token }, env.as(env.root));
    assert.equal(last.index, null);
    const r = await env.t.request('update', 'revoke', { token: parent.client_token }, env.as(env.root));
    assert.equal(r.result, null); // 204
    assert.notEqual(r.index, null); // one commit for the whole tree
    for (const t of [parent, child, grandchild, sibling]) assert.ok(!env.resolves(t.client_token), 'revoked');
    assert.ok(env.resolves(other.client_token));
    // Nothing of the tree is left: only the init keys and `other`'s entry, accessor and parent indexes.
    const left = [...env.t.physical.data.keys()].filter((k) => !before.has(k)).sort();
    const otherKeys = [tokenAccessorKey(SALT, other.accessor), tokenIdKey(SALT, other.client_token), tokenParentKey(SALT, env.root, other.client_token)];
    assert.deepEqual(left.filter((k) => k.startsWith('sys/token/')), otherKeys.sort());
    // Leases (actors/expiration/leases.ts): only `other`'s own auth lease and its two index keys remain.
    const otherSalted = tokenIdKey(SALT, other.client_token).slice('sys/token/id/'.length);
    assert.equal(left.filter((k) => k.startsWith('sys/expire/')).length, 3);
    assert.ok(left.includes(`sys/expire/id/auth/token/create/${otherSalted}`));
    assert.deepEqual(left.filter((k) => !k.startsWith('sys/token/') && !k.startsWith('sys/expire/')), []);
  });

  it('revoke-self, revoke-accessor; unknown token is 204, unknown accessor warns', async () => {
    const env = setup();
    const { parent, child, grandchild } = await tree(env);
    const r = await env.t.request('update', 'revoke-self', {}, env.as(child.client_token));
    assert.equal(r.result, null);
    assert.ok(!env.resolves(child.client_token) && !env.resolves(grandchild.client_token));
    assert.ok(env.resolves(parent.client_token));
    await env.t.request('update', 'revoke-accessor', { accessor: parent.accessor }, env.as(env.root));
    assert.ok(!env.resolves(parent.client_token));
    const opts = env.as(env.root);
    assert.equal((await env.t.request('update', 'revoke', { token: 's.unknown00000000000000000' }, opts)).result, null);
    await rejects(env.t.request('update', 'revoke', {}, opts), 'COFFER_ERR_INVALID_REQUEST', 'missing token ID');
    await rejects(env.t.request('update', 'revoke-accessor', {}, opts), 'COFFER_ERR_INVALID_REQUEST', 'missing accessor');
    assert.deepEqual((await env.t.request('update', 'revoke-accessor', { accessor: 'nope' }, opts)).result, { data: null, warnings: ['No token found with this accessor'] });
  });

  it('revoke-orphan: sudo only; children survive as orphans', async () => {
    const env = setup();
    const { parent, child, grandchild, sibling } = await tree(env);
    await rejects(env.t.request('update', 'revoke-orphan', { token: parent.client_token }, env.as(sibling.client_token)), 'COFFER_ERR_INVALID_REQUEST', 'root or sudo privileges required to revoke and orphan');
    await rejects(env.t.request('update', 'revoke-orphan', {}, env.as(env.root)), 'COFFER_ERR_INVALID_REQUEST', 'missing token ID');
    await rejects(env.t.request('update', 'revoke-orphan', { token: 's.unknown00000000000000000' }, env.as(env.root)), 'COFFER_ERR_INVALID_REQUEST', 'token to revoke not found');
    const r = await env.t.request('update', 'revoke-orphan', { token: parent.client_token }, env.as(env.root));
    assert.equal(r.result, null);
    assert.ok(!env.resolves(parent.client_token));
    for (const t of [child, grandchild, sibling]) assert.ok(env.resolves(t.client_token), 'child survives');
    assert.equal((await env.t.request('read', 'lookup-self', {}, env.as(child.client_token))).result?.data?.['orphan'], true);
    assert.equal((await env.t.request('read', 'lookup-self', {}, env.as(grandchild.client_token))).result?.data?.['orphan'], false);
    // The former children are now roots of their own trees.
    await env.t.request('update', 'revoke', { token: child.client_token }, env.as(env.root));
    assert.ok(!env.resolves(grandchild.client_token) && env.resolves(sibling.client_token));
    // sudo (not root) may revoke-orphan too.
    const holder = await env.create(env.root, { policies: ['p'] });
    await env.t.request('update', 'revoke-orphan', { token: sibling.client_token }, env.as(holder.client_token, NOW, { sudo: true }));
    assert.ok(!env.resolves(sibling.client_token));
  });

  it('a child created while its parent is being revoked makes the revocation conflict (no escape from the tree)', async () => {
    const env = setup();
    const parent = await env.create(env.root, { policies: ['p'] });
    // A revocation computed against the current state...
    const revocation = new ScopedStorage('sys/token/', env.t.physical, testCrypto);
    await revokeTree(revocation, SALT, saltedId(SALT, parent.client_token));
    // ...then a child commits first...
    const child = await env.create(parent.client_token);
    // ...so the revocation's write-set no longer applies; re-run, it sees the child.
    assert.notEqual(env.t.physical.commit(revocation.writeSet()), null);
    await env.t.request('update', 'revoke', { token: parent.client_token }, env.as(env.root));
    assert.ok(!env.resolves(child.client_token));
  });
});

describe('num_uses (consumeUse)', () => {
  /** What the pipeline does per request: resolve, consume a use (commit), then run the handler. */
  async function use(env: Env, token: string, op: 'read' | 'update', path: string, data: Record<string, unknown> = {}) {
    const resolved = resolveToken(env.t.physical, testCrypto, SALT, token, NOW);
    if (!resolved) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    const u = await consumeUse(env.t.physical, testCrypto, SALT, resolved, NOW);
    if (!u) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    if (u.writeSet.ops.length > 0) assert.equal(env.t.physical.commit(u.writeSet), null);
    const r = await env.t.request(op, path, data, { caller: u.caller, headers: { 'x-vault-token': token }, nowMs: NOW });
    return { u, r };
  }

  it('num_uses=2: two uses, then the token is gone', async () => {
    const env = setup();
    const a = await env.create(env.root, { policies: ['p'], num_uses: 2 });
    const first = await use(env, a.client_token, 'read', 'lookup-self');
    assert.equal(first.u.remainingUses, 1);
    assert.equal(first.r.result?.data?.['num_uses'], 1);
    const second = await use(env, a.client_token, 'read', 'lookup-self');
    assert.equal(second.u.remainingUses, 0);
    assert.equal(second.r.result?.data?.['num_uses'], -1); // Vault shows the revocation-pending entry
    assert.ok(!env.resolves(a.client_token));
    await rejects(use(env, a.client_token, 'read', 'lookup-self'), 'COFFER_ERR_PERMISSION_DENIED');
    // Entry and accessor index are gone.
    assert.equal(env.t.physical.get(tokenIdKey(SALT, a.client_token)), undefined);
    assert.equal(env.t.physical.get(tokenAccessorKey(SALT, a.accessor)), undefined);
  });

  it('unlimited tokens commit nothing; restricted tokens cannot create children; concurrent uses conflict', async () => {
    const env = setup();
    const free = await env.create(env.root, { policies: ['p'] });
    const rf = resolveToken(env.t.physical, testCrypto, SALT, free.client_token, NOW);
    assert.ok(rf);
    const uf = await consumeUse(env.t.physical, testCrypto, SALT, rf, NOW);
    assert.deepEqual([uf?.writeSet.ops, uf?.remainingUses], [[], null]);

    const limited = await env.create(env.root, { policies: ['p'], num_uses: 5 });
    await rejects(use(env, limited.client_token, 'update', 'create', {}), 'COFFER_ERR_INVALID_REQUEST', 'restricted use token cannot generate child tokens');

    const rl = resolveToken(env.t.physical, testCrypto, SALT, limited.client_token, NOW);
    assert.ok(rl);
    const u1 = await consumeUse(env.t.physical, testCrypto, SALT, rl, NOW);
    const u2 = await consumeUse(env.t.physical, testCrypto, SALT, rl, NOW);
    assert.ok(u1 && u2);
    assert.equal(env.t.physical.commit(u1.writeSet), null);
    assert.notEqual(env.t.physical.commit(u2.writeSet), null, 'the second use of the same count must be refused');
  });
});

describe('accessors LIST and storage hygiene', () => {
  it('LIST accessors (sudo path) returns the live accessors', async () => {
    const env = setup();
    const a = await env.create(env.root, { policies: ['p'] });
    const b = await env.create(env.root, { policies: ['p'] });
    await env.t.request('update', 'revoke', { token: b.client_token }, env.as(env.root));
    const r = await env.t.request('list', 'accessors', {}, env.as(env.root));
    assert.equal(r.spec.sudo, true);
    assert.deepEqual(new Set(r.result?.data?.['keys'] as string[]), new Set([env.rootAccessor, a.accessor]));
    const slash = await env.t.request('list', 'accessors/', {}, env.as(env.root));
    assert.deepEqual(slash.result?.data?.['keys'], r.result?.data?.['keys']);
  });

  it('no stored key or value contains a token (entries hold salted hashes only)', async () => {
    const env = setup();
    const p = await env.create(env.root, { policies: ['p'], meta: { k: 'v' } });
    const c = await env.create(p.client_token, { num_uses: 3 });
    const custom = await env.create(env.root, { id: 'custom-token-value', policies: ['p'] });
    await env.t.request('update', 'renew', { token: p.client_token }, env.as(env.root));
    const tokens = [env.root, p.client_token, c.client_token, custom.client_token];
    for (const [key, value] of env.t.physical.data) {
      for (const tok of tokens) {
        assert.ok(!key.includes(tok), `key ${key} contains a token`);
        assert.ok(!value.includes(Buffer.from(tok)), `value of ${key} contains a token`);
        // The random part alone must not appear either.
        assert.ok(!value.includes(Buffer.from(tok.replace(/^s\./, ''))), `value of ${key} contains a token body`);
      }
    }
    const stored = JSON.parse(testCrypto.decrypt(tokenIdKey(SALT, c.client_token), env.t.physical.get(tokenIdKey(SALT, c.client_token)) as Buffer).toString('utf8'));
    assert.equal(stored.parent, saltedId(SALT, p.client_token));
  });
});
