// Token identity and storage keys. Tokens are never stored in plaintext: the storage key is an HMAC
// of the token under a per-cluster salt, so a stolen FSM yields no usable token (and every value is
// barrier-encrypted on top). Lookups go by hash, so no plaintext token is ever compared.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

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
export function saltedId(salt: string, value: string): string {
  return `h${createHmac('sha256', salt).update(value).digest('hex')}`;
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
