// The FSM apply loop (guideline 18): decode every entry of the batch first, then ONE transactionSync
// that applies the ops and records applied = {index, term}. Replays are idempotent (index <= applied is
// skipped); an undecodable entry throws before anything is written (fail-stop: the node must halt).
// The apply transaction is committed with NO_SYNC_FLUSH (as lmdb-js putSync does with overlappingSync):
// the write lock is released before the sync, but the committing thread still waits for one fdatasync
// (LMDB's overlapping-sync commit syncs after the meta write, in the same call: one sync per transaction
// under `strace`, with or without the flag, ~1.1 ms here). That is why the Raft host applies together
// with a log append whenever it can. The log is the durable record; a crash that loses an apply is
// repaired by replaying the log from `applied` on open.
import { assert, assertNever } from '../../runtime/assert.js';
import { failpoint } from '../../runtime/failpoints.js';
import type { Entry } from '../raft/core/types.js';
import type { Transaction } from 'lmdb';
import { assertWritable, type StorageEnv } from './env.js';
import { assertIndexTerm, decodeRecord, encodeRecord } from './records.js';
import { decodeWriteSet, type StorageOp } from './write-set.js';
import { journalApplied } from './apply-journal.js';

export const KEY_APPLIED = 'applied';

/** lmdb-js transaction flags: ABORTABLE | SYNCHRONOUS_COMMIT | NO_SYNC_FLUSH. */
const APPLY_TXN_FLAGS = 0x1 | 0x2 | 0x10000;

export interface AppliedIndex {
  index: number;
  term: number;
}

/** The FSM's applied index in this thread's read snapshot, or in `txn` (a pinned read transaction). */
export function readApplied(env: StorageEnv, txn?: Transaction): AppliedIndex {
  const bytes = txn !== undefined ? env.meta.get(KEY_APPLIED, { transaction: txn }) : env.meta.get(KEY_APPLIED);
  if (bytes === undefined) return { index: 0, term: 0 };
  const applied = decodeRecord<AppliedIndex>(bytes, `meta/${KEY_APPLIED}`);
  assertIndexTerm(applied, 'applied');
  return applied;
}

/** A decoded apply (Fsm.prepare), to write inside a transaction. */
export interface PreparedApply {
  fresh: Entry[];
  batch: { ops: StorageOp[] }[];
  applied: AppliedIndex;
}

export class Fsm {
  private readonly env: StorageEnv;
  private last: AppliedIndex;

  constructor(env: StorageEnv) {
    assertWritable(env, 'Fsm');
    this.env = env;
    this.last = readApplied(env);
  }

  applied(): { index: number; term: number } {
    return { ...this.last };
  }

  /** Applies the entries not applied yet in one transaction; false when there were none (no transaction). */
  apply(entries: Entry[]): boolean {
    const prepared = this.prepare(entries);
    if (prepared === null) return false;
    this.env.root.transactionSync(() => this.write(prepared), APPLY_TXN_FLAGS);
    this.committed(prepared);
    return true;
  }

  /**
   * For a caller that applies inside a write transaction of its own (the Raft host commits a log append
   * together with the apply of entries already durable): decode now, write(prepared) inside the
   * transaction, committed(prepared) once it committed.
   */
  prepare(entries: Entry[]): PreparedApply | null {
    const fresh = entries.filter((e) => e.index > this.last.index);
    if (fresh.length === 0) return null;
    // Decode everything before touching the database.
    const batch: { ops: StorageOp[] }[] = [];
    let expected = this.last.index + 1;
    for (const entry of fresh) {
      assert(entry.index === expected, `apply: gap, expected index ${expected}, got ${entry.index}`);
      assert(entry.term >= this.last.term, `apply: term goes down at ${entry.index}`);
      expected++;
      const payload = entry.payload;
      switch (payload.t) {
        case 'normal':
          batch.push(decodeWriteSet(payload.data));
          break;
        case 'empty':
        case 'conf':
          break;
        case 'stored': // released by the core after it was applied: it cannot come to the apply again
          throw new Error(`apply: entry ${entry.index} came without its data`);
        default:
          assertNever(payload, `apply: entry ${entry.index} has an unknown payload`);
      }
    }
    const lastEntry = fresh[fresh.length - 1]!;
    return { fresh, batch, applied: { index: lastEntry.index, term: lastEntry.term } };
  }

  /** The apply's writes (ops, then the applied index), inside a write transaction. */
  write(prepared: PreparedApply): void {
    const { fsm, meta } = this.env;
    for (const ws of prepared.batch) {
      for (const op of ws.ops) {
        if (op.t === 'put') fsm.put(op.key, asBuffer(op.value));
        else fsm.remove(op.key);
      }
    }
    failpoint('fsm-apply-before-index');
    meta.put(KEY_APPLIED, encodeRecord(prepared.applied));
  }

  /** The transaction holding write(prepared) committed. */
  committed(prepared: PreparedApply): void {
    failpoint('fsm-apply-after-index');
    journalApplied(prepared.fresh);
    this.last = prepared.applied;
  }
}

/** A Buffer view of the same bytes (no copy); lmdb's binary encoding wants a Buffer. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
