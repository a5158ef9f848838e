// Transit's cryptography as pure functions over a stored key policy (policy.ts): encryption and
// decryption of one item, derivation, signatures, HMACs. Behaviour and messages follow OpenBao's
// sdk/helper/keysutil/policy.go (Encrypt/Decrypt/GetKey/DeriveKey/SignWithOptions/
// VerifySignatureWithOptions). No I/O and no clock: the CPU pool's task module runs the same code.
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';

export const KEY_TYPES = [
  'aes128-gcm96',
  'aes256-gcm96',
  'chacha20-poly1305',
  'ecdsa-p256',
  'ecdsa-p384',
  'ecdsa-p521',
  'ed25519',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

const SYMMETRIC: readonly KeyType[] = ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'];
const ECDSA: readonly KeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521'];
const RSA: readonly KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096'];

export const isSymmetric = (t: KeyType): boolean => SYMMETRIC.includes(t);
export const isEcdsa = (t: KeyType): boolean => ECDSA.includes(t);
export const isRsa = (t: KeyType): boolean => RSA.includes(t);
export const encryptionSupported = (t: KeyType): boolean => isSymmetric(t) || isRsa(t);
export const signingSupported = (t: KeyType): boolean => isEcdsa(t) || isRsa(t) || t === 'ed25519';
export const derivationSupported = (t: KeyType): boolean => isSymmetric(t) || t === 'ed25519';
export const hashSignatureInput = (t: KeyType): boolean => isEcdsa(t) || isRsa(t);

/** One key version as stored (base64 for bytes, PEM for asymmetric private keys). */
export interface KeyVersion {
  /** Creation time, RFC3339Nano (Vault's `time`). */
  time: string;
  /** Creation time in unix seconds (Vault's deprecated `creation_time`, shown for symmetric keys). */
  creation_time: number;
  /** Symmetric key bytes, or ed25519's 64-byte Go private key (seed ‖ public); base64. */
  key?: string;
  /** Per-version HMAC key (32 bytes, base64). */
  hmac_key: string;
  /** PKCS#8 PEM for ecdsa and rsa. */
  private_key?: string;
  /** ecdsa/rsa: PKIX PEM; ed25519: base64 of the raw 32 bytes (as Vault formats it). */
  public_key?: string;
  /** Convergent encryption scheme version (3) when the policy is convergent. */
  convergent_version?: number;
}

/** A named key policy: everything Vault's keysutil.Policy persists that Coffer uses. */
export interface Policy {
  v: 1;
  name: string;
  type: KeyType;
  derived: boolean;
  /** Only HKDF-SHA256 (Vault's default for new keys since 0.x). */
  kdf: 'hkdf_sha256';
  convergent_encryption: boolean;
  exportable: boolean;
  allow_plaintext_backup: boolean;
  deletion_allowed: boolean;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  /** Seconds; 0 disables. */
  auto_rotate_period: number;
  keys: Record<string, KeyVersion>;
}

// ---- errors -----------------------------------------------------------------------------------------

/** keysutil's UserError (→ 400) and InternalError (→ 500), carried as data across the pool. */
export class TransitError extends Error {
  constructor(
    readonly kind: 'user' | 'internal',
    message: string,
  ) {
    super(message);
  }
}
const userError = (m: string): TransitError => new TransitError('user', m);
const internalError = (m: string): TransitError => new TransitError('internal', m);

export const ERR_TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';
const VERSION_PREFIX = 'vault:v';

// ---- base64 as Go's StdEncoding decodes it --------------------------------------------------------

/**
 * Go's base64.StdEncoding.DecodeString: padding required, \r and \n ignored, and Go's error text
 * ("illegal base64 data at input byte N"; N is approximate for a malformed final quantum).
 */
export function decodeBase64(input: string): Buffer {
  const s = input.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9+/=]/.exec(s);
  if (bad) throw userError(`illegal base64 data at input byte ${bad.index}`);
  const firstPad = s.indexOf('=');
  const wellFormed = s.length % 4 === 0 && (firstPad < 0 || (firstPad >= s.length - 2 && /^=+$/.test(s.slice(firstPad)) && firstPad % 4 >= 2));
  if (!wellFormed) throw userError(`illegal base64 data at input byte ${firstPad >= 0 ? firstPad : s.length - (s.length % 4)}`);
  return Buffer.from(s, 'base64');
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** Go's strconv.Atoi on a decimal string (sign allowed). */
function atoi(s: string): number | null {
  return /^[+-]?\d{1,15}$/.test(s) ? Number(s) : null;
}

// ---- keys ---------------------------------------------------------------------------------------------

function entry(p: Policy, ver: number): KeyVersion {
  const e = p.keys[String(ver)];
  if (!e) throw userError('no such key version');
  return e;
}

export function symmetricKeyBytes(t: KeyType): number {
  return t === 'aes128-gcm96' ? 16 : 32;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PrivateFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function ed25519RawPublic(key: KeyObject): Buffer {
  return (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(ED25519_SPKI_PREFIX.length);
}

/**
 * Vault's GetKey: the raw key, or for derived policies HKDF-SHA256(key, salt = none, info = context).
 * For ed25519 the derived bytes are the seed of a new key pair (Go's ed25519.GenerateKey(reader)).
 */
export function getKey(p: Policy, context: Uint8Array | null, ver: number, numBytes: number): Buffer {
  if (!p.derived) return Buffer.from(entry(p, ver).key ?? '', 'base64');
  if (!derivationSupported(p.type)) throw userError(`derivation not supported for key type ${p.type}`);
  if (p.latest_version === 0) throw internalError('unable to access the key; no key versions found');
  if (ver <= 0 || ver > p.latest_version) throw userError('invalid key version');
  if (!context || context.length === 0) {
    throw userError(
      "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
    );
  }
  const ikm = Buffer.from(entry(p, ver).key ?? '', 'base64');
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), context, numBytes));
}

// ---- symmetric AEAD -------------------------------------------------------------------------------------

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function cipherName(t: KeyType, key: Uint8Array): string {
  return t === 'chacha20-poly1305' ? 'chacha20-poly1305' : `aes-${key.length * 8}-gcm`;
}

function authFailed(t: KeyType): string {
  return t === 'chacha20-poly1305' ? 'chacha20poly1305: message authentication failed' : 'cipher: message authentication failed';
}

function seal(t: KeyType, key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer | null): Buffer {
  const c = createCipheriv(cipherName(t, key) as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  if (aad) c.setAAD(aad);
  return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

function open(t: KeyType, key: Buffer, data: Buffer, aad: Buffer | null): Buffer {
  if (data.length < NONCE_BYTES) throw userError('invalid ciphertext length');
  if (data.length < NONCE_BYTES + TAG_BYTES) throw userError(authFailed(t));
  const nonce = data.subarray(0, NONCE_BYTES);
  const ct = data.subarray(NONCE_BYTES, data.length - TAG_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  try {
    const d = createDecipheriv(cipherName(t, key) as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    if (aad) d.setAAD(aad);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw userError(authFailed(t));
  }
}

// ---- encrypt / decrypt one item ---------------------------------------------------------------------

export interface EncryptItem {
  plaintext: string;
  context: Uint8Array | null;
  keyVersion: number;
  associatedData?: string;
}

/** keysutil EncryptWithFactory: returns "vault:v<N>:<base64>" (base64 of nonce ‖ ct ‖ tag for AEADs). */
export function encryptOne(p: Policy, item: EncryptItem): { ciphertext: string; keyVersion: number } {
  if (!encryptionSupported(p.type)) throw userError(`message encryption not supported for key type ${p.type}`);
  const plaintext = decodeBase64(item.plaintext);
  let ver = item.keyVersion;
  if (ver === 0) ver = p.latest_version;
  else if (ver < 0) throw userError('requested version for encryption is negative');
  else if (ver > p.latest_version) throw userError('requested version for encryption is higher than the latest key version');
  else if (ver < p.min_encryption_version) throw userError('requested version for encryption is less than the minimum encryption key version');

  let out: Buffer;
  if (isSymmetric(p.type)) {
    const encBytes = symmetricKeyBytes(p.type);
    const convergent = p.convergent_encryption;
    const key = getKey(p, item.context, ver, encBytes + (convergent ? 32 : 0));
    if (key.length < encBytes) throw internalError('could not derive key, length too small');
    const encKey = key.subarray(0, encBytes);
    const aad = item.associatedData ? decodeBase64(item.associatedData) : null;
    // Convergent (version 3): the nonce is HMAC-SHA256(derived hmac key, plaintext) truncated.
    const nonce = convergent ? createHmac('sha256', key.subarray(encBytes)).update(plaintext).digest().subarray(0, NONCE_BYTES) : randomBytes(NONCE_BYTES);
    out = seal(p.type, encKey, nonce, plaintext, aad);
  } else {
    const e = entry(p, ver);
    try {
      out = publicEncrypt({ key: e.public_key as string, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
    } catch {
      throw internalError('failed to RSA encrypt the plaintext: crypto/rsa: message too long for RSA key size');
    }
  }
  return { ciphertext: `${VERSION_PREFIX}${ver}:${b64(out)}`, keyVersion: ver };
}

/** Splits "vault:v<N>:<rest>" as keysutil does; `what` is "ciphertext" or "signature". */
function parseVersioned(p: Policy, value: string, what: 'ciphertext' | 'signature'): { ver: number; body: string } {
  if (!value.startsWith(VERSION_PREFIX)) throw userError(`invalid ${what}: no prefix`);
  const rest = value.slice(VERSION_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) throw userError(`invalid ${what}: wrong number of fields`);
  let ver = atoi(rest.slice(0, colon));
  if (ver === null) throw userError(`invalid ${what}: version number could not be decoded`);
  if (ver === 0 && what === 'ciphertext') ver = 1;
  if (ver > p.latest_version) throw userError(`invalid ${what}: version is too new`);
  if (p.min_decryption_version > 0 && ver < p.min_decryption_version) throw userError(ERR_TOO_OLD);
  return { ver, body: rest.slice(colon + 1) };
}

export interface DecryptItem {
  ciphertext: string;
  context: Uint8Array | null;
  associatedData?: string;
}

/** keysutil DecryptWithFactory: returns the plaintext, base64. */
export function decryptOne(p: Policy, item: DecryptItem): string {
  if (!encryptionSupported(p.type)) throw userError(`message decryption not supported for key type ${p.type}`);
  const { ver, body } = parseVersioned(p, item.ciphertext, 'ciphertext');
  let decoded: Buffer;
  try {
    decoded = decodeBase64(body);
  } catch {
    throw userError('invalid ciphertext: could not decode base64');
  }
  if (isSymmetric(p.type)) {
    const numBytes = symmetricKeyBytes(p.type);
    const key = getKey(p, item.context, ver, numBytes);
    if (key.length !== numBytes) throw internalError('could not derive enc key, length not correct');
    const aad = item.associatedData ? decodeBase64(item.associatedData) : null;
    return b64(open(p.type, key, decoded, aad));
  }
  const e = entry(p, ver);
  try {
    return b64(privateDecrypt({ key: e.private_key as string, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, decoded));
  } catch {
    throw internalError('failed to RSA decrypt the ciphertext: crypto/rsa: decryption error');
  }
}

// ---- batches (inline or on the CPU pool) ---------------------------------------------------------------

export type BatchOutcome = { ok: true; value: { ciphertext: string; keyVersion: number } | string } | { ok: false; kind: 'user' | 'internal'; error: string };

export type BatchTask = { op: 'encrypt'; policy: Policy; items: (EncryptItem | null)[] } | { op: 'decrypt'; policy: Policy; items: (DecryptItem | null)[] };

/** Runs each non-null item; a null item was already rejected by the caller (its slot is skipped). */
export function runBatch(task: BatchTask): (BatchOutcome | null)[] {
  return task.items.map((item): BatchOutcome | null => {
    if (item === null) return null;
    try {
      return { ok: true, value: task.op === 'encrypt' ? encryptOne(task.policy, item as EncryptItem) : decryptOne(task.policy, item as DecryptItem) };
    } catch (err) {
      if (err instanceof TransitError) return { ok: false, kind: err.kind, error: err.message };
      return { ok: false, kind: 'internal', error: err instanceof Error ? err.message : String(err) };
    }
  });
}

// ---- hashes ---------------------------------------------------------------------------------------------

/** keysutil.HashTypeMap names → node digest names ("none" maps to null). */
export const HASHES: Record<string, string | null> = {
  none: null,
  sha1: 'sha1',
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
};

export function digest(alg: string, data: Uint8Array): Buffer {
  return createHash(alg).update(data).digest();
}

export function hmacOf(alg: string, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(alg, key).update(data).digest();
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** keysutil HMACKey: the version's HMAC key, with Vault's version checks. */
export function hmacKey(p: Policy, ver: number): Buffer {
  if (ver < 0) throw userError('key version does not exist (cannot be negative)');
  if (ver > p.latest_version) throw userError(`key version does not exist; latest key version is ${p.latest_version}`);
  return Buffer.from(entry(p, ver).hmac_key, 'base64');
}

// ---- signatures -----------------------------------------------------------------------------------------

export type Marshaling = 'asn1' | 'jws';

export interface SignOptions {
  /** A key of HASHES. */
  hashAlgorithm: string;
  marshaling: Marshaling;
  /** "pss" (default) or "pkcs1v15", rsa only. */
  sigAlgorithm: string;
  /** Go's rsa.PSSSaltLength*: 0 = auto, -1 = equals hash, or a byte count. */
  saltLength: number;
  /** The input is already the digest (rsa pkcs1v15 only in Coffer; see docs/transit.md). */
  prehashed: boolean;
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1) for prehashed PKCS#1 v1.5 signatures. */
const DIGEST_INFO: Record<string, string> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
  'sha3-224': '302d300d06096086480165030402070500041c',
  'sha3-256': '3031300d060960864801650304020805000420',
  'sha3-384': '3041300d060960864801650304020905000430',
  'sha3-512': '3051300d060960864801650304020a05000440',
};

function hashLen(alg: string): number {
  return createHash(alg).digest().length;
}

/** Node's saltLength for PSS from Go's convention; validates as keysutil does. */
function pssSalt(modulusBits: number, alg: string, goSalt: number, signing: boolean): number {
  const max = Math.ceil((modulusBits - 1) / 8) - 2 - hashLen(alg);
  if (goSalt === 0) return signing ? constants.RSA_PSS_SALTLEN_MAX_SIGN : constants.RSA_PSS_SALTLEN_AUTO;
  if (goSalt === -1) return constants.RSA_PSS_SALTLEN_DIGEST;
  if (goSalt < -1 || goSalt > max) throw userError(`requested salt length ${goSalt} is invalid`);
  return goSalt;
}

function rsaModulusBits(t: KeyType): number {
  return Number(t.slice(4));
}

function curveBytes(t: KeyType): number {
  return t === 'ecdsa-p256' ? 32 : t === 'ecdsa-p384' ? 48 : 66;
}

/**
 * keysutil SignWithOptions. `input` is the raw message: Coffer lets node hash it inside the
 * signature primitive (identical to Vault's sign-the-digest for ecdsa and rsa).
 */
export function signOne(p: Policy, ver: number, context: Uint8Array | null, input: Buffer, o: SignOptions): { signature: string; publicKey: Buffer | null; keyVersion: number } {
  if (!signingSupported(p.type)) throw internalError(`message signing not supported for key type ${p.type}`);
  if (ver === 0) ver = p.latest_version;
  else if (ver < 0) throw userError('requested version for signing is negative');
  else if (ver > p.latest_version) throw userError('requested version for signing is higher than the latest key version');
  else if (p.min_encryption_version > 0 && ver < p.min_encryption_version) throw userError('requested version for signing is less than the minimum encryption key version');
  const e = entry(p, ver);
  const alg = HASHES[o.hashAlgorithm] ?? null;
  let sig: Buffer;
  let publicKey: Buffer | null = null;
  if (isEcdsa(p.type)) {
    if (o.prehashed) throw userError('prehashed input is not supported for ecdsa keys by this server');
    if (alg === null) throw internalError('unsupported hash algorithm');
    sig = cryptoSign(alg, input, { key: e.private_key as string, dsaEncoding: o.marshaling === 'jws' ? 'ieee-p1363' : 'der' });
  } else if (p.type === 'ed25519') {
    let key: KeyObject;
    if (p.derived) {
      let seed: Buffer;
      try {
        seed = getKey(p, context, ver, 32);
      } catch (err) {
        throw internalError(`error deriving key: ${(err as Error).message}`);
      }
      key = ed25519PrivateFromSeed(seed);
      publicKey = ed25519RawPublic(key);
    } else {
      key = ed25519PrivateFromSeed(Buffer.from(e.key ?? '', 'base64').subarray(0, 32));
    }
    sig = cryptoSign(null, input, key);
  } else {
    if (alg === null && !(o.prehashed && o.sigAlgorithm === 'pkcs1v15')) throw internalError('unsupported hash algorithm');
    const sa = o.sigAlgorithm === '' ? 'pss' : o.sigAlgorithm;
    if (sa === 'pss') {
      if (o.prehashed) throw userError('prehashed input is not supported for rsa pss signatures by this server');
      const saltLength = pssSalt(rsaModulusBits(p.type), alg as string, o.saltLength, true);
      sig = cryptoSign(alg, input, { key: e.private_key as string, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    } else if (sa === 'pkcs1v15') {
      if (o.prehashed) {
        const prefix = alg === null ? Buffer.alloc(0) : Buffer.from(DIGEST_INFO[alg] ?? '', 'hex');
        sig = privateEncrypt({ key: e.private_key as string, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, input]));
      } else {
        sig = cryptoSign(alg, input, { key: e.private_key as string, padding: constants.RSA_PKCS1_PADDING });
      }
    } else {
      throw internalError(`unsupported rsa signature algorithm ${sa}`);
    }
  }
  const encoded = o.marshaling === 'jws' ? b64url(sig) : b64(sig);
  return { signature: `${VERSION_PREFIX}${ver}:${encoded}`, publicKey, keyVersion: ver };
}

/** keysutil VerifySignatureWithOptions. */
export function verifyOne(p: Policy, context: Uint8Array | null, input: Buffer, signature: string, o: SignOptions): boolean {
  if (!signingSupported(p.type)) throw userError(`message verification not supported for key type ${p.type}`);
  const { ver, body } = parseVersioned(p, signature, 'signature');
  let sig: Buffer;
  if (o.marshaling === 'jws') {
    if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) throw userError('invalid base64 signature value');
    sig = Buffer.from(body, 'base64url');
  } else {
    try {
      sig = decodeBase64(body);
    } catch {
      throw userError('invalid base64 signature value');
    }
  }
  const e = entry(p, ver);
  const alg = HASHES[o.hashAlgorithm] ?? null;
  if (isEcdsa(p.type)) {
    if (o.prehashed) throw userError('prehashed input is not supported for ecdsa keys by this server');
    if (alg === null) throw internalError('unsupported hash algorithm');
    if (o.marshaling === 'jws') {
      // Go splits r ‖ s in halves of whatever length was given; left-pad each to the curve size.
      const n = curveBytes(p.type);
      const half = Math.floor(sig.length / 2);
      const r = sig.subarray(0, half);
      const s = sig.subarray(half);
      if (r.length > n || s.length > n) return false;
      sig = Buffer.concat([Buffer.alloc(n - r.length), r, Buffer.alloc(n - s.length), s]);
    }
    try {
      return cryptoVerify(alg, input, { key: e.public_key as string, dsaEncoding: o.marshaling === 'jws' ? 'ieee-p1363' : 'der' }, sig);
    } catch {
      throw userError('supplied signature is invalid');
    }
  }
  if (p.type === 'ed25519') {
    let pub: KeyObject;
    if (p.derived) {
      let seed: Buffer;
      try {
        seed = getKey(p, context, ver, 32);
      } catch (err) {
        throw internalError(`error deriving key: ${(err as Error).message}`);
      }
      pub = createPublicKey(ed25519PrivateFromSeed(seed));
    } else {
      pub = ed25519PublicFromRaw(Buffer.from(e.public_key ?? '', 'base64'));
    }
    return sig.length === 64 && cryptoVerify(null, input, pub, sig);
  }
  if (alg === null && !(o.prehashed && o.sigAlgorithm === 'pkcs1v15')) throw internalError('unsupported hash algorithm');
  const sa = o.sigAlgorithm === '' ? 'pss' : o.sigAlgorithm;
  try {
    if (sa === 'pss') {
      if (o.prehashed) throw userError('prehashed input is not supported for rsa pss signatures by this server');
      const saltLength = pssSalt(rsaModulusBits(p.type), alg as string, o.saltLength, false);
      return cryptoVerify(alg, input, { key: e.public_key as string, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, sig);
    }
    if (sa === 'pkcs1v15') {
      if (o.prehashed) {
        const prefix = alg === null ? Buffer.alloc(0) : Buffer.from(DIGEST_INFO[alg] ?? '', 'hex');
        const recovered = publicDecrypt({ key: e.public_key as string, padding: constants.RSA_PKCS1_PADDING }, sig);
        return constantTimeEqual(recovered, Buffer.concat([prefix, input]));
      }
      return cryptoVerify(alg, input, { key: e.public_key as string, padding: constants.RSA_PKCS1_PADDING }, sig);
    }
  } catch (err) {
    if (err instanceof TransitError) throw err;
    return false;
  }
  throw internalError(`unsupported rsa signature algorithm ${sa}`);
}
