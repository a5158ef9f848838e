// Running one request against one mount: route, validate fields, existence check (create vs
// update), handler, then commit the write-set with its guards, executing again on a conflict.
// The request pipeline and the backend unit tests share this function; only `commit` differs.
import { CofferError } from '../../../runtime/errors.js';
import { handlerFor, route, validateFields, type CompiledBackend } from './router.js';
import { ScopedStorage, type PhysicalReader, type ValueCrypto, type WriteSetWithGuards } from './storage-view.js';
import { CUBBYHOLE_PREFIX, NAMESPACE_CUBBYHOLE_PREFIX } from '../cubbyhole/store.js';
import type { CallerInfo, HandlerResult, MountInfo, NamespaceSealOps, Operation, PathSpec } from './types.js';
import { LoginTokenIssuer, mayIssueTokens } from './login-token.js';
import { Held, KeyQueues } from './key-queues.js';
import { namespaceSegment } from '../namespaces/model.js';

/** Commits a write-set; resolves `{ ok: false }` when a guard no longer holds. */
export type Commit = (ws: WriteSetWithGuards) => Promise<{ ok: true; index: number } | { ok: false; conflictKey: string }>;

export interface MountRequest {
  /** read | update | delete | list | patch as the HTTP layer saw it; create is decided here. */
  operation: Exclude<Operation, 'create'>;
  path: string;
  data: Record<string, unknown>;
  caller: CallerInfo;
  nowMs: number;
  headers: Record<string, string>;
  /** The client's address, when the HTTP layer provides it (auth methods' bound CIDRs). */
  clientAddr?: string;
  /** Handed to the handler as HandlerRequest.namespaceSeals (sys/namespaces). */
  namespaceSeals?: NamespaceSealOps;
}

export interface MountDeps {
  physical: PhysicalReader;
  crypto: ValueCrypto;
  commit: Commit;
  /** Called before each attempt after a conflict, so readers see the newest committed state. */
  refresh?: () => void;
  /**
   * Runs after the handler on the same storage, before the commit: what it writes joins the request's
   * write-set, and its result replaces the handler's. The pipeline registers leases and wraps
   * responses here (actors/handler/wrapping.ts), so a request and its lease or wrapping commit together.
   */
  finish?: (result: HandlerResult, ctx: { operation: Operation; unknownFields: string[]; spec: PathSpec }, storage: ScopedStorage) => Promise<HandlerResult>;
}

export interface Executed {
  result: HandlerResult;
  /** The operation as the ACL must check it (create or update for writes). */
  operation: Operation;
  spec: PathSpec;
  unknownFields: string[];
  /** Log index of the write, when the request wrote. */
  index: number | null;
}

/** Conflicts are retried this many times; each retry re-reads, so a loser sees the winner's write. */
export const CONFLICT_RETRIES_MAX = 16;

export async function resolveOperation(
  compiled: CompiledBackend,
  mount: MountInfo,
  req: MountRequest,
  deps: MountDeps,
): Promise<{ spec: PathSpec; params: Record<string, string>; operation: Operation } | null> {
  const match = route(compiled, req.path);
  if (!match) return null;
  let operation: Operation = req.operation;
  if (operation === 'update' && match.spec.existenceCheck) {
    const probe = new ScopedStorage(storagePrefix(mount), deps.physical, deps.crypto);
    const exists = await match.spec.existenceCheck({ ...baseRequest(mount, req, match.params), operation }, probe);
    if (!exists) operation = 'create';
  }
  return { spec: match.spec, params: match.params, operation };
}

function baseRequest(mount: MountInfo, req: MountRequest, params: Record<string, string>) {
  return {
    path: req.path,
    params,
    fields: {},
    data: req.data,
    caller: req.caller,
    nowMs: req.nowMs,
    mount,
    headers: req.headers,
    ...(req.clientAddr ? { clientAddr: req.clientAddr } : {}),
    ...(req.namespaceSeals ? { namespaceSeals: req.namespaceSeals } : {}),
  };
}

/** Where a mount's data lives (§6): the system backend sees everything, the token store sys/token/. */
export function storagePrefix(mount: MountInfo): string {
  // Tokens (with their cubbyholes and leases) stay in the root segment whatever namespace made them: one
  // store resolves any token presented (each entry names its namespace; the pipeline enforces it).
  if (mount.type === 'token' || mount.type === 'ns_token') return 'sys/token/';
  // Per-token spaces under a fixed prefix, so token revocation can destroy them (cubbyhole/store.ts).
  if (mount.type === 'cubbyhole') return CUBBYHOLE_PREFIX;
  if (mount.type === 'ns_cubbyhole') return NAMESPACE_CUBBYHOLE_PREFIX;
  // A namespace's system backend sees its namespace's segment (its tables and policies), and its mounts'
  // data lives there too (namespaces/model.ts).
  const segment = namespaceSegment(mount.namespace);
  if (mount.type === 'system' || mount.type === 'ns_system') return segment;
  return `${segment}${mount.path.startsWith('auth/') ? 'auth' : 'logical'}/${mount.uuid}/`;
}

/** This worker's per-key write queues (key-queues.ts): shared by every mount it serves. */
const writeQueues = new KeyQueues();

export async function executeOnMount(
  compiled: CompiledBackend,
  mount: MountInfo,
  req: MountRequest,
  resolved: { spec: PathSpec; params: Record<string, string>; operation: Operation },
  deps: MountDeps,
): Promise<Executed> {
  const { spec, params, operation } = resolved;
  const handler = handlerFor(spec, operation);
  if (!handler) throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
  const { fields, unknown } = validateFields(spec.fields, req.data);
  const held = new Held();
  try {
    for (let attempt = 0; ; attempt++) {
      const storage = new ScopedStorage(storagePrefix(mount), deps.physical, deps.crypto);
      // Auth methods may create a login token: its token-store writes join this write-set (login-token.ts).
      const issuer = mayIssueTokens(mount) ? new LoginTokenIssuer(deps.physical, deps.crypto, mount, req.path, req.nowMs) : null;
      let result = await handler({ ...baseRequest(mount, req, params), operation, fields, ...(issuer ? { issueToken: issuer.issue } : {}) }, storage);
      if (deps.finish) result = await deps.finish(result, { operation, unknownFields: unknown, spec }, storage);
      if (!storage.hasWrites && !issuer?.hasWrites) return { result, operation, spec, unknownFields: unknown, index: null };
      const ws = storage.writeSet();
      if (issuer?.hasWrites) {
        const tokenWs = issuer.storage.writeSet();
        ws.ops.push(...tokenWs.ops);
        ws.guards.push(...tokenWs.guards);
      }
      // A key another request of this worker conflicted on and still waits for: queue behind it rather
      // than race it (checked and sent in one synchronous step, so no fresh attempt slips past the queue).
      const queued = writeQueues.contendedIn(ws, held);
      const committed = queued.length === 0 ? await deps.commit(ws) : null;
      if (committed?.ok) return { result, operation, spec, unknownFields: unknown, index: committed.index };
      if (attempt >= CONFLICT_RETRIES_MAX) {
        throw new CofferError('COFFER_ERR_INTERNAL', 'too many concurrent writes to the same keys; retry the request');
      }
      await writeQueues.hold(held, committed === null ? queued : [committed.conflictKey]);
      deps.refresh?.();
    }
  } finally {
    held.releaseAll();
  }
}
