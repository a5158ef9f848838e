// What revoking a token takes with it, in the revoking write-set: its cubbyhole and every lease it
// owns (its own auth lease included). Called by the token store's revokeTree / revokeOrphan for each
// revoked token, whatever revoked it (auth/token/revoke*, the last num_uses use, sys/leases/revoke*,
// the expiration actor).
import { destroyCubbyhole } from '../mounts/cubbyhole/store.js';
import { ScopedStorage } from '../mounts/framework/storage-view.js';
import type { StorageView } from '../mounts/framework/types.js';
import { revokeLeasesOfToken } from './leases.js';

/** The physical-root view sharing `storage`'s write-set. Every handler storage is a ScopedStorage. */
export function systemView(storage: StorageView): StorageView {
  if (!(storage instanceof ScopedStorage)) throw new Error('token revocation needs a ScopedStorage (one write-set across prefixes)');
  return storage.rebase('');
}

/** Destroys the cubbyhole and revokes the leases of `salted`. Returns the storage operations added. */
export async function revokeTokenResources(storage: StorageView, salted: string): Promise<number> {
  const sys = systemView(storage);
  return (await destroyCubbyhole(sys, salted)) + (await revokeLeasesOfToken(sys, salted));
}

/** The token store's view (sys/token/) sharing `storage`'s write-set, for revokeTree from other stores. */
export function tokenStoreView(storage: StorageView): StorageView {
  if (!(storage instanceof ScopedStorage)) throw new Error('token revocation needs a ScopedStorage (one write-set across prefixes)');
  return storage.rebase('sys/token/');
}
