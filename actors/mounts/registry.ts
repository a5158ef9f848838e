// Mount types → backend factories. A mount's backend is compiled once when the mount table that holds
// it is loaded (actors/handler), never per request.
import type { BackendFactory } from './framework/types.js';
import { cubbyholeBackend } from './cubbyhole/backend.js';
import { approleBackend } from './approle/backend.js';
import { kvBackend } from './kv/backend.js';
import { namespaceSystemBackend, systemBackend } from './sys/backend.js';
import { tokenBackend } from './token/backend.js';
import { transitBackend } from './transit/backend.js';
import { userpassBackend } from './userpass/backend.js';

export const backendFactories: Record<string, BackendFactory> = {
  approle: approleBackend,
  cubbyhole: cubbyholeBackend,
  kv: kvBackend,
  // A namespace's built-in mounts (Vault's types): the same backends over the namespace's segment.
  ns_cubbyhole: cubbyholeBackend,
  ns_system: namespaceSystemBackend,
  ns_token: tokenBackend,
  system: systemBackend,
  token: tokenBackend,
  transit: transitBackend,
  userpass: userpassBackend,
};

/** Types `sys/mounts` may enable; system and token are built in and cannot be mounted again. */
export const MOUNTABLE_SECRET_TYPES = ['kv', 'transit'] as const;
export const MOUNTABLE_AUTH_TYPES: readonly string[] = ['approle', 'userpass'];
