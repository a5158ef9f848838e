// What happens to the rate-limit quotas of a mount when the mount moves or goes (Vault's quota manager
// HandleRemount and HandleBackendDisabling): a move carries them to the new path, a disable deletes them.
import { QUOTA_PREFIX, quotaKey, quotaNamespace, type StoredRateLimitQuota } from '../../quotas/model.js';
import type { StorageView } from '../framework/types.js';

/** Every stored quota; `storage` is the root segment (quotas are the cluster's, whatever namespace they name). */
export async function allQuotas(storage: StorageView): Promise<StoredRateLimitQuota[]> {
  const out: StoredRateLimitQuota[] = [];
  for (const name of await storage.list(QUOTA_PREFIX)) {
    if (name.endsWith('/')) continue;
    const q = await storage.getJson<StoredRateLimitQuota>(quotaKey(name));
    if (q) out.push(q);
  }
  return out;
}

async function quotasOfMount(storage: StorageView, mountPath: string, namespace: string): Promise<StoredRateLimitQuota[]> {
  return (await allQuotas(storage)).filter((q) => q.mount_path === mountPath && quotaNamespace(q) === namespace);
}

/**
 * Quotas on mount `from` of namespace `fromNs` (API paths, e.g. "secret/" or "auth/userpass/"; "" is the
 * root) now apply to `to` in `toNs`.
 */
export async function moveMountQuotas(storage: StorageView, from: string, to: string, fromNs = '', toNs = fromNs): Promise<void> {
  for (const q of await quotasOfMount(storage, from, fromNs)) storage.putJson(quotaKey(q.name), { ...q, namespace_path: toNs === '' ? 'root' : toNs, mount_path: to });
}

/** Deletes the quotas of mount `mountPath` of namespace `namespace` ("" for the root). */
export async function deleteMountQuotas(storage: StorageView, mountPath: string, namespace = ''): Promise<void> {
  for (const q of await quotasOfMount(storage, mountPath, namespace)) storage.delete(quotaKey(q.name));
}

/** Deletes every quota of a namespace and of the namespaces below it (the namespace is being deleted). */
export async function deleteNamespaceQuotas(storage: StorageView, namespace: string): Promise<void> {
  for (const q of await allQuotas(storage)) if (quotaNamespace(q).startsWith(namespace)) storage.delete(quotaKey(q.name));
}
