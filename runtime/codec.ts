// The one frozen msgpackr configuration. Rings, the Raft log, snapshots and the peer wire all use it,
// so a value encoded anywhere decodes everywhere. Records are off: no shared structure state to drift.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

// msgpackr packs into an arena (one per module, shared by every Packr) and starts a new one, of the same
// size as the last, when less than 2 KiB is left. Its default 8 KiB arena means a new ArrayBuffer every
// few KiB encoded, and allocating one costs ~2.5 us on our machines (`new Uint8Array(1024)`: 2.5 us;
// `Buffer.allocUnsafe(1024)`: 0.3-0.4 us, pool refills included). Ring frames, the bulk of all
// encoding, are copied into shared memory and dropped within a tick, so a 64 KiB arena (still below
// malloc's mmap threshold: no fresh page faults) only makes the allocations 8x rarer. An encoding kept for
// long pins its arena, as before, now a 64 KiB one.
const ARENA_BYTES = 64 * 1024;
packr.useBuffer(Buffer.allocUnsafeSlow(ARENA_BYTES));

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

/** Decode the value in bytes [start, end) of `buf` in place (a ring batch; no view per frame). */
export function decodeRange<T = unknown>(buf: Uint8Array, start: number, end: number): T {
  return packr.unpack(buf, { start, end }) as T;
}

/** Persisted records start with a version byte so their layout can change later. */
export const RECORD_VERSION = 1;
