// Persisted small records and log entries: one version byte, then the frozen msgpack encoding
// (guideline 9). Indexes and terms are asserted safe integers on the way in and out.
import { assert, assertSafeInteger } from '../../runtime/assert.js';
import { decode, encode, RECORD_VERSION } from '../../runtime/codec.js';
import type { Entry } from '../raft/core/types.js';

export function encodeRecord(value: unknown): Buffer {
  const body = encode(value);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = RECORD_VERSION;
  body.copy(out, 1);
  return out;
}

export function decodeRecord<T>(bytes: Uint8Array, what: string): T {
  assert(bytes.length >= 2, `${what}: record too short (${bytes.length} bytes)`);
  assert(bytes[0] === RECORD_VERSION, `${what}: unknown record version ${bytes[0]}`);
  return decode<T>(bytes.subarray(1));
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
