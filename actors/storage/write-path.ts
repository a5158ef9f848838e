// The single-node commit rule: a write-set is committed once its log entry is flushed on this node.
// One path for every write:  submit -> queue -> [group] append to log + hard state (ONE txn) -> flushed
//                            -> Fsm.apply (ONE txn, records applied) -> resolve each submit with its index.
// Group commit: one group is in flight at a time; everything submitted while it flushes (or in the same
// event-loop turn as the first submit) forms the next group, up to groupCommitWriteSetsMax.
// Later, Raft replaces only the commit rule (append via the Raft actor, commit on a quorum); Fsm stays.
import { assert } from '../../runtime/assert.js';
import { CofferError } from '../../runtime/errors.js';
import type { Entry, HardState } from '../raft/core/types.js';
import { openStorageEnv, type StorageEnv } from './env.js';
import { Fsm } from './fsm.js';
import { FsmReader } from './fsm-reader.js';
import { LogStore } from './log-store.js';
import { storageLimits } from './storage-limits.js';
import { encodeWriteSet, type StorageOp, type WriteSet } from './write-set.js';
import { GuardedCommit, prepareCommit, type CommitReply, type Guard } from './guarded-commit.js';

interface Submission {
  data: Uint8Array;
  resolve(result: { index: number }): void;
  reject(error: unknown): void;
}

export interface WritePathStats {
  flushes: number;
  writeSets: number;
  appliedIndex: number;
  /** Largest group seen so far. */
  writeSetsPerFlushMax: number;
  /** Log compactions run by this path. */
  compactions: number;
}

export class LocalWritePath {
  readonly reader: FsmReader;
  readonly env: StorageEnv;
  readonly log: LogStore;
  readonly fsm: Fsm;
  private readonly queue: Submission[] = [];
  private term: number;
  private scheduled = false;
  private running = false;
  private closing = false;
  /** Set once a storage step failed: the node is fail-stop from then on (guideline 19). */
  private failure: unknown = null;
  private compaction: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private counters = { flushes: 0, writeSets: 0, writeSetsPerFlushMax: 0, compactions: 0 };
  // This thread applies, so its read snapshot is renewed once each write-set is applied.
  private readonly guarded = new GuardedCommit({
    read: (key) => this.reader.get(key),
    propose: (data) =>
      this.submitEncoded(data).then(({ index }) => {
        this.reader.refresh();
        return index;
      }),
  });

  private constructor(env: StorageEnv) {
    this.env = env;
    this.log = new LogStore(env);
    this.fsm = new Fsm(env);
    this.reader = new FsmReader(env);
    const hardState = this.log.currentHardState();
    this.term = Math.max(1, hardState.term, this.log.term(this.log.lastIndex()) ?? 0);
    this.recover();
  }

  /** Opens env, log store and FSM, and replays log entries with index > applied into the FSM. */
  static open(dataDir: string): LocalWritePath {
    const env = openStorageEnv(dataDir);
    try {
      return new LocalWritePath(env);
    } catch (error) {
      void env.close();
      throw error;
    }
  }

  async commit(ops: StorageOp[], guards: Guard[]): Promise<CommitReply> {
    return this.guarded.commit(prepareCommit(ops, guards));
  }

  submit(ws: WriteSet): Promise<{ index: number }> {
    let data: Buffer;
    try {
      data = encodeWriteSet(ws);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.submitEncoded(data);
  }

  /** A write-set already encoded for its log entry (encodeWriteSet). */
  private submitEncoded(data: Uint8Array): Promise<{ index: number }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new CofferError('COFFER_ERR_INTERNAL', 'storage is closed'));
    if (this.queue.length >= storageLimits.submitQueueMax) return Promise.reject(new CofferError('COFFER_ERR_BACKPRESSURE'));
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.run());
      }
    });
  }

  stats(): { flushes: number; writeSets: number; appliedIndex: number } & WritePathStats {
    return { ...this.counters, appliedIndex: this.fsm.applied().index };
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.running || this.scheduled) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.compaction !== null) await this.compaction.catch(() => undefined);
    await this.env.close();
  }

  /** Drains the queue one group at a time; only one run() is active. */
  private async run(): Promise<void> {
    this.scheduled = false;
    assert(!this.running, 'write path: two group loops');
    this.running = true;
    try {
      while (this.queue.length > 0 && this.failure === null) {
        const group = this.queue.splice(0, storageLimits.groupCommitWriteSetsMax);
        await this.commitGroup(group);
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private async commitGroup(group: Submission[]): Promise<void> {
    const first = this.log.lastIndex() + 1;
    const entries: Entry[] = group.map((s, i) => ({ index: first + i, term: this.term, payload: { t: 'normal', data: s.data } }));
    const last = first + group.length - 1;
    const prior = this.log.currentHardState();
    // Single node: an entry is committed once flushed, so commit advances in the same transaction.
    const hardState: HardState = { term: this.term, vote: prior.vote, commit: last };
    try {
      await this.log.append(entries, hardState);
      this.fsm.apply(entries);
    } catch (error) {
      this.failStop(error, group);
      return;
    }
    this.counters.flushes++;
    this.counters.writeSets += group.length;
    this.counters.writeSetsPerFlushMax = Math.max(this.counters.writeSetsPerFlushMax, group.length);
    for (let i = 0; i < group.length; i++) group[i]!.resolve({ index: first + i });
    this.maybeCompact();
  }

  /** Drops applied entries beyond a trailing window, behind the applied index (same env: ordered). */
  private maybeCompact(): void {
    const applied = this.fsm.applied();
    if (this.compaction !== null || applied.index - this.log.firstIndex() + 1 < storageLimits.logEntriesCompactAt) return;
    const throughIndex = applied.index - storageLimits.logEntriesTrailing;
    const meta = { index: applied.index, term: applied.term, conf: { voters: [], learners: [] } };
    this.compaction = this.log.compact(throughIndex, meta).then(
      () => {
        this.counters.compactions++;
        this.compaction = null;
      },
      (error: unknown) => this.failStop(error, []),
    );
  }

  /** Replays flushed-but-unapplied log entries into the FSM, in bounded transactions. */
  private recover(): void {
    const applied = this.fsm.applied().index;
    const first = this.log.firstIndex();
    assert(applied >= first - 1, `FSM applied ${applied} is behind the compacted log (first ${first}): needs a snapshot`);
    const last = this.log.lastIndex();
    for (let lo = applied + 1; lo <= last; lo += storageLimits.groupCommitWriteSetsMax) {
      this.fsm.apply(this.log.entries(lo, Math.min(last + 1, lo + storageLimits.groupCommitWriteSetsMax)));
    }
    assert(this.fsm.applied().index === last, 'recovery applies the whole log');
  }

  private failStop(error: unknown, group: Submission[]): void {
    if (this.failure === null) this.failure = error;
    for (const s of group) s.reject(error);
    for (const s of this.queue.splice(0)) s.reject(error);
  }
}
