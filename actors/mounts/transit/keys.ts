// keys/ (list), keys/<name> (create, read, delete), keys/<name>/config, keys/<name>/rotate, and
// config/keys, as OpenBao's path_keys.go, path_keys_config.go, path_rotate.go, path_config_keys.go.
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, Handler, HandlerRequest, PathSpec, StorageView } from '../framework/types.js';
import { decodeBase64, isKeyType } from './crypto.js';
import { createPolicy, deletePolicy, keyInfo, listPolicies, loadPolicy, rotate, savePolicy, validName } from './policy.js';

export function invalid(message: string): never {
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', message);
}

export function internal(message: string): never {
  throw new CofferError('COFFER_ERR_INTERNAL', message);
}

/** The key name of a request; a name outside Vault's GenericNameRegex does not route (404). */
export function nameOf(req: HandlerRequest): string {
  const name = req.params.name ?? '';
  if (!validName(name)) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `no handler for route "${req.mount.path}${req.path}". route entry not found.`);
  return name;
}

export const nameField: FieldSchema = { type: 'string', description: 'Name of the key' };

// ---- config/keys ----------------------------------------------------------------------------------

interface KeysConfig {
  disable_upsert: boolean;
}

export async function loadKeysConfig(storage: StorageView): Promise<KeysConfig> {
  return (await storage.getJson<KeysConfig>('config/keys')) ?? { disable_upsert: false };
}

const configKeysRead: Handler = async (_req, storage) => ({ data: { ...(await loadKeysConfig(storage)) } });

const configKeysWrite: Handler = async (req, storage) => {
  const cfg = await loadKeysConfig(storage);
  if (typeof req.fields.disable_upsert === 'boolean') cfg.disable_upsert = req.fields.disable_upsert;
  storage.putJson('config/keys', cfg);
  return { data: { ...cfg } };
};

// ---- keys/ and keys/<name> ------------------------------------------------------------------------

const listKeys: Handler = async (_req, storage) => {
  const keys = await listPolicies(storage);
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
};

const HOUR_S = 3600;

const keyWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  const f = req.fields;
  const derived = f.derived === true;
  const convergent = f.convergent_encryption === true;
  const type = String(f.type);
  const autoRotate = Number(f.auto_rotate_period ?? 0);
  const keySize = Number(f.key_size ?? 0);
  if (autoRotate !== 0 && autoRotate < HOUR_S) invalid('auto rotate period must be 0 to disable or at least an hour');
  if (!derived && convergent) invalid('convergent encryption requires derivation to be enabled');
  if (!isKeyType(type)) invalid(`unknown key type ${type}`);
  if (keySize !== 0) invalid(`key_size is not valid for algorithm ${type}`);

  const existing = await loadPolicy(storage, name);
  if (existing) return { data: keyInfo(existing, null), warnings: [`key ${name} already existed`] };
  let p;
  try {
    p = await createPolicy({ name, type, derived, convergent, exportable: f.exportable === true, allowPlaintextBackup: f.allow_plaintext_backup === true, autoRotatePeriodS: autoRotate }, req.nowMs);
  } catch (err) {
    // The lock manager's upsert refusals are plain Go errors: Vault answers them 500.
    internal((err as Error).message);
  }
  savePolicy(storage, p);
  return { data: keyInfo(p, null) };
};

function decodeContextField(raw: unknown): Uint8Array | null {
  if (typeof raw !== 'string' || raw === '') return null;
  try {
    return decodeBase64(raw);
  } catch {
    invalid('failed to base64-decode context');
  }
}

const keyRead: Handler = async (req, storage) => {
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) throw new CofferError('COFFER_ERR_NOT_FOUND');
  const context = decodeContextField(req.fields.context);
  return { data: keyInfo(p, context) };
};

const keyDelete: Handler = async (req, storage) => {
  const name = nameOf(req);
  const p = await loadPolicy(storage, name);
  if (!p) invalid(`error deleting policy ${name}: could not delete key; not found`);
  if (!p.deletion_allowed) invalid(`error deleting policy ${name}: deletion is not allowed for this key`);
  deletePolicy(storage, name);
  return null;
};

// ---- keys/<name>/config ---------------------------------------------------------------------------

const keyConfigWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  const p = await loadPolicy(storage, name);
  if (!p) invalid(`no existing key named ${name} could be found`);
  const f = req.fields;
  let warning: string | null = null;
  let persist = false;

  if (typeof f.min_decryption_version === 'number') {
    let v = f.min_decryption_version;
    if (v < 0) invalid('min decryption version cannot be negative');
    if (v === 0) {
      v = 1;
      warning = 'since Vault 0.3 (prior to the OpenBao fork), transit key numbering starts at 1; forcing minimum to 1';
    }
    if (v !== p.min_decryption_version) {
      if (v > p.latest_version) invalid(`cannot set min decryption version of ${v}, latest key version is ${p.latest_version}`);
      p.min_decryption_version = v;
      persist = true;
    }
  }
  if (typeof f.min_encryption_version === 'number') {
    const v = f.min_encryption_version;
    if (v < 0) invalid('min encryption version cannot be negative');
    if (v !== p.min_encryption_version) {
      if (v > p.latest_version) invalid(`cannot set min encryption version of ${v}, latest key version is ${p.latest_version}`);
      p.min_encryption_version = v;
      persist = true;
    }
  }
  if (p.min_encryption_version > 0 && p.min_encryption_version < p.min_decryption_version) {
    invalid(
      `cannot set min encryption/decryption values; min encryption version of ${p.min_encryption_version} must be greater than or equal to min decryption version of ${p.min_decryption_version}`,
    );
  }
  if (typeof f.deletion_allowed === 'boolean' && f.deletion_allowed !== p.deletion_allowed) {
    p.deletion_allowed = f.deletion_allowed;
    persist = true;
  }
  // exportable and allow_plaintext_backup can only be turned on.
  if (f.exportable === true && !p.exportable) {
    p.exportable = true;
    persist = true;
  }
  if (f.allow_plaintext_backup === true && !p.allow_plaintext_backup) {
    p.allow_plaintext_backup = true;
    persist = true;
  }
  if (typeof f.auto_rotate_period === 'number') {
    const s = f.auto_rotate_period;
    if (s !== 0 && s < HOUR_S) invalid('auto rotate period must be 0 to disable or at least an hour');
    if (s !== p.auto_rotate_period) {
      p.auto_rotate_period = s;
      persist = true;
    }
  }
  if (persist) savePolicy(storage, p);
  return { data: keyInfo(p, null), ...(warning ? { warnings: [warning] } : {}) };
};

// ---- keys/<name>/rotate -----------------------------------------------------------------------------

const keyRotate: Handler = async (req, storage) => {
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) invalid('key not found');
  await rotate(p, req.nowMs);
  savePolicy(storage, p);
  return { data: keyInfo(p, null) };
};

// ---- path table -------------------------------------------------------------------------------------

const POLICY_HELP = {
  synopsis: 'Managed named encryption keys',
  description:
    'This path is used to manage the named keys that are available. Doing a write with no value against an existing key will have no effect; use the rotate endpoint to rotate the key.',
};

export const keyPaths: PathSpec[] = [
  { pattern: 'keys', operations: { list: listKeys }, help: POLICY_HELP },
  { pattern: 'keys/', operations: { list: listKeys }, help: POLICY_HELP },
  {
    pattern: 'keys/:name',
    fields: {
      name: nameField,
      type: { type: 'string', default: 'aes256-gcm96', description: 'The type of key to create: aes128-gcm96, aes256-gcm96 (default), chacha20-poly1305, ecdsa-p256|p384|p521, ed25519, rsa-2048|3072|4096.' },
      derived: { type: 'bool', description: 'Enables key derivation mode: per-request unique keys from a context.' },
      convergent_encryption: { type: 'bool', description: 'Deterministic encryption for a given context and plaintext; requires derived.' },
      exportable: { type: 'bool', description: 'Enables keys to be exportable.' },
      allow_plaintext_backup: { type: 'bool', description: 'Enables taking a backup of the named key in plaintext format. Once set, this cannot be disabled.' },
      context: { type: 'string', description: 'Base64 encoded context for key derivation; on read of a derived ed25519 key, selects the public key returned.' },
      auto_rotate_period: { type: 'duration', default: 0, description: 'Amount of time the key should live before being automatically rotated (0 disables, else at least 1h).' },
      key_size: { type: 'int', default: 0, description: 'The key size in bytes (HMAC keys only; not supported here).' },
    },
    operations: { update: keyWrite, read: keyRead, delete: keyDelete },
    help: POLICY_HELP,
  },
  {
    pattern: 'keys/:name/config',
    fields: {
      name: nameField,
      min_decryption_version: { type: 'int', description: 'If set, the minimum version of the key allowed to be decrypted (and signatures verified).' },
      min_encryption_version: { type: 'int', description: 'If set, the minimum version of the key allowed to be used for encryption; 0 means the latest.' },
      deletion_allowed: { type: 'bool', description: 'Whether to allow deletion of the key.' },
      exportable: { type: 'bool', description: 'Enables export of the key. Once set, this cannot be disabled.' },
      allow_plaintext_backup: { type: 'bool', description: 'Enables plaintext backup of the key. Once set, this cannot be disabled.' },
      auto_rotate_period: { type: 'duration', description: 'Amount of time the key should live before being automatically rotated (0 disables).' },
    },
    operations: { update: keyConfigWrite },
    help: { synopsis: 'Configure a named encryption key', description: 'Sets the minimum decryption/encryption versions, deletion and export flags, and the auto-rotation period of a key.' },
  },
  {
    pattern: 'keys/:name/rotate',
    fields: { name: nameField },
    operations: { update: keyRotate },
    help: { synopsis: 'Rotate named encryption key', description: 'This path is used to rotate the named key. After rotation, new encryption requests using this name will use the new key, but decryption will still be supported for older versions.' },
  },
  {
    pattern: 'config/keys',
    fields: { disable_upsert: { type: 'bool', description: 'Whether to disable upserting on encryption (automatic creation of unknown keys).' } },
    operations: { read: configKeysRead, update: configKeysWrite },
    help: { synopsis: 'Configuration common across all keys', description: 'disable_upsert: refuse to create unknown keys on encrypt.' },
  },
];
