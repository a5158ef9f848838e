// Piscina task module: batch barrier encrypt/decrypt of many values under one term's key, off the core thread.
//   ({op, key, term, items: [{path, value}]}) => Uint8Array[]   (same order as items)
// Results are plain Uint8Arrays with exact-size ArrayBuffers: a structured clone copies a view's whole
// ArrayBuffer, so returning pooled Buffers would ship unrelated pool memory (possibly other plaintext) across.
// Errors are CofferError('COFFER_ERR_INTERNAL') naming the path and term only.

import { assert } from '../../runtime/assert.js';
import { decryptValue, encryptValue } from './aead.js';
import { plainBytes } from './encoding.js';

export interface CryptoTask {
  op: 'encrypt' | 'decrypt';
  key: Uint8Array;
  term: number;
  items: { path: string; value: Uint8Array }[];
}

export default function cryptoTask(task: CryptoTask): Uint8Array[] {
  assert(typeof task === 'object' && task !== null && Array.isArray(task.items), 'crypto task: malformed task');
  const { op, key, term, items } = task;
  if (op === 'encrypt') {
    return items.map((it) => plainBytes(encryptValue(key, term, it.path, it.value)));
  }
  assert(op === 'decrypt', 'crypto task: op must be encrypt or decrypt');
  const keyForTerm = (t: number): Uint8Array | undefined => (t === term ? key : undefined);
  return items.map((it) => {
    const pt = decryptValue(keyForTerm, it.path, it.value);
    const out = plainBytes(pt);
    pt.fill(0);
    return out;
  });
}
