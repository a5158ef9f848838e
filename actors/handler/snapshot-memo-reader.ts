// The handler worker's view of the FSM: an FsmReader whose gets are remembered until the FSM moves.
//
// Why: a KV read with a policy token made ~10 LMDB gets (salt, keyring, two mount tables, token,
// policies, audit devices, KV metadata and version), each a native call plus a copy, ~20% of the
// handler thread. Every change to the FSM goes through one transaction that also rewrites the applied
// {index, term} record (Fsm.apply, and restoreFsm for snapshots, whose index is always higher), so
// while that record's bytes are unchanged, every key still holds what we read before.
//
// Correctness rests on refresh(): it renews the read snapshot and compares the applied record, and drops
// the memo when it moved. A value remembered under applied = A was read at a snapshot >= A, so after a
// refresh that still sees A it is exactly current; after one that sees a newer record it is gone. The
// memo therefore never serves anything older than what a plain FsmReader would after the same refresh.
// Only for threads that never write to the env (lmdb-js renews a writer's own snapshot after its
// commits, which this memo would hide); the handler worker commits through the raft actor.
//
// Returned buffers are shared between callers: PhysicalReader consumers treat them as read-only.
import type { PhysicalReader } from '../mounts/framework/storage-view.js';
import { KEY_APPLIED, type AppliedIndex } from '../storage/fsm.js';
import { decodeRecord } from '../storage/records.js';
import type { FsmReader } from '../storage/fsm-reader.js';
import type { StorageEnv } from '../storage/env.js';

/** Memo bounds: a read-only workload over more keys (or bytes) than this just re-reads (the memo restarts). */
const MAX_MEMO_ENTRIES = 32_768;
/** Without a byte bound, 32,768 values of up to 512 KiB each could pin gigabytes in the handler (issue #8). */
export const MAX_MEMO_BYTES = 8 * 1024 * 1024;
/** A value this large is read again each time rather than remembered (one would take an eighth of the memo). */
export const MAX_MEMO_VALUE_BYTES = 1024 * 1024;

export class SnapshotMemoReader implements PhysicalReader {
  private readonly memo = new Map<string, Buffer | undefined>();
  private applied: Buffer | null = null;
  /** The index in `applied`, decoded once per change. */
  private appliedIdx = 0;
  /** Key and value bytes remembered. */
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly reader: FsmReader,
    private readonly env: StorageEnv,
  ) {}

  get(key: string): Buffer | undefined {
    if (this.memo.has(key)) {
      this.hits++;
      return this.memo.get(key);
    }
    this.misses++;
    const value = this.reader.get(key);
    const size = key.length + (value?.length ?? 0);
    if (size > MAX_MEMO_VALUE_BYTES) return value;
    if (this.memo.size >= MAX_MEMO_ENTRIES || this.bytes + size > MAX_MEMO_BYTES) this.forget();
    this.memo.set(key, value);
    this.bytes += size;
    return value;
  }

  /** Lists are not remembered: they are rarer and their result depends on many keys. */
  list(prefix: string): string[] {
    return this.reader.list(prefix);
  }

  /** Renew the read snapshot; forget every remembered value if the FSM applied anything since. */
  refresh(): void {
    this.reader.refresh();
    const now = this.env.meta.getBinary(KEY_APPLIED); // a copy: getBinaryFast's buffer is reused by lmdb-js
    if (this.applied !== null && now !== undefined && this.applied.equals(now)) return;
    this.forget();
    this.applied = now ?? null;
    this.appliedIdx = now === undefined ? 0 : decodeRecord<AppliedIndex>(now, `meta/${KEY_APPLIED}`).index;
  }

  /**
   * The FSM index of the newest snapshot this reader has renewed to. Snapshots only move forward, so
   * anything read through this reader so far is at or below it: the X-Vault-Index of an answer made now
   * (stamping the front's global counter instead could claim applies that landed after the read).
   */
  appliedIndex(): number {
    return this.appliedIdx;
  }

  private forget(): void {
    this.memo.clear();
    this.bytes = 0;
  }

  stats(): { entries: number; hits: number; misses: number; bytes: number } {
    return { entries: this.memo.size, hits: this.hits, misses: this.misses, bytes: this.bytes };
  }
}
