// Leader's view of one follower (etcd tracker.Progress). States:
//   probe     - next unknown: at most one append per heartbeat interval until the follower answers.
//   replicate - next known: optimistic pipelining, bounded by the inflights window.
//   snapshot  - the follower's next index is compacted away: InstallSnapshot chunks until it acknowledges.
import { assert } from '../../../runtime/assert.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append was sent and no answer came yet (cleared by a heartbeat answer). */
  probeSent = false;
  /** Snapshot state: index of the snapshot being sent, and bytes the follower acknowledged. */
  pendingSnapshot = 0;
  snapshotOffset = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Highest ReadIndex sequence this follower echoed in a heartbeat answer. */
  readAckSeq = 0;
  /** Highest commit index this follower reported in a heartbeat answer. */
  commitAck = 0;
  readonly inflights: Inflights;

  constructor(next: number, inflightsMax: number, public learner: boolean) {
    assert(next >= 1, 'progress next must be >= 1');
    this.next = next;
    this.inflights = new Inflights(inflightsMax);
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot: resume right after it.
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(snapshotIndex: number): void {
    assert(snapshotIndex >= this.match, 'snapshot behind match');
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.snapshotOffset = 0;
  }

  /** Leader learnt the follower has `index`; false when the answer is stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    assert(this.next > this.match, 'progress next must be past match');
    return updated;
  }

  /**
   * The follower rejected an append whose previous index was `rejected`; `hintIndex` is the highest index
   * that may still match. False when the rejection is stale (answers an older message).
   */
  maybeDecrTo(rejected: number, hintIndex: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hintIndex + 1), this.match + 1);
    assert(this.next >= 1, 'progress next must stay >= 1');
    this.probeSent = false;
    return true;
  }

  /** Records an append carrying entries up to `lastIndex` (count entries). */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.inflights.add(lastIndex);
        this.next = lastIndex + 1;
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      assert(false, 'appends are never sent in snapshot state');
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotOffset = 0;
    this.inflights.reset();
  }
}
