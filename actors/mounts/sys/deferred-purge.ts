// Deleting a mount's or a namespace's data when there is more of it than one write-set may hold. A request
// that disables a mount (or deletes a namespace) removes what routes to the data in its own write-set, so
// nothing can reach the data any more (a new mount or namespace gets a new UUID, so a new prefix). The keys
// themselves go inline when few; otherwise the request leaves a purge record (`core/purge/<uuid>`) and the
// active node's expiration actor deletes the keys in bounded write-sets (actors/expiration/purger.ts), as
// Vault clears an unmounted view and OpenBao deletes a namespace in the background.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import type { StorageView } from '../framework/types.js';
import { listRecursive } from './util.js';

export const PURGE_PREFIX = 'core/purge/';

/** Keys deleted in the request itself; above this the rest is left to the purger. */
export const PURGE_INLINE_KEYS_MAX = 1024;

export interface PurgeRecord {
  /** Absolute storage prefix, ending in "/": a mount's data or a namespace's segment (checked by purgeablePrefix). */
  prefix: string;
  /** What it was, for operators reading sys/raw: "mount secret/", "namespace team1/". */
  reason: string;
  /**
   * A deleted namespace's path whose leases are revoked first (more than its delete request could hold).
   * Only for namespaces: their tokens stopped working with the delete, so revoking them later opens no window.
   */
  leases?: string;
}

/** A lease prefix a purge may revoke: a namespace's path ("team1/", "team1/dev/"), never the root's or a built-in's. */
export function purgeableLeasePrefix(prefix: string): boolean {
  return /^[^/]+\/([^/]+\/)*$/.test(prefix) && !/^(sys|auth|cubbyhole|identity|audit|root)\//i.test(prefix);
}

/** One UUID-like segment (mounts made by older builds or tests may carry other ids, never a "/" or a dot segment). */
const ID = '(?!\\.\\.?/)[^/]+';
/** Only these prefixes may ever be purged: a record that names anything else (a bug, a tampered value) deletes nothing. */
const PURGEABLE = new RegExp(`^(namespaces/${ID}/((logical|auth)/${ID}/)?|(logical|auth)/${ID}/)$`);

export function purgeablePrefix(prefix: string): boolean {
  return PURGEABLE.test(prefix);
}

/**
 * Deletes every key under `prefix` (absolute, read through the root view `root`) in the request's
 * write-set when there are at most PURGE_INLINE_KEYS_MAX of them; otherwise records a purge. Answers which.
 */
export async function purgePrefix(root: StorageView, prefix: string, reason: string, pendingLeases?: string): Promise<'deleted' | 'deferred'> {
  if (!purgeablePrefix(prefix)) throw new CofferError('COFFER_ERR_INTERNAL', `refusing to purge ${JSON.stringify(prefix)}`);
  if (pendingLeases !== undefined && !purgeableLeasePrefix(pendingLeases)) throw new CofferError('COFFER_ERR_INTERNAL', `refusing to revoke ${JSON.stringify(pendingLeases)}`);
  const keys = pendingLeases === undefined ? await listRecursive(root, prefix, PURGE_INLINE_KEYS_MAX) : [];
  if (pendingLeases === undefined && keys.length <= PURGE_INLINE_KEYS_MAX) {
    for (const key of keys) root.delete(key);
    return 'deleted';
  }
  root.putJson(`${PURGE_PREFIX}${randomUUID()}`, { prefix, reason, ...(pendingLeases !== undefined ? { leases: pendingLeases } : {}) } satisfies PurgeRecord);
  return 'deferred';
}
