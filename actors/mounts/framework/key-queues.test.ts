// Write queues are per key: a key someone conflicted on makes later writers of THAT key wait their turn,
// while writes to other keys of the same mount commit at once. The commit here is held open by the test,
// so "at once" is an ordering fact (which commits were called before a release), not a timing.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { executeOnMount, resolveOperation, type MountDeps, type MountRequest } from './execute.js';
import { rootCaller } from './test-harness.js';
import { compileBackend } from './router.js';
import { MemoryPhysical, testCrypto, type WriteSetWithGuards } from './storage-view.js';
import type { BackendFactory, MountInfo } from './types.js';

/** A counter per name: read it, write it + 1 (a read-modify-write, so a stale writer must lose). */
const counters: BackendFactory = () => ({
  type: 'toy',
  help: '',
  paths: [
    {
      pattern: 'c/:name',
      operations: {
        update: async (req, storage) => {
          const n = Number((await storage.get(req.params.name!))?.toString() ?? '0') + 1;
          storage.put(req.params.name!, Buffer.from(String(n)));
          return { data: { n } };
        },
      },
      help: { synopsis: 'a counter', description: '' },
    },
  ],
});

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

it('a contended key queues its own writers only; other keys of the mount commit meanwhile', async () => {
  const physical = new MemoryPhysical();
  const mount: MountInfo = { type: 'toy', path: 'toy/', uuid: 'u1', accessor: 'toy_acc', options: {}, defaultLeaseTtlS: 60, maxLeaseTtlS: 60 };
  const compiled = compileBackend(counters(mount));
  const log: string[] = [];
  // Commits of `hot` after the first are held until the test lets them go (a write still in flight).
  const held: (() => void)[] = [];
  let hotCommits = 0;
  let index = 0;
  const commit: MountDeps['commit'] = async (ws: WriteSetWithGuards) => {
    const key = ws.ops[0]!.key.split('/').pop()!;
    log.push(key);
    if (key === 'hot' && ++hotCommits > 2) await new Promise<void>((r) => held.push(r));
    const conflictKey = physical.commit(ws);
    return conflictKey === null ? { ok: true, index: ++index } : { ok: false, conflictKey };
  };
  const deps: MountDeps = { physical, crypto: testCrypto, commit };
  const request = async (name: string) => {
    const req: MountRequest = { operation: 'update', path: `c/${name}`, data: {}, caller: rootCaller, nowMs: 0, headers: {} };
    const resolved = await resolveOperation(compiled, mount, req, deps);
    return executeOnMount(compiled, mount, req, resolved!, deps);
  };

  // Two writers of `hot` read 0 together; one wins, the other conflicts and takes the key's queue. Its
  // second commit (the third of `hot`) is held open: the queue stays occupied.
  const a = request('hot');
  const b = request('hot');
  await settle();
  assert.equal(held.length, 1, 'the loser re-executed and is committing while it holds the queue');
  // A fresh writer of `hot` executes, finds the key queued, and waits: no commit of it yet.
  const c = request('hot');
  // A writer of another key in the same mount commits straight away.
  const other = request('cold');
  await settle();
  assert.deepEqual(log, ['hot', 'hot', 'hot', 'cold'], 'cold committed while hot was held; the queued writer of hot did not commit');
  assert.equal((await other).result?.data?.n, 1);

  held.shift()!();
  await settle();
  while (held.length > 0) {
    held.shift()!();
    await settle();
  }
  const results = await Promise.all([a, b, c]);
  assert.deepEqual(results.map((r) => r.result?.data?.n).sort(), [1, 2, 3], 'every increment of hot got its own value');
  assert.equal(log.filter((k) => k === 'hot').length, 4, 'hot: one conflict, then one commit per writer (the queued one did not race)');
});
