// Token resolution for the request pipeline: token → salted storage key → entry → caller.
// Tokens are stored only by salted hash (actors/core/tokens.ts); this never handles a plaintext token
// beyond hashing it.
import type { PhysicalReader, ValueCrypto } from '../framework/storage-view.js';
import type { CallerInfo } from '../framework/types.js';
import { TOKEN_SALT_KEY, tokenIdKey, type TokenEntry } from '../../core/tokens.js';

export interface ResolvedToken {
  /** Full storage key of the entry (sys/token/id/h...). */
  key: string;
  entry: TokenEntry;
  caller: CallerInfo;
}

export function readSalt(physical: PhysicalReader, crypto: ValueCrypto): string | null {
  const blob = physical.get(TOKEN_SALT_KEY);
  return blob === undefined ? null : crypto.decrypt(TOKEN_SALT_KEY, blob).toString('utf8');
}

export function callerOf(key: string, entry: TokenEntry): CallerInfo {
  return {
    tokenKey: key,
    accessor: entry.accessor,
    policies: entry.policies,
    isRoot: entry.policies.includes('root'),
    displayName: entry.display_name,
    entityId: '',
    entry: entry as unknown as Record<string, unknown>,
  };
}

/** Expired entries are treated as absent (the expiration actor deletes them later). */
export function isExpired(entry: TokenEntry, nowMs: number): boolean {
  return entry.ttl_s > 0 && entry.creation_time_ms + entry.ttl_s * 1000 <= nowMs;
}

export function resolveToken(physical: PhysicalReader, crypto: ValueCrypto, salt: string, token: string, nowMs: number): ResolvedToken | null {
  const key = tokenIdKey(salt, token);
  const blob = physical.get(key);
  if (blob === undefined) return null;
  const entry = JSON.parse(crypto.decrypt(key, blob).toString('utf8')) as TokenEntry;
  if (isExpired(entry, nowMs)) return null;
  return { key, entry, caller: callerOf(key, entry) };
}
