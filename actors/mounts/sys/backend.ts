// The system backend (sys/): mount and auth tables, policies, capabilities. Other sys paths (init, seal,
// raw, ...) are served by the core and the HTTP front, not here. Leases (leases.ts) and wrapping (wrapping.ts) are here.
import type { BackendFactory, HandlerRequest, PathSpec, StorageView } from '../framework/types.js';
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

/** sys/tools/random and sys/tools/hash: transit's handlers (Vault's are one implementation); no storage, so standbys answer. */
const toolPaths = randomHashPaths('tools/').map((spec) => ({ ...spec, answersLocally: ['update' as const] }));

export const systemBackend: BackendFactory = () => ({
  type: 'system',
  help: 'The system backend: secrets engines (sys/mounts), auth methods (sys/auth), ACL policies (sys/policies/acl, sys/policy) and capabilities.',
  paths: [...mountPaths, ...remountPaths, ...toolPaths, ...policyPaths, ...capabilitiesPaths, ...quotaPaths, ...metricsPaths, ...leasePaths, ...wrappingPaths, ...auditPaths, ...namespacePaths],
});

/**
 * The system backend of a namespace other than the root (Vault's ns_system): its own mounts, auth methods,
 * policies and child namespaces. What is the cluster's alone (seal, raft, audit devices, quotas, metrics,
 * leases, wrapping) stays at the root's sys/.
 */
export const namespaceSystemBackend: BackendFactory = () => ({
  type: 'ns_system',
  help: "A namespace's system backend: its secrets engines (sys/mounts), auth methods (sys/auth), ACL policies, capabilities, response wrapping and child namespaces (sys/namespaces).",
  paths: [...mountPaths, ...toolPaths, ...policyPaths, ...capabilitiesPaths, ...rootScoped(wrappingPaths), ...namespacePaths],
});

/**
 * Paths whose data is the cluster's, not a namespace's (wrapping tokens live with every other token in
 * the root segment): their handlers see the root segment, in the request's write-set. They check the
 * namespace themselves (a wrapping token unwraps in the namespace it was made in only).
 */
function rootScoped(specs: PathSpec[]): PathSpec[] {
  return specs.map((spec) => ({
    ...spec,
    operations: Object.fromEntries(Object.entries(spec.operations).map(([op, handler]) => [op, (req: HandlerRequest, storage: StorageView) => handler(req, systemView(storage))])),
  }));
}
