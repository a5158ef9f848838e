// The system backend (sys/): mount and auth tables, policies, capabilities. Other sys paths (init, seal,
// raw, ...) are served by the core and the HTTP front, not here. Leases (leases.ts) and wrapping (wrapping.ts) are here.
import type { BackendFactory, Handler, PathSpec } from '../framework/types.js';
import { systemView } from '../../expiration/revoke-token.js';
import { capabilitiesPaths } from './capabilities.js';
import { leasePaths } from './leases.js';
import { metricsPaths } from './metrics.js';
import { mountPaths } from './mounts.js';
import { policyPaths } from './policies.js';
import { remountPaths } from './remount.js';
import { randomHashPaths } from '../transit/ops.js';
import { wrappingPaths } from './wrapping.js';
import { quotaPaths } from './quotas.js';
import { auditPaths } from './audit.js';
import { namespacePaths } from './namespaces.js';
import { namespaceKeyringPaths } from './namespace-seal-paths.js';

/** sys/tools/random and sys/tools/hash: transit's handlers (Vault's are one implementation); no storage, so standbys answer. */
const toolPaths = randomHashPaths('tools/').map((spec) => ({ ...spec, answersLocally: ['update' as const] }));

export const systemBackend: BackendFactory = () => ({
  type: 'system',
  help: 'The system backend: secrets engines (sys/mounts), auth methods (sys/auth), ACL policies (sys/policies/acl, sys/policy) and capabilities.',
  paths: [...mountPaths, ...remountPaths, ...toolPaths, ...policyPaths, ...capabilitiesPaths, ...quotaPaths, ...metricsPaths, ...leasePaths, ...wrappingPaths, ...auditPaths, ...namespacePaths],
});

/**
 * The system backend of a namespace other than the root (Vault's ns_system): its own mounts, auth methods,
 * policies, capabilities, moves, leases, response wrapping and child namespaces. What is the cluster's
 * alone (seal, raft, audit devices, quotas, metrics, lease tidy) stays at the root's sys/.
 */
export const namespaceSystemBackend: BackendFactory = () => ({
  type: 'ns_system',
  help: "A namespace's system backend: its secrets engines (sys/mounts), auth methods (sys/auth), ACL policies, capabilities, response wrapping, leases and child namespaces (sys/namespaces).",
  paths: [...mountPaths, ...remountPaths, ...toolPaths, ...policyPaths, ...capabilitiesPaths, ...rootScoped(wrappingPaths), ...namespacedLeases(leasePaths), ...namespacePaths, ...namespaceKeyringPaths],
});

/** The same paths with every operation's handler wrapped. */
function wrapHandlers(specs: PathSpec[], wrap: (handler: Handler) => Handler): PathSpec[] {
  return specs.map((spec) => ({ ...spec, operations: Object.fromEntries(Object.entries(spec.operations).map(([op, handler]) => [op, wrap(handler)])) }));
}

/**
 * Paths whose data is the cluster's, not a namespace's (wrapping tokens live with every other token in
 * the root segment): their handlers see the root segment, in the request's write-set. They check the
 * namespace themselves (a wrapping token unwraps in the namespace it was made in only).
 */
function rootScoped(specs: PathSpec[]): PathSpec[] {
  return wrapHandlers(specs, (handler) => (req, storage) => handler(req, systemView(storage)));
}

/**
 * sys/leases in a namespace: the leases issued under the namespace's path, named relative to it. Lease ids
 * are stored with their full path (`team1/auth/userpass/login/bob/...`): ids and prefixes given here get the
 * namespace's path in front, so nothing outside the namespace can be named, and ids answered lose it.
 * Tidy is the cluster's (root only).
 */
function namespacedLeases(specs: PathSpec[]): PathSpec[] {
  const inNamespace = (handler: Handler): Handler => async (req, storage) => {
    const ns = req.mount.namespace?.path ?? '';
    const params = { ...req.params };
    for (const k of ['prefix', 'url_lease_id']) if (params[k] !== undefined && (params[k] !== '' || k === 'prefix')) params[k] = ns + params[k];
    const fields = { ...req.fields };
    if (typeof fields.lease_id === 'string' && fields.lease_id !== '') fields.lease_id = ns + fields.lease_id;
    const result = await handler({ ...req, params, fields }, systemView(storage));
    const local = (id: string) => (id.startsWith(ns) ? id.slice(ns.length) : id);
    if (result?.data && typeof result.data.id === 'string') result.data = { ...result.data, id: local(result.data.id), ...(typeof result.data.path === 'string' ? { path: local(result.data.path) } : {}) };
    if (result?.lease) result.lease = { ...result.lease, leaseId: local(result.lease.leaseId) };
    return result;
  };
  return wrapHandlers(specs.filter((spec) => spec.pattern !== 'leases/tidy'), inNamespace);
}
