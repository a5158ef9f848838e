// How fresh is a follower's state, in time? For bounded-staleness standby reads (RELIABILITY.md §7.4,
// docs/ha-standby-reads.md). Runs on the raft actor's thread, fed by the raft host: every message from a
// leader, every apply. Publishes `freshAsOf` (ms since epoch): the newest instant at which this node is
// known to have applied everything the leader had committed. The front refuses local reads once that is
// older than the bound.
//
// Evidence, per message from a leader (only leaders send AppendEntries and heartbeats):
//   - AppendEntries carries the leader's commit index c: once applied >= c, the state is fresh as of the
//     instant the message arrived.
//   - A heartbeat carries min(the follower's match, commit), so it cannot tell a lagging follower from a
//     current one. It counts only while this node has applied the highest commit any AppendEntries showed,
//     and not after a gap in contact longer than the bound (a pause, a partition, a restart): then fresh
//     evidence must come from an AppendEntries again (the leader sends one at once to a follower it finds
//     behind). Without that rule a standby healed from a partition would look fresh on the first
//     heartbeat and serve seconds-old data until the log caught up.
import type { RaftSharedState } from './consistency.js';

/** Pending evidence kept at most (older ones are dropped first: only the newest satisfied one matters). */
const PENDING_MAX = 1024;

export class FreshnessTracker {
  private seenCommit = 0;
  /** Heartbeats do not count until an AppendEntries has been caught up with (start, or after a gap). */
  private needAppend = true;
  private lastMessageAt = 0;
  private pending: { at: number; commit: number }[] = [];

  constructor(
    private readonly shared: RaftSharedState,
    private readonly gapMs: number,
  ) {}

  onLeaderMessage(kind: string, commit: unknown, applied: number, nowMs: number): void {
    if (kind !== 'app' && kind !== 'heartbeat') return;
    if (nowMs - this.lastMessageAt > this.gapMs) this.needAppend = true;
    this.lastMessageAt = nowMs;
    if (kind === 'app' && typeof commit === 'number') {
      if (commit > this.seenCommit) {
        this.seenCommit = commit;
        this.shared.publishLeaderCommit(commit);
      }
      if (applied >= commit) this.fresh(nowMs);
      else {
        if (this.pending.length >= PENDING_MAX) this.pending.shift();
        this.pending.push({ at: nowMs, commit });
      }
      return;
    }
    if (!this.needAppend && applied >= this.seenCommit) this.shared.publishFreshAsOf(nowMs);
  }

  onApplied(applied: number): void {
    let at = -1;
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.commit <= applied) at = Math.max(at, this.pending[k++]!.at);
    if (k === 0) return;
    this.pending = this.pending.slice(k);
    this.fresh(at);
  }

  private fresh(at: number): void {
    this.needAppend = false;
    this.shared.publishFreshAsOf(at);
  }
}
