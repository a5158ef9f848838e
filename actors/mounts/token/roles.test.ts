// Token roles (auth/token/roles/<name>, auth/token/create/<name>) through the real router, against an
// in-memory physical store: the role record, and what a role lets a token created through it carry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H, NOW, rejects, setup, type Env } from './test-env.js';

/** A non-root caller holding only policy "p": a role must be what lets it mint anything else. */
async function userOf(env: Env): Promise<string> {
  return (await env.create(env.root, { policies: ['p'] })).client_token;
}

const writeRole = (env: Env, name: string, data: Record<string, unknown>) => env.t.request('update', `roles/${name}`, data, env.as(env.root));

describe('auth/token/roles', () => {
  it('write, read (Vault fields), list, delete; names lower-cased; legacy fields map to token_*', async () => {
    const env = setup();
    const w = await writeRole(env, 'Nomad', { allowed_policies: 'b, A ,a', orphan: true, period: '1h', explicit_max_ttl: 7200, path_suffix: 'v2', token_bound_cidrs: '10.0.0.0/8' });
    assert.equal(w.result, null); // 204
    assert.notEqual(w.index, null);
    const r = await env.t.request('read', 'roles/nomad', {}, env.as(env.root));
    assert.deepEqual(r.result?.data, {
      name: 'nomad',
      allowed_policies: ['a', 'b'],
      disallowed_policies: [],
      allowed_policies_glob: [],
      disallowed_policies_glob: [],
      allowed_entity_aliases: [],
      orphan: true,
      renewable: true,
      path_suffix: 'v2',
      token_period: 3600,
      period: 3600,
      token_explicit_max_ttl: 7200,
      explicit_max_ttl: 7200,
      token_no_default_policy: false,
      token_type: 'default-service',
      token_bound_cidrs: ['10.0.0.0/8'],
      bound_cidrs: ['10.0.0.0/8'],
    });
    // An update changes only the fields it names.
    await writeRole(env, 'nomad', { renewable: false });
    const after = (await env.t.request('read', 'roles/nomad', {}, env.as(env.root))).result?.data;
    assert.deepEqual([after?.['renewable'], after?.['allowed_policies'], after?.['token_period']], [false, ['a', 'b'], 3600]);
    await writeRole(env, 'other', {});
    assert.deepEqual((await env.t.request('list', 'roles/', {}, env.as(env.root))).result?.data, { keys: ['nomad', 'other'] });
    assert.equal((await env.t.request('delete', 'roles/nomad', {}, env.as(env.root))).result, null);
    assert.equal((await env.t.request('read', 'roles/nomad', {}, env.as(env.root))).result, null); // 404
    await env.t.request('delete', 'roles/other', {}, env.as(env.root));
    await rejects(env.t.request('list', 'roles', {}, env.as(env.root)), 'COFFER_ERR_NOT_FOUND');
  });

  it('refuses bad input with a clear message', async () => {
    const env = setup();
    await rejects(writeRole(env, 'r', { path_suffix: 'a/../b' }), 'COFFER_ERR_INVALID_REQUEST', 'error registering path suffix: invalid path suffix "a/../b"');
    await rejects(writeRole(env, 'r', { token_type: 'batch' }), 'COFFER_ERR_INVALID_REQUEST', 'batch tokens are not supported');
    await rejects(writeRole(env, 'r', { token_type: 'weird' }), 'COFFER_ERR_INVALID_REQUEST', "invalid 'token_type' value");
    await rejects(writeRole(env, 'r', { token_bound_cidrs: 'not-a-cidr' }), 'COFFER_ERR_INVALID_REQUEST', 'error parsing token_bound_cidrs: invalid address or CIDR block "not-a-cidr"');
    assert.equal((await env.t.request('read', 'roles/r', {}, env.as(env.root))).result, null, 'nothing stored by a refused write');
    await rejects(env.t.request('update', 'create/none', {}, env.as(env.root)), 'COFFER_ERR_INVALID_REQUEST', 'unknown role none');
  });
});

describe('auth/token/create/<role>', () => {
  it('allowed_policies: a subset of the role, not of the caller; the whole set when none asked; "default" added', async () => {
    const env = setup();
    const user = await userOf(env);
    await writeRole(env, 'app', { allowed_policies: ['app-read', 'app-write'] });
    const all = await env.t.request('update', 'create/app', {}, env.as(user));
    assert.deepEqual(all.result?.auth?.policies, ['app-read', 'app-write', 'default']);
    const one = await env.t.request('update', 'create/app', { policies: ['app-read'] }, env.as(user));
    assert.deepEqual(one.result?.auth?.policies, ['app-read', 'default']);
    await rejects(
      env.t.request('update', 'create/app', { policies: ['admin'] }, env.as(user)),
      'COFFER_ERR_INVALID_REQUEST',
      `token policies (["admin" "default"]) must be subset of the role's allowed policies (["app-read" "app-write" "default"]) or glob policies ([])`,
    );
    // The same caller without the role may not mint app-read.
    await rejects(env.t.request('update', 'create', { policies: ['app-read'] }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST', 'child policies must be subset of parent');
    // role_name on auth/token/create is the same as the role's path.
    const viaField = await env.t.request('update', 'create', { role_name: 'APP', policies: ['app-write'] }, env.as(user));
    assert.deepEqual(viaField.result?.auth?.policies, ['app-write', 'default']);
  });

  it('globs and disallowed policies; token_no_default_policy', async () => {
    const env = setup();
    const user = await userOf(env);
    await writeRole(env, 'g', { allowed_policies_glob: ['team-*'], disallowed_policies_glob: ['team-admin*'], disallowed_policies: ['team-x'] });
    assert.deepEqual((await env.t.request('update', 'create/g', { policies: ['team-a', 'team-b'] }, env.as(user))).result?.auth?.policies, ['default', 'team-a', 'team-b']);
    await rejects(env.t.request('update', 'create/g', { policies: ['team-x'] }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST', 'token policy "team-x" is disallowed by this role');
    await rejects(
      env.t.request('update', 'create/g', { policies: ['team-admins'] }, env.as(user)),
      'COFFER_ERR_INVALID_REQUEST',
      `token policy ("team-admins") is disallowed by this role's glob policies (["team-admin*"])`,
    );
    await rejects(env.t.request('update', 'create/g', { policies: ['other'] }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST');
    // A glob is only "*": a dot or a bracket in a pattern matches itself.
    await writeRole(env, 'dots', { allowed_policies_glob: ['a.b*'] });
    await rejects(env.t.request('update', 'create/dots', { policies: ['axb'] }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST');
    // Disallowing "default" keeps it off; token_no_default_policy as well.
    await writeRole(env, 'nodef', { allowed_policies: ['x'], disallowed_policies: ['default'] });
    assert.deepEqual((await env.t.request('update', 'create/nodef', {}, env.as(user))).result?.auth?.policies, ['x']);
    await writeRole(env, 'nodef2', { allowed_policies: ['x'], token_no_default_policy: true });
    assert.deepEqual((await env.t.request('update', 'create/nodef2', {}, env.as(user))).result?.auth?.policies, ['x']);
  });

  it('a role without policy lists keeps the subset-of-parent rule', async () => {
    const env = setup();
    const user = await userOf(env);
    await writeRole(env, 'plain', { orphan: false });
    assert.deepEqual((await env.t.request('update', 'create/plain', {}, env.as(user))).result?.auth?.policies, ['default', 'p']);
    await rejects(env.t.request('update', 'create/plain', { policies: ['q'] }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST', 'child policies must be subset of parent');
  });

  it('orphan, period and bound CIDRs come from the role without sudo; path carries role and suffix; lookup shows the role', async () => {
    const env = setup();
    const user = await userOf(env);
    await writeRole(env, 'svc', { allowed_policies: ['svc'], orphan: true, token_period: '2h', path_suffix: 'v1', token_bound_cidrs: ['127.0.0.1/32'], renewable: true });
    const r = await env.t.request('update', 'create/svc', {}, env.as(user));
    const auth = r.result?.auth;
    assert.ok(auth);
    assert.deepEqual([auth.orphan, auth.lease_duration, auth.renewable], [true, 7200, true]);
    const look = await env.t.request('update', 'lookup', { token: auth.client_token }, env.as(env.root));
    const d = look.result?.data ?? {};
    assert.deepEqual([d['path'], d['role'], d['period'], d['orphan'], d['bound_cidrs']], ['auth/token/create/svc/v1', 'svc', 7200, true, ['127.0.0.1/32']]);
    // Without the role, the same caller may not ask for a period or an orphan.
    await rejects(env.t.request('update', 'create', { period: '2h' }, env.as(user)), 'COFFER_ERR_INVALID_REQUEST', 'root or sudo privileges required to create periodic token');
  });

  it('request and role values: the lesser explicit max TTL and period win, with warnings; renewable=false wins', async () => {
    const env = setup();
    await writeRole(env, 'cap', { allowed_policies: ['c'], token_explicit_max_ttl: '1h', token_period: '30m', renewable: false });
    const r = await env.t.request('update', 'create/cap', { explicit_max_ttl: '3h', period: '10m', renewable: true }, env.as(env.root));
    assert.deepEqual(r.result?.warnings, [
      'Explicit max TTL specified both during creation call and in role; using the lesser value of 3600 seconds',
      'Period specified both during creation call and in role; using the lesser value of 600 seconds',
    ]);
    assert.deepEqual([r.result?.auth?.lease_duration, r.result?.auth?.renewable], [600, false]);
    const look = await env.t.request('update', 'lookup', { token: r.result?.auth?.client_token }, env.as(env.root));
    assert.equal(look.result?.data?.['explicit_max_ttl'], 3600);
  });

  it('renewal follows the role as it is now; a deleted role stops renewals', async () => {
    const env = setup();
    await writeRole(env, 'per', { allowed_policies: ['x'], token_period: '1h' });
    const t = (await env.t.request('update', 'create/per', {}, env.as(env.root))).result?.auth?.client_token as string;
    const later = NOW + H / 2;
    const renewed = await env.t.request('update', 'renew-self', {}, env.as(t, later));
    assert.equal(renewed.result?.auth?.lease_duration, 3600);
    await writeRole(env, 'per', { token_period: '20m' });
    assert.equal((await env.t.request('update', 'renew-self', {}, env.as(t, later))).result?.auth?.lease_duration, 1200);
    await env.t.request('delete', 'roles/per', {}, env.as(env.root));
    await rejects(env.t.request('update', 'renew-self', {}, env.as(t, later)), 'COFFER_ERR_INVALID_REQUEST', 'original token role (per) could not be found, not renewing');
  });
});
