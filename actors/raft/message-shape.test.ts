// The peer message shape check (message-shape.ts): every message the real core sends, over simulated runs
// with faults, snapshots and membership changes, passes it (a false refusal would cut a node off its
// cluster); damaged copies of those messages (a field removed, retyped or out of range) are refused
// without throwing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadCore } from '../../bench/sim/core.js';
import { withReady } from '../../bench/sim/faulty.js';
import { swarmOptions } from '../../bench/sim/options.js';
import { runSimulation } from '../../bench/sim/simulation.js';
import type { CreateRaftNode, RaftMessage } from './core/types.js';
import { isWellFormedMessage } from './message-shape.js';

/** A core whose Readies are recorded: every message it hands the host. */
function recording(inner: CreateRaftNode, sink: RaftMessage[]): CreateRaftNode {
  return withReady(inner, (rd) => {
    sink.push(...rd.messages, ...rd.messagesAfterPersist);
    return rd;
  });
}

test('every message the core sends in simulated runs is well formed; damaged ones are refused', async () => {
  const core = await loadCore();
  const sent: RaftMessage[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    // The recording sees messages as the core emits them, before the host fills in released entries
    // ({ t: 'stored' }, never on the wire: refused below); so no release in these runs.
    const options = swarmOptions(seed, 600, { nodes: 3 + (seed % 3) });
    options.workload.releaseKeep = -1;
    runSimulation(options, recording(core, sent));
  }
  const types = new Set(sent.map((m) => m.t));
  const refused = sent.filter((m) => !isWellFormedMessage(m));
  assert.deepEqual(refused.slice(0, 3), [], `${refused.length} of ${sent.length} real messages refused`);
  for (const t of ['app', 'app-resp', 'vote', 'vote-resp', 'prevote', 'prevote-resp', 'heartbeat', 'heartbeat-resp', 'snap', 'snap-resp', 'read-index', 'read-index-resp', 'timeout-now']) {
    assert.ok(types.has(t), `the runs produced no ${t} message (the check of that variant is untested)`);
  }

  // An append still naming a released entry (the host did not read it back) is refused.
  const app = sent.find((m) => m.t === 'app' && (m.entries as unknown[]).length > 0) as RaftMessage;
  const entries = app.entries as { index: number; term: number }[];
  assert.equal(isWellFormedMessage({ ...app, entries: [{ index: entries[0]!.index, term: entries[0]!.term, payload: { t: 'stored' } }] }), false, 'an append with a released entry');

  // Damage one field of a real message: a required field removed, given the wrong type, or a negative or
  // fractional number. The check refuses it (never throws).
  const required = (m: RaftMessage) => Object.keys(m).filter((k) => k !== 't');
  let damaged = 0;
  fc.assert(
    fc.property(fc.nat(sent.length - 1), fc.nat(), fc.constantFrom('delete', 'string', 'negative', 'fraction', 'null', 'object'), (i, k, how) => {
      const m = sent[i] as RaftMessage;
      const keys = required(m);
      if (keys.length === 0) return;
      const key = keys[k % keys.length] as string;
      const copy: Record<string, unknown> = { ...m };
      const was = copy[key];
      if (how === 'delete') delete copy[key];
      else if (how === 'string') copy[key] = typeof was === 'string' ? 7 : 'x';
      else if (how === 'negative') copy[key] = typeof was === 'number' ? -1 : 'x';
      else if (how === 'fraction') copy[key] = typeof was === 'number' ? 0.5 : 'x';
      else if (how === 'null') copy[key] = null;
      else copy[key] = { nested: true };
      // A string field given another string, or `ctx` of a read, may stay valid; everything else must not.
      if (typeof was === 'string' && typeof copy[key] === 'string') return;
      damaged++;
      assert.equal(isWellFormedMessage(copy as RaftMessage), false, `accepted ${m.t} with ${key} ${how}: ${JSON.stringify(copy[key])}`);
    }),
    { seed: 20_261_123, numRuns: 3_000 },
  );
  console.log(`messages sent by the core: ${sent.length} (${types.size} types), refused: ${refused.length}; damaged copies refused: ${damaged} of ${damaged}`);
});

test('a disaster-recovery configuration entry is well formed only with its list of non-voters', () => {
  const app = (change: unknown): RaftMessage => ({ t: 'app', from: 'n4', to: 'n5', term: 9, index: 30, logTerm: 7, commit: 31, entries: [{ index: 31, term: 9, payload: { t: 'conf', change } }] });
  assert.equal(isWellFormedMessage(app({ t: 'recover', node: 'n4', learners: ['n5'] })), true);
  assert.equal(isWellFormedMessage(app({ t: 'recover', node: 'n4', learners: [] })), true);
  assert.equal(isWellFormedMessage(app({ t: 'recover', node: 'n4' })), false, 'no learners');
  assert.equal(isWellFormedMessage(app({ t: 'recover', node: 'n4', learners: [5] })), false, 'a learner that is not an id');
  assert.equal(isWellFormedMessage(app({ t: 'recover', node: '', learners: ['n5'] })), false, 'no node');
  assert.equal(isWellFormedMessage(app({ t: 'rewind', node: 'n4', learners: [] })), false, 'an unknown change');
});
