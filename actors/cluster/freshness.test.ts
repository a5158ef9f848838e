// The freshness rules of bounded-staleness standby reads (freshness.ts), driven by hand: which leader
// messages prove a follower current, and when heartbeats stop counting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftSharedState } from './consistency.js';

const BOUND = 2_000;
/** Wall-clock ms are large; the tracker starts from 0 (never fresh). */
const T0 = 1_000_000;

function setup() {
  const shared = RaftSharedState.create();
  const since = (now: number) => shared.sinceFreshMs(now);
  return { shared, since };
}

describe('freshness evidence (bounded-staleness standby reads)', () => {
  it('an AppendEntries proves freshness once its commit is applied, as of its arrival', () => {
    const { shared, since } = setup();
    shared.onLeaderMessage('app', 10, 5, T0 + 1_000); // commit 10 not applied yet
    assert.ok(since(T0 + 1_000) > BOUND, 'not fresh before applying');
    shared.publishApplied(9);
    assert.ok(since(T0 + 1_500) > BOUND);
    shared.publishApplied(10);
    assert.equal(since(T0 + 1_500), 500, 'fresh as of the message that showed commit 10');
    assert.equal(shared.leaderCommit(), 10);
  });

  it('heartbeats do not count before an AppendEntries was caught up with (a started node)', () => {
    const { shared, since } = setup();
    shared.publishApplied(50);
    shared.onLeaderMessage('heartbeat', 50, 50, T0 + 1_000);
    assert.ok(since(T0 + 1_000) > BOUND);
    shared.onLeaderMessage('app', 50, 50, T0 + 1_100);
    shared.onLeaderMessage('heartbeat', 50, 50, T0 + 1_200);
    assert.equal(since(T0 + 1_200), 0, 'caught up: heartbeats keep it fresh (an idle cluster)');
  });

  it('after a gap in contact longer than the bound, heartbeats stop counting until an AppendEntries is caught up with', () => {
    const { shared, since } = setup();
    shared.onLeaderMessage('app', 20, 20, T0 + 1_000);
    shared.publishApplied(20);
    shared.onLeaderMessage('heartbeat', 20, 20, T0 + 1_100);
    assert.equal(since(T0 + 1_100), 0);
    // Partitioned for 5 s; the leader committed up to 80 meanwhile. Its first heartbeat carries
    // min(match, commit) = 20, which looks current but is not.
    shared.onLeaderMessage('heartbeat', 20, 20, T0 + 6_100);
    assert.equal(since(T0 + 6_100), 5_000, 'a heartbeat after the gap proves nothing');
    shared.onLeaderMessage('app', 80, 20, T0 + 6_150);
    assert.ok(since(T0 + 6_200) > BOUND, 'behind the commit the AppendEntries showed');
    shared.publishApplied(80);
    assert.equal(since(T0 + 6_200), 50, 'fresh as of that AppendEntries once applied');
    shared.onLeaderMessage('heartbeat', 80, 80, T0 + 6_300);
    assert.equal(since(T0 + 6_300), 0);
  });

  it('a follower that falls behind the commits it has seen is not refreshed by heartbeats', () => {
    const { shared, since } = setup();
    shared.onLeaderMessage('app', 10, 10, T0 + 1_000);
    shared.publishApplied(10);
    shared.onLeaderMessage('app', 500, 10, T0 + 1_100); // the leader is far ahead, this node is slow
    shared.onLeaderMessage('heartbeat', 12, 10, T0 + 1_200);
    shared.onLeaderMessage('heartbeat', 12, 10, T0 + 3_500);
    assert.equal(since(T0 + 3_500), 2_500, 'still fresh only as of 1 000');
    shared.publishApplied(499);
    assert.equal(since(T0 + 3_500), 2_500);
    shared.publishApplied(500);
    assert.equal(since(T0 + 3_500), 2_400, 'fresh as of 1 100 once 500 is applied');
  });

  it('freshAsOf never goes back (a ReadIndex proof from the front may be newer than the tracker\'s)', () => {
    const { shared, since } = setup();
    shared.publishFreshAsOf(T0 + 5_000);
    shared.onLeaderMessage('app', 1, 1, T0 + 4_000);
    assert.equal(since(T0 + 5_000), 0);
  });
});
