// One sweep of the expiration actor: revoke what is due. No thread code: the worker (worker.ts) drives
// it on a timer, tests drive it directly with an in-memory store and any clock.
//
// The actor reads the due-time hints `sys/expire/at/<ms>/<hash>` up to its clock (a range scan, cost
// O(due)), and for each proposes ONE guarded write-set through the core, exactly like a request:
//  - the hint's lease is gone or the hint is stale → delete the hint;
//  - the lease's real expiry (a secret lease's stored expire_time_ms, or for an auth lease the token
//    entry's expiry: renewals through auth/token/ only touch the token entry) is later → move the hint;
//  - it is due → revoke it: a secret lease is deleted with its indexes; an auth lease revokes the token
//    with its whole subtree, their cubbyholes and their leases (token/entries.ts revokeTree).
// The clock only decides *what to propose*; every write-set is plain puts/deletes computed from
// timestamps stored in the entries, so applying it is deterministic on every node (STYLE guideline 2).
// A conflict (a request touched the same keys) is simply retried at the next tick.
import type { Commit } from '../mounts/framework/execute.js';
import { ScopedStorage, type PhysicalReader, type ValueCrypto } from '../mounts/framework/storage-view.js';
import type { StorageView } from '../mounts/framework/types.js';
import { revokeLeaseEntry } from '../mounts/sys/leases.js';
import { currentExpiry, dueKey, dueMsOfKey, LEASE_DUE_INDEX_PREFIX, loadLease, moveDue } from './leases.js';

/** Leases handled per sweep (each is one write-set); the rest wait for the next tick. */
export const SWEEP_LEASES_MAX = 256;

/** What the actor's jobs (the lease sweep, the purger) propose write-sets with. */
export interface ProposerDeps {
  physical: PhysicalReader;
  crypto: ValueCrypto;
  commit: Commit;
  refresh?: () => void;
}

export interface SweepDeps extends ProposerDeps {
  /** Hint keys due at or before `nowMs`, oldest first, at most `max` (an LMDB range scan in the worker). */
  dueKeys(nowMs: number, max: number): string[];
}

export interface SweepResult {
  revoked: number;
  moved: number;
  stale: number;
  conflicts: number;
}

type Outcome = 'revoked' | 'moved' | 'stale';

async function settle(sys: StorageView, hintKey: string, leaseId: string, nowMs: number): Promise<Outcome> {
  const lease = await loadLease(sys, leaseId);
  if (!lease || lease.due_ms === null || dueKey(lease.due_ms, leaseId) !== hintKey) {
    sys.delete(hintKey);
    return 'stale';
  }
  const { expireMs } = await currentExpiry(sys, lease);
  if (expireMs === null || expireMs > nowMs) {
    moveDue(sys, lease, expireMs);
    return 'moved';
  }
  await revokeLeaseEntry(sys, lease);
  return 'revoked';
}

export async function sweepOnce(deps: SweepDeps, nowMs: number, max = SWEEP_LEASES_MAX): Promise<SweepResult> {
  const result: SweepResult = { revoked: 0, moved: 0, stale: 0, conflicts: 0 };
  deps.refresh?.();
  for (const hintKey of deps.dueKeys(nowMs, max)) {
    const due = dueMsOfKey(hintKey);
    if (due === null || due > nowMs) continue;
    const storage = new ScopedStorage('', deps.physical, deps.crypto);
    const raw = await storage.get(hintKey);
    if (raw === undefined) continue; // settled by an earlier write-set of this sweep
    let outcome: Outcome;
    try {
      outcome = await settle(storage, hintKey, raw.toString('utf8'), nowMs);
    } catch {
      // e.g. a token tree too large for one write-set: leave the hint, it is retried every tick.
      result.conflicts++;
      continue;
    }
    const committed = await deps.commit(storage.writeSet());
    if (!committed.ok) {
      result.conflicts++;
      continue;
    }
    result[outcome]++;
    deps.refresh?.();
  }
  return result;
}

/** Range scan helper over any ordered key iterator: hint keys with due time <= nowMs. */
export function dueKeysFrom(keys: Iterable<string>, nowMs: number, max: number): string[] {
  const out: string[] = [];
  for (const key of keys) {
    if (!key.startsWith(LEASE_DUE_INDEX_PREFIX)) break;
    const due = dueMsOfKey(key);
    if (due === null) continue;
    if (due > nowMs || out.length >= max) break;
    out.push(key);
  }
  return out;
}
