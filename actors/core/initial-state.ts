// What a freshly initialised node holds besides its keys: the built-in mounts (cubbyhole/, sys/, auth/token/),
// the default policy, and in dev mode a KV v2 mount at secret/.
import { AUTH_KEY, builtinMountEntry, MOUNTS_KEY, type MountTable } from '../mounts/mount-table.js';
import { DEFAULT_POLICY_HCL } from '../mounts/policy/builtin.js';
import { policyKey, type StoredPolicy } from '../mounts/sys/policy-store.js';

/** Plaintext values to store (encrypted by the caller) at init. */
export function initialState(): { key: string; value: Buffer }[] {
  const mounts: MountTable = {
    entries: [
      builtinMountEntry('mounts', 'cubbyhole', 'cubbyhole/', 'per-token private secret storage'),
      builtinMountEntry('mounts', 'system', 'sys/', 'system endpoints used for control, policy and debugging'),
    ],
  };
  const auth: MountTable = { entries: [builtinMountEntry('auth', 'token', 'token/', 'token based credentials')] };
  const defaultPolicy: StoredPolicy = { name: 'default', raw: DEFAULT_POLICY_HCL, type: 'acl' };
  return [
    { key: MOUNTS_KEY, value: Buffer.from(JSON.stringify(mounts)) },
    { key: AUTH_KEY, value: Buffer.from(JSON.stringify(auth)) },
    { key: policyKey('default'), value: Buffer.from(JSON.stringify(defaultPolicy)) },
  ];
}

/** Dev mode mounts KV v2 at secret/, as `vault server -dev` does. */
export function withDevKvMount(table: MountTable): MountTable {
  if (table.entries.some((e) => e.path === 'secret/')) return table;
  return { entries: [...table.entries, builtinMountEntry('mounts', 'kv', 'secret/', 'key/value secret storage', { version: '2' })] };
}
