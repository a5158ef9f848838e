// The barrier keyring (API.md §5): data-encryption keys by term, a copy of the root key, and the rotation config.
// Serialised as Vault's EncodedKeyring JSON:
//   {"MasterKey": b64, "Keys": [{"Term","Version","Value","InstallTime","encryptions"}],
//    "RotationConfig": {"Disabled","MaxOperations","Interval"}}
// Keyring instances are treated as immutable except for the per-term `encryptions` counter, which the
// Barrier increments. Rotation returns a new instance. Nothing here logs or puts key bytes in messages.

import { randomBytes } from 'node:crypto';
import { CofferError } from '../../runtime/errors.js';
import { assert } from '../../runtime/assert.js';
import { KEY_BYTES, MAX_TERM } from './aead.js';
import { decodeBase64Strict, ownCopy } from './encoding.js';

export interface KeyTerm {
  term: number;
  key: Buffer;
  installTimeMs: number;
  encryptions: number;
}

export interface RotationConfig {
  disabled: boolean;
  /** Rotate once the active term has done this many encryptions. */
  maxOperations: number;
  /** Rotate once the active term is this old; 0 = no interval. */
  intervalMs: number;
}

/** Vault's absolute maximum of encryptions per term (keeps random 96-bit nonces well below collision risk). */
export const ABSOLUTE_MAX_OPERATIONS = 3_865_470_566;
export const ABSOLUTE_MIN_OPERATIONS = 1_000_000;
export const MIN_ROTATION_INTERVAL_MS = 24 * 3600 * 1000;
/** Terms older than this are rotated regardless of config (§5). */
export const MAX_TERM_AGE_MS = 365 * 24 * 3600 * 1000;

export const DEFAULT_ROTATION_CONFIG: Readonly<RotationConfig> = Object.freeze({
  disabled: false,
  maxOperations: ABSOLUTE_MAX_OPERATIONS,
  intervalMs: 0,
});

const KEY_VERSION = 1;
const NS_PER_MS = 1_000_000;

function malformed(reason: string): CofferError {
  return new CofferError('COFFER_ERR_INTERNAL', `keyring: malformed keyring: ${reason}`);
}

function freshKey(): Buffer {
  return randomBytes(KEY_BYTES); // randomBytes is not pooled: each key owns its ArrayBuffer
}

export class Keyring {
  readonly rootKey: Buffer;
  readonly activeTerm: number;
  readonly rotationConfig: Readonly<RotationConfig>;
  readonly #terms: Map<number, KeyTerm>;

  private constructor(rootKey: Buffer, terms: KeyTerm[], rotationConfig: Readonly<RotationConfig>) {
    assert(rootKey.length === KEY_BYTES, `root key must be ${KEY_BYTES} bytes`);
    assert(terms.length > 0, 'keyring needs at least one term');
    this.rootKey = rootKey;
    this.#terms = new Map();
    let active = 0;
    for (const t of terms) {
      assert(!this.#terms.has(t.term), `duplicate keyring term ${t.term}`);
      assert(t.key.length === KEY_BYTES, `keyring term ${t.term} key must be ${KEY_BYTES} bytes`);
      this.#terms.set(t.term, t);
      if (t.term > active) active = t.term;
    }
    this.activeTerm = active;
    this.rotationConfig = Object.freeze({ ...rotationConfig });
  }

  /** A new keyring: term 1 with a fresh random key. */
  static create(rootKey: Buffer, nowMs: number): Keyring {
    assert(rootKey instanceof Uint8Array && rootKey.length === KEY_BYTES, `root key must be ${KEY_BYTES} bytes`);
    return new Keyring(ownCopy(rootKey), [{ term: 1, key: freshKey(), installTimeMs: nowMs, encryptions: 0 }], DEFAULT_ROTATION_CONFIG);
  }

  keyFor(term: number): Buffer | undefined {
    return this.#terms.get(term)?.key;
  }

  activeKey(): KeyTerm {
    const t = this.#terms.get(this.activeTerm);
    assert(t !== undefined, 'active term missing from keyring');
    return t;
  }

  /** All terms, oldest first. */
  terms(): KeyTerm[] {
    return [...this.#terms.values()].sort((a, b) => a.term - b.term);
  }

  /** A new keyring with term activeTerm+1 active; older terms are kept (with their counters copied). */
  withRotation(nowMs: number): Keyring {
    const next = this.activeTerm + 1;
    assert(next <= MAX_TERM, 'keyring term space exhausted');
    const kept = this.terms().map((t) => ({ ...t }));
    kept.push({ term: next, key: freshKey(), installTimeMs: nowMs, encryptions: 0 });
    return new Keyring(this.rootKey, kept, this.rotationConfig);
  }

  /** The same terms under a new root key (sys/rekey replaces the root key along with the unseal key). */
  withRootKey(rootKey: Buffer): Keyring {
    return new Keyring(ownCopy(rootKey), this.terms().map((t) => ({ ...t })), this.rotationConfig);
  }

  /** A new keyring with a different rotation config (sys/rotate/keyring/config); input validation is the caller's. */
  withRotationConfig(cfg: RotationConfig): Keyring {
    return new Keyring(this.rootKey, this.terms().map((t) => ({ ...t })), cfg);
  }

  /** True when the active term should be rotated: operation count, configured interval, or older than a year. */
  shouldRotate(nowMs: number): boolean {
    const a = this.activeKey();
    const age = nowMs - a.installTimeMs;
    if (age >= MAX_TERM_AGE_MS) return true;
    if (a.encryptions >= ABSOLUTE_MAX_OPERATIONS) return true;
    if (this.rotationConfig.disabled) return false;
    if (this.rotationConfig.maxOperations > 0 && a.encryptions >= this.rotationConfig.maxOperations) return true;
    return this.rotationConfig.intervalMs > 0 && age >= this.rotationConfig.intervalMs;
  }

  /** The §5 JSON. Contains every key in the clear: only ever hand it to encryptValue under the root key. */
  toBytes(): Buffer {
    const encoded = {
      MasterKey: this.rootKey.toString('base64'),
      Keys: this.terms().map((t) => ({
        Term: t.term,
        Version: KEY_VERSION,
        Value: t.key.toString('base64'),
        InstallTime: new Date(t.installTimeMs).toISOString(),
        encryptions: t.encryptions,
      })),
      RotationConfig: {
        Disabled: this.rotationConfig.disabled,
        MaxOperations: this.rotationConfig.maxOperations,
        Interval: this.rotationConfig.intervalMs * NS_PER_MS, // Go time.Duration: nanoseconds
      },
    };
    return Buffer.from(JSON.stringify(encoded), 'utf8');
  }

  static fromBytes(bytes: Uint8Array): Keyring {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      // V8's JSON error quotes the input: never let it through.
      throw malformed('not valid JSON');
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('not an object');
    const o = doc as Record<string, unknown>;
    const root = typeof o.MasterKey === 'string' ? decodeBase64Strict(o.MasterKey) : null;
    if (root === null || root.length !== KEY_BYTES) throw malformed('MasterKey is not a 32-byte base64 key');
    if (!Array.isArray(o.Keys) || o.Keys.length === 0) throw malformed('Keys is empty or not an array');
    const terms: KeyTerm[] = [];
    const seen = new Set<number>();
    for (const [i, raw] of o.Keys.entries()) {
      if (typeof raw !== 'object' || raw === null) throw malformed(`Keys[${i}] is not an object`);
      const k = raw as Record<string, unknown>;
      const term = k.Term;
      if (typeof term !== 'number' || !Number.isInteger(term) || term < 1 || term > MAX_TERM) throw malformed(`Keys[${i}].Term is invalid`);
      if (seen.has(term)) throw malformed(`term ${term} appears twice`);
      seen.add(term);
      const key = typeof k.Value === 'string' ? decodeBase64Strict(k.Value) : null;
      if (key === null || key.length !== KEY_BYTES) throw malformed(`term ${term} Value is not a 32-byte base64 key`);
      let installTimeMs = 0;
      if (k.InstallTime !== undefined) {
        installTimeMs = typeof k.InstallTime === 'string' ? Date.parse(k.InstallTime) : NaN;
        if (!Number.isFinite(installTimeMs)) throw malformed(`term ${term} InstallTime is invalid`);
      }
      const enc = k.encryptions ?? 0;
      if (typeof enc !== 'number' || !Number.isSafeInteger(enc) || enc < 0) throw malformed(`term ${term} encryptions is invalid`);
      terms.push({ term, key, installTimeMs, encryptions: enc });
    }
    let rotation: RotationConfig = { ...DEFAULT_ROTATION_CONFIG };
    if (o.RotationConfig !== undefined && o.RotationConfig !== null) {
      const r = o.RotationConfig as Record<string, unknown>;
      if (typeof r !== 'object') throw malformed('RotationConfig is not an object');
      const disabled = r.Disabled ?? false;
      const maxOps = r.MaxOperations ?? 0;
      const intervalNs = r.Interval ?? 0;
      if (typeof disabled !== 'boolean') throw malformed('RotationConfig.Disabled is invalid');
      if (typeof maxOps !== 'number' || !Number.isSafeInteger(maxOps) || maxOps < 0) throw malformed('RotationConfig.MaxOperations is invalid');
      if (typeof intervalNs !== 'number' || !Number.isFinite(intervalNs) || intervalNs < 0) throw malformed('RotationConfig.Interval is invalid');
      rotation = { disabled, maxOperations: maxOps === 0 ? ABSOLUTE_MAX_OPERATIONS : maxOps, intervalMs: Math.floor(intervalNs / NS_PER_MS) };
    }
    return new Keyring(root, terms, rotation);
  }
}
