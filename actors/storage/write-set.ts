// A write-set is the unit of change: one request's writes, applied atomically, carried in one log entry
// as `payload.data = encode(writeSet)` (runtime/codec, frozen msgpack; values stay opaque bytes).
import { assert } from '../../runtime/assert.js';
import { decode, encode } from '../../runtime/codec.js';
import { storageLimits } from './storage-limits.js';

export type StorageOp = { t: 'put'; key: string; value: Uint8Array } | { t: 'delete'; key: string };

export interface WriteSet {
  ops: StorageOp[];
}

/** Encode a write-set for a log entry's payload. Validates first: a bad write-set never reaches the log. */
export function encodeWriteSet(ws: WriteSet): Buffer {
  validateWriteSet(ws);
  // Only the fields we own go on disk, in a fixed shape, so the bytes are identical on every node.
  const ops = ws.ops.map((op) => (op.t === 'put' ? { t: op.t, key: op.key, value: op.value } : { t: op.t, key: op.key }));
  const bytes = encode({ ops });
  return bytes;
}

/** Decode and validate a write-set; throws (fail-stop for the apply loop) on anything malformed. */
export function decodeWriteSet(bytes: Uint8Array): WriteSet {
  const ws = decode<WriteSet>(bytes);
  validateWriteSet(ws);
  return ws;
}

export function validateWriteSet(ws: unknown): asserts ws is WriteSet {
  assert(typeof ws === 'object' && ws !== null, 'write-set: not an object');
  const ops = (ws as WriteSet).ops;
  assert(Array.isArray(ops), 'write-set: ops is not an array');
  assert(ops.length <= storageLimits.writeSetOpsMax, `write-set: ${ops.length} ops > ${storageLimits.writeSetOpsMax}`);
  for (const op of ops) validateOp(op);
}

function validateOp(op: unknown): void {
  assert(typeof op === 'object' && op !== null, 'write-set op: not an object');
  const { t, key } = op as { t: unknown; key: unknown };
  assert(typeof key === 'string' && key.length > 0, 'write-set op: key must be a non-empty string');
  assert(Buffer.byteLength(key) <= storageLimits.keyBytesMax, `write-set op: key longer than ${storageLimits.keyBytesMax} bytes`);
  if (t === 'put') {
    const value = (op as { value: unknown }).value;
    assert(value instanceof Uint8Array, `write-set op: put ${key} has no byte value`);
    assert(value.byteLength <= storageLimits.valueBytesMax, `write-set op: value of ${key} exceeds ${storageLimits.valueBytesMax} bytes`);
  } else {
    assert(t === 'delete', `write-set op: unknown op ${String(t)}`);
  }
}
