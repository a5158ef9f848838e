// Which namespace a token belongs to. Token entries live in the root segment whatever namespace made them
// (one store resolves any token presented); each entry names its namespace, and a token acts only there
// and in that namespace's descendants (the pipeline's check).
import type { TokenEntry } from '../../core/tokens.js';
import type { StorageView } from '../framework/types.js';
import { isRootNamespace, refOf, ROOT_NAMESPACE, type NamespaceRef } from './model.js';
import { readNamespace } from './store.js';

/**
 * A token or accessor made in `ns`: Vault's and OpenBao's `.<namespace id>` suffix outside the root
 * namespace (API.md §0.5). Coffer resolves tokens by the hash of the whole string, so the suffix only tells
 * people and clients where a token belongs.
 */
export function inNamespace(id: string, ns: NamespaceRef | undefined): string {
  return ns === undefined || isRootNamespace(ns) ? id : `${id}.${ns.id}`;
}

/** Marks a new token entry as made in `ns` (nothing for the root namespace, as entries made before namespaces). */
export function placeInNamespace(entry: TokenEntry, ns: NamespaceRef | undefined): void {
  if (ns === undefined || isRootNamespace(ns)) return;
  entry.namespace_id = ns.id;
  entry.namespace_path = ns.path;
}

/** The token's namespace as stored now (read through the root segment), or undefined once it was deleted. */
export async function namespaceOfToken(root: StorageView, entry: TokenEntry): Promise<NamespaceRef | undefined> {
  if (entry.namespace_id === undefined) return ROOT_NAMESPACE;
  // By path, then id: a namespace deleted and made again under the same path is another namespace.
  const found = await readNamespace(root, (entry.namespace_path as string | undefined) ?? '');
  return found !== undefined && found.id === entry.namespace_id ? refOf(found) : undefined;
}
