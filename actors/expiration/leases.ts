// Leases (OpenBao's expiration.go, facts only, own code). A lease is a JSON entry at
// `sys/expire/id/<lease_id>` plus two index keys whose values are the lease id:
//   sys/expire/token/<salted owner token>/<lease hash>   every lease a token owns (its own auth lease too),
//                                                       walked when the token is revoked;
//   sys/expire/at/<16-digit due ms>/<lease hash>         a due-time hint, range-scanned by the expiration
//                                                       actor (actors/expiration/worker.ts).
// Times are the request time the pipeline stamped (HandlerRequest.nowMs) and are stored in the entry;
// nothing here reads a clock. Functions take `sys`, a storage view rooted at '' (ScopedStorage.rebase('')),
// so a lease is written or revoked in the same write-set as the request that caused it.
import { createHash } from 'node:crypto';
import { randomBase62, tokenExpiresAtMs, TOKEN_STORE_PREFIX, type TokenEntry } from '../core/tokens.js';
import type { StorageView } from '../mounts/framework/types.js';

export const LEASE_PREFIX = 'sys/expire/id/';
export const LEASE_TOKEN_INDEX_PREFIX = 'sys/expire/token/';
export const LEASE_DUE_INDEX_PREFIX = 'sys/expire/at/';
/** Digits of the due time in a hint key: ms since epoch zero-padded so keys sort by time. */
const DUE_DIGITS = 16;

export interface LeaseEntry {
  lease_id: string;
  /** secret: a leased read (KV v1 with leased_passthrough); auth: a token's own lease. */
  kind: 'secret' | 'auth';
  /** The request path the lease was issued for (e.g. "kv1/app", "auth/token/create"). */
  path: string;
  /** Salted id (`h…`) of the owning token (secret) or of the token itself (auth). Never a token. */
  token_key: string;
  issue_time_ms: number;
  /** Secret leases: the expiry. Auth leases: the token's expiry when registered (the token entry is the truth). */
  expire_time_ms: number | null;
  last_renewal_time_ms: number | null;
  /** The lease's TTL as last issued or renewed (seconds). */
  ttl_s: number;
  renewable: boolean;
  /** Ceiling for renewals from issue_time (the mount's max lease TTL), seconds. */
  max_ttl_s: number;
  /** Due time of the lease's sys/expire/at/ hint key, or null when it has none. */
  due_ms: number | null;
}

export const leaseKey = (leaseId: string) => `${LEASE_PREFIX}${leaseId}`;
export const leaseHash = (leaseId: string) => createHash('sha256').update(leaseId).digest('hex').slice(0, 40);
export const dueKey = (dueMs: number, leaseId: string) => `${LEASE_DUE_INDEX_PREFIX}${String(dueMs).padStart(DUE_DIGITS, '0')}/${leaseHash(leaseId)}`;
export const tokenIndexKey = (salted: string, leaseId: string) => `${LEASE_TOKEN_INDEX_PREFIX}${salted}/${leaseHash(leaseId)}`;

/** The due time encoded in a hint key's time segment, or null if the key is not a hint. */
export function dueMsOfKey(key: string): number | null {
  if (!key.startsWith(LEASE_DUE_INDEX_PREFIX)) return null;
  const seg = key.slice(LEASE_DUE_INDEX_PREFIX.length).split('/')[0] ?? '';
  return /^\d{16}$/.test(seg) ? Number(seg) : null;
}

/** A lease id must stay inside sys/expire/id/ and be a plausible Vault lease id. */
export function validLeaseId(leaseId: string): boolean {
  if (leaseId === '' || leaseId.length > 900) return false;
  const segments = leaseId.split('/');
  return !segments.includes('..') && !segments.includes('');
}

function writeLease(sys: StorageView, lease: LeaseEntry): void {
  sys.putJson(leaseKey(lease.lease_id), lease);
  sys.put(tokenIndexKey(lease.token_key, lease.lease_id), Buffer.from(lease.lease_id));
  if (lease.due_ms !== null) sys.put(dueKey(lease.due_ms, lease.lease_id), Buffer.from(lease.lease_id));
}

export interface SecretLeaseInput {
  /** Full request path (mount path + path inside the mount), no trailing slash. */
  path: string;
  ownerSalted: string;
  ttlS: number;
  maxTtlS: number;
  renewable: boolean;
  nowMs: number;
}

/** Registers a secret lease (`<path>/<24 base62>`) into this write-set. */
export function registerSecretLease(sys: StorageView, i: SecretLeaseInput): LeaseEntry {
  const leaseId = `${i.path.replace(/\/+$/, '')}/${randomBase62(24)}`;
  const expire = i.nowMs + i.ttlS * 1000;
  const lease: LeaseEntry = {
    lease_id: leaseId,
    kind: 'secret',
    path: i.path,
    token_key: i.ownerSalted,
    issue_time_ms: i.nowMs,
    expire_time_ms: expire,
    last_renewal_time_ms: null,
    ttl_s: i.ttlS,
    renewable: i.renewable,
    max_ttl_s: i.maxTtlS,
    due_ms: expire,
  };
  writeLease(sys, lease);
  return lease;
}

/** Registers a token's own lease `<token path>/<salted id>` (Vault's RegisterAuth) into this write-set. */
export function registerAuthLease(sys: StorageView, salted: string, entry: TokenEntry, nowMs: number): LeaseEntry {
  const expire = tokenExpiresAtMs(entry);
  const lease: LeaseEntry = {
    lease_id: `${entry.path.replace(/\/+$/, '')}/${salted}`,
    kind: 'auth',
    path: entry.path,
    token_key: salted,
    issue_time_ms: entry.issue_time_ms ?? nowMs,
    expire_time_ms: expire,
    last_renewal_time_ms: null,
    ttl_s: entry.ttl_s,
    renewable: entry.renewable === true,
    max_ttl_s: 0,
    due_ms: expire,
  };
  writeLease(sys, lease);
  return lease;
}

export async function loadLease(sys: StorageView, leaseId: string): Promise<LeaseEntry | undefined> {
  if (!validLeaseId(leaseId)) return undefined;
  return sys.getJson<LeaseEntry>(leaseKey(leaseId));
}

export async function loadTokenEntry(sys: StorageView, salted: string): Promise<TokenEntry | undefined> {
  return sys.getJson<TokenEntry>(`${TOKEN_STORE_PREFIX}id/${salted}`);
}

/** The lease's current expiry: for auth leases the token entry's (null = never; 0 = token gone). */
export async function currentExpiry(sys: StorageView, lease: LeaseEntry): Promise<{ expireMs: number | null; token: TokenEntry | undefined }> {
  if (lease.kind === 'secret') return { expireMs: lease.expire_time_ms, token: undefined };
  const token = await loadTokenEntry(sys, lease.token_key);
  if (!token) return { expireMs: 0, token };
  return { expireMs: token.num_uses < 0 ? 0 : tokenExpiresAtMs(token), token };
}

/** Deletes the lease entry and both its index keys. Returns the number of storage operations. */
export function deleteLease(sys: StorageView, lease: LeaseEntry): number {
  sys.delete(leaseKey(lease.lease_id));
  sys.delete(tokenIndexKey(lease.token_key, lease.lease_id));
  if (lease.due_ms !== null) sys.delete(dueKey(lease.due_ms, lease.lease_id));
  return lease.due_ms !== null ? 3 : 2;
}

/** Moves the due hint of a lease (renewal, or a token renewed through auth/token/). */
export function moveDue(sys: StorageView, lease: LeaseEntry, dueMs: number | null): LeaseEntry {
  if (lease.due_ms !== null) sys.delete(dueKey(lease.due_ms, lease.lease_id));
  const moved = { ...lease, due_ms: dueMs };
  sys.putJson(leaseKey(lease.lease_id), moved);
  if (dueMs !== null) sys.put(dueKey(dueMs, lease.lease_id), Buffer.from(lease.lease_id));
  return moved;
}

/**
 * Deletes every lease `salted` owns (secret leases and its own auth lease) into this write-set:
 * the token is being revoked. KV leases need no backend call (Vault's passthrough revoke is a no-op).
 */
export async function revokeLeasesOfToken(sys: StorageView, salted: string): Promise<number> {
  let ops = 0;
  const root = `${LEASE_TOKEN_INDEX_PREFIX}${salted}/`;
  for (const name of await sys.list(root)) {
    if (name.endsWith('/')) continue;
    const raw = await sys.get(`${root}${name}`);
    const lease = raw === undefined ? undefined : await loadLease(sys, raw.toString('utf8'));
    if (lease) ops += deleteLease(sys, lease);
    else {
      sys.delete(`${root}${name}`);
      ops++;
    }
  }
  return ops;
}

/** Vault's lease lookup data (`sys/leases/lookup`). */
export function leaseLookupData(lease: LeaseEntry, expireMs: number | null, renewable: boolean, nowMs: number): Record<string, unknown> {
  return {
    id: lease.lease_id,
    issue_time: goTime(lease.issue_time_ms),
    expire_time: expireMs === null ? null : goTime(expireMs),
    last_renewal: lease.last_renewal_time_ms === null ? null : goTime(lease.last_renewal_time_ms),
    ttl: expireMs === null ? 0 : Math.trunc((expireMs - Math.round(nowMs / 1000) * 1000) / 1000),
    path: lease.path,
    renewable,
  };
}

/** Go's JSON form of a time.Time in UTC (RFC3339Nano: fraction without trailing zeros). */
export function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d+)Z$/, (_m, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f === '' ? 'Z' : `.${f}Z`;
  });
}
