// Token store internals shared by the auth/token/ handlers and the request pipeline's helpers
// (store.ts): liveness (expiry, explicit max, num_uses, the parent chain), revocation of a subtree or
// of one token with its children orphaned, TTL calculation as Vault's framework.CalculateTTL, and the
// lookup / auth response shapes. Everything works on the token store's storage view, whose keys are
// relative to sys/token/: id/<salted>, accessor/<salted accessor>, parent/<salted parent>/<salted child>, salt.
// No plaintext token is ever written: entries are keyed by salted hash and refer to their parent by salted hash.
import { CofferError } from '../../../runtime/errors.js';
import { revokeTokenResources } from '../../expiration/revoke-token.js';
import { storageLimits } from '../../storage/storage-limits.js';
import { newSalt, saltedId, safeEqual, tokenExpiresAtMs, TOKEN_STORE_PREFIX, type TokenEntry } from '../../core/tokens.js';
import type { AuthResponse, HandlerRequest, StorageView } from '../framework/types.js';

export const SALT_KEY = 'salt';
export const idKey = (salted: string) => `id/${salted}`;
export const accessorKey = (saltedAccessor: string) => `accessor/${saltedAccessor}`;
export const parentKey = (parentSalted: string, childSalted: string) => `parent/${parentSalted}/${childSalted}`;
const ID_KEY_PREFIX = `${TOKEN_STORE_PREFIX}id/`;

/** Vault's system-wide default and max lease TTL (768h), used when the mount says 0. */
export const SYSTEM_LEASE_TTL_S = 2764800;
/** Ancestor chains longer than this are treated as broken (cycles cannot happen; this bounds the walk). */
export const PARENT_CHAIN_MAX = 256;

/** The per-cluster token salt; created in this write-set if missing (the core creates it at init). */
export async function tokenSalt(storage: StorageView): Promise<string> {
  const raw = await storage.get(SALT_KEY);
  if (raw !== undefined) return raw.toString('utf8');
  const salt = newSalt();
  storage.put(SALT_KEY, Buffer.from(salt));
  return salt;
}

/** `sys/token/id/h…` (CallerInfo.tokenKey) → `h…`. */
export function saltedFromTokenKey(tokenKey: string | null): string | null {
  if (tokenKey === null || !tokenKey.startsWith(ID_KEY_PREFIX)) return null;
  const s = tokenKey.slice(ID_KEY_PREFIX.length);
  return s === '' || s.includes('/') ? null : s;
}

/** The entry alone is usable: not consumed, not expired (explicit max included). Ancestors not checked. */
export function entryIsLive(entry: TokenEntry, nowMs: number): boolean {
  if (entry.num_uses < 0) return false;
  const at = tokenExpiresAtMs(entry);
  return at === null || at > nowMs;
}

export async function loadRaw(storage: StorageView, salted: string): Promise<TokenEntry | undefined> {
  return storage.getJson<TokenEntry>(idKey(salted));
}

/**
 * The entry if the token is valid now: itself live and every ancestor present and live. A child of an
 * expired or missing parent is dead even before anything deletes it (Vault revokes the tree when the
 * parent's lease ends; without an expiration sweep this check is what enforces it).
 */
export async function loadLive(storage: StorageView, salted: string, nowMs: number): Promise<TokenEntry | null> {
  const entry = await loadRaw(storage, salted);
  if (!entry || !entryIsLive(entry, nowMs)) return null;
  let cur = entry;
  for (let depth = 0; cur.parent; depth++) {
    if (depth >= PARENT_CHAIN_MAX) return null;
    const p = await loadRaw(storage, cur.parent);
    if (!p || !entryIsLive(p, nowMs)) return null;
    cur = p;
  }
  return entry;
}

/** Salted token id the accessor points at, if the index entry exists and matches its token's accessor. */
export async function accessorTarget(storage: StorageView, salt: string, accessor: string): Promise<string | null> {
  const raw = await storage.get(accessorKey(saltedId(salt, accessor)));
  if (raw === undefined) return null;
  const target = accessorIndexTarget(raw);
  return target;
}

/** The accessor index value is the full storage key of the token entry (as the core writes it). */
export function accessorIndexTarget(raw: Buffer): string | null {
  const text = raw.toString('utf8');
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as { token_key?: unknown };
      return typeof j.token_key === 'string' ? saltedFromTokenKey(j.token_key) : null;
    } catch {
      return null;
    }
  }
  return saltedFromTokenKey(text);
}

/** Verifies (constant time) that an entry reached through an accessor index really carries that accessor. */
export function accessorMatches(entry: TokenEntry, accessor: string): boolean {
  return safeEqual(entry.accessor, accessor);
}

function checkOpBudget(count: number): void {
  // Each revoked token costs up to 3 deletes plus its index under its parent; stay inside one write-set.
  if (count > storageLimits.writeSetOpsMax - 8) {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `token tree too large to revoke in one request (${count} storage operations)`);
  }
}

function deleteEntry(storage: StorageView, salt: string, salted: string, entry: TokenEntry | undefined): number {
  storage.delete(idKey(salted));
  let ops = 1;
  if (entry?.accessor) {
    storage.delete(accessorKey(saltedId(salt, entry.accessor)));
    ops++;
  }
  if (entry?.parent) {
    storage.delete(parentKey(entry.parent, salted));
    ops++;
  }
  return ops;
}

/**
 * Revokes a token and its whole subtree (children, grandchildren, …) into this request's write-set:
 * entries, accessor indexes and parent indexes. Returns how many token entries were deleted.
 */
export async function revokeTree(storage: StorageView, salt: string, salted: string): Promise<number> {
  const stack = [salted];
  const seen = new Set<string>();
  let ops = 0;
  let revoked = 0;
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const child of await storage.list(`parent/${id}/`)) {
      if (child.endsWith('/')) continue;
      storage.delete(parentKey(id, child));
      ops++;
      if (!seen.has(child)) stack.push(child);
    }
    const entry = await loadRaw(storage, id);
    if (entry) revoked++;
    ops += deleteEntry(storage, salt, id, entry);
    // Its cubbyhole and its leases go in the same write-set (actors/expiration/revoke-token.ts).
    ops += await revokeTokenResources(storage, id);
    checkOpBudget(ops);
  }
  return revoked;
}

/** Revokes one token; its children stay valid and become orphans (parent cleared). */
export async function revokeOrphan(storage: StorageView, salt: string, salted: string): Promise<void> {
  const entry = await loadRaw(storage, salted);
  let ops = deleteEntry(storage, salt, salted, entry) + (await revokeTokenResources(storage, salted));
  for (const child of await storage.list(`parent/${salted}/`)) {
    if (child.endsWith('/')) continue;
    storage.delete(parentKey(salted, child));
    ops++;
    const ce = await loadRaw(storage, child);
    if (ce) {
      storage.putJson(idKey(child), { ...ce, parent: null, orphan: true } satisfies TokenEntry);
      ops++;
    }
    checkOpBudget(ops);
  }
}

// ---- TTLs ------------------------------------------------------------------------------------------

export interface TtlInputs {
  mountDefaultS: number;
  mountMaxS: number;
  incrementS: number;
  backendTtlS: number;
  periodS: number;
  explicitMaxS: number;
  /** Lease start (creation/issue time). */
  startMs: number;
  nowMs: number;
}

export interface TtlResult {
  ttlS: number;
  /** When the lease ends: now + ttl, never past the cap. */
  expireMs: number;
  warnings: string[];
}

/** Vault's framework.CalculateTTL, in whole seconds (Vault truncates start and now to the second). */
export function calculateTtl(i: TtlInputs): TtlResult {
  const now = Math.floor(i.nowMs / 1000);
  const start = Math.floor(i.startMs / 1000);
  let maxTtl = i.mountMaxS > 0 ? i.mountMaxS : SYSTEM_LEASE_TTL_S;
  if (i.explicitMaxS > 0 && i.explicitMaxS < maxTtl) maxTtl = i.explicitMaxS;
  const warnings: string[] = [];
  let ttl: number;
  let maxValid: number | null = null;
  if (i.periodS > 0) {
    let period = i.periodS;
    if (period > maxTtl) {
      warnings.push(`period of "${humanDuration(period)}" exceeded the effective max_ttl of "${humanDuration(maxTtl)}"; period value is capped accordingly`);
      period = maxTtl;
    }
    ttl = period;
    if (i.explicitMaxS > 0) maxValid = start + i.explicitMaxS;
  } else {
    ttl = i.incrementS > 0 ? i.incrementS : i.backendTtlS > 0 ? i.backendTtlS : i.mountDefaultS > 0 ? i.mountDefaultS : SYSTEM_LEASE_TTL_S;
    maxValid = start + maxTtl;
  }
  let expireMs = i.nowMs + ttl * 1000;
  if (maxValid !== null) {
    const maxValidTtl = maxValid - now;
    if (maxValidTtl <= 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'past the max TTL, cannot renew');
    if (maxValidTtl < ttl) {
      warnings.push(`TTL of "${humanDuration(ttl)}" exceeded the effective max_ttl of "${humanDuration(maxValidTtl)}"; TTL value is capped accordingly`);
      ttl = maxValidTtl;
    }
    expireMs = Math.min(i.nowMs + ttl * 1000, maxValid * 1000);
  }
  return { ttlS: ttl, expireMs, warnings };
}

/** Go's time.Duration.String() for whole seconds ("768h0m0s", "1m30s", "45s", "0s"). */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** Vault's humanDuration: the Go string without zero tails ("768h", "1h30m", "45s"). */
export function humanDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let s = goDuration(seconds);
  if (s.endsWith('m0s')) s = s.slice(0, -2);
  const idx = s.indexOf('h0m');
  if (idx > 0) s = s.slice(0, idx + 1) + s.slice(idx + 3);
  return s;
}

/** Go's JSON form of a time.Time in UTC (RFC3339Nano: fraction without trailing zeros). */
export function goTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d+)Z$/, (_m, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f === '' ? 'Z' : `.${f}Z`;
  });
}

// ---- response shapes ------------------------------------------------------------------------------

/** lookup / lookup-self / lookup-accessor data, as Vault's handleLookup. `id` is "" for lookup-accessor. */
export function lookupData(entry: TokenEntry, id: string, nowMs: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id,
    accessor: entry.accessor,
    policies: entry.policies,
    path: entry.path,
    meta: entry.meta,
    display_name: entry.display_name,
    num_uses: entry.num_uses,
    orphan: !entry.parent,
    creation_time: Math.floor(entry.creation_time_ms / 1000),
    creation_ttl: entry.ttl_s,
    expire_time: null,
    ttl: 0,
    explicit_max_ttl: entry.explicit_max_ttl_s ?? 0,
    entity_id: entry.entity_id ?? '',
    type: entry.type ?? 'service',
  };
  if ((entry.period_s ?? 0) > 0) data['period'] = entry.period_s;
  if (entry.role) data['role'] = entry.role;
  if (entry.namespace_path) data['namespace_path'] = entry.namespace_path;
  if (entry.bound_cidrs && entry.bound_cidrs.length > 0) data['bound_cidrs'] = entry.bound_cidrs;
  // Only tokens with a lease (everything the store created) carry lease times; the init root token has none.
  if (entry.issue_time_ms !== undefined) {
    if (entry.last_renewal_time_ms !== undefined) {
      data['last_renewal_time'] = Math.floor(entry.last_renewal_time_ms / 1000);
      data['last_renewal'] = goTime(entry.last_renewal_time_ms);
    }
    const expire = tokenExpiresAtMs(entry);
    if (expire !== null) {
      data['expire_time'] = goTime(expire);
      data['ttl'] = Math.trunc((expire - Math.round(nowMs / 1000) * 1000) / 1000);
    }
    data['renewable'] = renewableNow(entry, nowMs) === null;
    data['issue_time'] = goTime(entry.issue_time_ms);
  }
  return data;
}

/** Why the token's lease cannot be renewed now (Vault's leaseEntry.renewable), or null when it can. */
export function renewableNow(entry: TokenEntry, nowMs: number): string | null {
  if (entry.issue_time_ms === undefined) return 'invalid lease ID';
  const expire = tokenExpiresAtMs(entry);
  if (expire === null) return 'lease is not renewable';
  if (expire <= nowMs) return 'lease expired';
  if (!entry.renewable) return 'lease is not renewable';
  return null;
}

export function authOf(entry: TokenEntry, clientToken: string, leaseDurationS: number, renewable: boolean): AuthResponse {
  return {
    client_token: clientToken,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: entry.meta,
    lease_duration: leaseDurationS,
    renewable,
    entity_id: entry.entity_id ?? '',
    token_type: 'service',
    orphan: !entry.parent,
    num_uses: entry.num_uses,
  };
}

// ---- the request's own token ----------------------------------------------------------------------

/**
 * The calling token as the client sent it: `X-Vault-Token`, else `Authorization: Bearer <t>` (§0.2).
 * The pipeline passes request headers (lower-cased) to the handler; CallerInfo never carries the token.
 */
export function requestToken(req: Pick<HandlerRequest, 'headers'>): string | null {
  const h = req.headers['x-vault-token'];
  if (h) return h;
  const auth = req.headers['authorization'];
  if (auth && auth.startsWith('Bearer ')) {
    const t = auth.slice('Bearer '.length).trim();
    if (t) return t;
  }
  return null;
}
