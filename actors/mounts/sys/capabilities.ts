// sys/capabilities-self, sys/capabilities {token, paths}, sys/capabilities-accessor {accessor, paths}
// (OpenBao's handleCapabilities / Core.Capabilities: facts, own code). None is sudo-protected.
import { CofferError } from '../../../runtime/errors.js';
import { TOKEN_SALT_KEY, TOKEN_STORE_PREFIX, saltedId, type TokenEntry } from '../../core/tokens.js';
import type { FieldSchema, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import type { Capability } from '../policy/types.js';
import { accessorMatches, accessorTarget, loadLive } from '../token/entries.js';
import { aclOf } from './policy-store.js';
import { badRequest, commaSlice, subView } from './util.js';
import { systemView } from '../../expiration/revoke-token.js';
import { namespaceSegment, ROOT_NAMESPACE, withinNamespace, type NamespaceRef } from '../namespaces/model.js';
import { namespaceOfToken } from '../namespaces/tokens.js';

const pathFields: Record<string, FieldSchema> = {
  paths: { type: 'comma-string-slice', description: 'Paths on which capabilities are being queried.' },
  path: { type: 'comma-string-slice', description: "Deprecated: use 'paths'." },
};

/** The token store's keyspace (sys/token/, in the root segment whatever namespace asks). */
const tokenStore = (storage: StorageView) => subView(systemView(storage), TOKEN_STORE_PREFIX);

async function tokenSalt(storage: StorageView): Promise<string | null> {
  const raw = await systemView(storage).get(TOKEN_SALT_KEY);
  return raw === undefined ? null : raw.toString('utf8');
}

/** A live token entry by token (its ancestors live too), read through the storage view. */
async function entryByToken(storage: StorageView, token: string, nowMs: number): Promise<TokenEntry | null> {
  const salt = await tokenSalt(storage);
  if (salt === null) return null;
  return loadLive(tokenStore(storage), saltedId(salt, token), nowMs);
}

/** A live token entry by accessor: the accessor index holds the entry's storage key. */
async function entryByAccessor(storage: StorageView, accessor: string, nowMs: number): Promise<TokenEntry | null> {
  const salt = await tokenSalt(storage);
  if (salt === null) return null;
  const store = tokenStore(storage);
  const salted = await accessorTarget(store, salt, accessor);
  if (salted === null) return null;
  const entry = await loadLive(store, salted, nowMs);
  return entry && accessorMatches(entry, accessor) ? entry : null;
}

function callerHolder(req: HandlerRequest): Holder {
  return { policies: req.caller.policies, namespace: req.caller.namespace ?? ROOT_NAMESPACE };
}

function requestedPaths(req: HandlerRequest): string[] {
  let paths = commaSlice(req.fields.paths);
  if (paths.length === 0) paths = commaSlice(req.fields.path);
  if (paths.length === 0) badRequest('paths must be supplied');
  return paths;
}

/** Whose policies answer: a token's names, read in its namespace's policy store. */
interface Holder {
  policies: readonly string[];
  namespace: NamespaceRef;
}

/** The holder of a stored token entry, or null when its namespace is gone or is not above the request's. */
async function holderOf(req: HandlerRequest, storage: StorageView, entry: TokenEntry): Promise<Holder | null> {
  const ns = await namespaceOfToken(systemView(storage), entry);
  return ns !== undefined && withinNamespace(ns, req.mount.namespace ?? ROOT_NAMESPACE) ? { policies: entry.policies, namespace: ns } : null;
}

/** The ACL of a holder's policies, read in its namespace's segment. */
function policiesOf(storage: StorageView, holder: Holder, nowMs: number) {
  return aclOf(subView(systemView(storage), namespaceSegment(holder.namespace)), holder.policies, nowMs);
}

/**
 * Capabilities of a policy set on each path; `capabilities` too when exactly one path was asked. Paths
 * are the request namespace's; the policies name them as seen from the holder's namespace (its ancestor).
 */
async function answer(req: HandlerRequest, storage: StorageView, holder: Holder, paths: string[]): Promise<LogicalResponse> {
  const data: Record<string, unknown> = {};
  const { acl } = holder.policies.length > 0 ? await policiesOf(storage, holder, req.nowMs) : { acl: null };
  const prefix = (req.mount.namespace?.path ?? '').slice(holder.namespace.path.length);
  for (const path of paths) {
    const caps: Capability[] = acl === null ? ['deny'] : acl.capabilities(prefix + path);
    data[path] = [...caps].sort();
  }
  if (paths.length === 1) data.capabilities = data[paths[0] as string];
  return { data, injectData: true };
}

/**
 * sys/internal/ui/resultant-acl (Vault's pathInternalUIResultantACL): the caller's policies merged, as the
 * UI reads them to decide what to show: `{root: true}` for a root token, else `exact_paths` and `glob_paths`,
 * each path mapped to `{capabilities}`. Read by any token (the default policy grants it).
 */
async function resultantAcl(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  if (req.caller.tokenKey === null && !req.caller.isRoot) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  if (req.caller.isRoot || req.caller.policies.includes('root')) return { data: { root: true } };
  const { acl } = await policiesOf(storage, callerHolder(req), req.nowMs);
  const { exact, glob } = acl.rules();
  const wrap = (m: Record<string, Capability[]>) => Object.fromEntries(Object.entries(m).map(([k, capabilities]) => [k, { capabilities }]));
  return { data: { root: false, exact_paths: wrap(exact), glob_paths: wrap(glob) } };
}

// Pure lookups: a standby answers them itself (PathSpec.answersLocally).
const capabilitySpecs: PathSpec[] = [
  {
    pattern: 'internal/ui/resultant-acl',
    operations: { read: resultantAcl },
    help: { synopsis: "The caller's merged ACL (exact and glob paths with their capabilities), for UIs.", description: 'GET: {root} for a root token, else {root: false, exact_paths, glob_paths}.' },
  },
  {
    pattern: 'capabilities-self',
    fields: { ...pathFields, token: { type: 'string', description: 'Ignored: the calling token is used.' } },
    operations: {
      update: async (req, storage) => {
        if (req.caller.tokenKey === null && !req.caller.isRoot) throw new CofferError('COFFER_ERR_INTERNAL', 'no token found');
        const paths = requestedPaths(req);
        return answer(req, storage, req.caller.isRoot ? { ...callerHolder(req), policies: ['root'] } : callerHolder(req), paths);
      },
    },
    help: { synopsis: "Capabilities of the caller's token on paths.", description: 'POST {paths: [...]}: data and the top level map each path to its sorted capabilities.' },
  },
  {
    pattern: 'capabilities',
    fields: { ...pathFields, token: { type: 'string', description: 'Token for which capabilities are being queried.' } },
    operations: {
      update: async (req, storage) => {
        const token = typeof req.fields.token === 'string' ? req.fields.token : '';
        if (token === '') throw new CofferError('COFFER_ERR_INTERNAL', 'no token found');
        const paths = requestedPaths(req);
        const entry = await entryByToken(storage, token, req.nowMs);
        const holder = entry && (await holderOf(req, storage, entry));
        if (!holder) badRequest('invalid token');
        return answer(req, storage, holder, paths);
      },
    },
    help: { synopsis: 'Capabilities of a given token on paths.', description: 'POST {token, paths}. An unknown token is 400 "invalid token".' },
  },
  {
    pattern: 'capabilities-accessor',
    fields: { ...pathFields, accessor: { type: 'string', description: 'Accessor of the token for which capabilities are being queried.' } },
    operations: {
      update: async (req, storage) => {
        const accessor = typeof req.fields.accessor === 'string' ? req.fields.accessor : '';
        if (accessor === '') badRequest('missing accessor');
        const entry = await entryByAccessor(storage, accessor, req.nowMs);
        const holder = entry && (await holderOf(req, storage, entry));
        if (!holder) badRequest('invalid accessor');
        const paths = requestedPaths(req);
        return answer(req, storage, holder, paths);
      },
    },
    help: { synopsis: 'Capabilities of the token behind an accessor on paths.', description: 'POST {accessor, paths}. An unknown accessor is 400 "invalid accessor".' },
  },
];

export const capabilitiesPaths: PathSpec[] = capabilitySpecs.map((spec) => ({ ...spec, answersLocally: ['update'] }));
