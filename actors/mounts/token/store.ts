// Token resolution for the request pipeline: token → salted storage key → entry → caller, and the
// use-count step (consumeUse) for tokens created with num_uses.
// Tokens are stored only by salted hash (actors/core/tokens.ts); this never handles a plaintext token
// beyond hashing it.
import { tokenExpiresAtMs, tokenIdKey, TOKEN_REVOCATION_PENDING, TOKEN_SALT_KEY, TOKEN_STORE_PREFIX, type TokenEntry } from '../../core/tokens.js';
import { ScopedStorage, type PhysicalReader, type ValueCrypto, type WriteSetWithGuards } from '../framework/storage-view.js';
import type { CallerInfo } from '../framework/types.js';
import { entryIsLive, idKey, loadLive, PARENT_CHAIN_MAX, revokeTree, saltedFromTokenKey } from './entries.js';

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
    entityId: entry.entity_id ?? '',
    entry: entry as unknown as Record<string, unknown>,
  };
}

/**
 * The entry alone is no longer usable: past its expiry (lease expiry or explicit max TTL) or its last
 * use consumed. Expired entries are treated as absent (an expiration sweep may delete them later).
 * Ancestors are not checked here; resolveToken checks them.
 */
export function isExpired(entry: TokenEntry, nowMs: number): boolean {
  return !entryIsLive(entry, nowMs);
}

/** Reads and decodes one stored token entry; the handler passes one that remembers decoded entries. */
export type TokenEntryReader = (physical: PhysicalReader, crypto: ValueCrypto, key: string) => TokenEntry | undefined;

export function decodeTokenEntry(crypto: ValueCrypto, key: string, blob: Uint8Array): TokenEntry {
  return JSON.parse(crypto.decrypt(key, blob).toString('utf8')) as TokenEntry;
}

export const readTokenEntry: TokenEntryReader = (physical, crypto, key) => {
  const blob = physical.get(key);
  return blob === undefined ? undefined : decodeTokenEntry(crypto, key, blob);
};

/**
 * A token is valid when its entry exists and is live, and so is every ancestor up to its orphan root:
 * a child dies with its parent (revoked, expired or used up) even before anything deletes it.
 */
export function resolveToken(physical: PhysicalReader, crypto: ValueCrypto, salt: string, token: string, nowMs: number, readEntry: TokenEntryReader = readTokenEntry): ResolvedToken | null {
  const key = tokenIdKey(salt, token);
  const entry = readEntry(physical, crypto, key);
  if (!entry || !entryIsLive(entry, nowMs)) return null;
  let cur = entry;
  for (let depth = 0; cur.parent; depth++) {
    if (depth >= PARENT_CHAIN_MAX) return null;
    const parent = readEntry(physical, crypto, `${TOKEN_STORE_PREFIX}${idKey(cur.parent)}`);
    if (!parent || !entryIsLive(parent, nowMs)) return null;
    cur = parent;
  }
  return { key, entry, caller: callerOf(key, entry) };
}

export interface TokenUse {
  /**
   * Commit this (ops and guards, like a handler's write-set) before serving the request. Empty ops
   * for a token with unlimited uses: nothing to commit. On a guard conflict, resolve the token again
   * and call consumeUse again (another request used it meanwhile).
   */
  writeSet: WriteSetWithGuards;
  /** The caller to hand the handler: num_uses already decremented; -1 when this is the last use. */
  caller: CallerInfo;
  /** Uses left after this request; 0 = this was the last use and writeSet revokes the token; null = unlimited. */
  remainingUses: number | null;
}

/**
 * One use of a num_uses token (Vault's UseToken). The pipeline calls it after resolving the token and
 * before the ACL check's outcome matters (Vault counts a use even when the request is then denied),
 * commits `writeSet`, then serves the request with `caller`. Returns null when the token is no
 * longer valid (revoked or used up by a concurrent request): answer 403.
 * The last use deletes the entry, its accessor and parent indexes (and any subtree) in the same
 * write-set, so a crash can never leave a used-up token usable.
 */
export async function consumeUse(physical: PhysicalReader, crypto: ValueCrypto, salt: string, resolved: ResolvedToken, nowMs: number): Promise<TokenUse | null> {
  const salted = saltedFromTokenKey(resolved.key);
  if (salted === null) return null;
  const storage = new ScopedStorage(TOKEN_STORE_PREFIX, physical, crypto);
  const entry = await loadLive(storage, salted, nowMs);
  if (!entry) return null;
  if (entry.num_uses === 0) return { writeSet: { ops: [], guards: [] }, caller: callerOf(resolved.key, entry), remainingUses: null };
  if (entry.num_uses === 1) {
    await revokeTree(storage, salt, salted);
    return { writeSet: storage.writeSet(), caller: callerOf(resolved.key, { ...entry, num_uses: TOKEN_REVOCATION_PENDING }), remainingUses: 0 };
  }
  const used: TokenEntry = { ...entry, num_uses: entry.num_uses - 1 };
  storage.putJson(idKey(salted), used);
  return { writeSet: storage.writeSet(), caller: callerOf(resolved.key, used), remainingUses: used.num_uses };
}

/** When the token expires (ms since epoch), or null if never; for callers that want to show it. */
export { tokenExpiresAtMs };
