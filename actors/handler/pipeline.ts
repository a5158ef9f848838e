// The request pipeline of a handler worker: keys → mount → token → ACL → backend → write-set → reply.
// Everything it reads comes from LMDB through validate-on-read caches (blob-cache.ts), so a change
// committed by any worker is seen by the next request; writes go to the raft actor as guarded
// write-sets (docs/concurrency.md).
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import type { CommitReply } from '../core/messages.js';
import { TOKEN_SALT_KEY } from '../core/tokens.js';
import { CONFLICT_RETRIES_MAX, executeOnMount, resolveOperation, type MountDeps, type MountRequest } from '../mounts/framework/execute.js';
import { addressInCidrs } from '../mounts/framework/cidr.js';
import { helpResponse } from '../mounts/framework/help.js';
import { compileBackend, type CompiledBackend } from '../mounts/framework/router.js';
import type { PhysicalReader, WriteSetWithGuards } from '../mounts/framework/storage-view.js';
import type { CallerInfo, HandlerResult, MountInfo, NamespaceSealOps, Operation } from '../mounts/framework/types.js';
import { AUTH_KEY, MOUNTS_KEY, mountInfoOf, type MountTable } from '../mounts/mount-table.js';
import { PrefixIndex } from '../mounts/prefix-index.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import { namespaceSegment, ROOT_NAMESPACE, ROOT_NAMESPACE_ID, namespaceHeaderPath, rootOnlySysPath, withinNamespace, type NamespaceRef } from '../mounts/namespaces/model.js';
import { lockingIn, NamespaceDirectory, sealOwnerIn } from '../mounts/namespaces/directory.js';
import { Acl } from '../mounts/policy/acl.js';
import { isSysRootPath, RESPONSE_WRAPPING_POLICY_HCL, RESPONSE_WRAPPING_POLICY_NAME } from '../mounts/policy/builtin.js';
import { parsePolicy } from '../mounts/policy/parse.js';
import type { Policy } from '../mounts/policy/types.js';
import { backendFactories } from '../mounts/registry.js';
import { policyKey, type StoredPolicy } from '../mounts/sys/policy-store.js';
import { parseWrapTtl, WRAPPING_TOKEN_PATHS } from '../mounts/sys/wrapping.js';
import { consumeUse, decodeTokenEntry, resolveToken, type TokenEntryReader } from '../mounts/token/store.js';
import type { TokenEntry } from '../core/tokens.js';
import { forwardBeforeRunning, forwardIfRefusedOnStandby, forwardIfWrites } from '../cluster/forwarding-policy.js';
import { AuditBroker, type AuditTrail } from '../audit/broker.js';
import { BlobCache } from './blob-cache.js';
import type { LogicalReply, LogicalRequest } from './messages.js';
import { finishHook, wrappingTokenSpendsInHandler } from './wrapping.js';

export interface PipelineDeps {
  physical: PhysicalReader & { refresh(): void; appliedIndex(): number };
  /** The barrier of the current seal epoch, or null while sealed. */
  barrier(): Promise<Barrier | null>;
  commit(ws: WriteSetWithGuards): Promise<CommitReply>;
  nowMs(): number;
  /** The core's seal state of sealable namespaces (docs/namespace-seals.md); absent in tests without a core. */
  namespaceSeals?: NamespaceSealOps;
}

/** On a standby the seal state is the active node's: every call forwards the request there. */
const FORWARDED_SEALS: NamespaceSealOps = {
  status: () => forwardToActive(),
  unseal: () => forwardToActive(),
  seal: () => forwardToActive(),
  rotate: () => forwardToActive(),
  keyStatus: () => forwardToActive(),
};

function forwardToActive(): never {
  throw new CofferError('COFFER_ERR_NOT_LEADER', 'forward to the active node: namespace seals are held there');
}

/** What one request's X-Vault-Index is computed from (Pipeline.answerIndex). */
interface ServeScope {
  /** The worker's snapshot index when the backend started reading; -1 before. */
  backendIndex: number;
  /** The backend committed a write-set (the snapshot was renewed after it). */
  committed: boolean;
}

/** The one path a locked namespace still serves (to itself): its unlock. */
const UNLOCK_PATH = 'sys/namespaces/api-lock/unlock';

/** Mount tables remembered (two per namespace: ~2,000 namespaces in use); more just decode again. */
const MOUNT_TABLES_CACHED = 4096;

/** Compiled backends (one per type and options) kept at once; more variants just compile again. */
const COMPILED_BACKENDS = 256;

/** Distinct tokens remembered (each ~1 KiB with its ciphertext); more in use just decode again. */
const TOKEN_ENTRIES_CACHED = 4096;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const ANONYMOUS: CallerInfo = { tokenKey: null, accessor: null, policies: [], isRoot: false, displayName: '', entityId: '', entry: null };

export class Pipeline {
  /** Mount and auth tables by storage key: two per namespace. */
  private readonly tables = new BlobCache<MountInfo[]>(MOUNT_TABLES_CACHED);
  /** Each namespace's mount and auth tables joined, with the stamps of the two tables they were joined from. */
  private readonly joinedTables = new Map<string, { a: number; b: number; mounts: PrefixIndex<MountInfo> }>();
  private readonly salt = new BlobCache<string>(1);
  private readonly policies = new BlobCache<Promise<Policy>>(1024);
  /**
   * Decoded token entries (the caller's and its ancestors'), validated against the stored ciphertext
   * on every use like the tables above: a read with a child token decrypted and parsed two entries per
   * request, ~10% of the handler thread. Frozen, because every request holding that token shares them.
   */
  private readonly tokenEntries = new BlobCache<TokenEntry>(TOKEN_ENTRIES_CACHED);
  private readonly cachedTokenEntry: TokenEntryReader = (physical, crypto, key) =>
    this.tokenEntries.get(physical, key, (blob) => deepFreeze(decodeTokenEntry(crypto, key, blob)));
  /** Backends by type and options, compiled on first use; the oldest leave first. */
  private readonly compiled = new Map<string, CompiledBackend>();
  private readonly compiledByMount = new WeakMap<MountInfo, CompiledBackend>();
  private readonly acls = new Map<string, Acl>();
  private wrappingPolicy: Promise<Policy> | null = null;

  private readonly audit: AuditBroker;

  /** Namespaces, loaded as requests reach them. */
  private readonly namespaces: NamespaceDirectory;

  constructor(private readonly deps: PipelineDeps) {
    this.namespaces = new NamespaceDirectory(deps.physical);
    this.audit = new AuditBroker({ physical: deps.physical, barrier: () => deps.barrier() });
  }

  /** Audit devices see every request: logged before the backend runs, the reply only once logged (docs/audit.md). */
  async handle(req: LogicalRequest): Promise<LogicalReply> {
    const trail = this.audit.trail(req);
    const scope: ServeScope = { backendIndex: -1, committed: false };
    let reply: LogicalReply;
    try {
      reply = await this.serve(req, trail, scope);
    } catch (err) {
      if (err instanceof CofferError) err.value.index ??= this.answerIndex(scope);
      throw await trail.failed(err);
    }
    const index = this.answerIndex(scope); // before the audit write (see answerIndex)
    const answered = await trail.respond(reply);
    answered.index = index;
    return answered;
  }

  /**
   * The answer's X-Vault-Index: the index of the snapshot its data was read from. The worker's read
   * snapshot is shared and renewed by every request that starts (and after every commit), so "now" is only
   * right while nothing awaited real I/O since the reads: a backend that reads and then awaits the crypto
   * pool (transit, logins) is stamped with the snapshot it started on; one that committed, with the
   * snapshot renewed after its commit, which holds its own write. Taken before the audit write of the
   * response, whose I/O lets other requests renew the snapshot past what this answer saw.
   */
  private answerIndex(scope: ServeScope): number {
    return scope.backendIndex >= 0 && !scope.committed ? scope.backendIndex : this.deps.physical.appliedIndex();
  }

  private async serve(req: LogicalRequest, trail: AuditTrail, scope: ServeScope): Promise<LogicalReply> {
    this.deps.physical.refresh(); // before the keyring check: it compares core/keyring in this snapshot
    const barrier = await this.deps.barrier();
    if (barrier === null) throw new CofferError('COFFER_ERR_SEALED');
    const physical = this.deps.physical;
    const nowMs = this.deps.nowMs();
    // X-Vault-Wrap-TTL (400 when bad or negative): the response is replaced by a wrapping token (wrapping.ts).
    const wrapTtlS = parseWrapTtl(req.headers);
    // Namespaces first (Vault's order): the longest namespace path in front of the request path picks the
    // namespace, and the rest is routed against that namespace's own mount tables.
    const { ns, chain } = this.namespaces.place(barrier, req.path);
    // The header must name a namespace that exists (the path prefix alone is just a path: no such route).
    const named = namespaceHeaderPath(req.headers['x-vault-namespace']);
    if (named !== '' && this.namespaces.lookup(barrier, named) === undefined) throw new CofferError('COFFER_ERR_NOT_FOUND', 'namespace not found');
    const relPath = req.path.slice(ns.path.length);
    // An API-locked namespace (or one below it) answers nothing but its own unlock (OpenBao).
    const locked = lockingIn(chain);
    if (locked !== undefined && relPath !== UNLOCK_PATH) {
      throw new CofferError('COFFER_ERR_NAMESPACE_LOCKED', `API access to this namespace has been locked by an administrator - ${JSON.stringify(locked.path)} must be unlocked to gain access.`);
    }
    // A sealable namespace (or one below it) sealed on purpose (the replicated flag: this node may still
    // hold a keyring it has yet to forget), or whose keyring this node does not hold: sealed, or unsealed
    // but not synced here yet (docs/namespace-seals.md). A standby lets the active node decide.
    const available = ns.id === ROOT_NAMESPACE_ID || (barrier instanceof SegmentedBarrier ? barrier.available(ns.uuid) : sealOwnerIn(chain) === null);
    if (!available) {
      if (req.standby) forwardToActive();
      throw new CofferError('COFFER_ERR_NAMESPACE_SEALED');
    }
    const mount = this.mountTable(barrier, ns).longest(relPath);
    let caller = this.caller(barrier, req.token, nowMs, req.remoteAddr, ns);
    if (req.standby) forwardBeforeRunning({ token: req.token, path: relPath }, caller, wrapTtlS); // writes known in advance go to the active node
    if (caller !== null && req.token && (caller.entry?.num_uses as number | undefined) !== undefined && (caller.entry?.num_uses as number) > 0 && !wrappingTokenSpendsInHandler(caller, relPath)) {
      caller = this.placed(barrier, await this.consumeUse(barrier, req.token, nowMs), ns);
    }
    trail.identify(caller, mount);

    if (mount === null) return this.noRoute(req, relPath, caller, null);
    const compiled = this.compiledFor(mount);
    const mountDeps: MountDeps = {
      physical,
      crypto: barrier,
      commit: (ws) => {
        scope.committed = true;
        return this.deps.commit(ws);
      },
      refresh: () => physical.refresh(),
      finish: finishHook({
        mount,
        path: req.path,
        caller,
        nowMs,
        wrapTtlS,
        shape: (result, operation, unknown) => shapeReply(result, operation, unknown.length > 0 ? [`Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`] : [], mount),
      }),
    };
    const mountReq: MountRequest = {
      operation: req.operation,
      path: relPath.length > mount.path.length ? relPath.slice(mount.path.length) : '',
      data: req.data,
      caller: caller ?? ANONYMOUS,
      nowMs,
      // Only the token store and sys/wrapping/{unwrap,lookup,rewrap} see the caller's token itself
      // (lookup-self and friends answer with it; a wrapping token may come as the request token);
      // every other backend knows the caller by its salted key and accessor.
      headers: (mount.type === 'token' || mount.type === 'ns_token' || WRAPPING_TOKEN_PATHS.includes(relPath)) && req.token ? { ...req.headers, 'x-vault-token': req.token } : req.headers,
      ...(req.remoteAddr ? { clientAddr: req.remoteAddr } : {}),
      ...(this.deps.namespaceSeals !== undefined ? { namespaceSeals: req.standby ? FORWARDED_SEALS : this.deps.namespaceSeals } : {}),
    };
    const resolved = await resolveOperation(compiled, mount, mountReq, mountDeps);
    if (resolved === null) return this.noRoute(req, relPath, caller, mount);
    if (req.standby) {
      try {
        forwardIfWrites(resolved.spec, resolved.operation);
      } catch (err) {
        // The front may forward this mount's writes before dispatch from now on (HaFront.forwardEarly).
        if (compiled.forwardsAllWrites && err instanceof CofferError) err.value.forwardWritesUnder = ns.path + mount.path;
        throw err;
      }
    }
    if (req.operation === 'read' && isHelpRequest(req.data)) {
      // Help needs a token with some capability on the path (not necessarily the one of the operation).
      if (caller === null) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
      const acl = await this.aclFor(caller);
      if (!caller.isRoot && acl.capabilities(aclPath(caller, req.path)).every((c) => c === 'deny')) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
      return { status: 200, body: helpResponse(mount, resolved.spec) };
    }
    if (!resolved.spec.unauthenticated) mountReq.caller = { ...mountReq.caller, sudo: await this.authorize(req, relPath, caller, resolved.operation, resolved.spec.sudo === true, wrapTtlS) };
    await trail.logRequest(resolved.operation); // fail closed: no device wrote it → 500, nothing runs
    let executed: Awaited<ReturnType<typeof executeOnMount>>;
    scope.backendIndex = physical.appliedIndex(); // its reads start now, synchronously
    try {
      executed = await executeOnMount(compiled, mount, mountReq, resolved, mountDeps);
    } catch (err) {
      if (req.standby) forwardIfRefusedOnStandby(err, resolved.operation); // the active node decides refusals
      throw err;
    }
    const warnings = executed.unknownFields.length > 0 && resolved.spec.fields ? [`Endpoint ignored these unrecognized parameters: [${executed.unknownFields.join(' ')}]`] : [];
    return shapeReply(executed.result, executed.operation, warnings, mount);
  }

  /** Vault checks the ACL before routing: only a caller allowed on the path learns it has no handler. */
  private async noRoute(req: LogicalRequest, relPath: string, caller: CallerInfo | null, mount: MountInfo | null): Promise<LogicalReply> {
    if (caller === null) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    const acl = await this.aclFor(caller);
    if (!caller.isRoot && !acl.allows(aclPath(caller, req.path), aclOperation(req.operation))) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    if (mount === null) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `no handler for route "${req.path}". route entry not found.`);
    if (mount.type === 'ns_system' && rootOnlySysPath(relPath)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'operation only available in root namespace');
    throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', 'unsupported path');
  }

  /** Refuses the request unless the ACL allows it; answers whether the caller has sudo on the path. */
  private async authorize(req: LogicalRequest, relPath: string, caller: CallerInfo | null, operation: Operation, specSudo: boolean, wrapTtlS: number | null = null): Promise<boolean> {
    if (caller === null) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    if (caller.isRoot) return true;
    const acl = await this.aclFor(caller);
    // Root paths are those of the request's namespace (its sys/); the ACL reads the path as seen from the
    // token's namespace, so a parent's policy names a child's paths with the child's path in front.
    const sudo = specSudo || isSysRootPath(relPath);
    const path = aclPath(caller, req.path);
    if (!acl.allows(path, operation, { sudo, data: req.data, ...(wrapTtlS !== null ? { wrapTtlSeconds: wrapTtlS } : {}) })) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    return acl.capabilities(path).includes('sudo');
  }

  /**
   * A token with limited uses spends one before the request runs, denied or not (as Vault counts
   * them); the last use deletes the token in the same write-set. Guarded like any write: on a
   * conflict (another request spent a use meanwhile) the token is resolved again.
   */
  private async consumeUse(barrier: Barrier, token: string, nowMs: number): Promise<CallerInfo | null> {
    const salt = this.salt.get(this.deps.physical, TOKEN_SALT_KEY, (blob) => barrier.decrypt(TOKEN_SALT_KEY, blob).toString('utf8'));
    if (salt === undefined) return null;
    for (let attempt = 0; ; attempt++) {
      const resolved = resolveToken(this.deps.physical, barrier, salt, token, nowMs);
      const use = resolved && (await consumeUse(this.deps.physical, barrier, salt, resolved, nowMs));
      if (!use) return null;
      const committed = await this.deps.commit(use.writeSet);
      if (committed.ok) return use.caller;
      if (attempt >= CONFLICT_RETRIES_MAX) throw new CofferError('COFFER_ERR_INTERNAL', 'too many concurrent uses of one token; retry the request');
      this.deps.physical.refresh();
    }
  }

  /**
   * The caller with its token's namespace, or null when the token may not act here: a token is valid in
   * the namespace it was created in and in that namespace's descendants only (and in none once its
   * namespace is deleted).
   */
  private placed(barrier: Barrier, caller: CallerInfo | null, requestNs: NamespaceRef): CallerInfo | null {
    if (caller === null) return null;
    const id = (caller.entry?.namespace_id as string | undefined) ?? ROOT_NAMESPACE_ID;
    // The token names its namespace by path and id: a namespace deleted and made again under that path is another one.
    const home = id === ROOT_NAMESPACE_ID ? ROOT_NAMESPACE : this.namespaces.lookup(barrier, (caller.entry?.namespace_path as string | undefined) ?? '');
    if (home === undefined || home.id !== id || !withinNamespace(home, requestNs)) return null;
    return home === ROOT_NAMESPACE ? caller : { ...caller, namespace: home };
  }

  private caller(barrier: Barrier, token: string | null, nowMs: number, remoteAddr: string | undefined, requestNs: NamespaceRef): CallerInfo | null {
    if (!token) return null;
    const salt = this.salt.get(this.deps.physical, TOKEN_SALT_KEY, (blob) => barrier.decrypt(TOKEN_SALT_KEY, blob).toString('utf8'));
    if (salt === undefined) return null;
    const resolved = resolveToken(this.deps.physical, barrier, salt, token, nowMs, this.cachedTokenEntry);
    // Vault's CheckToken: a token with bound CIDRs (login tokens, token_bound_cidrs) is only valid from
    // those addresses; without a known client address it is refused (fail closed).
    const bound = (resolved?.entry as TokenEntry | undefined)?.bound_cidrs;
    if (bound && bound.length > 0 && !addressInCidrs(remoteAddr, bound)) return null;
    return this.placed(barrier, resolved?.caller ?? null, requestNs);
  }

  /** A namespace's mounts, paths relative to the namespace, each knowing its namespace (and so its storage segment). */
  private mountTable(barrier: Barrier, ns: NamespaceRef): PrefixIndex<MountInfo> {
    const segment = namespaceSegment(ns);
    const load = (key: string, table: 'mounts' | 'auth') =>
      this.tables.getStamped(this.deps.physical, key, (blob) =>
        (JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as MountTable).entries.map((e) => (segment === '' ? mountInfoOf(e, table) : { ...mountInfoOf(e, table), namespace: ns })),
      );
    const mounts = load(segment === '' ? MOUNTS_KEY : segment + MOUNTS_KEY, 'mounts');
    const auth = load(segment === '' ? AUTH_KEY : segment + AUTH_KEY, 'auth');
    // Both tables as one list, built again only when either changed (not one new array per request).
    const a = mounts?.stamp ?? 0;
    const b = auth?.stamp ?? 0;
    const joined = this.joinedTables.get(segment);
    if (joined !== undefined && joined.a === a && joined.b === b) return joined.mounts;
    const all = new PrefixIndex([...(mounts?.value ?? []), ...(auth?.value ?? [])]);
    if (this.joinedTables.size >= MOUNT_TABLES_CACHED) this.joinedTables.delete(this.joinedTables.keys().next().value as string);
    this.joinedTables.set(segment, { a, b, mounts: all });
    return all;
  }

  private compiledFor(mount: MountInfo): CompiledBackend {
    // The same MountInfo object comes with every request until its table changes: no key to build then.
    const known = this.compiledByMount.get(mount);
    if (known !== undefined) return known;
    // By type and options only (BackendFactory's contract): 2,000 KV v2 mounts share one compiled router.
    const key = `${mount.type}|${JSON.stringify(mount.options)}`;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      const factory = backendFactories[mount.type];
      if (!factory) throw new CofferError('COFFER_ERR_INTERNAL', `mount ${mount.path} has unknown type ${mount.type}`);
      compiled = compileBackend(factory(mount));
      // Compiled on first use, and at most COMPILED_BACKENDS variants at once.
      if (this.compiled.size >= COMPILED_BACKENDS) this.compiled.delete(this.compiled.keys().next().value as string);
      this.compiled.set(key, compiled);
    }
    this.compiledByMount.set(mount, compiled);
    return compiled;
  }

  /** The ACL for a set of policy names, rebuilt only when one of their stored texts changed. */
  private async aclFor(caller: CallerInfo): Promise<Acl> {
    const names = caller.policies;
    const segment = namespaceSegment(caller.namespace);
    const barrier = await this.deps.barrier();
    if (barrier === null) throw new CofferError('COFFER_ERR_SEALED');
    const loaded: Policy[] = [];
    const versions: string[] = [];
    for (const name of [...new Set(names)].sort()) {
      if (name === 'root') {
        loaded.push({ name: 'root', rules: [], raw: '' } as unknown as Policy);
        versions.push('root');
        continue;
      }
      if (name === RESPONSE_WRAPPING_POLICY_NAME) {
        // Built in and immutable: never stored, parsed once.
        this.wrappingPolicy ??= parsePolicy(RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY_HCL);
        loaded.push(await this.wrappingPolicy);
        versions.push(RESPONSE_WRAPPING_POLICY_NAME);
        continue;
      }
      const key = segment + policyKey(name);
      const policy = this.policies.getStamped(this.deps.physical, key, (blob) => {
        const stored = JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as StoredPolicy;
        return parsePolicy(stored.name, stored.raw);
      });
      if (policy === undefined) continue; // a token may name a policy that was deleted since
      loaded.push(await policy.value);
      // The stamp changes whenever the stored policy does (BlobCache compares the ciphertext), so the
      // ACL cache key stays exact without a second get and sha256 of the policy per request.
      versions.push(`${segment}${name}@${policy.stamp}`);
    }
    const cacheKey = versions.join(',');
    let acl = this.acls.get(cacheKey);
    if (!acl) {
      acl = Acl.compile(loaded);
      if (this.acls.size > 4096) this.acls.clear();
      this.acls.set(cacheKey, acl);
    }
    return acl;
  }
}

function isHelpRequest(data: Record<string, unknown>): boolean {
  const h = data.help;
  return h === '1' || h === 'true' || h === true || h === 1;
}

/** The request path as the caller's policies name it: relative to the namespace its token belongs to. */
function aclPath(caller: CallerInfo, path: string): string {
  return caller.namespace ? path.slice(caller.namespace.path.length) : path;
}

function aclOperation(op: LogicalRequest['operation']): Operation {
  return op;
}

/** Shapes a handler result into Vault's HTTP reply (§0.3, §0.4). */
export function shapeReply(result: HandlerResult, operation: Operation, extraWarnings: string[], mount: MountInfo): LogicalReply {
  if (result === null) return operation === 'read' || operation === 'list' ? { status: 404, body: { errors: [] } } : { status: 204, body: null };
  if (result.raw) return { status: result.raw.status, body: result.raw.body };
  const data = result.data ?? null;
  if (operation === 'list' && (data === null || (Array.isArray(data.keys) && data.keys.length === 0))) return { status: 404, body: { errors: [] } };
  const warnings = [...(result.warnings ?? []), ...extraWarnings];
  const body: Record<string, unknown> = {
    request_id: randomUUID(),
    lease_id: result.lease?.leaseId ?? '',
    renewable: result.lease?.renewable ?? false,
    lease_duration: result.lease?.durationS ?? 0,
    data,
    wrap_info: null,
    warnings: warnings.length > 0 ? warnings : null,
    auth: result.auth ?? null,
    mount_type: mount.type === 'system' ? 'system' : mount.type,
  };
  if (result.injectData && data) for (const [k, v] of Object.entries(data)) if (!(k in body)) body[k] = v;
  return { status: result.statusCode ?? 200, body };
}
