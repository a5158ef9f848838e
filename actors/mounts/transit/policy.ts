// Named key policies in the mount's storage view (`policy/<name>`, as keysutil stores them; the
// barrier encrypts them below the view): creation, rotation, and Vault's key-info response.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { StorageView } from '../framework/types.js';
import { rfc3339Nano } from '../kv/format.js';
import { derivationSupported, ed25519RawPublic, encryptionSupported, getKey, ed25519PrivateFromSeed, isEcdsa, isRsa, isSymmetric, signingSupported, symmetricKeyBytes, type KeyType, type KeyVersion, type Policy } from './crypto.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Vault's framework.GenericNameRegex: `\w(([\w-.@]+)?\w)?`. */
export function validName(name: string): boolean {
  return /^\w(?:[\w\-.@]*\w)?$/.test(name);
}

const policyKey = (name: string): string => `policy/${name}`;

export async function loadPolicy(storage: StorageView, name: string): Promise<Policy | undefined> {
  return storage.getJson<Policy>(policyKey(name));
}

export function savePolicy(storage: StorageView, p: Policy): void {
  storage.putJson(policyKey(p.name), p);
}

export function deletePolicy(storage: StorageView, name: string): void {
  storage.delete(policyKey(name));
}

export async function listPolicies(storage: StorageView): Promise<string[]> {
  return (await storage.list('policy/')).filter((k) => !k.endsWith('/'));
}

const EC_CURVES: Partial<Record<KeyType, string>> = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' };

/** A fresh key version of the policy's type (Vault's RotateInMemory), stamped with the request time. */
export async function newKeyVersion(p: Policy, nowMs: number): Promise<KeyVersion> {
  const v: KeyVersion = { time: rfc3339Nano(nowMs), creation_time: Math.floor(nowMs / 1000), hmac_key: randomBytes(32).toString('base64') };
  if (isSymmetric(p.type)) {
    v.key = randomBytes(symmetricKeyBytes(p.type)).toString('base64');
  } else if (isEcdsa(p.type)) {
    const pair = await generateKeyPairAsync('ec', { namedCurve: EC_CURVES[p.type] as string });
    v.private_key = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    v.public_key = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  } else if (p.type === 'ed25519') {
    const seed = randomBytes(32);
    const pub = ed25519RawPublic(ed25519PrivateFromSeed(seed));
    // Go's 64-byte ed25519 private key (seed ‖ public): derived keys use all of it as the HKDF input.
    v.key = Buffer.concat([seed, pub]).toString('base64');
    v.public_key = pub.toString('base64');
  } else if (isRsa(p.type)) {
    const pair = await generateKeyPairAsync('rsa', { modulusLength: Number(p.type.slice(4)) });
    v.private_key = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    v.public_key = pair.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  }
  if (p.convergent_encryption) v.convergent_version = 3;
  return v;
}

/** Adds a new latest version (Vault's Rotate); the caller persists. */
export async function rotate(p: Policy, nowMs: number): Promise<void> {
  const v = await newKeyVersion(p, nowMs);
  p.latest_version += 1;
  p.keys[String(p.latest_version)] = v;
  if (p.min_decryption_version === 0) p.min_decryption_version = 1;
}

export interface NewPolicyOptions {
  name: string;
  type: KeyType;
  derived: boolean;
  convergent: boolean;
  exportable: boolean;
  allowPlaintextBackup: boolean;
  autoRotatePeriodS: number;
}

/** The lock manager's upsert checks, then the first rotation. Throws the Go error text. */
export async function createPolicy(o: NewPolicyOptions, nowMs: number): Promise<Policy> {
  if (isSymmetric(o.type)) {
    if (o.convergent && !o.derived) throw new Error('convergent encryption requires derivation to be enabled');
  } else if (o.type === 'ed25519') {
    if (o.convergent) throw new Error(`convergent encryption not supported for keys of type ${o.type}`);
  } else if (o.derived || o.convergent) {
    throw new Error(`key derivation and convergent encryption not supported for keys of type ${o.type}`);
  }
  const p: Policy = {
    v: 1,
    name: o.name,
    type: o.type,
    derived: o.derived,
    kdf: 'hkdf_sha256',
    convergent_encryption: o.derived && o.convergent,
    exportable: o.exportable,
    allow_plaintext_backup: o.allowPlaintextBackup,
    deletion_allowed: false,
    latest_version: 0,
    min_decryption_version: 0,
    min_encryption_version: 0,
    auto_rotate_period: o.autoRotatePeriodS,
    keys: {},
  };
  await rotate(p, nowMs);
  return p;
}

const CURVE_NAMES: Partial<Record<KeyType, string>> = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' };

/** Versions still in the key ring: Vault archives those below min_decryption_version. */
function liveVersions(p: Policy): string[] {
  return Object.keys(p.keys)
    .filter((k) => Number(k) >= p.min_decryption_version)
    .sort((a, b) => Number(a) - Number(b));
}

/** Vault's formatKeyPolicy. `context` (derived ed25519) selects the public key to show. */
export function keyInfo(p: Policy, context: Uint8Array | null): Record<string, unknown> {
  const data: Record<string, unknown> = {
    name: p.name,
    type: p.type,
    derived: p.derived,
    deletion_allowed: p.deletion_allowed,
    min_available_version: 0,
    min_decryption_version: p.min_decryption_version,
    min_encryption_version: p.min_encryption_version,
    latest_version: p.latest_version,
    exportable: p.exportable,
    allow_plaintext_backup: p.allow_plaintext_backup,
    supports_encryption: encryptionSupported(p.type),
    supports_decryption: encryptionSupported(p.type),
    supports_signing: signingSupported(p.type),
    supports_derivation: derivationSupported(p.type),
    auto_rotate_period: p.auto_rotate_period,
    imported_key: false,
    soft_deleted: false,
  };
  if (p.derived) {
    data.kdf = 'hkdf_sha256';
    data.convergent_encryption = p.convergent_encryption;
    if (p.convergent_encryption) data.convergent_encryption_version = -1;
  }
  const keys: Record<string, unknown> = {};
  for (const k of liveVersions(p)) {
    const v = p.keys[k] as KeyVersion;
    if (isSymmetric(p.type)) {
      keys[k] = v.creation_time;
      continue;
    }
    let publicKey = v.public_key ?? '';
    let name = p.type;
    if (isEcdsa(p.type)) name = CURVE_NAMES[p.type] as KeyType;
    if (p.type === 'ed25519' && p.derived) {
      publicKey = context && context.length > 0 ? ed25519RawPublic(ed25519PrivateFromSeed(getKey(p, context, Number(k), 32))).toString('base64') : '';
    }
    keys[k] = { name, public_key: publicKey, certificate_chain: '', creation_time: v.time };
  }
  data.keys = keys;
  return data;
}
