// The Shamir seal (API.md §5, §6): how the root key is obtained.
//
//   unseal key (KEK, 32 B) --Shamir T-of-N--> shares handed to operators (33 B each; N=1: the KEK itself)
//   KEK  --AES-GCM (seal blob)-->   core/hsm/barrier-unseal-keys   = ["<root key b64>"]        (plain on disk)
//   root key --barrier framing, term marker 1--> core/keyring      = Keyring JSON
//   active term --barrier--> core/root-key {Term:1,Version:1,Value}, core/shamir-kek (KEK copy), everything else
//
// Functions here return PhysicalWrite lists and never write storage themselves. No key material is ever put
// in an error message; errors describe which stage failed.

import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { CofferError } from '../../runtime/errors.js';
import { assert } from '../../runtime/assert.js';
import { decryptValue, encryptValue, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './aead.js';
import { Barrier } from './barrier.js';
import { Keyring } from './keyring.js';
import { decodeBase64Strict, ownCopy, plainBytes } from './encoding.js';
import { failpoint } from '../../runtime/failpoints.js';

export interface PhysicalWrite {
  key: string;
  value: Buffer;
}

export interface SealConfig {
  type: 'shamir';
  secret_shares: number;
  secret_threshold: number;
}

export const SEAL_CONFIG_PATH = 'core/seal-config';
export const UNSEAL_KEYS_PATH = 'core/hsm/barrier-unseal-keys';
export const KEYRING_PATH = 'core/keyring';
export const ROOT_KEY_PATH = 'core/root-key';
export const SHAMIR_KEK_PATH = 'core/shamir-kek';
export const UPGRADE_PREFIX = 'core/upgrade/';
/** core/keyring is framed with this marker term and encrypted under the root key (§5). */
export const KEYRING_TERM_MARKER = 1;

const INVALID_KEY_PREFIX = 'invalid key: failed to decrypt keys from storage: ';

// ---------------------------------------------------------------------------------------------------------
// Seal config

/** null when valid; else Vault's exact text, prefixed 'invalid seal configuration: ' (order as SealConfig.Validate). */
export function validateSealConfig(shares: number, threshold: number): string | null {
  const p = 'invalid seal configuration: ';
  if (!(shares >= 1)) return p + 'shares must be at least one';
  if (!(threshold >= 1)) return p + 'threshold must be at least one';
  if (shares > 1 && threshold === 1) return p + 'threshold must be greater than one for multiple shares';
  if (shares > 255) return p + 'shares must be less than 256';
  if (threshold > 255) return p + 'threshold must be less than 256';
  if (threshold > shares) return p + 'threshold cannot be larger than shares';
  // Go decodes these as ints, so a fraction never reaches Validate there; we say so explicitly.
  if (!Number.isInteger(shares) || !Number.isInteger(threshold)) return p + 'shares and threshold must be integers';
  return null;
}

export function readSealConfig(readPhysical: (key: string) => Buffer | undefined): SealConfig | null {
  const raw = readPhysical(SEAL_CONFIG_PATH);
  if (raw === undefined) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new CofferError('COFFER_ERR_INTERNAL', 'seal configuration in storage is not valid JSON');
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const type = o.type === undefined || o.type === '' ? 'shamir' : o.type;
  if (type !== 'shamir') throw new CofferError('COFFER_ERR_INTERNAL', 'unsupported seal type in storage');
  const shares = o.secret_shares;
  const threshold = o.secret_threshold;
  if (typeof shares !== 'number' || typeof threshold !== 'number' || validateSealConfig(shares, threshold) !== null) {
    throw new CofferError('COFFER_ERR_INTERNAL', 'seal configuration in storage is invalid');
  }
  return { type: 'shamir', secret_shares: shares, secret_threshold: threshold };
}

// ---------------------------------------------------------------------------------------------------------
// Seal blob: the stored-keys entry, encrypted under the KEK. Own framing (stands in for go-kms-wrapping BlobInfo):
//   magic "CSB" (3) | format 0x01 (1) | nonce (12) | ciphertext | tag (16);   AAD = the storage path (utf8)

const SEAL_MAGIC = Buffer.from('CSB', 'ascii');
const SEAL_FORMAT = 1;
const SEAL_HEADER = SEAL_MAGIC.length + 1 + NONCE_BYTES;

export function sealEncrypt(kek: Uint8Array, path: string, plaintext: Uint8Array): Buffer {
  assert(kek.length === KEY_BYTES, `seal key must be ${KEY_BYTES} bytes`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const ct = cipher.update(plaintext);
  cipher.final();
  const out = Buffer.alloc(SEAL_HEADER + ct.length + TAG_BYTES);
  SEAL_MAGIC.copy(out, 0);
  out[SEAL_MAGIC.length] = SEAL_FORMAT;
  nonce.copy(out, SEAL_MAGIC.length + 1);
  ct.copy(out, SEAL_HEADER);
  cipher.getAuthTag().copy(out, SEAL_HEADER + ct.length);
  return out;
}

/** Returns the plaintext, or a secret-free reason string on failure. */
function sealDecrypt(kek: Uint8Array, path: string, blob: Buffer): Buffer | string {
  if (kek.length !== KEY_BYTES) return `unseal key must be ${KEY_BYTES} bytes`;
  if (blob.length < SEAL_HEADER + TAG_BYTES || !blob.subarray(0, SEAL_MAGIC.length).equals(SEAL_MAGIC)) return 'stored keys blob is malformed';
  if (blob[SEAL_MAGIC.length] !== SEAL_FORMAT) return 'stored keys blob has an unsupported format';
  try {
    const d = createDecipheriv('aes-256-gcm', kek, blob.subarray(SEAL_MAGIC.length + 1, SEAL_HEADER), { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(path, 'utf8'));
    d.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const pt = d.update(blob.subarray(SEAL_HEADER, blob.length - TAG_BYTES));
    d.final();
    return pt;
  } catch {
    return 'cipher: message authentication failed';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Init

function rootKeyEntry(rootKey: Buffer): Buffer {
  // Vault's Key JSON for the root key copy: {Term: 1, Version: 1, Value}
  return Buffer.from(JSON.stringify({ Term: 1, Version: 1, Value: rootKey.toString('base64') }), 'utf8');
}

/** core/keyring as written: the keyring (terms, counts, rotation config) under its root key. */
export function keyringWrite(keyring: Keyring): PhysicalWrite {
  return { key: KEYRING_PATH, value: encryptKeyring(keyring) };
}

function encryptKeyring(keyring: Keyring): Buffer {
  const pt = keyring.toBytes();
  try {
    return encryptValue(keyring.rootKey, KEYRING_TERM_MARKER, KEYRING_PATH, pt);
  } finally {
    pt.fill(0);
  }
}

function barrierWrite(barrier: Barrier, key: string, plaintext: Buffer): PhysicalWrite {
  try {
    return { key, value: barrier.encrypt(key, plaintext) };
  } finally {
    plaintext.fill(0);
  }
}

export async function initializeShamir(opts: {
  secretShares: number;
  secretThreshold: number;
  nowMs: number;
}): Promise<{ shares: Buffer[]; keyring: Keyring; physical: PhysicalWrite[] }> {
  const invalid = validateSealConfig(opts.secretShares, opts.secretThreshold);
  if (invalid !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', invalid);

  const kek = randomBytes(KEY_BYTES);
  const rootKey = randomBytes(KEY_BYTES);
  const keyring = Keyring.create(rootKey, opts.nowMs);
  rootKey.fill(0); // the keyring holds its own copy
  try {
    const shares = await splitKek(kek, opts.secretShares, opts.secretThreshold);
    return { shares, keyring, physical: sealWrites(kek, keyring, opts.secretShares, opts.secretThreshold) };
  } finally {
    kek.fill(0);
  }
}

/** The unseal key's shares: T of N Shamir parts of the KEK (N=1: the KEK itself), self-checked. */
async function splitKek(kek: Buffer, secretShares: number, secretThreshold: number): Promise<Buffer[]> {
  if (secretShares === 1) return [ownCopy(kek)];
  // The library checks `constructor === Uint8Array`, so it must get a plain Uint8Array, not a Buffer.
  const secret = plainBytes(kek);
  const parts = await split(secret, secretShares, secretThreshold);
  secret.fill(0);
  const shares = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  // Self-check: the first T shares give the KEK back (cheap; catches a broken split before anyone relies on it).
  const back = await combine(parts.slice(0, secretThreshold));
  const ok = back.length === KEY_BYTES && timingSafeEqual(back, kek);
  back.fill(0);
  assert(ok, 'Shamir split self-check failed');
  for (const s of shares) assert(s.length === KEY_BYTES + 1, 'Shamir share has the wrong length');
  return shares;
}

/**
 * Everything that ties a KEK to a keyring, in one list of physical writes: the seal config, the stored-keys
 * blob (the root key under the KEK), core/keyring (under the root key), core/root-key and core/shamir-kek
 * (under the barrier's active term, where a standby holding that term finds the root key after a rekey).
 */
function sealWrites(kek: Buffer, keyring: Keyring, secretShares: number, secretThreshold: number): PhysicalWrite[] {
  const barrier = new Barrier(keyring);
  const sealConfig = {
    type: 'shamir',
    secret_shares: secretShares,
    secret_threshold: secretThreshold,
    pgp_keys: null,
    nonce: '',
    backup: false,
    stored_shares: 1,
  };
  const storedKeys = Buffer.from(JSON.stringify([keyring.rootKey.toString('base64')]), 'utf8');
  const unsealKeys = sealEncrypt(kek, UNSEAL_KEYS_PATH, storedKeys);
  storedKeys.fill(0);

  const rootKeyWrite = barrierWrite(barrier, ROOT_KEY_PATH, rootKeyEntry(keyring.rootKey));
  const kekWrite = barrierWrite(barrier, SHAMIR_KEK_PATH, ownCopy(kek));
  // Keyring last, so its serialised encryption counters include the two writes above.
  const keyringWrite = { key: KEYRING_PATH, value: encryptKeyring(keyring) };
  return [
    { key: SEAL_CONFIG_PATH, value: Buffer.from(JSON.stringify(sealConfig), 'utf8') },
    { key: UNSEAL_KEYS_PATH, value: unsealKeys },
    keyringWrite,
    rootKeyWrite,
    kekWrite,
  ];
}

/** A new unseal key (KEK) and its T-of-N shares, for sys/rekey. */
export async function newUnsealKey(secretShares: number, secretThreshold: number): Promise<{ kek: Buffer; shares: Buffer[] }> {
  const invalid = validateSealConfig(secretShares, secretThreshold);
  if (invalid !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', invalid);
  const kek = randomBytes(KEY_BYTES);
  return { kek, shares: await splitKek(kek, secretShares, secretThreshold) };
}

/**
 * What makes a rekey take effect, derived from the keyring in use at that moment (a rotation between the
 * rekey and its verification is kept): as Vault's performBarrierRekey, a new root key too, so old shares
 * with an old copy of the stored-keys blob open nothing current. The data keys (terms) stay.
 */
export function rekeyWrites(current: Keyring, kek: Buffer, secretShares: number, secretThreshold: number): { keyring: Keyring; physical: PhysicalWrite[] } {
  const rootKey = randomBytes(KEY_BYTES);
  const keyring = current.withRootKey(rootKey);
  rootKey.fill(0);
  return { keyring, physical: sealWrites(kek, keyring, secretShares, secretThreshold) };
}

/**
 * The root key a standby finds after a rekey on the active node replaced it: core/root-key is written under
 * the active term, so first follow core/upgrade/<n> (term n+1's key under term n, written by every rotation)
 * from the newest term this node holds, in case rotations came after the rekey; null when nothing opens.
 */
export function rootKeyFromStorage(known: Keyring, readPhysical: (key: string) => Buffer | undefined): Buffer | null {
  const keys = new Map(known.terms().map((t) => [t.term, t.key] as const));
  const parse = (pt: Buffer): { term: number; key: Buffer } | null => {
    try {
      const doc = JSON.parse(pt.toString('utf8')) as { Term?: unknown; Value?: unknown };
      const key = typeof doc.Value === 'string' ? decodeBase64Strict(doc.Value) : null;
      return key !== null && key.length === KEY_BYTES && typeof doc.Term === 'number' ? { term: doc.Term, key } : null;
    } catch {
      return null;
    } finally {
      pt.fill(0);
    }
  };
  const open = (path: string): { term: number; key: Buffer } | null => {
    const blob = readPhysical(path);
    if (blob === undefined) return null;
    try {
      return parse(decryptValue((t) => keys.get(t), path, blob));
    } catch {
      return null;
    }
  };
  for (let term = known.activeTerm; ; term++) {
    const next = open(`${UPGRADE_PREFIX}${term}`);
    if (next === null || next.term !== term + 1) break;
    keys.set(next.term, next.key);
  }
  return open(ROOT_KEY_PATH)?.key ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Unseal

/**
 * Decrypts core/keyring with a known root key. Used by openKeyring, and by a standby that already holds the
 * root key and must reload the keyring after a rotation. Failures are COFFER_ERR_INTERNAL (storage, not the operator).
 */
export function openKeyringWithRootKey(rootKey: Uint8Array, readPhysical: (key: string) => Buffer | undefined): Keyring {
  const blob = readPhysical(KEYRING_PATH);
  if (blob === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'barrier: keyring not found in storage');
  const pt = decryptValue((t) => (t === KEYRING_TERM_MARKER ? rootKey : undefined), KEYRING_PATH, blob);
  try {
    const ring = Keyring.fromBytes(pt);
    if (ring.rootKey.length !== rootKey.length || !timingSafeEqual(ring.rootKey, rootKey)) {
      throw new CofferError('COFFER_ERR_INTERNAL', 'barrier: keyring root key does not match the unsealed root key');
    }
    return ring;
  } finally {
    pt.fill(0);
  }
}

/**
 * KEK → stored-keys blob → root key → core/keyring. A wrong KEK (or any failure to open the stored-keys blob) throws
 * CofferError('COFFER_ERR_INVALID_REQUEST', 'invalid key: failed to decrypt keys from storage: <reason>').
 */
export function openKeyring(kek: Uint8Array, readPhysical: (key: string) => Buffer | undefined): Keyring {
  const blob = readPhysical(UNSEAL_KEYS_PATH);
  if (blob === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'seal: stored keys not found in storage');
  const opened = sealDecrypt(kek, UNSEAL_KEYS_PATH, blob);
  if (typeof opened === 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_KEY_PREFIX + opened);
  let rootKey: Buffer | null = null;
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(opened.toString('utf8'));
    } catch {
      doc = undefined;
    }
    const first = Array.isArray(doc) && typeof doc[0] === 'string' ? doc[0] : null;
    rootKey = first === null ? null : decodeBase64Strict(first);
    if (rootKey === null || rootKey.length !== KEY_BYTES) {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_KEY_PREFIX + 'stored keys are malformed');
    }
    return openKeyringWithRootKey(rootKey, readPhysical);
  } finally {
    opened.fill(0);
    rootKey?.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Rotation

/**
 * Adds term n+1. Physical writes, in the order Vault persists them: core/keyring (under the root key),
 * core/root-key (re-encrypted with the new active term, §5), core/upgrade/<n> (the new term's key encrypted under term n,
 * for standbys). Callers delete core/upgrade/<n> later.
 */
export function rotateKeyring(keyring: Keyring, nowMs: number): { keyring: Keyring; physical: PhysicalWrite[] } {
  const prevTerm = keyring.activeTerm;
  const next = keyring.withRotation(nowMs);
  const newActive = next.activeKey();
  const prev = next.terms().find((t) => t.term === prevTerm);
  assert(prev !== undefined, 'previous term missing after rotation');

  const upgradePath = `${UPGRADE_PREFIX}${prevTerm}`;
  const upgradePt = Buffer.from(
    JSON.stringify({
      Term: newActive.term,
      Version: 1,
      Value: newActive.key.toString('base64'),
      InstallTime: new Date(newActive.installTimeMs).toISOString(),
    }),
    'utf8',
  );
  let upgrade: Buffer;
  try {
    upgrade = encryptValue(prev.key, prev.term, upgradePath, upgradePt);
    prev.encryptions += 1;
  } finally {
    upgradePt.fill(0);
  }
  const rootKeyWrite = barrierWrite(new Barrier(next), ROOT_KEY_PATH, rootKeyEntry(next.rootKey));
  const keyringWrite = { key: KEYRING_PATH, value: encryptKeyring(next) };
  failpoint('keyring-rotate-before-commit');
  return {
    keyring: next,
    physical: [keyringWrite, rootKeyWrite, { key: upgradePath, value: upgrade }],
  };
}
