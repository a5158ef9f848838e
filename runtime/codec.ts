// The one frozen msgpackr configuration. Rings, the Raft log, snapshots and the peer wire all use it,
// so a value encoded anywhere decodes everywhere. Records are off: no shared structure state to drift.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

/** Encode a value to a fresh Buffer. */
export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

/**
 * Decode one value. The argument must be a private Buffer, never a view of a SharedArrayBuffer:
 * decoding straight from shared memory is ~10x slower (measured), so callers copy frames out first.
 */
export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** Persisted records start with a version byte so their layout can change later. */
export const RECORD_VERSION = 1;
