// KV v2 paths on key metadata and the mount config: metadata/<key> (read, list, write, patch,
// delete of every version) and config. Shapes and messages follow OpenBao's path_metadata.go and
// path_config.go, including OpenBao's metadata check-and-set (metadata_cas, metadata_cas_required).
import { CofferError } from '../../../runtime/errors.js';
import { parseDurationSeconds } from '../framework/router.js';
import type { FieldSchema, Handler, HandlerRequest, LogicalResponse, PathSpec } from '../framework/types.js';
import { goDuration, isObject, mergePatch, type JsonObject } from './format.js';
import { existsByMetadata, NOT_FOUND_EMPTY, rootWarning } from './v2-data.js';
import {
  checkKeyName,
  CONFIG_KEY,
  DVA_DISABLED_S,
  loadConfig,
  loadMetadata,
  METADATA_PREFIX,
  metadataResponse,
  newMetadata,
  saveMetadata,
  versionKey,
  type KeyMetadata,
  type KvConfig,
} from './v2-store.js';

const MAX_CUSTOM_METADATA_KEYS = 64;
const MAX_CUSTOM_METADATA_KEY_BYTES = 128;
const MAX_CUSTOM_METADATA_VALUE_BYTES = 512;
const CM_PREFIX = 'custom_metadata validation failed';

function invalid(message: string): never {
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', message);
}

/** go-multierror's message format. */
function multiError(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

/** TypeMap → map[string]string by weak decoding; `null` values are dropped on a patch (they delete). */
function parseCustomMetadata(raw: JsonObject, dropNulls: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null && dropNulls) continue;
    if (v === null) out[k] = '';
    else if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = String(v);
    else if (typeof v === 'boolean') out[k] = v ? '1' : '0';
    else invalid(`${CM_PREFIX}: '' expected type 'string', got unconvertible type '${Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}'}'`);
  }
  return out;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;

function validateCustomMetadata(cm: Record<string, string>): void {
  const keys = Object.keys(cm).sort();
  if (keys.length > MAX_CUSTOM_METADATA_KEYS) {
    invalid(multiError([`${CM_PREFIX}: payload must contain at most ${MAX_CUSTOM_METADATA_KEYS} keys, provided ${keys.length}`]));
  }
  const errors: string[] = [];
  for (const key of keys) {
    const value = cm[key] as string;
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    if (keyBytes === 0 || keyBytes > MAX_CUSTOM_METADATA_KEY_BYTES) {
      errors.push(`${CM_PREFIX}: length of key ${JSON.stringify(key)} is ${keyBytes} but must be 0 < len(key) <= ${MAX_CUSTOM_METADATA_KEY_BYTES}`);
    }
    if (valueBytes === 0 || valueBytes > MAX_CUSTOM_METADATA_VALUE_BYTES) {
      errors.push(`${CM_PREFIX}: length of value for key ${JSON.stringify(key)} is ${valueBytes} but must be 0 < len(value) <= ${MAX_CUSTOM_METADATA_VALUE_BYTES}`);
    }
    if (!PRINTABLE.test(key)) errors.push(`${CM_PREFIX}: key ${JSON.stringify(key)} (${key}) contains unprintable characters`);
    if (!PRINTABLE.test(value)) errors.push(`${CM_PREFIX}: value for key ${JSON.stringify(key)} contains unprintable characters`);
  }
  if (errors.length > 0) invalid(multiError(errors));
}

function nonNegativeSeconds(name: string, value: unknown): number {
  const s = parseDurationSeconds(value, name);
  if (s < 0) invalid(`Field validation failed: error converting input for field "${name}": cannot provide negative value '${s}'`);
  return s;
}

const has = (req: HandlerRequest, name: string) => req.fields[name] !== undefined;

/** Warnings for per-key settings the mount config overrides. */
function overrideWarnings(req: HandlerRequest, config: KvConfig): string[] {
  const warnings: string[] = [];
  if (req.fields.cas_required === false && config.cas_required) {
    warnings.push('"cas_required" set to false, but is mandated by backend config. This value will be ignored.');
  }
  if (req.fields.metadata_cas_required === false && config.metadata_cas_required) {
    warnings.push('"metadata_cas_required" set to false, but is mandated by backend config. This value will be ignored.');
  }
  return warnings;
}

/** OpenBao's metadata check-and-set; returns the metadata to update (new ones start at metadata version 1). */
function checkMetadataCas(req: HandlerRequest, config: KvConfig, meta: KeyMetadata | undefined, key: string): KeyMetadata {
  const required = (meta?.metadata_cas_required ?? false) || config.metadata_cas_required;
  const cas = req.fields.metadata_cas as number | undefined;
  if (required && cas === undefined) invalid('metadata check-and-set parameter required for this call');
  if (!meta) {
    if (cas !== undefined && cas !== 0) invalid('metadata_cas must be 0 when creating new metadata');
    return { ...newMetadata(key), created_ms: req.nowMs, updated_ms: req.nowMs, current_metadata_version: 1 };
  }
  if (cas !== undefined && cas !== meta.current_metadata_version) invalid('metadata check-and-set parameter does not match the current version');
  meta.current_metadata_version += 1;
  meta.updated_ms = req.nowMs;
  return meta;
}

function withWarnings(warnings: string[]): LogicalResponse | null {
  return warnings.length > 0 ? { data: null, warnings } : null;
}

const PATCHABLE = ['max_versions', 'cas_required', 'metadata_cas_required', 'delete_version_after', 'custom_metadata'] as const;

function applySettings(req: HandlerRequest, meta: KeyMetadata, customMetadata: Record<string, string> | undefined): void {
  if (has(req, 'max_versions')) meta.max_versions = req.fields.max_versions as number;
  if (has(req, 'cas_required')) meta.cas_required = req.fields.cas_required as boolean;
  if (has(req, 'metadata_cas_required')) meta.metadata_cas_required = req.fields.metadata_cas_required as boolean;
  if (has(req, 'delete_version_after')) meta.delete_version_after_s = nonNegativeSeconds('delete_version_after', req.fields.delete_version_after);
  if (customMetadata !== undefined) meta.custom_metadata = customMetadata;
}

function checkMaxVersions(req: HandlerRequest): void {
  const n = req.fields.max_versions;
  if (typeof n === 'number' && n < 0) invalid('max_versions must not be negative');
}

const metadataWrite: Handler = async (req, storage) => {
  if (!req.path.includes('/')) return rootWarning();
  const key = req.params.path ?? '';
  if (key === '') invalid('missing path');
  if (!PATCHABLE.some((f) => has(req, f))) return null;
  checkMaxVersions(req);
  if (has(req, 'delete_version_after')) nonNegativeSeconds('delete_version_after', req.fields.delete_version_after);
  const config = await loadConfig(storage);
  let customMetadata: Record<string, string> | undefined;
  if (isObject(req.fields.custom_metadata)) {
    customMetadata = parseCustomMetadata(req.fields.custom_metadata, false);
    validateCustomMetadata(customMetadata);
  }
  const warnings = overrideWarnings(req, config);
  const meta = checkMetadataCas(req, config, await loadMetadata(storage, key), key);
  applySettings(req, meta, customMetadata);
  saveMetadata(storage, meta);
  return withWarnings(warnings);
};

const metadataPatch: Handler = async (req, storage) => {
  if (!req.path.includes('/')) return rootWarning();
  if (!PATCHABLE.some((f) => has(req, f))) return null;
  const key = req.params.path ?? '';
  if (key === '') invalid('missing path');
  checkMaxVersions(req);
  if (has(req, 'delete_version_after')) nonNegativeSeconds('delete_version_after', req.fields.delete_version_after);
  if (isObject(req.fields.custom_metadata)) validateCustomMetadata(parseCustomMetadata(req.fields.custom_metadata, true));
  const config = await loadConfig(storage);
  const existing = await loadMetadata(storage, key);
  if (!existing) return NOT_FOUND_EMPTY;
  const meta = checkMetadataCas(req, config, existing, key);
  const warnings = overrideWarnings(req, config);
  let customMetadata: Record<string, string> | undefined;
  if (isObject(req.fields.custom_metadata)) {
    const merged = mergePatch(meta.custom_metadata ?? {}, req.fields.custom_metadata) as JsonObject;
    customMetadata = parseCustomMetadata(merged, true);
  }
  applySettings(req, meta, customMetadata);
  saveMetadata(storage, meta);
  return withWarnings(warnings);
};

const metadataRead: Handler = async (req, storage) => {
  if (!req.path.includes('/')) return rootWarning();
  const meta = await loadMetadata(storage, req.params.path ?? '');
  if (!meta) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: metadataResponse(meta) };
};

const metadataList: Handler = async (req, storage) => {
  let prefix = req.params.path ?? '';
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (prefix !== '') checkKeyName(prefix);
  let keys = await storage.list(METADATA_PREFIX + prefix);
  const after = typeof req.fields.after === 'string' ? req.fields.after : '';
  if (after !== '') keys = keys.filter((k) => k > after);
  const limit = typeof req.fields.limit === 'number' ? req.fields.limit : 0;
  if (limit > 0) keys = keys.slice(0, limit);
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
};

/** Removes every version's data and the metadata: the key is gone, its next write is version 1. */
const metadataDelete: Handler = async (req, storage) => {
  if (!req.path.includes('/')) return rootWarning();
  const meta = await loadMetadata(storage, req.params.path ?? '');
  if (!meta) return null;
  for (const n of Object.keys(meta.versions)) storage.delete(versionKey(meta.key, Number(n)));
  storage.delete(METADATA_PREFIX + meta.key);
  return null;
};

const f = (type: FieldSchema['type'], description: string): FieldSchema => ({ type, description });

export const metadataPath: PathSpec = {
  pattern: 'metadata/:path*',
  fields: {
    path: f('string', 'Location of the secret.'),
    cas_required: f('bool', 'If true the key will require the cas parameter to be set on all write requests.'),
    metadata_cas_required: f('bool', 'If true the key will require the metadata_cas parameter on all metadata updates.'),
    max_versions: f('int', "The number of versions to keep. If not set, the backend's configured max version is used."),
    delete_version_after: f('duration', "The length of time before a version is deleted. A zero duration clears the current setting."),
    custom_metadata: f('map', 'User-provided key-value pairs that describe the secret, independent of versions.'),
    metadata_cas: f('int', 'Check-and-set parameter for metadata updates: the current metadata version (0 to create).'),
    after: f('string', 'Optional entry to begin listing after. Only used for listing.'),
    limit: f('int', 'Optional number of entries to return; defaults to all entries. Only used for listing.'),
  },
  operations: { read: metadataRead, list: metadataList, create: metadataWrite, update: metadataWrite, patch: metadataPatch, delete: metadataDelete },
  existenceCheck: existsByMetadata,
  help: {
    synopsis: 'Allows interaction with key metadata and settings in the KV store.',
    description: 'Read key metadata, list keys, write key settings, or permanently delete a key and all its versions.',
  },
};

// ---- config ---------------------------------------------------------------------------------------

/** TypeSignedDurationSecond: an int of seconds or a Go duration string, possibly negative. */
function signedSeconds(value: unknown, name: string): number {
  if (typeof value === 'string' && value.trim().startsWith('-')) return -parseDurationSeconds(value.trim().slice(1), name);
  return parseDurationSeconds(value, name);
}

const configRead: Handler = async (_req, storage) => {
  const config = await loadConfig(storage);
  return {
    data: {
      cas_required: config.cas_required,
      delete_version_after: goDuration(config.delete_version_after_s),
      max_versions: config.max_versions,
      metadata_cas_required: config.metadata_cas_required,
    },
  };
};

const configWrite: Handler = async (req, storage) => {
  const fields = ['max_versions', 'cas_required', 'metadata_cas_required', 'delete_version_after'];
  if (!fields.some((name) => has(req, name))) return null;
  checkMaxVersions(req);
  const config = await loadConfig(storage);
  if (has(req, 'max_versions')) config.max_versions = req.fields.max_versions as number;
  if (has(req, 'cas_required')) config.cas_required = req.fields.cas_required as boolean;
  if (has(req, 'metadata_cas_required')) config.metadata_cas_required = req.fields.metadata_cas_required as boolean;
  if (has(req, 'delete_version_after')) {
    const s = signedSeconds(req.fields.delete_version_after, 'delete_version_after');
    config.delete_version_after_s = s < 0 ? DVA_DISABLED_S : s;
  }
  storage.putJson(CONFIG_KEY, config);
  return null;
};

export const configPath: PathSpec = {
  pattern: 'config',
  fields: {
    max_versions: f('int', 'The number of versions to keep for each key. Defaults to 10'),
    cas_required: f('bool', 'If true, the backend will require the cas parameter to be set for each write'),
    metadata_cas_required: f('bool', 'If true, the backend will require the metadata_cas parameter for each metadata update'),
    delete_version_after: f('any', 'If set, the time before a version is deleted. Negative disables it on all keys; zero clears it.'),
  },
  operations: { read: configRead, update: configWrite },
  help: { synopsis: 'Configures settings for the KV store', description: 'Backend level settings applied to every key: max_versions, cas_required, delete_version_after.' },
};
