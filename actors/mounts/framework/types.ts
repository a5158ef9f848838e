// The mount framework's contract: a backend is a table of path patterns x operations with field
// schemas, an existence check and help text, compiled once at mount time. Handlers see only a storage
// view scoped to their mount and return one response; everything they wrote becomes one write-set
// (one request = one transaction = one log entry).

import type { NamespaceRef } from '../namespaces/model.js';

/** Logical operations (§0.1). `create` vs `update` is decided by the existence check. */
export type Operation = 'read' | 'create' | 'update' | 'patch' | 'delete' | 'list';

export type FieldType =
  | 'string'
  | 'int'
  | 'bool'
  /** seconds; accepts an int or a Go duration string ("30m", "1h") */
  | 'duration'
  | 'map'
  | 'string-slice'
  /** a list given as an array or as a comma-separated string */
  | 'comma-string-slice'
  | 'object'
  | 'any';

export interface FieldSchema {
  type: FieldType;
  description: string;
  default?: unknown;
  required?: boolean;
}

/** Values after validation: durations are seconds, slices are string arrays. */
export type FieldValues = Record<string, unknown>;

/** What a handler is told about the caller (never the token itself). */
export interface CallerInfo {
  /** Salted storage id of the calling token, or null for unauthenticated paths. */
  tokenKey: string | null;
  accessor: string | null;
  policies: string[];
  isRoot: boolean;
  displayName: string;
  entityId: string;
  /** The token entry as stored, for auth/token's *-self operations. */
  entry: Record<string, unknown> | null;
  /** The ACL grants `sudo` on the request path (always true for root); set by the pipeline. */
  sudo?: boolean;
  /** The namespace the token belongs to; absent for the root namespace. */
  namespace?: NamespaceRef;
}

export interface HandlerRequest {
  operation: Operation;
  /** Path relative to the mount, e.g. "data/app/db" for "secret/data/app/db". */
  path: string;
  /** Named captures of the matched pattern. */
  params: Record<string, string>;
  /** Validated fields (schema'd ones, with defaults applied). */
  fields: FieldValues;
  /** The raw request data (body, or query parameters on GET/DELETE), for handlers that take free-form data (KV). */
  data: Record<string, unknown>;
  caller: CallerInfo;
  /** Request wall time in ms, stamped once by the pipeline (handlers never read the clock). */
  nowMs: number;
  mount: MountInfo;
  /** Request headers a handler may need (e.g. content-type), lower-cased. */
  headers: Record<string, string>;
  /**
   * The client's address (Vault's req.Connection.RemoteAddr) when the HTTP layer provides it; auth
   * methods check bound CIDRs against it and fail closed when it is absent.
   */
  clientAddr?: string;
  /**
   * Auth methods only (mounts under auth/, not the token store): create the login's token in the
   * token store as part of THIS request's write-set (framework/login-token.ts). At most once per request.
   */
  issueToken?: (spec: LoginTokenSpec) => Promise<IssuedToken>;
  /** sys/namespaces only: the seal state of sealable namespaces, held by the active node's core (docs/namespace-seals.md). */
  namespaceSeals?: NamespaceSealOps;
}

/** The core's side of sealable namespaces; on a standby every call forwards the request to the active node. */
export interface NamespaceSealOps {
  status(uuid: string): Promise<Record<string, unknown>>;
  unseal(uuid: string, key: string | null, reset: boolean): Promise<Record<string, unknown>>;
  seal(uuids: string[]): Promise<void>;
  /** A new term of the namespace's keyring (sys/rotate sent to a sealable namespace). */
  rotate(uuid: string): Promise<void>;
  keyStatus(uuid: string): Promise<Record<string, unknown>>;
}

/** What a login asks the token store to create (Vault's logical.Auth as an auth method fills it). */
export interface LoginTokenSpec {
  /** token_policies; sanitized, "default" added unless noDefaultPolicy. "root" is refused. */
  policies: string[];
  noDefaultPolicy?: boolean;
  /** The token's meta (also the auth response's metadata), e.g. { username }. */
  metadata: Record<string, string>;
  /** The method's display name (e.g. the username); the mount path is prefixed as Vault does. */
  displayName: string;
  /** token_ttl, token_max_ttl, token_explicit_max_ttl, token_period (seconds; 0 = unset). */
  ttlS: number;
  maxTtlS: number;
  explicitMaxTtlS: number;
  periodS: number;
  numUses: number;
  /** token_bound_cidrs, enforced on every use of the token. */
  boundCidrs: string[];
  /** token_type as configured; only service tokens are issued ("batch" → 400). */
  tokenType?: string;
}

export interface IssuedToken {
  auth: AuthResponse;
  /** CalculateTTL's capping warnings, for the response. */
  warnings: string[];
}

export interface MountInfo {
  /** e.g. "secret/" */
  path: string;
  type: string;
  uuid: string;
  accessor: string;
  /** Mount options, e.g. { version: "2" } for KV v2. */
  options: Record<string, string>;
  defaultLeaseTtlS: number;
  maxLeaseTtlS: number;
  /** The namespace whose table holds the mount (its `path` is relative to it); absent for the root namespace. */
  namespace?: NamespaceRef;
}

/**
 * A storage view scoped to one mount's prefix. Reads are decrypted values of the mount's keys; writes
 * are buffered and become the request's write-set. Every key read is remembered with a hash of what
 * was read, so the commit can refuse the write-set if any of those keys changed meanwhile (the request
 * is then executed again): no lost updates between concurrent handlers.
 */
export interface StorageView {
  get(key: string): Promise<Buffer | undefined>;
  getJson<T>(key: string): Promise<T | undefined>;
  /** Vault list semantics: direct children under prefix, folders end with "/", sorted. */
  list(prefix: string): Promise<string[]>;
  put(key: string, value: Uint8Array): void;
  putJson(key: string, value: unknown): void;
  /**
   * A value stored as given, not encrypted by the request's barrier: seal material that carries its own
   * encryption (a sealable namespace's keys and its first entries, sys/namespaces). Not readable back in
   * the same request.
   */
  putRaw?(key: string, bytes: Uint8Array): void;
  /** As putJson, encrypted with the keyring that encrypts `viaKey` (a new namespace below a sealable one). */
  putJsonVia?(key: string, value: unknown, viaKey: string): void;
  delete(key: string): void;
}

/** A successful logical response: the envelope's data, plus optional auth, lease and warnings. */
export interface LogicalResponse {
  data?: Record<string, unknown> | null;
  auth?: AuthResponse | null;
  /** For "secret" responses (KV v1 with ttl): lease fields of the envelope. */
  lease?: { leaseId: string; durationS: number; renewable: boolean } | null;
  warnings?: string[];
  /** Copy data's keys to the top level of the envelope (legacy quirk for some sys paths, §0.3). */
  injectData?: boolean;
  /** A raw (non-envelope) body with this status, e.g. 204 or a bespoke JSON. */
  raw?: { status: number; body: unknown } | null;
  /**
   * HTTP status for the *enveloped* response instead of 200 (Vault's RespondWithStatusCode with a
   * response): KV v2 answers a read of a deleted or destroyed version 404 with the full envelope
   * (data and metadata), and invalid KV v2 paths 404 with an envelope carrying only a warning.
   * (Vault's RespondWithStatusCode with *no* response, a bare status with an empty body, is
   * `raw: { status, body: null }`: a null raw body means no body at all.)
   */
  statusCode?: number;
}

export interface AuthResponse {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service' | 'batch';
  orphan: boolean;
  num_uses: number;
}

/**
 * A handler's outcome. `null` means no content (204). Errors are thrown as CofferError (bad input →
 * COFFER_ERR_INVALID_REQUEST with Vault's message; not found → COFFER_ERR_NOT_FOUND gives 404 {"errors":[]}).
 */
export type HandlerResult = LogicalResponse | null;

export type Handler = (req: HandlerRequest, storage: StorageView) => Promise<HandlerResult>;

export interface PathSpec {
  /**
   * Pattern relative to the mount. Segments: literal text, `:name` (one segment), `:name*` (the rest,
   * possibly empty, may contain slashes), `:name+` (the rest, non-empty). Examples: "config",
   * "data/:path+", "metadata/:path*", "keys/:name".
   */
  pattern: string;
  fields?: Record<string, FieldSchema>;
  operations: Partial<Record<Operation, Handler>>;
  /** Decides create vs update for POST/PUT; without it every write is `update`. */
  existenceCheck?: (req: HandlerRequest, storage: StorageView) => Promise<boolean>;
  /** Paths the ACL does not guard (e.g. login). */
  unauthenticated?: boolean;
  /** Requires sudo (root-protected path). */
  sudo?: boolean;
  /**
   * Operations that always write storage even when they look like reads (token create, login, num_uses):
   * standbys forward these before running them (issue 5).
   */
  alwaysWrites?: Operation[];
  /**
   * Update-shaped operations that never write storage (transit encrypt, capabilities, lookups): a standby
   * answers them itself. Every other create/update/patch/delete reaching a standby is forwarded before it
   * runs: its answer would be judged against possibly stale state, even when it writes nothing (deleting
   * a key the standby has not received yet would answer 204 and delete nothing).
   */
  answersLocally?: Operation[];
  help: { synopsis: string; description: string };
}

export interface Backend {
  /** e.g. "kv", "token", "system" */
  type: string;
  help: string;
  paths: PathSpec[];
  /** Called once when the mount is enabled, to write initial state (e.g. KV v2 config). */
  initialize?: (mount: MountInfo, storage: StorageView, nowMs: number) => Promise<void>;
  /**
   * Auth methods: asked before a token their login issued is renewed (Vault's AuthRenew callback), with the
   * token's metadata and policies and the mount's storage; throws to refuse (the user or role is gone, or
   * its policies changed since the login).
   */
  renewLogin?: (login: { meta: Record<string, string>; policies: string[] }, storage: StorageView) => Promise<void>;
}

/**
 * A backend factory per mount type; options select variants (KV version). The backend may depend on the
 * mount's type and options only (everything else reaches handlers at run time): the handler compiles one
 * per type and options and shares it between mounts.
 */
export type BackendFactory = (mount: MountInfo) => Backend;
