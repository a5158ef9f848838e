// The purger against an in-memory store: a purge record is worked off in bounded write-sets, the record
// goes with the last batch, other keys are never touched, a record naming anything but a mount's data or
// a namespace's segment deletes nothing, and a request's deferred purge (purgePrefix) leaves such a record.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemoryPhysical, ScopedStorage, testCrypto, type WriteSetWithGuards } from '../mounts/framework/storage-view.js';
import { PURGE_INLINE_KEYS_MAX, PURGE_PREFIX, purgePrefix } from '../mounts/sys/deferred-purge.js';
import { purgeOnce, PURGE_BATCH_KEYS } from './purger.js';
import { LEASE_PREFIX, registerSecretLease } from './leases.js';

function store() {
  const physical = new MemoryPhysical();
  const commits: number[] = [];
  const put = (key: string, value: unknown) => physical.commit({ ops: [{ t: 'put', key, value: testCrypto.encrypt(key, Buffer.from(JSON.stringify(value))) }], guards: [] });
  const deps = {
    physical,
    crypto: testCrypto,
    commit: async (ws: WriteSetWithGuards) => {
      commits.push(ws.ops.length);
      const conflict = physical.commit(ws);
      return conflict === null ? ({ ok: true, index: commits.length } as const) : ({ ok: false, conflictKey: conflict } as const);
    },
    keysUnder: (prefix: string, max: number) => [...physical.data.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, max),
  };
  return { physical, commits, put, deps };
}

describe('deferred purge', () => {
  it('works a record off in bounded write-sets and deletes the record with the last one', async () => {
    const { physical, commits, put, deps } = store();
    const prefix = `logical/${randomUUID()}/`;
    const total = PURGE_BATCH_KEYS * 2 + 10;
    for (let i = 0; i < total; i++) put(`${prefix}k${i}`, { i });
    put('logical/other/keep', { keep: true });
    put(`${PURGE_PREFIX}r1`, { prefix, reason: 'mount big/' });

    const first = await purgeOnce(deps, 2);
    assert.deepEqual(first, { deleted: PURGE_BATCH_KEYS * 2, finished: 0, conflicts: 0 });
    assert.ok(commits.every((n) => n <= PURGE_BATCH_KEYS + 1), 'each write-set within the batch bound');
    assert.ok(physical.data.has(`${PURGE_PREFIX}r1`), 'the record stays while keys remain');
    const second = await purgeOnce(deps, 2);
    assert.deepEqual(second, { deleted: 10, finished: 1, conflicts: 0 });
    assert.deepEqual([...physical.data.keys()], ['logical/other/keep']);
  });

  it('a record naming anything but a mount or a namespace deletes nothing and is dropped', async () => {
    const { physical, put, deps } = store();
    put('sys/token/id/habc', { token: true });
    put('core/keyring', { keys: true });
    for (const [i, prefix] of ['', 'sys/', 'core/', 'logical/', 'namespaces/', 'logical/../', 'auth/a/b/', 'namespaces/u/sys/'].entries()) put(`${PURGE_PREFIX}bad${i}`, { prefix, reason: 'tampered' });
    const r = await purgeOnce(deps, 10);
    assert.equal(r.deleted, 0);
    assert.deepEqual([...physical.data.keys()].sort(), ['core/keyring', 'sys/token/id/habc']);
  });

  it("a deleted namespace's leases left over are revoked before its keys go; a bad lease prefix revokes nothing", async () => {
    const { physical, put, deps } = store();
    const view = new ScopedStorage('', physical, testCrypto);
    const team = [1, 2, 3].map((i) => registerSecretLease(view, { path: `team1/kv/s${i}`, ownerSalted: 'howner', ttlS: 3600, maxTtlS: 0, renewable: true, nowMs: 1 }));
    const rootLease = registerSecretLease(view, { path: 'kv/s', ownerSalted: 'howner', ttlS: 3600, maxTtlS: 0, renewable: true, nowMs: 1 });
    physical.commit(view.writeSet());
    const segment = `namespaces/${randomUUID()}/`;
    put(`${segment}core/mounts`, { entries: [] });
    put(`${PURGE_PREFIX}ns`, { prefix: segment, reason: 'namespace team1/', leases: 'team1/' });
    put(`${PURGE_PREFIX}bad`, { prefix: `namespaces/${randomUUID()}/`, reason: 'tampered', leases: 'sys/' });
    await purgeOnce(deps, 8);
    const left = [...physical.data.keys()];
    for (const l of team) assert.ok(!left.includes(`${LEASE_PREFIX}${l.lease_id}`), `${l.lease_id} revoked`);
    assert.ok(left.includes(`${LEASE_PREFIX}${rootLease.lease_id}`), 'a lease outside the namespace stays');
    assert.deepEqual(left.filter((k) => k.startsWith(segment) || k.startsWith(PURGE_PREFIX)), []);
  });

  it('purgePrefix deletes in the request when few keys, else leaves a record', async () => {
    const { physical, put, deps } = store();
    const small = `logical/${randomUUID()}/`;
    const large = `namespaces/${randomUUID()}/`;
    for (let i = 0; i < 10; i++) put(`${small}k${i}`, i);
    for (let i = 0; i <= PURGE_INLINE_KEYS_MAX; i++) put(`${large}logical/x/k${i}`, i);
    const view = new ScopedStorage('', physical, testCrypto);
    assert.equal(await purgePrefix(view, small, 'mount small/'), 'deleted');
    assert.equal(await purgePrefix(view, large, 'namespace big/'), 'deferred');
    await assert.rejects(purgePrefix(view, 'sys/', 'nope'), /refusing to purge/);
    physical.commit(view.writeSet());
    assert.equal([...physical.data.keys()].filter((k) => k.startsWith(small)).length, 0);
    assert.equal([...physical.data.keys()].filter((k) => k.startsWith(PURGE_PREFIX)).length, 1);
    await purgeOnce(deps);
    assert.equal([...physical.data.keys()].filter((k) => k.startsWith(large) || k.startsWith(PURGE_PREFIX)).length, 0);
  });
});
