// Barrier value framing (API.md §5), AES-256-GCM with the storage path as AAD:
//
//   term (4, big-endian) | version (1) = 0x02 | nonce (12, random) | ciphertext | tag (16)
//
// Version 0x01 (no AAD) is never written and is refused on read: accepting it would let anyone who can
// write storage replay a value at another path if such a blob ever existed.
// Error messages name the path and the term only; never key, nonce, plaintext or ciphertext bytes.

import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { CofferError } from '../../runtime/errors.js';
import { assert } from '../../runtime/assert.js';

export const BARRIER_VERSION = 2;
export const KEY_BYTES = 32;
export const TERM_BYTES = 4;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = TERM_BYTES + 1 + NONCE_BYTES;
/** Smallest possible barrier blob: header + tag (empty plaintext). */
export const MIN_BLOB_BYTES = HEADER_BYTES + TAG_BYTES;
export const MAX_TERM = 0xffff_ffff;

const ALGORITHM = 'aes-256-gcm';

// Nonces are cut from a block of CSPRNG output, refilled when spent: one randomFillSync per 341 nonces
// instead of one per value (the call, not the bytes, was ~8% of a handler's CPU per KV write). A nonce is
// public (it is stored beside the ciphertext), so holding the next few in memory reveals nothing; each is
// copied out before the block can be refilled, and every thread draws from its own block.
const NONCE_BLOCK_BYTES = 341 * 12;
const nonceBlock = Buffer.alloc(NONCE_BLOCK_BYTES);
let nonceAt = NONCE_BLOCK_BYTES;

function writeNonce(out: Buffer, at: number): void {
  if (nonceAt === NONCE_BLOCK_BYTES) {
    randomFillSync(nonceBlock);
    nonceAt = 0;
  }
  nonceBlock.copy(out, at, nonceAt, nonceAt + NONCE_BYTES);
  nonceBlock.fill(0, nonceAt, nonceAt + NONCE_BYTES); // used once: never handed out again
  nonceAt += NONCE_BYTES;
}

function assertKey(key: Uint8Array): void {
  // Length only: never the bytes.
  assert(key instanceof Uint8Array && key.length === KEY_BYTES, `barrier key must be ${KEY_BYTES} bytes, got ${key?.length}`);
}

function assertTerm(term: number): void {
  assert(Number.isInteger(term) && term >= 0 && term <= MAX_TERM, `barrier term must be a uint32, got ${term}`);
}

function fail(path: string, term: number | undefined, reason: string): CofferError {
  const at = term === undefined ? '' : ` (term ${term})`;
  return new CofferError('COFFER_ERR_INTERNAL', `barrier: failed to decrypt value at ${JSON.stringify(path)}${at}: ${reason}`);
}

/** Encrypts one value for `path` under `key`, stamped with `term`. The result owns its own ArrayBuffer. */
export function encryptValue(key: Uint8Array, term: number, path: string, plaintext: Uint8Array): Buffer {
  assertKey(key);
  assertTerm(term);
  assert(typeof path === 'string', 'barrier path must be a string');
  // GCM is a stream mode: the ciphertext is as long as the plaintext, so the blob is sized up front and the
  // header (nonce included) is written in place. Buffer.alloc is never pooled: the blob shares no memory.
  const out = Buffer.alloc(HEADER_BYTES + plaintext.length + TAG_BYTES);
  out.writeUInt32BE(term, 0);
  out[TERM_BYTES] = BARRIER_VERSION;
  writeNonce(out, TERM_BYTES + 1);
  const cipher = createCipheriv(ALGORITHM, key, out.subarray(TERM_BYTES + 1, HEADER_BYTES), { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const ct = cipher.update(plaintext);
  const tail = cipher.final(); // empty for GCM
  assert(ct.length + tail.length === plaintext.length, 'barrier: AES-GCM ciphertext length differs from the plaintext');
  ct.copy(out, HEADER_BYTES);
  tail.copy(out, HEADER_BYTES + ct.length);
  cipher.getAuthTag().copy(out, HEADER_BYTES + plaintext.length);
  return out;
}

/** The key term a blob claims (first 4 bytes, big-endian). Throws on a blob too short to hold one. */
export function termOf(blob: Uint8Array): number {
  if (!(blob instanceof Uint8Array) || blob.length < TERM_BYTES) {
    throw new CofferError('COFFER_ERR_INTERNAL', 'barrier: value too short to hold a key term');
  }
  return ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0;
}

/**
 * Decrypts a blob written by encryptValue for the same `path`. The key is picked by the blob's term.
 * Throws CofferError('COFFER_ERR_INTERNAL') on a short blob, unknown version, unknown term, wrong path or any tampering.
 */
export function decryptValue(keyForTerm: (term: number) => Uint8Array | undefined, path: string, blob: Uint8Array): Buffer {
  if (!(blob instanceof Uint8Array) || blob.length < MIN_BLOB_BYTES) {
    throw fail(path, blob instanceof Uint8Array && blob.length >= TERM_BYTES ? termOf(blob) : undefined, 'ciphertext too short');
  }
  const term = termOf(blob);
  const version = blob[TERM_BYTES]!;
  if (version !== BARRIER_VERSION) throw fail(path, term, `unsupported version ${version}`);
  const key = keyForTerm(term);
  if (key === undefined) throw fail(path, term, 'no key for this term');
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw fail(path, term, 'key for this term has the wrong length');
  const view = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const nonce = view.subarray(TERM_BYTES + 1, HEADER_BYTES);
  const ct = view.subarray(HEADER_BYTES, view.length - TAG_BYTES);
  const tag = view.subarray(view.length - TAG_BYTES);
  try {
    // authTagLength pins the tag to 16 bytes: without it Node accepts truncated tags.
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(path, 'utf8'));
    decipher.setAuthTag(tag);
    const pt = decipher.update(ct);
    const tail = decipher.final();
    // GCM yields nothing in final(); avoid Buffer.concat (pooled memory) in the normal case.
    return tail.length === 0 ? pt : Buffer.concat([pt, tail]);
  } catch {
    // Node's error text carries no secret, but we replace it anyway so nothing from the crypto layer leaks.
    throw fail(path, term, 'message authentication failed');
  }
}
