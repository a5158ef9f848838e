// Every API path the code declares, for the security tests that probe or fuzz all of them: the HTTP
// front's own routes (FRONT_ROUTE_PATHS) and every mount backend's path patterns (backendFactories),
// each at the mount path its type gets, with a concrete segment per parameter.
import { FRONT_ROUTE_PATHS } from '../../actors/front/routes.js';
import type { MountInfo } from '../../actors/mounts/framework/types.js';
import { MOUNTABLE_AUTH_TYPES, backendFactories } from '../../actors/mounts/registry.js';

/** Where a backend type is mounted for the probe: built-ins where init puts them, others at their type name. */
/** The namespace the probes put a namespace's built-in mounts in (the tests that use it create it). */
export const PROBE_NAMESPACE = 'fz/';

function mountPathsOf(type: string): { path: string; options: Record<string, string> }[] {
  if (type === 'system') return [{ path: 'sys/', options: {} }];
  // A namespace's built-ins (ns_system, ns_cubbyhole, ns_token) where a namespace has them.
  if (type === 'ns_system') return [{ path: `${PROBE_NAMESPACE}sys/`, options: {} }];
  if (type === 'ns_cubbyhole') return [{ path: `${PROBE_NAMESPACE}cubbyhole/`, options: {} }];
  if (type === 'ns_token') return [{ path: `${PROBE_NAMESPACE}auth/token/`, options: {} }];
  if (type === 'token') return [{ path: 'auth/token/', options: {} }];
  if (type === 'kv') return [{ path: 'kv/', options: { version: '1' } }, { path: 'secret/', options: { version: '2' } }];
  return [{ path: MOUNTABLE_AUTH_TYPES.includes(type) ? `auth/${type}/` : `${type}/`, options: {} }];
}

/** A concrete path for a pattern: one segment per `:param`, two for a rest parameter. */
function instantiate(pattern: string): string {
  return pattern
    .split('/')
    .map((seg) => (/^:[a-z_][a-z0-9_]*[*+]$/i.test(seg) ? 'probe/deep' : /^:/.test(seg) ? 'probe' : seg))
    .join('/');
}

export function routeTable(): string[] {
  const paths = new Set<string>(FRONT_ROUTE_PATHS);
  paths.add('sys/raw/probe/deep');
  for (const [type, factory] of Object.entries(backendFactories)) {
    for (const { path, options } of mountPathsOf(type)) {
      const mount: MountInfo = { path, type, uuid: 'probe', accessor: 'probe', options, defaultLeaseTtlS: 0, maxLeaseTtlS: 0 };
      for (const spec of factory(mount).paths) paths.add(`${path}${instantiate(spec.pattern)}`.replace(/\/$/, ''));
    }
  }
  paths.add('no/such/mount');
  return [...paths].sort();
}
