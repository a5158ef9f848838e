// The indexed lookups answer exactly what the linear scans over the list answered (model.ts keeps those
// for the handlers' one-off questions), on random trees of namespaces and mounts and random paths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../test/helpers/fault-load.js';
import { longestPrefix } from '../mount-table.js';
import { PrefixIndex } from '../prefix-index.js';
import { lockingNamespace, namespaceOfPath, ROOT_NAMESPACE, sealOwner, type NamespaceEntry } from './model.js';
import { NamespaceIndex } from './namespace-index.js';

const rng = seededRandom;

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
  });
});
