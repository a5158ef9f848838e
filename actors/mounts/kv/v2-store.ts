// KV v2's storage model under the mount's view (docs/kv.md): the mount config, one metadata record
// per key, one record per version's data. Every read goes through the guarded view, so a handler
// that read a key's metadata and wrote a new version loses (and runs again) if anyone else changed
// that metadata first: version numbers can never be handed out twice.
import { createHash } from 'node:crypto';
import { BoundedMemo } from '../../../runtime/bounded-memo.js';
import { CofferError } from '../../../runtime/errors.js';
import type { StorageView } from '../framework/types.js';
import { goDuration, isObject, rfc3339Nano, type JsonObject } from './format.js';

export const CONFIG_KEY = 'config';
export const METADATA_PREFIX = 'metadata/';
export const VERSIONS_PREFIX = 'versions/';
/** Vault's default when neither the key nor the mount sets max_versions. */
export const DEFAULT_MAX_VERSIONS = 10;
/** Config's delete_version_after when set to a negative duration: disabled for every key. */
export const DVA_DISABLED_S = -1;

export interface KvConfig {
  v: 1;
  max_versions: number;
  cas_required: boolean;
  metadata_cas_required: boolean;
  /** Seconds; 0 = unset, DVA_DISABLED_S = disabled. */
  delete_version_after_s: number;
}

export interface VersionMeta {
  created_ms: number;
  /** When the version is (or will be) soft-deleted; null = live. */
  deletion_ms: number | null;
  destroyed: boolean;
}

export interface KeyMetadata {
  v: 1;
  key: string;
  /** Version number (decimal string) → its metadata; pruned versions are removed. */
  versions: Record<string, VersionMeta>;
  current_version: number;
  oldest_version: number;
  created_ms: number | null;
  updated_ms: number | null;
  max_versions: number;
  cas_required: boolean;
  /** Seconds; 0 = unset. */
  delete_version_after_s: number;
  custom_metadata: Record<string, string> | null;
  current_metadata_version: number;
  metadata_cas_required: boolean;
}

export interface VersionRecord {
  v: 1;
  data: JsonObject;
  /** Only in records written before session 16: the metadata's versions[n].created_ms is the one read. */
  created_ms?: number;
}

export function emptyConfig(): KvConfig {
  return { v: 1, max_versions: 0, cas_required: false, metadata_cas_required: false, delete_version_after_s: 0 };
}

export function newMetadata(key: string): KeyMetadata {
  return {
    v: 1,
    key,
    versions: {},
    current_version: 0,
    oldest_version: 0,
    created_ms: null,
    updated_ms: null,
    max_versions: 0,
    cas_required: false,
    delete_version_after_s: 0,
    custom_metadata: null,
    current_metadata_version: 0,
    metadata_cas_required: false,
  };
}

/** A key name must stay inside its storage prefix. */
export function checkKeyName(key: string): void {
  if (key.startsWith('/') || key.split('/').includes('..')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid key name "${key}"`);
}

export async function loadConfig(storage: StorageView): Promise<KvConfig> {
  return (await storage.getJson<KvConfig>(CONFIG_KEY)) ?? emptyConfig();
}

// Stored form of a key's metadata: only `v` and the fields that differ from newMetadata's defaults (the
// key itself is the record's storage path). A first write's record went from ~330 bytes of JSON to ~110:
// with the version record, the metadata is one of the two records every secret keeps, and 100,000
// secrets' LMDB file shrank by a fifth (docs/kv.md "Storage records"). Records written before, with every
// field, load the same: loading fills in whatever is absent.
const VERSION_DEFAULTS: Omit<VersionMeta, 'created_ms'> = { deletion_ms: null, destroyed: false };

export async function loadMetadata(storage: StorageView, key: string): Promise<KeyMetadata | undefined> {
  if (key === '') return undefined;
  checkKeyName(key);
  const stored = await storage.getJson<Partial<KeyMetadata>>(METADATA_PREFIX + key);
  if (stored === undefined) return undefined;
  const meta: KeyMetadata = { ...newMetadata(key), ...stored, key, versions: {} };
  if (stored.updated_ms === undefined) meta.updated_ms = meta.created_ms; // left out when equal
  for (const [n, vm] of Object.entries(stored.versions ?? {})) meta.versions[n] = { ...VERSION_DEFAULTS, ...vm };
  return meta;
}

export function saveMetadata(storage: StorageView, meta: KeyMetadata): void {
  checkKeyName(meta.key);
  storage.putJson(METADATA_PREFIX + meta.key, storedMetadata(meta));
}

/** The record saveMetadata writes: `v`, then every field that differs from its default (updated_ms: from created_ms). */
function storedMetadata(meta: KeyMetadata): Partial<KeyMetadata> {
  const defaults = newMetadata(meta.key) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { v: meta.v };
  for (const [field, value] of Object.entries(meta)) {
    if (field === 'v' || field === 'key' || field === 'versions') continue;
    if (field === 'updated_ms' && value === meta.created_ms) continue; // a key never changed since its creation
    if (value !== defaults[field]) out[field] = value;
  }
  const versions: Record<string, Partial<VersionMeta>> = {};
  for (const [n, vm] of Object.entries(meta.versions)) {
    const v: Partial<VersionMeta> = { created_ms: vm.created_ms };
    if (vm.deletion_ms !== VERSION_DEFAULTS.deletion_ms) v.deletion_ms = vm.deletion_ms;
    if (vm.destroyed !== VERSION_DEFAULTS.destroyed) v.destroyed = vm.destroyed;
    versions[n] = v;
  }
  if (Object.keys(versions).length > 0) out.versions = versions;
  return out as Partial<KeyMetadata>;
}

/** Where a version's data lives: hex(SHA-256(key|version)) split after 3 chars, as Vault spreads them. */
/**
 * Recent version keys: every read of a secret derives its version's storage key, and the SHA-256 behind it
 * was ~3% of a handler's CPU per KV v2 read. Bounded, oldest out first.
 */
const versionKeyMemo = new BoundedMemo<string>(10_000);

export function versionKey(key: string, version: number): string {
  return versionKeyMemo.get(`${key}|${version}`, (name) => {
    const h = createHash('sha256').update(name).digest('hex');
    return `${VERSIONS_PREFIX}${h.slice(0, 3)}/${h.slice(3)}`;
  });
}

export async function loadVersion(storage: StorageView, key: string, version: number): Promise<VersionRecord> {
  const rec = await storage.getJson<VersionRecord>(versionKey(key, version));
  if (!rec) throw new CofferError('COFFER_ERR_INTERNAL', 'could not find version data');
  return rec;
}

/** A version is deleted once its deletion time has come (Vault: strictly before now; see docs/kv.md). */
export function isDeleted(vm: VersionMeta, nowMs: number): boolean {
  return vm.deletion_ms !== null && vm.deletion_ms <= nowMs;
}

/** Deletion time from delete_version_after: the smaller non-zero of mount and key, or null. */
export function deletionTimeMs(fromMs: number, config: KvConfig, meta: KeyMetadata): number | null {
  if (config.delete_version_after_s === DVA_DISABLED_S) return null;
  const mount = config.delete_version_after_s;
  const key = meta.delete_version_after_s;
  if (mount === 0 && key === 0) return null;
  let min = key;
  if ((mount !== 0 && mount < min) || min === 0) min = mount;
  return fromMs + min * 1000;
}

/**
 * Adds the next version and slides the max_versions window (OpenBao's AddVersion: the larger of the
 * key's and the mount's max_versions, else 10). Returns the new version's metadata and the numbers of
 * the versions pruned, whose data the caller deletes.
 */
export function addVersion(meta: KeyMetadata, createdMs: number, deletionMs: number | null, configMax: number): { vm: VersionMeta; pruned: number[] } {
  const vm: VersionMeta = { created_ms: createdMs, deletion_ms: deletionMs, destroyed: false };
  meta.current_version += 1;
  meta.versions[String(meta.current_version)] = vm;
  meta.updated_ms = createdMs;
  if (meta.created_ms === null) meta.created_ms = createdMs;
  const larger = Math.max(meta.max_versions, configMax);
  const maxVersions = larger > 0 ? larger : DEFAULT_MAX_VERSIONS;
  const pruned: number[] = [];
  if (meta.current_version - meta.oldest_version >= maxVersions) {
    const toDelete = meta.current_version - maxVersions;
    for (let i = meta.oldest_version; i <= toDelete; i++) {
      if (meta.versions[String(i)] !== undefined) pruned.push(i);
      delete meta.versions[String(i)];
    }
    meta.oldest_version = toDelete + 1;
  }
  return { vm, pruned };
}

/** The version metadata as a data write, a patch and the deleted-version 404 report it (keys sorted). */
export function versionResponse(meta: KeyMetadata, version: number, vm: VersionMeta): JsonObject {
  return {
    created_time: rfc3339Nano(vm.created_ms),
    custom_metadata: meta.custom_metadata,
    deletion_time: rfc3339Nano(vm.deletion_ms),
    destroyed: vm.destroyed,
    version,
  };
}

/** GET metadata/<key> (keys sorted, as Go encodes the map). */
export function metadataResponse(meta: KeyMetadata): JsonObject {
  const versions: JsonObject = {};
  for (const n of Object.keys(meta.versions).map(Number).sort((a, b) => a - b)) {
    const vm = meta.versions[String(n)] as VersionMeta;
    versions[String(n)] = { created_time: rfc3339Nano(vm.created_ms), deletion_time: rfc3339Nano(vm.deletion_ms), destroyed: vm.destroyed };
  }
  return {
    cas_required: meta.cas_required,
    created_time: rfc3339Nano(meta.created_ms),
    current_metadata_version: meta.current_metadata_version,
    current_version: meta.current_version,
    custom_metadata: meta.custom_metadata,
    delete_version_after: goDuration(meta.delete_version_after_s),
    max_versions: meta.max_versions,
    metadata_cas_required: meta.metadata_cas_required,
    oldest_version: meta.oldest_version,
    updated_time: rfc3339Nano(meta.updated_ms),
    versions,
  };
}

/**
 * Checks `options.cas` against the key's current version (0 = the key must not exist yet), or that
 * one was given when the mount or the key requires it. Messages are Vault's.
 */
export function checkCas(options: unknown, config: KvConfig, meta: KeyMetadata): void {
  const cas = isObject(options) && Object.prototype.hasOwnProperty.call(options, 'cas') ? options.cas : undefined;
  if (cas !== undefined) {
    const n = weakInt(cas);
    if (n === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'error parsing check-and-set parameter');
    if (n !== meta.current_version) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'check-and-set parameter did not match the current version');
  } else if (config.cas_required || meta.cas_required) {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'check-and-set parameter required for this call');
  }
}

/** mapstructure's weak decoding to an int: numbers, numeric strings, booleans; null counts as 0. */
export function weakInt(v: unknown): number | null {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '') return 0;
    return /^[-+]?\d+$/.test(s) ? Number(s) : null;
  }
  return null;
}
