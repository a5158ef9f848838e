// Persisted small records and log entries: one version byte, then the frozen msgpack encoding
// (guideline 9), then (version 2) a CRC-32 of everything before it. Indexes and terms are asserted safe
// integers on the way in and out.
// Why the checksum: LMDB checks nothing inside a value, and msgpack decodes most flipped bits into a
// different but valid record. Without it a bad sector silently changed a node's commit index, its FSM
// applied index or a Raft log entry it would later send to followers (test/corruption.test.ts). Version 1
// records (before the checksum) are still read; everything written now is version 2.
import { assert, assertSafeInteger } from '../../runtime/assert.js';
import { decode, encode, RECORD_VERSION } from '../../runtime/codec.js';
import type { Entry } from '../raft/core/types.js';
import { crc32 } from './crc32.js';

/** Records with a trailing big-endian CRC-32 (IEEE, as zlib) over the version byte and the body. */
export const RECORD_VERSION_CRC = 2;
const CRC_BYTES = 4;

export function encodeRecord(value: unknown): Buffer {
  const body = encode(value);
  const out = Buffer.allocUnsafe(1 + body.length + CRC_BYTES);
  out[0] = RECORD_VERSION_CRC;
  body.copy(out, 1);
  out.writeUInt32BE(crc32(out.subarray(0, 1 + body.length)), 1 + body.length);
  return out;
}

export function decodeRecord<T>(bytes: Uint8Array, what: string): T {
  assert(bytes.length >= 2, `${what}: record too short (${bytes.length} bytes)`);
  if (bytes[0] === RECORD_VERSION) return decode<T>(bytes.subarray(1));
  assert(bytes[0] === RECORD_VERSION_CRC, `${what}: unknown record version ${bytes[0]} (corrupt record?)`);
  assert(bytes.length >= 2 + CRC_BYTES, `${what}: record too short (${bytes.length} bytes, corrupt)`);
  const end = bytes.length - CRC_BYTES;
  const stored = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(end);
  assert(crc32(bytes.subarray(0, end)) === stored, `${what}: checksum mismatch, the stored record is corrupt (${bytes.length} bytes)`);
  return decode<T>(bytes.subarray(1, end));
}

export function encodeEntry(entry: Entry): Buffer {
  assertSafeInteger(entry.index, 'entry.index');
  assertSafeInteger(entry.term, 'entry.term');
  assert(entry.index >= 1, 'entry.index starts at 1');
  return encodeRecord({ index: entry.index, term: entry.term, payload: entry.payload });
}

export function decodeEntry(bytes: Uint8Array, expectedIndex: number): Entry {
  const entry = decodeRecord<Entry>(bytes, `log entry ${expectedIndex}`);
  assert(entry.index === expectedIndex, `log entry stored at ${expectedIndex} says index ${entry.index}`);
  assertSafeInteger(entry.term, 'entry.term');
  const t = entry.payload?.t;
  assert(t === 'normal' || t === 'empty' || t === 'conf', `log entry ${expectedIndex}: unknown payload ${String(t)}`);
  return entry;
}

/** The log's lower bound: the (index, term) of the last entry dropped by compaction (0, 0 when none). */
export interface LogBase {
  index: number;
  term: number;
}

export function assertIndexTerm(x: { index: number; term: number }, what: string): void {
  assertSafeInteger(x.index, `${what}.index`);
  assertSafeInteger(x.term, `${what}.term`);
}
