// What a freshly initialised node holds besides its keys: the built-in mounts (sys/, auth/token/),
// the default policy, and in dev mode a KV v2 mount at secret/.
import { randomUUID } from 'node:crypto';
import { AUTH_KEY, MOUNTS_KEY, type MountEntry, type MountTable } from '../mounts/mount-table.js';
import { DEFAULT_POLICY_HCL } from '../mounts/policy/builtin.js';
import { policyKey, type StoredPolicy } from '../mounts/sys/policy-store.js';
import { randomBase62 } from './tokens.js';

export function builtinMountEntry(type: string, path: string, description: string, options: Record<string, string> | null = null): MountEntry {
  return {
    path,
    type,
    description,
    uuid: randomUUID(),
    accessor: `${type === 'system' ? 'system' : type}_${randomBase62(8).toLowerCase()}`,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    options,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: '',
    running_plugin_version: `v${'0.1.0'}+builtin.coffer`,
    running_sha256: '',
  };
}

/** Plaintext values to store (encrypted by the caller) at init. */
export function initialState(): { key: string; value: Buffer }[] {
  const mounts: MountTable = { entries: [builtinMountEntry('system', 'sys/', 'system endpoints used for control, policy and debugging')] };
  const auth: MountTable = { entries: [builtinMountEntry('token', 'token/', 'token based credentials')] };
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
  return { entries: [...table.entries, builtinMountEntry('kv', 'secret/', 'key/value secret storage', { version: '2' })] };
}
