// Every bound in one place, units last, relations asserted at load. Nothing defaults to Infinity.
import { assert } from './assert.js';

export const limits = {
  /** Bytes of one SPSC ring's data area (per direction per actor pair). */
  ringBytes: 4 * 1024 * 1024,
  /** Largest frame a ring accepts; larger ones are refused with a clear error. */
  frameBytesMax: 1024 * 1024,
  /** Default timeout of an `ask` between actors. */
  askTimeoutMs: 30_000,
  /** Largest HTTP request body (Vault's default per listener). */
  requestBodyBytesMax: 32 * 1024 * 1024,
  /** Largest single storage value. */
  entryBytesMax: 512 * 1024,
  /** Write-sets group-committed in one flush at most. */
  groupCommitWriteSetsMax: 1024,
  /** Pending asks per actor before the sender gets backpressure. */
  pendingAsksMax: 65_536,
} as const;

assert(limits.frameBytesMax <= limits.ringBytes / 4, 'a ring must hold at least four of the largest frames');
assert(limits.entryBytesMax <= limits.frameBytesMax / 2, 'a storage entry must fit in a frame with room to spare');
