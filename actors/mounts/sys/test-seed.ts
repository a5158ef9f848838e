// Test helpers: a system mount over an in-memory store seeded as a node is after init.
import { testCrypto, type MemoryPhysical } from '../framework/storage-view.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import type { CallerInfo } from '../framework/types.js';
import { AUTH_KEY, MOUNTS_KEY, newMountEntry, type MountTable } from '../mount-table.js';
import { systemBackend } from './backend.js';

export function putPlain(physical: MemoryPhysical, key: string, value: string | Buffer): void {
  physical.data.set(key, testCrypto.encrypt(key, Buffer.from(value)));
}

export function getPlain(physical: MemoryPhysical, key: string): string | undefined {
  const blob = physical.data.get(key);
  return blob === undefined ? undefined : testCrypto.decrypt(key, blob).toString('utf8');
}

export function getJson<T>(physical: MemoryPhysical, key: string): T | undefined {
  const s = getPlain(physical, key);
  return s === undefined ? undefined : (JSON.parse(s) as T);
}

/** sys/ and (optionally) secret/ kv v2 in core/mounts, token/ in core/auth. */
export function seededSys(opts: { devKv?: boolean } = {}): TestMount {
  const sys = testMount(systemBackend, { type: 'system', path: 'sys/' });
  const mounts: MountTable = { entries: [newMountEntry('system', 'sys/', { description: 'system endpoints used for control, policy and debugging' }, 'uuid-sys', 'system_00000001')] };
  if (opts.devKv !== false) mounts.entries.push(newMountEntry('kv', 'secret/', { description: 'key/value secret storage', options: { version: '2' } }, 'uuid-secret', 'kv_00000002'));
  const auth: MountTable = { entries: [newMountEntry('token', 'token/', { description: 'token based credentials' }, 'uuid-token', 'auth_token_00000003')] };
  putPlain(sys.physical, MOUNTS_KEY, JSON.stringify(mounts));
  putPlain(sys.physical, AUTH_KEY, JSON.stringify(auth));
  return sys;
}

export function callerWith(policies: string[], tokenKey: string | null = 'sys/token/id/hcaller'): CallerInfo {
  return { tokenKey, accessor: tokenKey ? 'acc' : null, policies, isRoot: policies.includes('root'), displayName: 'token', entityId: '', entry: null };
}

export const anonymous: CallerInfo = { tokenKey: null, accessor: null, policies: [], isRoot: false, displayName: '', entityId: '', entry: null };
