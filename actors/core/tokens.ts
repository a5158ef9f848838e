// Token identity and storage keys. Tokens are never stored in plaintext: the storage key is an HMAC
// of the token under a per-cluster salt, so a stolen FSM yields no usable token (and every value is
// barrier-encrypted on top). Lookups go by hash, so no plaintext token is ever compared.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { BoundedMemo } from '../../runtime/bounded-memo.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform base62 string from rejection sampling (no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248) out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** OpenBao's service token shape: `s.` + 24 base62 characters. */
export function newServiceToken(): string {
  return `s.${randomBase62(24)}`;
}

export function newAccessor(): string {
  return randomBase62(24);
}

export function newSalt(): string {
  return randomUUID();
}

/** `h` + hex(HMAC-SHA256(salt, value)), as OpenBao salts token IDs and accessors. */
/**
 * Recent salted ids, so a token presented on every request is hashed once, not per request (the HMAC
 * was ~6% of a read's CPU). Bounded; lives only in this thread's memory, like the token it is keyed by
 * while that request runs.
 */
const saltedMemo = new BoundedMemo<string>(10_000);

export function saltedId(salt: string, value: string): string {
  return saltedMemo.get(`${salt}\0${value}`, () => `h${createHmac('sha256', salt).update(value).digest('hex')}`);
}

export const TOKEN_SALT_KEY = 'sys/token/salt';
export const tokenIdKey = (salt: string, token: string) => `sys/token/id/${saltedId(salt, token)}`;
export const tokenAccessorKey = (salt: string, accessor: string) => `sys/token/accessor/${saltedId(salt, accessor)}`;

export interface TokenEntry {
  /** The accessor, not the token: an entry never holds the token it describes. */
  accessor: string;
  policies: string[];
  path: string;
  display_name: string;
  creation_time_ms: number;
  ttl_s: number;
  num_uses: number;
  orphan: boolean;
  meta: Record<string, string> | null;
  // ---- Token store fields (auth/token/). All optional: entries written before them (the init root
  // token) stay readable, and an absent field means what the init root token needs.
  /** Salted id (`h…`, the key under sys/token/id/) of the parent token; absent or null for orphans. Never the token. */
  parent?: string | null;
  /** Hard ceiling on the token's life from creation (0/absent: none). */
  explicit_max_ttl_s?: number;
  /** Periodic token: each renewal sets the TTL to this (0/absent: not periodic). */
  period_s?: number;
  /** Whether renew may extend it (absent: false). */
  renewable?: boolean;
  type?: 'service';
  entity_id?: string;
  /** Lease issue time (creation). Absent for the init root token, which has no lease (no issue_time in lookups). */
  issue_time_ms?: number;
  /** Lease expiry; null = never (root). Absent = legacy rule: creation_time_ms + ttl_s (0 = never). */
  expire_time_ms?: number | null;
  /** The lease's current TTL: the creation TTL, then each renewal's; used as the default increment. */
  lease_ttl_s?: number;
  last_renewal_time_ms?: number;
  /** The token role it was created against (auth/token/create/<role>); renewals consult the role. */
  role?: string;
  /** Addresses allowed to use the token (a role's token_bound_cidrs, a login's); the pipeline enforces them. */
  bound_cidrs?: string[];
  /** The namespace the token was created in (absent: the root namespace); valid there and below only. */
  namespace_id?: string;
  /** That namespace's path ("team1/"), which never changes for an id; lookups answer it. */
  namespace_path?: string;
}

/** num_uses of an entry whose last use was consumed: it resolves to nothing (Vault's tokenRevocationPending). */
export const TOKEN_REVOCATION_PENDING = -1;

/** Relative keys inside the token store's storage view (rooted at sys/token/). */
export const TOKEN_STORE_PREFIX = 'sys/token/';
export const tokenParentKey = (salt: string, parent: string, child: string) => `sys/token/parent/${saltedId(salt, parent)}/${saltedId(salt, child)}`;

/** When the entry stops being valid (ms), or null if never. */
export function tokenExpiresAtMs(entry: TokenEntry): number | null {
  let at: number | null;
  if (entry.expire_time_ms !== undefined) at = entry.expire_time_ms;
  else at = entry.ttl_s > 0 ? entry.creation_time_ms + entry.ttl_s * 1000 : null;
  const max = entry.explicit_max_ttl_s ?? 0;
  if (max > 0) {
    // Vault truncates the start to whole seconds before adding the explicit max.
    const hard = Math.floor(entry.creation_time_ms / 1000) * 1000 + max * 1000;
    at = at === null ? hard : Math.min(at, hard);
  }
  return at;
}

/** Constant-time string equality (length leaks, content does not); for anything secret or derived from a secret. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

export function rootTokenEntry(accessor: string, nowMs: number): TokenEntry {
  return {
    accessor,
    policies: ['root'],
    path: 'auth/token/root',
    display_name: 'root',
    creation_time_ms: nowMs,
    ttl_s: 0,
    num_uses: 0,
    orphan: true,
    meta: null,
  };
}

/** A user-chosen token id (dev root token): may not carry a reserved prefix or a dot (§0.5). */
export function validateCustomTokenId(id: string): string | null {
  if (id.length === 0) return 'token id must not be empty';
  if (id.startsWith('s.') || id.startsWith('hvs.') || id.startsWith('b.') || id.startsWith('hvb.')) return 'custom token ID cannot have the "s." or "hvs." prefix';
  if (id.includes('.')) return 'custom token ID cannot contain a "."';
  return null;
}

/** Vault's checks (and messages) for a token id chosen through auth/token/create `id`. Empty = unset. */
export function customTokenIdError(id: string): string | null {
  if (id.startsWith('hvs.')) return "custom token ID cannot have the 'hvs.' prefix";
  if (id.startsWith('s.')) return "custom token ID cannot have the 's.' prefix";
  if (id.includes('.')) return "custom token ID cannot have a '.' in the value";
  return null;
}
