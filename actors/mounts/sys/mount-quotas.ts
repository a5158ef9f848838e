// What happens to the rate-limit quotas of a mount when the mount moves or goes (Vault's quota manager
// HandleRemount and HandleBackendDisabling): a move carries them to the new path, a disable deletes them.
import { QUOTA_PREFIX, quotaKey, type StoredRateLimitQuota } from '../../quotas/model.js';
import type { StorageView } from '../framework/types.js';

async function quotasOfMount(storage: StorageView, mountPath: string): Promise<StoredRateLimitQuota[]> {
  const out: StoredRateLimitQuota[] = [];
  for (const name of await storage.list(QUOTA_PREFIX)) {
    if (name.endsWith('/')) continue;
    const q = await storage.getJson<StoredRateLimitQuota>(quotaKey(name));
    if (q && q.mount_path === mountPath) out.push(q);
  }
  return out;
}

/** Quotas on `from` (a mount's API path, e.g. "secret/" or "auth/userpass/") now apply to `to`. */
export async function moveMountQuotas(storage: StorageView, from: string, to: string): Promise<void> {
  for (const q of await quotasOfMount(storage, from)) storage.putJson(quotaKey(q.name), { ...q, mount_path: to });
}

export async function deleteMountQuotas(storage: StorageView, mountPath: string): Promise<void> {
  for (const q of await quotasOfMount(storage, mountPath)) storage.delete(quotaKey(q.name));
}
