// Storage bounds. They belong in runtime/limits.ts (guideline 7); they live here only because this
// engineer may not edit runtime/ while others do. Units last; relations asserted at load.
import { assert } from '../../runtime/assert.js';
import { limits } from '../../runtime/limits.js';

export const storageLimits = {
  /** Largest storage key in UTF-8 bytes (lmdb-js refuses keys above ~1978 bytes; Vault paths are far shorter). */
  keyBytesMax: 1024,
  /** Largest single value (the barrier ciphertext of one storage entry). */
  valueBytesMax: limits.entryBytesMax,
  /** Ops in one write-set (one request = one write-set = one log entry). */
  writeSetOpsMax: 4096,
  /** Write-sets group-committed in one append + flush + apply. */
  groupCommitWriteSetsMax: limits.groupCommitWriteSetsMax,
  /** Write-sets queued behind the in-flight group before submit() rejects with COFFER_ERR_BACKPRESSURE. */
  submitQueueMax: 65_536,
  /** LocalWritePath compacts the log once it holds this many applied entries ... */
  logEntriesCompactAt: 20_000,
  /** ... keeping this many applied entries behind the applied index (for followers, later, and debugging). */
  logEntriesTrailing: 1_000,
  /** Initial LMDB map (address space reserved for the data file; lmdb-js still grows it past this if needed). */
  mapBytes: 16 * 1024 * 1024 * 1024,
  /** Named databases in the environment (fsm, meta, log, hard) plus headroom. */
  dbsMax: 8,
} as const;

assert(storageLimits.logEntriesTrailing < storageLimits.logEntriesCompactAt, 'compaction must drop something');
assert(storageLimits.groupCommitWriteSetsMax >= 1, 'a group holds at least one write-set');
assert(storageLimits.submitQueueMax >= storageLimits.groupCommitWriteSetsMax, 'the queue holds at least one full group');
