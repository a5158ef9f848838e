// A new leader must not check a write-set's guards, nor let its front serve reads, before it applied the
// first entry of its term.
// Until then an entry the previous leader committed (and answered its client for) may sit unapplied in
// its log: the FSM still shows the key's old value, a write-set guarded on that old value would pass,
// and when applied after the committed entry it would undo that acknowledged write (a lost update).
// Three RaftHosts in this process (test-hosts.ts), with the messages between them filtered:
//   1. n1 leads and writes k = v1 everywhere;
//   2. n1 writes k = v2 with only n2 receiving it: n2 acknowledges, n1 commits and applies, and every
//      later message to n2 is dropped, so n2 holds the entry but never learns it committed;
//   3. n1 stops; n2 (the longest log) is elected, but its appends to n3 are held back, so its term's
//      first entry cannot commit;
//   4. a write-set guarded on v1 (what a handler reading n2's FSM sees) is handed to n2's guard check:
//      it must wait, and once the appends flow, be refused. k ends as v2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftSharedState } from '../cluster/consistency.js';
import { encodeWriteSet } from '../storage/write-set.js';
import { prepareCommit, versionHash, type CommitReply } from '../storage/guarded-commit.js';
import { guardedProposals } from './guarded-proposals.js';
import { threeHostsLedByN1, untilTrue as until } from './test-hosts.js';

const put = (value: Buffer) => encodeWriteSet({ ops: [{ t: 'put', key: 'k', value }] });

test('raft: a new leader checks guards only once it applied the start of its term', { timeout: 60_000 }, async (t) => {
  const blocked = new Set<string>(); // "from->to" or "from->to:app"
  let v2Index = Infinity;
  const n2Shared = RaftSharedState.create();
  // n1 campaigns first (short timeout) and leads; the others take over only once it has gone.
  const [n1, n2, n3] = await threeHostsLedByN1(t, {
    name: 'term-start',
    drop: (msg) =>
      blocked.has(`${msg.from}->${msg.to}`) ||
      blocked.has(`${msg.from}->${msg.to}:${msg.t}`) ||
      // n2 must never learn that v2 committed while n1 leads.
      (msg.from === 'n1' && msg.to === 'n2' && typeof msg.commit === 'number' && msg.commit >= v2Index),
    options: (id) => (id === 'n2' ? { shared: n2Shared } : {}),
  });

  const v1 = Buffer.from('v1');
  const v2 = Buffer.from('v2');
  const i1 = await n1.propose(put(v1));
  await until('everyone applied v1', () => [n1, n2, n3].every((h) => h.fsmApplied().index >= i1));

  // Step 2: only n2 gets v2, and never hears that it committed.
  blocked.add('n1->n3');
  v2Index = n1.status().lastIndex + 1;
  await n1.propose(put(v2));
  blocked.add('n1->n2');
  assert.equal(n1.env.fsm.get('k')?.toString(), 'v2', 'n1 applied v2');
  assert.ok(n2.status().lastIndex >= v2Index, 'n2 holds the v2 entry');
  assert.ok(n2.fsmApplied().index < v2Index, 'n2 has not applied it');

  // Step 3: n1 stops; n2 wins, but cannot commit the first entry of its term.
  await n1.close();
  blocked.add('n2->n3:app');
  // The core's role flips when it counts the votes; the host publishes the term start when it handles the
  // Ready that follows (onSoftState), a turn of the event loop later: wait for both.
  await until('n2 leads', () => n2.status().role === 'leader' && n2Shared.ownCommit() > 0);
  assert.ok(n2.fsmApplied().index < v2Index, 'the new leader has not applied v2 yet');
  // Its front serves nothing from the FSM until the start of its term is applied.
  assert.equal(n2Shared.unappliedOwnCommit(), v2Index + 1, 'the front waits for the term start');

  // Step 4: a write-set guarded on v1, as a handler reading n2's FSM right now would build it.
  const guarded = guardedProposals(n2);
  let reply: CommitReply | null = null;
  const pending = guarded.commit(prepareCommit([{ t: 'put', key: 'k', value: Buffer.from('v3') }], [{ key: 'k', hash: versionHash(v1) }])).then((r) => (reply = r));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(reply, null, 'the guard check waits for the start of the term');
  assert.equal(n2.status().lastIndex, v2Index + 1, 'nothing proposed beyond the term start meanwhile');

  blocked.delete('n2->n3:app');
  await pending;
  assert.deepEqual(reply, { ok: false, conflictKey: 'k' }, 'refused: k changed since v1');
  await until('n3 applied the term start', () => n3.fsmApplied().index >= v2Index + 1);
  assert.equal(await n2Shared.waitApplied(v2Index + 1, 5_000), true);
  assert.equal(n2Shared.unappliedOwnCommit(), 0, 'then reads are served, v2 included');
  for (const h of [n2, n3]) {
    h.env.root.resetReadTxn();
    assert.equal(h.env.fsm.get('k')?.toString(), 'v2', 'the committed v2 is not undone');
  }
});
