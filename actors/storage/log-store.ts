// The Raft log and hard state, in the `log` and `hard` databases of the node's env.
// Durability: append() and compact() resolve only after lmdb-js reports the transaction FLUSHED
// (fsync'd), never at commit (overlappingSync commits early; see BRIEF "pitfalls").
// Memory: the terms of [firstIndex, lastIndex] are kept in an array (8 bytes an entry, bounded by
// compaction) and entries not yet committed in `unstable`, so term()/entries()/lastIndex() answer
// for entries the moment append() is called, as etcd's storage does for the leader's own log.
import { assert, assertSafeInteger } from '../../runtime/assert.js';
import { failpoint } from '../../runtime/failpoints.js';
import { mutation } from '../../runtime/mutations.js';
import type { Entry, HardState, SnapshotMeta } from '../raft/core/types.js';
import { assertWritable, type StorageEnv } from './env.js';
import { assertIndexTerm, decodeEntry, decodeRecord, encodeEntry, encodeRecord, type LogBase } from './records.js';

const KEY_HARD_STATE = 'state';
const KEY_LOG_BASE = 'base';
const KEY_SNAPSHOT_META = 'snapshot';
/** lmdb-js flags for appendSync: ABORTABLE | SYNCHRONOUS_COMMIT, without NO_SYNC_FLUSH (synced on commit). */
const SYNC_TXN_FLAGS = 0x1 | 0x2;

export class LogStore {
  private readonly env: StorageEnv;
  private hardState: HardState;
  private base: LogBase;
  private snapshotMeta: SnapshotMeta | null;
  /** terms[i] is the term of entry base.index + 1 + i. */
  private terms: number[];
  /** Entries handed to append() whose transaction has not committed yet, by index. */
  private readonly unstable = new Map<number, Entry>();

  constructor(env: StorageEnv) {
    assertWritable(env, 'LogStore');
    this.env = env;
    this.hardState = this.readRecord<HardState>(KEY_HARD_STATE) ?? { term: 0, vote: null, commit: 0 };
    this.base = this.readRecord<LogBase>(KEY_LOG_BASE) ?? { index: 0, term: 0 };
    this.snapshotMeta = this.readRecord<SnapshotMeta>(KEY_SNAPSHOT_META);
    assertIndexTerm(this.base, 'log base');
    assertSafeInteger(this.hardState.term, 'hardState.term');
    assertSafeInteger(this.hardState.commit, 'hardState.commit');
    this.terms = this.loadTerms();
  }

  /** The exact durable state, as Raft needs it on (re)start. */
  load(): { hardState: HardState; snapshotMeta: SnapshotMeta | null; entries: Entry[] } {
    return {
      hardState: { ...this.hardState },
      snapshotMeta: this.snapshotMeta,
      entries: this.entries(this.firstIndex(), this.lastIndex() + 1),
    };
  }

  /** Meta of the snapshot the log was last compacted behind (null before any), without reading the entries. */
  currentSnapshotMeta(): SnapshotMeta | null {
    return this.snapshotMeta;
  }

  /** The hard state as last handed to append() (durable once that append resolved). */
  currentHardState(): HardState {
    return { ...this.hardState };
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.terms.length;
  }

  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.lastIndex()) return undefined;
    return this.terms[index - this.base.index - 1];
  }

  entries(lo: number, hiExclusive: number): Entry[] {
    assert(lo >= this.firstIndex(), `entries(${lo}, ${hiExclusive}): ${lo} is compacted (first ${this.firstIndex()})`);
    assert(hiExclusive <= this.lastIndex() + 1, `entries(${lo}, ${hiExclusive}): past last ${this.lastIndex()}`);
    const out: Entry[] = [];
    if (hiExclusive <= lo) return out;
    for (const { key, value } of this.env.log.getRange({ start: lo, end: hiExclusive })) {
      if (out.length === key - lo) out.push(this.unstable.get(key) ?? decodeEntry(value, key));
    }
    // Entries still in flight (not committed yet) are not in the read snapshot: fill them in.
    for (let index = lo + out.length; index < hiExclusive; index++) {
      const entry = this.unstable.get(index);
      assert(entry !== undefined, `log entry ${index} missing (first ${this.firstIndex()}, last ${this.lastIndex()})`);
      out.push(entry);
    }
    for (let i = 0; i < out.length; i++) {
      const entry = out[i]!;
      assert(entry.index === lo + i && entry.term === this.term(entry.index), `log entry ${lo + i} out of place`);
    }
    return out;
  }

  /**
   * Persist entries and/or hard state in ONE transaction, then wait for the flush. An entry at an index
   * <= lastIndex truncates the log from there (the removals are in the same transaction).
   */
  async append(entries: Entry[], hardState: HardState | null): Promise<void> {
    if (entries.length === 0 && hardState === null) return;
    const plan = this.planAppend(entries, hardState);
    const truncateFrom = plan.truncateFrom;
    const committed = this.env.root.batch(() => this.writeAppend(entries, hardState, plan));
    const flushed = this.flushedAfterQueuedWrites();
    // In-memory view changes in the same turn as the queued writes, so later calls see a consistent log.
    if (entries.length > 0) {
      this.terms.length = truncateFrom - this.base.index - 1;
      for (const [index] of this.unstable) if (index >= truncateFrom) this.unstable.delete(index);
      for (const entry of entries) {
        this.terms.push(entry.term);
        this.unstable.set(entry.index, entry);
      }
    }
    if (hardState !== null) this.hardState = { ...hardState };
    try {
      await committed;
    } finally {
      for (const entry of entries) if (this.unstable.get(entry.index) === entry) this.unstable.delete(entry.index);
    }
    failpoint('raft-log-before-fsync');
    if (mutation('ack-before-fsync')) return void flushed.catch(() => undefined); // §7.3: durable at commit, not at flush
    await flushed;
    failpoint('raft-log-after-fsync');
  }

  /**
   * append() as ONE synchronous transaction that also runs `alsoWrite` (the Raft host: the FSM apply of
   * entries already durable, so a round under load costs one commit, not two), durable when this returns:
   * without NO_SYNC_FLUSH, LMDB syncs the data before it writes the meta page, on the calling thread.
   * The caller must have no append() in flight: a synchronous transaction may commit before queued batches,
   * and an older hard state must not land after a newer one.
   */
  appendSync(entries: Entry[], hardState: HardState | null, alsoWrite: () => void): void {
    const plan = this.planAppend(entries, hardState);
    const truncateFrom = plan.truncateFrom;
    this.env.root.transactionSync(() => {
      this.writeAppend(entries, hardState, plan);
      alsoWrite();
      failpoint('raft-log-before-fsync'); // written, neither committed nor synced
    }, SYNC_TXN_FLAGS);
    if (entries.length > 0) {
      this.terms.length = truncateFrom - this.base.index - 1;
      for (const [index] of this.unstable) if (index >= truncateFrom) this.unstable.delete(index);
      for (const entry of entries) this.terms.push(entry.term);
    }
    if (hardState !== null) this.hardState = { ...hardState };
    failpoint('raft-log-after-fsync');
  }

  /** Checks an append (entries and hard state) against the log; where it truncates and the last indexes. */
  private planAppend(entries: Entry[], hardState: HardState | null): { truncateFrom: number; lastOld: number; lastNew: number } {
    failpoint('raft-log-before-append');
    const truncateFrom = entries.length > 0 ? this.checkAppend(entries) : this.lastIndex() + 1;
    const lastOld = this.lastIndex();
    const lastNew = entries.length > 0 ? entries[entries.length - 1]!.index : lastOld;
    if (hardState !== null) {
      assertSafeInteger(hardState.term, 'hardState.term');
      assert(hardState.term >= this.hardState.term, `hardState.term goes down: ${hardState.term} < ${this.hardState.term}`);
      assert(hardState.commit <= lastNew, `hardState.commit ${hardState.commit} > lastIndex ${lastNew}`);
    }
    return { truncateFrom, lastOld, lastNew };
  }

  /** The puts and removes of an append, inside the caller's transaction. */
  private writeAppend(entries: Entry[], hardState: HardState | null, plan: { lastOld: number; lastNew: number }): void {
    for (const entry of entries) this.env.log.put(entry.index, encodeEntry(entry));
    for (let index = plan.lastNew + 1; index <= plan.lastOld; index++) this.env.log.remove(index);
    if (hardState !== null) this.env.hard.put(KEY_HARD_STATE, encodeRecord(hardState));
  }

  /** Drop entries <= throughIndex and record the snapshot meta, durably. See docs/storage.md for the cases. */
  async compact(throughIndex: number, meta: SnapshotMeta): Promise<void> {
    assertIndexTerm(meta, 'snapshot meta');
    assertSafeInteger(throughIndex, 'throughIndex');
    assert(throughIndex <= meta.index, `compact through ${throughIndex} beyond the snapshot at ${meta.index}`);
    if (throughIndex < this.base.index) return; // already compacted further
    const metaTerm = this.term(meta.index);
    // A snapshot past the log, or one whose (index, term) conflicts with the log, replaces the whole log.
    const replaceAll = throughIndex > this.lastIndex() || (metaTerm !== undefined && metaTerm !== meta.term);
    if (replaceAll) assert(throughIndex === meta.index, 'a snapshot that replaces the log must be compacted through its index');
    const dropThrough = replaceAll ? this.lastIndex() : throughIndex;
    failpoint('snapshot-before-truncate');
    const base: LogBase = replaceAll ? { index: meta.index, term: meta.term } : { index: throughIndex, term: this.term(throughIndex)! };
    const committed = this.env.root.batch(() => {
      for (let index = this.base.index + 1; index <= dropThrough; index++) this.env.log.remove(index);
      this.env.hard.put(KEY_LOG_BASE, encodeRecord(base));
      this.env.hard.put(KEY_SNAPSHOT_META, encodeRecord(meta));
    });
    const flushed = this.flushedAfterQueuedWrites();
    this.terms = replaceAll ? [] : this.terms.slice(throughIndex - this.base.index);
    for (const [index] of this.unstable) if (index <= dropThrough) this.unstable.delete(index);
    this.base = base;
    this.snapshotMeta = meta;
    await committed;
    await flushed;
    failpoint('snapshot-after-truncate');
  }

  /** Validates a batch to append and returns the index it starts at. */
  private checkAppend(entries: Entry[]): number {
    const first = entries[0]!.index;
    assertSafeInteger(first, 'entry.index');
    assert(first > this.base.index, `append at ${first} rewrites the compacted log (base ${this.base.index})`);
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    assert(first > this.hardState.commit || this.term(first) === entries[0]!.term, `append at ${first} truncates committed entries`);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      assert(entry.index === first + i, `append: entries not contiguous at ${first + i}`);
      assertSafeInteger(entry.term, 'entry.term');
      assert(i === 0 || entry.term >= entries[i - 1]!.term, `append: term goes down at ${entry.index}`);
    }
    return first;
  }

  /**
   * Resolves when everything queued so far is on disk. lmdb-js `flushed` is a thenable that looks up the
   * current flush promise when `then` is called, so call it now, in the turn that queued the writes.
   */
  private flushedAfterQueuedWrites(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.env.root.flushed.then(resolve, reject);
    });
  }

  private readRecord<T>(key: string): T | null {
    const bytes = this.env.hard.get(key);
    return bytes === undefined ? null : decodeRecord<T>(bytes, `hard/${key}`);
  }

  private loadTerms(): number[] {
    const terms: number[] = [];
    for (const { key, value } of this.env.log.getRange({ start: this.base.index + 1 })) {
      assert(key === this.base.index + 1 + terms.length, `log has a hole before ${key} (base ${this.base.index})`);
      const entry = decodeEntry(value, key);
      assert(terms.length === 0 ? entry.term >= this.base.term : entry.term >= terms[terms.length - 1]!, `log term goes down at ${key}`);
      terms.push(entry.term);
    }
    for (const key of this.env.log.getKeys({ end: this.base.index + 1, limit: 1 })) {
      assert(false, `log holds entry ${key} at or below its base ${this.base.index}`);
    }
    return terms;
  }
}
