// Where cubbyholes live and how one is destroyed. Every token has its own cubbyhole under
// `sys/cubbyhole/<salted token id>/` (the `h…` HMAC of the token, never the token). The cubbyhole
// mount's storage view is rooted at CUBBYHOLE_PREFIX (execute.ts storagePrefix), so its handlers
// prefix each key with the caller's salted id; revocation deletes the whole subtree in the
// revoking write-set (actors/expiration/revoke-token.ts).
import type { StorageView } from '../framework/types.js';

/** A fixed physical prefix (not logical/<uuid>/): token revocation must find it without the mount table. */
export const CUBBYHOLE_PREFIX = 'sys/cubbyhole/';
/**
 * The token's cubbyholes in namespaces other than the root: `sys/cubbyhole-ns/<salted>/<namespace uuid>/`,
 * one per namespace as in Vault, beside the root one so revocation finds them by the token alone.
 */
export const NAMESPACE_CUBBYHOLE_PREFIX = 'sys/cubbyhole-ns/';

/** Bounds the recursive walk of one cubbyhole (nesting depth of its keys). */
const CUBBYHOLE_DEPTH_MAX = 64;

/** Every key (relative to `root`, which ends in "/") under `root`, depth-first, sorted. */
export async function listTree(storage: StorageView, root: string, depth = 0): Promise<string[]> {
  if (depth > CUBBYHOLE_DEPTH_MAX) throw new Error(`storage tree under ${root} nests deeper than ${CUBBYHOLE_DEPTH_MAX}`);
  const out: string[] = [];
  for (const name of await storage.list(root)) {
    if (name.endsWith('/')) out.push(...(await listTree(storage, `${root}${name}`, depth + 1)));
    else out.push(`${root}${name}`);
  }
  return out;
}

/**
 * Deletes every value in the cubbyhole of `salted` into this write-set. `sys` is a view rooted at ''
 * (the physical root). Returns the number of storage operations added.
 */
export async function destroyCubbyhole(sys: StorageView, salted: string): Promise<number> {
  if (salted === '' || salted.includes('/')) throw new Error('destroyCubbyhole: bad salted token id');
  const keys = [...(await listTree(sys, `${CUBBYHOLE_PREFIX}${salted}/`)), ...(await listTree(sys, `${NAMESPACE_CUBBYHOLE_PREFIX}${salted}/`))];
  for (const key of keys) sys.delete(key);
  return keys.length;
}
