// Leases and the expiration actor: unit tests of one sweep (expirer.ts) against an in-memory store
// with a chosen clock, and HTTP tests on a dev node: leased KV v1 reads (leased_passthrough),
// sys/leases lookup / renew / revoke / revoke-prefix, and a 2 s token that the expiration actor
// revokes (entry, cubbyhole and lease gone) within a bounded wait.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { tokenExpiresAtMs, type TokenEntry } from '../actors/core/tokens.js';
import { dueKeysFrom, sweepOnce } from '../actors/expiration/expirer.js';
import { dueKey, leaseKey, registerAuthLease, registerSecretLease } from '../actors/expiration/leases.js';
import { MemoryPhysical, ScopedStorage, testCrypto } from '../actors/mounts/framework/storage-view.js';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const T0 = Date.UTC(2030, 0, 1);

function memory() {
  const physical = new MemoryPhysical();
  physical.data.set('sys/token/salt', testCrypto.encrypt('sys/token/salt', Buffer.from('salt')));
  let index = 0;
  const deps = {
    physical,
    crypto: testCrypto,
    commit: async (ws: Parameters<MemoryPhysical['commit']>[0]) => {
      const conflictKey = physical.commit(ws);
      return conflictKey === null ? { ok: true as const, index: ++index } : { ok: false as const, conflictKey };
    },
    dueKeys: (nowMs: number, max: number) => dueKeysFrom([...physical.data.keys()].filter((k) => k.startsWith('sys/expire/at/')).sort(), nowMs, max),
  };
  const write = async (fn: (sys: ScopedStorage) => void | Promise<void>) => {
    const s = new ScopedStorage('', physical, testCrypto);
    await fn(s);
    assert.equal(physical.commit(s.writeSet()), null);
  };
  const token = (salted: string, ttlS: number, extra: Partial<TokenEntry> = {}): TokenEntry => ({
    accessor: `acc${salted}`, policies: ['default'], path: 'auth/token/create', display_name: 'token', creation_time_ms: T0, ttl_s: ttlS, num_uses: 0, orphan: true, meta: null,
    parent: null, renewable: true, issue_time_ms: T0, expire_time_ms: T0 + ttlS * 1000, lease_ttl_s: ttlS, ...extra,
  });
  return { physical, deps, write, token };
}

describe('expiration sweep (unit)', () => {
  it('revokes a due secret lease, leaves the rest; the hint is the only thing the clock picks', async () => {
    const m = memory();
    let id = '';
    await m.write((sys) => {
      id = registerSecretLease(sys, { path: 'kv1/app', ownerSalted: 'howner', ttlS: 10, maxTtlS: 3600, renewable: true, nowMs: T0 }).lease_id;
      registerSecretLease(sys, { path: 'kv1/other', ownerSalted: 'howner', ttlS: 60, maxTtlS: 3600, renewable: true, nowMs: T0 });
    });
    assert.match(id, /^kv1\/app\/[0-9A-Za-z]{24}$/);
    assert.deepEqual(await sweepOnce(m.deps, T0 + 9_999), { revoked: 0, moved: 0, stale: 0, conflicts: 0 });
    assert.deepEqual(await sweepOnce(m.deps, T0 + 10_000), { revoked: 1, moved: 0, stale: 0, conflicts: 0 });
    assert.ok(!m.physical.data.has(leaseKey(id)));
    assert.equal([...m.physical.data.keys()].filter((k) => k.startsWith('sys/expire/')).length, 3, 'the other lease and its two indexes');
  });

  it('an expired token is revoked with its subtree, cubbyholes and leases; a renewed one has its hint moved', async () => {
    const m = memory();
    const parent = m.token('hparent', 2);
    const child = m.token('hchild', 3600, { parent: 'hparent', orphan: false });
    const renewed = m.token('hrenewed', 2);
    await m.write((sys) => {
      for (const [s, e] of [['hparent', parent], ['hchild', child], ['hrenewed', renewed]] as const) {
        sys.putJson(`sys/token/id/${s}`, e);
        registerAuthLease(sys, s, e, T0);
      }
      sys.put('sys/token/parent/hparent/hchild', Buffer.alloc(0));
      sys.putJson('sys/cubbyhole/hparent/x', { a: 1 });
      sys.putJson('sys/cubbyhole/hchild/y', { b: 2 });
      registerSecretLease(sys, { path: 'kv1/app', ownerSalted: 'hchild', ttlS: 3600, maxTtlS: 3600, renewable: true, nowMs: T0 });
      // Renewed through auth/token/renew: only the token entry moves (the lease hint is now stale).
      sys.putJson('sys/token/id/hrenewed', { ...renewed, expire_time_ms: T0 + 60_000 });
    });
    const r = await sweepOnce(m.deps, T0 + 2_000);
    assert.deepEqual(r, { revoked: 1, moved: 1, stale: 0, conflicts: 0 });
    const left = [...m.physical.data.keys()].sort();
    assert.ok(!left.some((k) => k.includes('hparent') || k.includes('hchild')), left.join('\n'));
    assert.ok(left.includes('sys/token/id/hrenewed'));
    assert.ok(left.includes(dueKey(T0 + 60_000, 'auth/token/create/hrenewed')));
    assert.equal(tokenExpiresAtMs(m.token('x', 2)), T0 + 2_000);
    assert.deepEqual(await sweepOnce(m.deps, T0 + 60_000), { revoked: 1, moved: 0, stale: 0, conflicts: 0 });
    assert.deepEqual([...m.physical.data.keys()], ['sys/token/salt']);
  });

  it('a sweep that loses to a concurrent write leaves the hint for the next tick', async () => {
    const m = memory();
    await m.write((sys) => void registerSecretLease(sys, { path: 'kv1/a', ownerSalted: 'ho', ttlS: 1, maxTtlS: 60, renewable: true, nowMs: T0 }));
    const conflicting = { ...m.deps, commit: async () => ({ ok: false as const, conflictKey: 'x' }) };
    assert.equal((await sweepOnce(conflicting, T0 + 5_000)).conflicts, 1);
    assert.equal((await sweepOnce(m.deps, T0 + 5_000)).revoked, 1);
  });
});

describe('leases over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body, text: r.text }));
  const root = () => node.rootToken;

  before(async () => {
    node = await startNode();
    assert.equal((await call('POST', 'sys/mounts/leased', root(), { type: 'kv', options: { version: '1', leased_passthrough: 'true' } })).status, 204);
    assert.equal((await call('POST', 'sys/mounts/plain', root(), { type: 'kv', options: { version: '1' } })).status, 204);
    assert.equal((await call('PUT', 'leased/app', root(), { user: 'web', ttl: '1h' })).status, 204);
    assert.equal((await call('PUT', 'plain/app', root(), { user: 'web', ttl: '1h' })).status, 204);
  });
  after(async () => {
    await node?.close();
  });

  it('a plain KV v1 read has no lease (Vault); a leased_passthrough read registers one', async () => {
    const plain = await call('GET', 'plain/app', root());
    assert.equal(plain.body.lease_id, '');
    assert.equal(plain.body.lease_duration, 3600);
    const r = await call('GET', 'leased/app', root());
    assert.equal(r.status, 200);
    assert.match(r.body.lease_id, /^leased\/app\/[0-9A-Za-z]{24}$/);
    assert.equal(r.body.lease_duration, 3600);
    assert.equal(r.body.renewable, true);
  });

  it('lookup, renew, revoke; unknown lease errors; LIST under a prefix (sudo)', async () => {
    const id = (await call('GET', 'leased/app', root())).body.lease_id as string;
    const look = await call('PUT', 'sys/leases/lookup', root(), { lease_id: id });
    assert.equal(look.status, 200, look.text);
    assert.deepEqual(Object.keys(look.body.data).sort(), ['expire_time', 'id', 'issue_time', 'last_renewal', 'path', 'renewable', 'ttl']);
    assert.equal(look.body.data.id, id);
    assert.equal(look.body.data.renewable, true);
    assert.equal(look.body.data.last_renewal, null);
    assert.ok(look.body.data.ttl > 3590 && look.body.data.ttl <= 3600);
    const listed = await call('LIST', 'sys/leases/lookup/leased/app/', root());
    assert.ok(listed.body.data.keys.includes(id.split('/').pop()));

    const ren = await call('PUT', 'sys/leases/renew', root(), { lease_id: id, increment: '2h' });
    assert.equal(ren.status, 200, ren.text);
    assert.equal(ren.body.lease_id, id);
    assert.equal(ren.body.lease_duration, 7200);
    assert.equal(ren.body.renewable, true);
    const after1 = await call('PUT', 'sys/leases/lookup', root(), { lease_id: id });
    assert.notEqual(after1.body.data.last_renewal, null);
    assert.ok(after1.body.data.ttl > 7190);

    assert.equal((await call('PUT', 'sys/leases/revoke', root(), { lease_id: id })).status, 204);
    const gone = await call('PUT', 'sys/leases/lookup', root(), { lease_id: id });
    assert.equal(gone.status, 400);
    assert.deepEqual(gone.body.errors, ['invalid lease']);
    assert.deepEqual((await call('PUT', 'sys/leases/renew', root(), { lease_id: id })).body.errors, ['lease not found']);
    assert.deepEqual((await call('PUT', 'sys/leases/renew', root(), {})).body.errors, ['lease_id must be specified']);
  });

  it('auth leases: token creation registers one; renew through sys/leases is refused; revoke revokes the token', async () => {
    const t = (await call('POST', 'auth/token/create', root(), { ttl: '1h' })).body.auth.client_token as string;
    const ids = (await call('LIST', 'sys/leases/lookup/auth/token/create/', root())).body.data.keys as string[];
    const lease = `auth/token/create/${ids[ids.length - 1]}`;
    let target = '';
    for (const k of ids) {
      const l = await call('PUT', 'sys/leases/lookup', root(), { lease_id: `auth/token/create/${k}` });
      assert.equal(l.status, 200);
      if (l.body.data.ttl > 3500) target = `auth/token/create/${k}`;
    }
    assert.ok(target !== '' && lease !== '');
    assert.deepEqual((await call('PUT', 'sys/leases/renew', root(), { lease_id: target })).body.errors, ['tokens cannot be renewed through this endpoint']);
    assert.equal((await call('PUT', `sys/leases/revoke/${target}`, root())).status, 204);
    assert.equal((await call('GET', 'auth/token/lookup-self', t)).status, 403);
  });

  it('revoke-prefix needs sudo and revokes everything under the prefix', async () => {
    const a = (await call('GET', 'leased/app', root())).body.lease_id as string;
    const b = (await call('GET', 'leased/app', root())).body.lease_id as string;
    assert.equal((await call('PUT', 'sys/policies/acl/leases', root(), { policy: 'path "sys/leases/*" { capabilities = ["update"] }' })).status, 204);
    const limited = (await call('POST', 'auth/token/create', root(), { policies: ['leases'], ttl: '1h' })).body.auth.client_token as string;
    assert.equal((await call('PUT', 'sys/leases/revoke-prefix/leased/', limited)).status, 403);
    assert.equal((await call('PUT', 'sys/leases/revoke-prefix/leased/', root())).status, 204);
    for (const id of [a, b]) assert.equal((await call('PUT', 'sys/leases/lookup', root(), { lease_id: id })).status, 400);
    assert.equal((await call('PUT', 'sys/leases/tidy', root())).status, 202);
  });

  it('the expiration actor revokes a 2 s token: entry, cubbyhole and lease are deleted', async () => {
    const before = new Set(((await call('LIST', 'sys/leases/lookup/auth/token/create/', root())).body?.data?.keys ?? []) as string[]);
    const t = (await call('POST', 'auth/token/create', root(), { ttl: '2s' })).body.auth.client_token as string;
    assert.equal((await call('PUT', 'cubbyhole/note', t, { v: 1 })).status, 204);
    const after0 = (await call('LIST', 'sys/leases/lookup/auth/token/create/', root())).body.data.keys as string[];
    const salted = after0.find((k) => !before.has(k)) as string;
    assert.match(salted, /^h[0-9a-f]{64}$/);
    assert.equal((await call('GET', `sys/raw/sys/token/id/${salted}`, root())).status, 200);
    assert.equal((await call('GET', `sys/raw/sys/cubbyhole/${salted}/note`, root())).status, 200);
    const deadline = Date.now() + 10_000;
    while ((await call('GET', `sys/raw/sys/token/id/${salted}`, root())).status === 200) {
      assert.ok(Date.now() < deadline, 'the expiration actor did not revoke the token within 10 s');
      await sleep(250);
    }
    assert.equal((await call('GET', `sys/raw/sys/cubbyhole/${salted}/note`, root())).status, 404);
    assert.equal((await call('PUT', 'sys/leases/lookup', root(), { lease_id: `auth/token/create/${salted}` })).status, 400);
    assert.equal((await call('GET', 'auth/token/lookup-self', t)).status, 403);
  });
});
