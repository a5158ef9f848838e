// The expiration actor's second job: carry out purge records (actors/mounts/sys/deferred-purge.ts). Each
// record is worked off in write-sets of at most PURGE_BATCH_KEYS deletes; the batch that finds the prefix
// empty deletes the record too. Like the lease sweep, it only proposes plain deletes through the core; a
// conflict (the record changed meanwhile) is retried at the next tick, and after a failover the new
// active node picks up the same records from the replicated FSM.
import { ScopedStorage } from '../mounts/framework/storage-view.js';
import type { ProposerDeps } from './expirer.js';
import { PURGE_PREFIX, purgeableLeasePrefix, purgeablePrefix, type PurgeRecord } from '../mounts/sys/deferred-purge.js';
import { revokeLeasesUpTo } from '../mounts/sys/leases.js';

/** Deletes per write-set: well inside the write-set bound (4,096 ops), with room for the record. */
export const PURGE_BATCH_KEYS = 2048;
/** Write-sets per tick across all records, so a large purge shares the node with the requests. */
export const PURGE_BATCHES_PER_TICK = 4;

export interface PurgeDeps extends ProposerDeps {
  /** Up to `max` keys under `prefix`, in key order (an LMDB range scan in the worker). */
  keysUnder(prefix: string, max: number): string[];
}

export interface PurgeResult {
  deleted: number;
  finished: number;
  conflicts: number;
}

export async function purgeOnce(deps: PurgeDeps, batches = PURGE_BATCHES_PER_TICK): Promise<PurgeResult> {
  const result: PurgeResult = { deleted: 0, finished: 0, conflicts: 0 };
  deps.refresh?.();
  let left = batches;
  for (const recordKey of deps.keysUnder(PURGE_PREFIX, 64)) {
    while (left > 0) {
      left--;
      const storage = new ScopedStorage('', deps.physical, deps.crypto);
      const record = await storage.getJson<PurgeRecord>(recordKey);
      if (record === undefined) break;
      if (record.leases !== undefined) {
        // A deleted namespace's leases first (its tokens no longer work; this tidies them away).
        const all = purgeableLeasePrefix(record.leases) ? await revokeLeasesUpTo(storage, record.leases, PURGE_BATCH_KEYS, true) : true;
        if (all) storage.putJson(recordKey, { prefix: record.prefix, reason: record.reason } satisfies PurgeRecord);
        const revoked = await deps.commit(storage.writeSet());
        deps.refresh?.();
        if (!revoked.ok) {
          result.conflicts++;
          break;
        }
        continue;
      }
      // Never trust a record beyond the shapes a purge may take: anything else is dropped, not obeyed.
      const keys = purgeablePrefix(record.prefix) ? deps.keysUnder(record.prefix, PURGE_BATCH_KEYS) : [];
      for (const key of keys) storage.delete(key);
      const done = keys.length < PURGE_BATCH_KEYS;
      if (done) storage.delete(recordKey);
      const committed = await deps.commit(storage.writeSet());
      deps.refresh?.();
      if (!committed.ok) {
        result.conflicts++;
        break;
      }
      result.deleted += keys.length;
      if (done) {
        result.finished++;
        break;
      }
    }
    if (left === 0) break;
  }
  return result;
}
