// The in-memory Raft log after the snapshot, with the persistence split:
//   (snapIndex, persistedIndex]  durable on the host (advance() acknowledged it)
//   (persistedIndex, handedIndex] handed to the host in the Ready awaiting advance()
//   (handedIndex, lastIndex]      unstable: goes out in the next Ready
// and the apply split: (applied, applying] handed out for apply, (applying, committed] not yet.
import { assert } from '../../../runtime/assert.js';
import type { Entry, EntryPayload, Snapshot } from './types.js';

const STORED: EntryPayload = Object.freeze({ t: 'stored' as const });

export class RaftLog {
  /** Latest snapshot: the compacted prefix, served to lagging followers. */
  snapshot: Snapshot | null;
  snapIndex: number;
  snapTerm: number;
  private entries: Entry[];
  committed: number;
  applied: number;
  applying: number;
  handedIndex: number;
  persistedIndex: number;
  /** Snapshot received from the leader, not yet handed to the host. */
  pendingSnapshot: Snapshot | null = null;
  /** Bumped when a snapshot from the leader replaces the log (what an earlier Ready handed is void). */
  epoch = 0;
  /** Normal entries at or below this index hold { t: 'stored' } instead of their data (releasePayloads). */
  releasedThrough: number;

  constructor(snapshot: Snapshot | null, entries: Entry[], committed: number, applied: number) {
    this.snapshot = snapshot;
    this.snapIndex = snapshot?.meta.index ?? 0;
    this.snapTerm = snapshot?.meta.term ?? 0;
    entries.forEach((entry, i) => {
      assert(entry.index === this.snapIndex + 1 + i, `restored log not contiguous at ${entry.index}`);
      assert(entry.term >= this.snapTerm, 'restored entry term below snapshot term');
    });
    this.entries = entries.slice();
    this.releasedThrough = this.snapIndex;
    this.committed = Math.max(committed, this.snapIndex);
    assert(this.committed <= this.lastIndex(), `commit ${committed} beyond last index ${this.lastIndex()}`);
    this.applied = Math.min(Math.max(applied, this.snapIndex), this.committed);
    this.applying = this.applied;
    this.handedIndex = this.lastIndex();
    this.persistedIndex = this.lastIndex();
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, 'last term must be known');
    return term;
  }

  /** Term of entry `index`, or undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return undefined;
    return this.entry(index).term;
  }

  entry(index: number): Entry {
    const entry = this.entries[index - this.snapIndex - 1];
    assert(entry !== undefined && entry.index === index, `entry ${index} not in log`);
    return entry;
  }

  /** Entries [lo, hi] (inclusive), all present in the log. */
  slice(lo: number, hi: number): Entry[] {
    if (hi < lo) return [];
    assert(lo > this.snapIndex && hi <= this.lastIndex(), `slice [${lo}, ${hi}] out of log bounds`);
    return this.entries.slice(lo - this.snapIndex - 1, hi - this.snapIndex);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** Leader append: entries follow the last index. */
  append(entries: Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `append gap: ${entry.index} after ${this.lastIndex()}`);
      assert(entry.term >= this.lastTerm(), 'append must not lower the term');
      this.entries.push(entry);
    }
  }

  /**
   * Follower append after the log-matching check succeeded at `prevIndex`: skips entries already present,
   * truncates at the first conflict (never at or below commit) and appends the rest. Returns the last new index.
   */
  appendAfter(prevIndex: number, entries: Entry[]): number {
    assert(this.term(prevIndex) !== undefined, 'appendAfter needs a matching previous entry');
    let i = 0;
    while (i < entries.length) {
      const entry = entries[i]!;
      assert(entry.index === prevIndex + 1 + i, 'app entries not contiguous');
      const ours = this.term(entry.index);
      if (ours === undefined || ours !== entry.term) break;
      i++;
    }
    if (i < entries.length) {
      const from = entries[i]!.index;
      if (from <= this.lastIndex()) {
        assert(from > this.committed, `conflict at ${from} at or below commit ${this.committed}`);
        this.truncateFrom(from);
      }
      this.append(entries.slice(i));
    }
    return prevIndex + entries.length;
  }

  private truncateFrom(index: number): void {
    assert(index > this.snapIndex && index <= this.lastIndex(), 'truncate out of range');
    this.entries.length = index - this.snapIndex - 1;
    this.handedIndex = Math.min(this.handedIndex, index - 1);
    this.persistedIndex = Math.min(this.persistedIndex, index - 1);
  }

  /**
   * Fast back-off: the largest index <= `index` whose term is <= `term` (so entries after it certainly
   * conflict with a log whose entry at some index has `term`). Stops at the snapshot.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapIndex; i--) {
      const ours = this.term(i)!;
      if (ours <= term) return { index: i, term: ours };
    }
    // Below the snapshot the terms are unknown: the caller probes there and falls back to a snapshot.
    if (i < this.snapIndex) return { index: i, term: 0 };
    assert(i === this.snapIndex, 'findConflictByTerm stops at the snapshot');
    return { index: this.snapIndex, term: this.snapTerm };
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Follower installs a snapshot from the leader: the whole log is replaced by it. */
  restore(snapshot: Snapshot): void {
    assert(snapshot.meta.index > this.committed, 'restore must move past commit');
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.epoch++;
    this.snapIndex = snapshot.meta.index;
    this.snapTerm = snapshot.meta.term;
    this.entries = [];
    this.releasedThrough = snapshot.meta.index;
    this.committed = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.applying = snapshot.meta.index;
    // Nothing after the snapshot is durable until the host persists the snapshot itself.
    this.handedIndex = snapshot.meta.index;
    this.persistedIndex = 0;
  }

  /**
   * Lets go of the data of normal entries through `through`, never past what is applied and durable
   * here: those are the only ones the core itself will not need again (the apply and the persist read
   * only later entries). A lagging peer's append may still name them; the host fills them in.
   */
  releasePayloads(through: number): number {
    const upTo = Math.min(through, this.applied, this.persistedIndex, this.lastIndex());
    for (let index = Math.max(this.releasedThrough, this.snapIndex) + 1; index <= upTo; index++) {
      const at = index - this.snapIndex - 1;
      const entry = this.entries[at]!;
      // A new object: the one released may still be in an append or a Ready on its way out.
      if (entry.payload.t === 'normal') this.entries[at] = { index, term: entry.term, payload: STORED };
    }
    this.releasedThrough = Math.max(this.releasedThrough, upTo);
    return this.releasedThrough;
  }

  /** The host took a snapshot at or below applied: drop the entries it covers. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    assert(index <= this.applied, `compact at ${index} beyond applied ${this.applied}`);
    assert(this.term(index) === snapshot.meta.term, `compact term mismatch at ${index}`);
    if (index <= this.snapIndex) return;
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapshot = snapshot;
    this.snapIndex = index;
    this.snapTerm = snapshot.meta.term;
    assert(this.entries.length === 0 || this.entries[0]!.index === index + 1, 'compact left a gap');
  }

  unstableEntries(): Entry[] {
    return this.slice(this.handedIndex + 1, this.lastIndex());
  }

  /** Committed entries not yet handed out for apply. */
  committedToApply(): Entry[] {
    return this.slice(this.applying + 1, Math.min(this.committed, this.lastIndex()));
  }
}
