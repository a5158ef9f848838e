// The mount tables: secrets engines at core/mounts and auth methods at core/auth, each one
// barrier-encrypted JSON value holding the whole table (Vault's legacy single-entry layout: one read
// validates a cached copy, and enabling a mount is one guarded write).
import { randomBytes, randomUUID } from 'node:crypto';
import type { MountInfo } from './framework/types.js';

export const MOUNTS_KEY = 'core/mounts';
export const AUTH_KEY = 'core/auth';

/** One row of a mount table as stored (Vault's MountEntry field names where they exist). */
export interface MountEntry {
  /** Path with a trailing slash; auth entries are stored without the "auth/" prefix, as Vault does. */
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  config: {
    default_lease_ttl: number;
    max_lease_ttl: number;
    force_no_cache?: boolean;
    audit_non_hmac_request_keys?: string[];
    audit_non_hmac_response_keys?: string[];
    listing_visibility?: string;
    passthrough_request_headers?: string[];
    allowed_response_headers?: string[];
    /** Auth mounts only: "default-service" (Vault's default), "default-batch", "service" or "batch". */
    token_type?: string;
  };
  options: Record<string, string> | null;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
  plugin_version: string;
  running_plugin_version: string;
  running_sha256: string;
}

export interface MountTable {
  entries: MountEntry[];
}

export const SYSTEM_DEFAULT_TTL_S = 2764800; // 768h, Vault's default and max lease TTL

/** The routing view of an entry: auth entries gain their "auth/" prefix here. */
export function mountInfoOf(entry: MountEntry, table: 'mounts' | 'auth'): MountInfo {
  return {
    path: table === 'auth' ? `auth/${entry.path}` : entry.path,
    type: entry.type,
    uuid: entry.uuid,
    accessor: entry.accessor,
    options: entry.options ?? {},
    defaultLeaseTtlS: entry.config.default_lease_ttl || SYSTEM_DEFAULT_TTL_S,
    maxLeaseTtlS: entry.config.max_lease_ttl || SYSTEM_DEFAULT_TTL_S,
  };
}

/** Longest-prefix match of a request path against mount paths (which end in "/"). */
export function longestPrefix<T extends { path: string }>(mounts: T[], path: string): T | null {
  let best: T | null = null;
  for (const m of mounts) {
    if ((path === m.path.slice(0, -1) || path.startsWith(m.path)) && (best === null || m.path.length > best.path.length)) best = m;
  }
  return best;
}

// ---- helpers shared by sys/mounts, sys/auth and the pipeline's init (additive) ----------------------

/** The running version Vault reports for built-in plugins: `v<version>+builtin.<product>`. */
export const BUILTIN_RUNNING_VERSION = 'v0.1.0+builtin.coffer';

/** What a caller may set when enabling a mount; everything else gets Vault's defaults. */
export interface NewMountOptions {
  description?: string;
  config?: Partial<MountEntry['config']>;
  options?: Record<string, string> | null;
  local?: boolean;
  seal_wrap?: boolean;
  external_entropy_access?: boolean;
  plugin_version?: string;
}

/**
 * A new mount table row. `path` must already be normalised (trailing `/`, no leading `/`; auth paths without
 * "auth/"). TTLs 0 mean "system default" as in Vault.
 */
export function newMountEntry(type: string, path: string, opts: NewMountOptions, uuid: string, accessor: string): MountEntry {
  return {
    path,
    type,
    description: opts.description ?? '',
    uuid,
    accessor,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, ...(opts.config ?? {}) },
    options: opts.options ?? null,
    local: opts.local ?? false,
    seal_wrap: opts.seal_wrap ?? false,
    external_entropy_access: opts.external_entropy_access ?? false,
    plugin_version: opts.plugin_version ?? '',
    running_plugin_version: BUILTIN_RUNNING_VERSION,
    running_sha256: '',
  };
}

/**
 * Vault's mount accessor: `<type>_<8 hex>` for secrets engines, `auth_<type>_<8 hex>` for auth methods
 * (e.g. "kv_1a2b3c4d", "auth_token_5e6f7a8b"). `hex8` is 8 random lower-case hex characters.
 */
export function mountAccessor(table: 'mounts' | 'auth', type: string, hex8: string): string {
  return table === 'auth' ? `auth_${type}_${hex8}` : `${type}_${hex8}`;
}

/** A built-in mount's row (cubbyhole/, sys/, auth/token/, dev mode's secret/): a fresh UUID and accessor. */
export function builtinMountEntry(table: 'mounts' | 'auth', type: string, path: string, description: string, options: Record<string, string> | null = null): MountEntry {
  return newMountEntry(type, path, { description, options }, randomUUID(), mountAccessor(table, type, randomBytes(4).toString('hex')));
}

/** The storage key of a table. */
export function tableKey(table: 'mounts' | 'auth'): string {
  return table === 'auth' ? AUTH_KEY : MOUNTS_KEY;
}

/** Where a mount's own data lives (§6): `logical/<uuid>/` or `auth/<uuid>/`. */
export function mountDataPrefix(table: 'mounts' | 'auth', uuid: string): string {
  return `${table === 'auth' ? 'auth' : 'logical'}/${uuid}/`;
}
