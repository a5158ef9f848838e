// A node's simulated disk: exactly what the host persisted from each Ready before advance().
// A crash keeps this and loses everything else (the core's memory, the FSM, unsent messages).
// The contract checks on each write live here too: hard state never regresses, appends have no gap,
// a truncation never reaches a committed index.
import type { Entry, HardState, Snapshot } from '../../actors/raft/core/types.js';
import { cloneData } from './network.js';
import { check } from './violation.js';

export class SimDisk {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  /** The hard state as of the last flushed write: what survives a power loss (see powerLoss()). */
  flushedHardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: Snapshot | null = null;
  /** Entries after the snapshot, contiguous: entries[k].index === firstIndex + k. */
  entries: Entry[] = [];
  /** Deepest truncation seen, for the stats. */
  truncations = 0;

  constructor(readonly nodeId: string) {}

  get snapshotIndex(): number {
    return this.snapshot?.meta.index ?? 0;
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  /** The entry at `index`, or undefined when compacted or beyond the log. */
  entry(index: number): Entry | undefined {
    return this.entries[index - this.firstIndex];
  }

  /** Term at `index`: 0 before the log, the snapshot's at its index, undefined when unknown. */
  termAt(index: number): number | undefined {
    if (index === 0) return 0;
    if (this.snapshot !== null && index === this.snapshot.meta.index) return this.snapshot.meta.term;
    return this.entry(index)?.term;
  }

  writeHardState(next: HardState): void {
    const prev = this.hardState;
    const who = this.nodeId;
    check(next.term >= prev.term, 'hard-state-regression', () => `${who}: term ${prev.term} -> ${next.term}`);
    if (next.term === prev.term && prev.vote !== null) {
      check(next.vote === prev.vote, 'hard-state-regression', () => `${who}: vote changed within term ${next.term}: ${prev.vote} -> ${next.vote}`);
    }
    check(next.commit >= prev.commit, 'hard-state-regression', () => `${who}: persisted commit ${prev.commit} -> ${next.commit}`);
    this.hardState = { term: next.term, vote: next.vote, commit: next.commit };
  }

  /** Everything written so far is on disk (a flushed write also makes every earlier write durable). */
  flushed(): void {
    this.flushedHardState = { ...this.hardState };
  }

  /** Power loss: writes that were never flushed are gone (only commit-index moves are written unflushed). */
  powerLoss(): void {
    this.hardState = { ...this.flushedHardState };
  }

  /** Install a snapshot; keeps the entries after it only when the log agrees with it at its index. */
  writeSnapshot(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    const who = this.nodeId;
    // An index-0 snapshot carries only a base configuration, to a node that joined with an empty disk.
    const baseOnly = index === 0 && this.snapshot === null && this.entries.length === 0;
    check(index > this.snapshotIndex || baseOnly, 'persist-contract', () => `${who}: snapshot at ${index} not newer than ${this.snapshotIndex}`);
    const keep = this.termAt(index) === snapshot.meta.term ? this.entries.filter((e) => e.index > index) : [];
    this.snapshot = cloneData(snapshot);
    this.entries = keep;
  }

  /** Host compaction: the snapshot the FSM took at `snapshot.meta.index`; drop the log up to it. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    const who = this.nodeId;
    check(index > this.snapshotIndex && index <= this.lastIndex, 'persist-contract', () => `${who}: compact at ${index} outside (${this.snapshotIndex}, ${this.lastIndex}]`);
    check(this.termAt(index) === snapshot.meta.term, 'snapshot-mismatch', () => `${who}: compact at ${index}: log term ${this.termAt(index)} != fsm term ${snapshot.meta.term}`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshot = cloneData(snapshot);
  }

  /**
   * Append Ready.entries: an entry at an existing index truncates the log from there.
   * Returns the truncation index (0 when none) for the caller's checks.
   */
  append(entries: Entry[]): number {
    if (entries.length === 0) return 0;
    const who = this.nodeId;
    const first = entries[0] as Entry;
    for (let k = 1; k < entries.length; k++) {
      const e = entries[k] as Entry;
      check(e.index === first.index + k, 'persist-contract', () => `${who}: Ready.entries not contiguous at ${e.index}`);
    }
    check(first.index > this.snapshotIndex, 'persist-contract', () => `${who}: Ready.entries start at ${first.index}, at or below the snapshot ${this.snapshotIndex}`);
    check(first.index <= this.lastIndex + 1, 'persist-contract', () => `${who}: Ready.entries start at ${first.index}, leaving a gap after ${this.lastIndex}`);
    let truncatedAt = 0;
    if (first.index <= this.lastIndex) {
      truncatedAt = first.index;
      this.truncations++;
      this.entries.length = first.index - this.firstIndex;
    }
    for (const e of entries) this.entries.push(cloneData(e));
    return truncatedAt;
  }
}
