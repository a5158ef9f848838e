// The Raft core keeps the data of only the last few applied entries (RaftNode.releasePayloads); a peer
// that lags further gets appends whose entries the host reads back from its log store. Three RaftHosts in
// this process (test-hosts.ts) with a window of 3 entries: n3 is cut off while 40 entries commit, then
// catches up by appends (no snapshot: compactAt is far away) and must end with the same entries applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRaftNode } from './core/index.js';
import type { Entry } from './core/types.js';
import { fsmValue as valueOf, putOne as put, threeHostsLedByN1, untilTrue as until } from './test-hosts.js';


test('raft: a follower beyond the in-memory window catches up from the leader\'s log store', { timeout: 60_000 }, async (t) => {
  const cut = new Set<string>();
  const [n1, n2, n3] = await threeHostsLedByN1(t, {
    name: 'released-payloads',
    drop: (msg) => cut.has(msg.from) || cut.has(msg.to),
    options: () => ({ payloadsKept: 3, digestApplied: true }),
  });
  cut.add('n3');
  let last = 0;
  for (let i = 0; i < 40; i++) last = await n1.propose(put(`k${i}`, `v${i}`));
  await until('n2 applied everything', () => n2.fsmApplied().index >= last);
  assert.ok(n3.fsmApplied().index < last - 30, 'n3 was cut off while the entries committed');

  cut.delete('n3');
  await until('n3 applied everything', () => n3.fsmApplied().index >= last);
  const readBack = n1.stats().entriesReadBack;
  assert.ok(readBack >= 30, `n3's appends came from the log store (${readBack} entries read back)`);
  for (let i = 0; i < 40; i++) assert.equal(valueOf(n3, `k${i}`), `v${i}`, `k${i} on n3`);
  const d1 = n1.stats().appliedDigest!;
  const d3 = n3.stats().appliedDigest!;
  assert.equal(d3.index, d1.index);
  assert.equal(d3.hex, d1.hex, 'n3 applied the same entries (index, term and data) as n1');
  // Later appends, inside the window again, still replicate.
  const next = await n1.propose(put('after', 'x'));
  await until('n3 applied the next entry', () => n3.fsmApplied().index >= next);
  assert.equal(valueOf(n3, 'after'), 'x');
});

test('raft core: releasePayloads lets go only of applied, durable normal entries', () => {
  const node = createRaftNode(
    { id: 'a', electionTicks: 10, heartbeatTicks: 1, maxInflightMsgs: 8, maxEntriesPerMsg: 8, snapshotChunkBytes: 1024, preVote: true, checkQuorum: false, seed: 1 },
    { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], bootstrap: { voters: ['a'], learners: [] }, applied: 0 },
  );
  node.campaign();
  const drain = () => {
    const seen: Entry[] = [];
    while (node.hasReady()) {
      const rd = node.ready();
      seen.push(...rd.committed);
      node.advance();
    }
    return seen;
  };
  drain();
  for (let i = 0; i < 5; i++) assert.ok(node.propose(new Uint8Array([i])).ok);
  const applied = drain();
  const lastApplied = applied[applied.length - 1]!.index;
  assert.equal(node.releasePayloads(lastApplied - 2), lastApplied - 2);
  // Proposed but not yet handed out, persisted or applied: the release stops at the applied index.
  const pending = node.propose(new Uint8Array([9]));
  assert.ok(pending.ok);
  assert.equal(node.releasePayloads(pending.index + 10), lastApplied);
  // The entry still to persist and apply keeps its data.
  const rd = node.ready();
  const fresh = rd.entries.find((e) => e.index === pending.index);
  assert.deepEqual(fresh?.payload, { t: 'normal', data: new Uint8Array([9]) });
  node.advance();
});
