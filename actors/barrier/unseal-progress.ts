// The sys/unseal share-collection state machine (API.md §1.2), without storage or HTTP.
//
// - key text: hex if it is valid hex of 16..33 bytes, else standard base64 (Go's handler does exactly this);
//   undecodable → 400 "'key' must be a valid hex or base64 string"; decoded length outside 16..33 → 400 with
//   Vault's ErrInvalidKey text. Length is checked before the duplicate check, as in Vault.
// - the same share twice (byte-equal) is ignored silently: no progress, no error.
// - nonce: a fresh UUID on an attempt's first share, '' after reset or completion.
// - at the threshold the parts are taken and progress reset *before* combining, so any outcome (wrong set,
//   combine failure, the caller's openKeyring failing) leaves progress at 0. Concurrent submits cannot
//   both complete: all state changes happen synchronously before the only await.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { combine } from 'shamir-secret-sharing';
import { CofferError } from '../../runtime/errors.js';
import { assert } from '../../runtime/assert.js';
import { KEY_BYTES } from './aead.js';
import { decodeBase64Strict, decodeHexStrict, ownCopy, plainBytes } from './encoding.js';
import { validateSealConfig, type SealConfig } from './seal.js';

export type SubmitResult = { kind: 'ignored' } | { kind: 'progress' } | { kind: 'complete'; kek: Buffer };

/** Shamir share overhead: one x-coordinate byte. */
export const SHARE_OVERHEAD = 1;
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = KEY_BYTES + SHARE_OVERHEAD;

export const MSG_KEY_MISSING = "'key' must be specified in request body as JSON, or 'reset' set to true";
export const MSG_KEY_UNDECODABLE = "'key' must be a valid hex or base64 string";

/** Decodes an unseal key as Vault's HTTP handler does. Throws CofferError 400; the message never echoes the input. */
export function decodeUnsealKey(keyText: string): Buffer {
  if (typeof keyText !== 'string' || keyText === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', MSG_KEY_MISSING);
  let key = decodeHexStrict(keyText);
  if (key === null || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    key?.fill(0);
    key = decodeBase64Strict(keyText);
    if (key === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', MSG_KEY_UNDECODABLE);
  }
  if (key.length < MIN_KEY_BYTES) {
    key.fill(0);
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `key is shorter than minimum ${MIN_KEY_BYTES} bytes`);
  }
  if (key.length > MAX_KEY_BYTES) {
    key.fill(0);
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `key is longer than maximum ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

export class UnsealProgress {
  readonly #threshold: number;
  #parts: Buffer[] = [];
  #nonce = '';

  constructor(cfg: SealConfig) {
    assert(validateSealConfig(cfg.secret_shares, cfg.secret_threshold) === null, 'UnsealProgress needs a valid seal config');
    this.#threshold = cfg.secret_threshold;
  }

  get progress(): number {
    return this.#parts.length;
  }

  get nonce(): string {
    return this.#nonce;
  }

  get threshold(): number {
    return this.#threshold;
  }

  async submit(keyText: string): Promise<SubmitResult> {
    const key = decodeUnsealKey(keyText);
    for (const existing of this.#parts) {
      if (existing.length === key.length && timingSafeEqual(existing, key)) {
        key.fill(0);
        return { kind: 'ignored' };
      }
    }
    if (this.#parts.length === 0) this.#nonce = randomUUID();
    this.#parts.push(key);
    if (this.#parts.length < this.#threshold) return { kind: 'progress' };

    // Threshold reached: take the parts and reset synchronously.
    const parts = this.#parts;
    this.#parts = [];
    this.#nonce = '';
    if (this.#threshold === 1) return { kind: 'complete', kek: parts[0]! };
    try {
      const reason = combineProblem(parts);
      if (reason !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `failed to compute combined key: ${reason}`);
      const secret = await combine(parts.map(plainBytes));
      const kek = ownCopy(secret);
      secret.fill(0);
      return { kind: 'complete', kek };
    } catch (e) {
      if (e instanceof CofferError) throw e;
      // The library's texts are secret-free, but we do not forward foreign text.
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'failed to compute combined key');
    } finally {
      for (const p of parts) p.fill(0);
    }
  }

  /**
   * As `submit`, for generate-root and rekey, where a share given twice is an error (`operation` names it in
   * Vault's message) rather than ignored: the combined key at the threshold, else null.
   */
  async submitDistinct(keyText: string, operation: string): Promise<Buffer | null> {
    const r = await this.submit(keyText);
    if (r.kind === 'ignored') throw new CofferError('COFFER_ERR_INVALID_REQUEST', `given key has already been provided during this ${operation} operation`);
    return r.kind === 'complete' ? r.kek : null;
  }

  reset(): void {
    for (const p of this.#parts) p.fill(0);
    this.#parts = [];
    this.#nonce = '';
  }
}

/** Vault's shamir.Combine texts for the two ways distinct-but-incompatible parts fail. */
function combineProblem(parts: Buffer[]): string | null {
  const len = parts[0]!.length;
  if (parts.some((p) => p.length !== len)) return 'all parts must be the same length';
  const xs = new Set<number>();
  for (const p of parts) {
    const x = p[len - 1]!;
    if (xs.has(x)) return 'duplicate part detected';
    xs.add(x);
  }
  return null;
}
