// The indexed lookups answer exactly what the linear scans over the list answered (model.ts keeps those
// for the handlers' one-off questions), on random trees of namespaces and mounts and random paths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/fault-load.js';
import { longestPrefix } from '../mount-table.js';
import { PrefixIndex } from '../prefix-index.js';
import { refOf, ROOT_NAMESPACE, type NamespaceEntry, type NamespaceRef } from './model.js';
import { MemoryPhysical, ScopedStorage, testCrypto } from '../framework/storage-view.js';
import { NamespaceDirectory } from './directory.js';
import { NamespaceIndex } from './namespace-index.js';
import { childNamespaces, deleteNamespaceEntry, descendantNamespaces, LEGACY_NAMESPACES_KEY, namespaceIdTaken, namespaceOfFullPath, putNamespace, readNamespace } from './store.js';

const rng = seededRandom;

// The linear scans over the whole list that the indexes replaced: the reference answers.
function namespaceOfPath(entries: readonly NamespaceRef[], path: string): NamespaceRef {
  let best: NamespaceRef | null = null;
  for (const e of entries) if ((path.startsWith(e.path) || path === e.path.slice(0, -1)) && (best === null || e.path.length > best.path.length)) best = e;
  return best === null ? ROOT_NAMESPACE : refOf(best);
}

function sealOwner(entries: readonly NamespaceEntry[], ns: NamespaceRef): NamespaceEntry | undefined {
  let found: NamespaceEntry | undefined;
  for (const e of entries) if (e.sealable === true && ns.path.startsWith(e.path) && (found === undefined || e.path.length > found.path.length)) found = e;
  return found;
}

function lockingNamespace(entries: readonly NamespaceEntry[], ns: NamespaceRef): NamespaceEntry | undefined {
  let found: NamespaceEntry | undefined;
  for (const e of entries) if (e.locked === true && ns.path.startsWith(e.path) && (found === undefined || e.path.length < found.path.length)) found = e;
  return found;
}

const NAMES = ['a', 'b', 'team', 'team1', 'dev', 'x', 'secret', 'auth'];

function randomTree(rand: () => number, count: number): NamespaceEntry[] {
  const entries: NamespaceEntry[] = [];
  for (let i = 0; i < count; i++) {
    const parent = entries.length > 0 && rand() < 0.6 ? (entries[Math.floor(rand() * entries.length)] as NamespaceEntry).path : '';
    const path = `${parent}${NAMES[Math.floor(rand() * NAMES.length)]}${i % 3 === 0 ? i : ''}/`;
    if (entries.some((e) => e.path === path)) continue;
    entries.push({ id: `id${i}`, uuid: `uuid-${i}`, path, custom_metadata: {}, ...(rand() < 0.2 ? { locked: true } : {}), ...(rand() < 0.2 ? { sealable: true, manually_sealed: rand() < 0.5 } : {}) });
  }
  return entries;
}

function randomPath(rand: () => number, entries: readonly NamespaceEntry[]): string {
  const base = entries.length > 0 && rand() < 0.8 ? (entries[Math.floor(rand() * entries.length)] as NamespaceEntry).path : '';
  const tail = Array.from({ length: Math.floor(rand() * 4) }, () => NAMES[Math.floor(rand() * NAMES.length)]).join('/');
  const path = base + tail;
  // Sometimes without the trailing slash of a namespace's own path ("team1" names "team1/").
  return rand() < 0.2 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Commits one write-set made by `f` on the root view; throws on a guard conflict. */
async function commit(physical: MemoryPhysical, f: (root: ScopedStorage) => Promise<void>): Promise<void> {
  const root = new ScopedStorage('', physical, testCrypto);
  await f(root);
  const conflict = physical.commit(root.writeSet());
  if (conflict !== null) throw new Error(`conflict on ${conflict}`);
}


describe('NamespaceIndex and PrefixIndex', () => {
  it('answer what the linear scans answer, on 40 random trees', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const entries = randomTree(rand, 5 + Math.floor(rand() * 60));
      const index = new NamespaceIndex(entries);
      for (let k = 0; k < 200; k++) {
        const path = randomPath(rand, entries);
        const ns = index.ofPath(path);
        assert.deepEqual(ns, namespaceOfPath(entries, path), `seed ${seed}: namespace of ${path}`);
        if (ns !== ROOT_NAMESPACE) {
          assert.equal(index.sealOwner(ns), sealOwner(entries, ns), `seed ${seed}: seal owner of ${ns.path}`);
          assert.equal(index.locking(ns), lockingNamespace(entries, ns), `seed ${seed}: locking of ${ns.path}`);
        }
      }
      const owners = index.sealOwnersBySegment();
      for (const e of entries) {
        const owner = sealOwner(entries, e);
        assert.deepEqual(owners.get(e.uuid), owner === undefined ? null : { uuid: owner.uuid, sealed: owner.manually_sealed === true });
        assert.deepEqual(index.byId(e.id), { id: e.id, uuid: e.uuid, path: e.path });
      }
    }
  });

  it('finds the longest mount path as longestPrefix does, including "secret" for "secret/"', () => {
    const rand = rng(7);
    const mounts = [...new Set(Array.from({ length: 80 }, () => `${Array.from({ length: 1 + Math.floor(rand() * 3) }, () => NAMES[Math.floor(rand() * NAMES.length)]).join('/')}/`))].map((path) => ({ path }));
    const index = new PrefixIndex(mounts);
    for (let k = 0; k < 2000; k++) {
      const path = Array.from({ length: Math.floor(rand() * 5) }, () => NAMES[Math.floor(rand() * NAMES.length)]).join('/') + (rand() < 0.3 ? '/' : '');
      assert.equal(index.longest(path), longestPrefix(mounts, path), `path ${path}`);
    }
    assert.equal(new PrefixIndex([{ path: 'secret/' }]).longest('secret')?.path, 'secret/');
    assert.equal(new PrefixIndex([{ path: 'secret/' }]).longest('secrets/x'), null);
    assert.equal(new PrefixIndex<{ path: string }>([]).longest('x'), null);
    // Changed in place (the front's view): answers follow every set and delete.
    const live = new PrefixIndex(mounts);
    const kept = new Set(mounts);
    for (let k = 0; k < 300; k++) {
      const m = mounts[Math.floor(rand() * mounts.length)] as { path: string };
      if (kept.has(m)) {
        live.delete(m.path);
        kept.delete(m);
      } else {
        live.set(m);
        kept.add(m);
      }
      const path = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => NAMES[Math.floor(rand() * NAMES.length)]).join('/');
      assert.equal(live.longest(path)?.path, longestPrefix([...kept], path)?.path, `after ${k} changes: ${path}`);
    }
  });

  it('the stored entries (and a list of the earlier layout) answer what the scans over the list answer', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const entries = randomTree(rand, 5 + Math.floor(rand() * 40));
      const perKey = new MemoryPhysical();
      for (const e of entries) await commit(perKey, (root) => putNamespace(root, e, true));
      const legacyStore = new MemoryPhysical();
      await commit(legacyStore, async (root) => root.putJson(LEGACY_NAMESPACES_KEY, { entries }));
      for (const [layout, physical] of [['per key', perKey], ['legacy', legacyStore]] as const) {
        const dir = new NamespaceDirectory(physical);
        const view = new ScopedStorage('', physical, testCrypto);
        assert.equal(await namespaceIdTaken(view, 'free01'), false);
        const sortedPaths = (list: readonly NamespaceEntry[]) => list.map((e) => e.path).sort();
        assert.deepEqual(sortedPaths(dir.all(testCrypto)), sortedPaths(entries), `${layout} seed ${seed}: all`);
        assert.deepEqual(sortedPaths(dir.sealable(testCrypto)), sortedPaths(entries.filter((e) => e.sealable === true)), `${layout} seed ${seed}: sealable`);
        for (let k = 0; k < 100; k++) {
          const path = randomPath(rand, entries);
          const place = dir.place(testCrypto, path);
          const expected = namespaceOfPath(entries, path);
          assert.deepEqual(place.ns, expected, `${layout} seed ${seed}: namespace of ${path}`);
          assert.deepEqual(await namespaceOfFullPath(view, path), expected, `${layout} seed ${seed}: handler's namespace of ${path}`);
          assert.deepEqual(place.chain.map((e) => e.path), entries.filter((e) => expected.path.startsWith(e.path) && e.path !== '').map((e) => e.path).sort((a, b) => a.length - b.length));
        }
        for (const e of entries) {
          const owner = sealOwner(entries, e);
          assert.deepEqual(dir.sealOwnerOfSegment(testCrypto, e.uuid), owner === undefined ? null : { uuid: owner.uuid, sealed: owner.manually_sealed === true }, `${layout} seed ${seed}: seal owner of ${e.path}`);
          assert.deepEqual(dir.lookup(testCrypto, e.path), refOf(e));
          assert.equal(await namespaceIdTaken(view, e.id), true, `${layout} seed ${seed}: id of ${e.path} taken`);
          const children = entries.filter((c) => c.path.startsWith(e.path) && c.path !== e.path && !c.path.slice(e.path.length, -1).includes('/'));
          assert.deepEqual(sortedPaths(await childNamespaces(view, e)), sortedPaths(children), `${layout} seed ${seed}: children of ${e.path}`);
          assert.deepEqual(sortedPaths(await descendantNamespaces(view, e)), sortedPaths(entries.filter((c) => c.path.startsWith(e.path) && c !== e)));
        }
      }
    }
  });

  it('the first change moves a list of the earlier layout into entries, losing none', async () => {
    const entries = randomTree(rng(99), 30);
    const physical = new MemoryPhysical();
    await commit(physical, async (root) => root.putJson(LEGACY_NAMESPACES_KEY, { entries }));
    const victim = entries[entries.length - 1] as NamespaceEntry;
    await commit(physical, async (root) => deleteNamespaceEntry(root, victim));
    assert.equal(physical.get(LEGACY_NAMESPACES_KEY), undefined);
    const view = new ScopedStorage('', physical, testCrypto);
    for (const e of entries) assert.deepEqual(await readNamespace(view, e.path), e === victim ? undefined : e);
    for (const e of entries) assert.equal(await namespaceIdTaken(view, e.id), e !== victim, `id of ${e.path} after the migration`);
    assert.equal(new NamespaceDirectory(physical).all(testCrypto).length, entries.length - 1);
  });

  it('a child created while its parent is deleted makes one of the two write-sets conflict', async () => {
    const physical = new MemoryPhysical();
    const parent: NamespaceEntry = { id: 'p1', uuid: 'u-p', path: 'team/', custom_metadata: {} };
    await commit(physical, (root) => putNamespace(root, parent, true));
    // The delete reads the parent and lists its children (none yet); the create commits first.
    const deleting = new ScopedStorage('', physical, testCrypto);
    assert.ok(await readNamespace(deleting, 'team/'));
    assert.deepEqual(await childNamespaces(deleting, parent), []);
    await deleteNamespaceEntry(deleting, parent);
    await commit(physical, (root) => putNamespace(root, { id: 'c1', uuid: 'u-c', path: 'team/dev/', custom_metadata: {} }, true));
    assert.equal(physical.commit(deleting.writeSet()), 'core/namespace/team');
  });
});
