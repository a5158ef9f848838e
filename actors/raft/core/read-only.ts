// ReadIndex bookkeeping on the leader (Raft dissertation §6.4).
// A request records the commit index, then waits until a quorum answered a heartbeat sent after it was
// recorded. Each request gets a leader-local sequence number; heartbeats carry the newest sequence and
// followers echo it, so confirming request `seq` is the quorum math over each voter's highest echo.
import { assert } from '../../../runtime/assert.js';
import type { NodeId } from './types.js';

export interface ReadRequest {
  /** Who asked: the leader itself or a follower that forwarded the request. */
  from: NodeId;
  ctx: string;
}

export interface RecordedRead extends ReadRequest {
  seq: number;
  index: number;
}

/** Upper bound on queued requests; more are dropped (the host times out and retries). */
export const readRequestsMax = 4096;

export class ReadOnly {
  /** Requests waiting for the leader's first commit in its term (its commit index is not yet known to be current). */
  waiting: ReadRequest[] = [];
  /** Recorded requests in sequence order, awaiting heartbeat confirmation. */
  recorded: RecordedRead[] = [];
  lastSeq = 0;

  /** False when the queues are full (request dropped). */
  enqueueWaiting(request: ReadRequest): boolean {
    if (this.waiting.length + this.recorded.length >= readRequestsMax) return false;
    this.waiting.push(request);
    return true;
  }

  record(request: ReadRequest, index: number): RecordedRead | null {
    if (this.waiting.length + this.recorded.length >= readRequestsMax) return null;
    this.lastSeq++;
    const read: RecordedRead = { ...request, seq: this.lastSeq, index };
    const prev = this.recorded[this.recorded.length - 1];
    if (prev !== undefined) assert(prev.index <= index && prev.seq < read.seq, 'reads recorded out of order');
    this.recorded.push(read);
    return read;
  }

  /**
   * Removes and returns, in sequence order, every recorded request that a heartbeat round confirmed
   * (seq <= confirmedSeq) or that `confirmedWithoutRound` accepts (a voter's own read: the voter completes
   * the quorum, see leader.ts confirmReads).
   */
  release(confirmedSeq: number, confirmedWithoutRound: (read: RecordedRead) => boolean): RecordedRead[] {
    assert(confirmedSeq <= this.lastSeq, 'confirmed a read sequence never issued');
    const released: RecordedRead[] = [];
    let kept = 0;
    for (const read of this.recorded) {
      if (read.seq <= confirmedSeq || confirmedWithoutRound(read)) released.push(read);
      else this.recorded[kept++] = read;
    }
    this.recorded.length = kept;
    return released;
  }

  /** The newest recorded sequence still awaiting confirmation (0: none): a heartbeat round is due when it was not sent yet. */
  newestRecordedSeq(): number {
    return this.recorded.length === 0 ? 0 : this.recorded[this.recorded.length - 1]!.seq;
  }
}
