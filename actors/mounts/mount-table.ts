// The mount tables: secrets engines at core/mounts and auth methods at core/auth, each one
// barrier-encrypted JSON value holding the whole table (Vault's legacy single-entry layout: one read
// validates a cached copy, and enabling a mount is one guarded write).
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
