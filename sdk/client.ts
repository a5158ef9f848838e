// A typed client for Coffer's (Vault-compatible) HTTP API. The CLI is built on it.
import type { HealthInfo, InitResult, KeyStatus, SealStatus } from '../actors/core/messages.js';
import type { NamespaceSealStatus } from '../actors/core/namespace-seals.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    /** The request that failed (for Vault-style "URL: PUT http://..." error output). */
    readonly method = '',
    readonly url = '',
    /** The parsed response body, when there was one (a soft-deleted KV v2 read carries an envelope). */
    readonly body: unknown = null,
  ) {
    super(errors.length > 0 ? `Code: ${status}. Errors:\n\n* ${errors.join('\n* ')}` : `Code: ${status}. Errors: (none)`);
  }
}

export interface ClientOptions {
  address?: string;
  token?: string | null;
  /** Sent as X-Vault-Namespace (default: COFFER_NAMESPACE, VAULT_NAMESPACE, BAO_NAMESPACE; none = the root namespace). */
  namespace?: string | null;
}

export function defaultNamespace(): string | null {
  return process.env.COFFER_NAMESPACE || process.env.VAULT_NAMESPACE || process.env.BAO_NAMESPACE || null;
}

/** A namespace as sys/namespaces answers for it. */
export interface NamespaceInfo {
  id: string;
  uuid: string;
  path: string;
  custom_metadata: Record<string, string>;
  tainted: boolean;
  locked: boolean;
}

export type { NamespaceSealStatus };

export function defaultAddress(): string {
  return process.env.COFFER_ADDR ?? process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200';
}

export function defaultToken(): string | null {
  return process.env.COFFER_TOKEN ?? process.env.VAULT_TOKEN ?? null;
}

export interface Envelope<T> {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: T;
  warnings: string[] | null;
  auth?: AuthInfo | null;
  wrap_info?: unknown;
  mount_type?: string;
}

/** The `auth` block of a token create / renew / login response (API.md §0.3). */
export interface AuthInfo {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  identity_policies?: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service' | 'batch';
  orphan: boolean;
  num_uses: number;
  mfa_requirement?: unknown;
}

// ---- KV ------------------------------------------------------------------------------------------

/** Metadata of one KV v2 version, as returned by a write and inside a read. */
export interface KvVersionMetadata {
  version: number;
  created_time: string;
  /** "" unless soft-deleted. */
  deletion_time: string;
  destroyed: boolean;
  custom_metadata: Record<string, string> | null;
}

/** A KV v2 read. `data` is null for a soft-deleted or destroyed version. */
export interface KvSecret<T = Record<string, unknown>> {
  data: T | null;
  metadata: KvVersionMetadata;
}

export interface KvMetadata {
  current_version: number;
  oldest_version: number;
  created_time: string;
  updated_time: string;
  max_versions: number;
  cas_required: boolean;
  delete_version_after: string;
  custom_metadata: Record<string, string> | null;
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
  current_metadata_version?: number;
  metadata_cas_required?: boolean;
}

export interface KvMetadataInput {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: string | number;
  custom_metadata?: Record<string, string>;
}

export interface KvConfig {
  max_versions: number;
  cas_required: boolean;
  delete_version_after: string;
}

// ---- tokens --------------------------------------------------------------------------------------

/** Body of `auth/token/create` (API.md §4.5). Durations: "1h", "30m" or seconds. */
export interface TokenCreateRequest {
  id?: string;
  role_name?: string;
  policies?: string[];
  meta?: Record<string, string>;
  no_parent?: boolean;
  no_default_policy?: boolean;
  renewable?: boolean;
  ttl?: string | number;
  explicit_max_ttl?: string | number;
  display_name?: string;
  num_uses?: number;
  period?: string | number;
  type?: 'service' | 'batch';
  entity_alias?: string;
}

/** `auth/token/lookup*` data. `id` is "" for a lookup by accessor. */
export interface TokenLookup {
  id: string;
  accessor: string;
  policies: string[];
  path: string;
  meta: Record<string, string> | null;
  display_name: string;
  num_uses: number;
  orphan: boolean;
  creation_time: number;
  creation_ttl: number;
  expire_time: string | null;
  ttl: number;
  explicit_max_ttl: number;
  entity_id: string;
  type: 'service' | 'batch';
  issue_time?: string;
  renewable?: boolean;
  identity_policies?: string[];
  last_renewal_time?: number;
  period?: number;
}

// ---- mounts --------------------------------------------------------------------------------------

export interface MountConfigInput {
  default_lease_ttl?: string | number;
  max_lease_ttl?: string | number;
  force_no_cache?: boolean;
  audit_non_hmac_request_keys?: string[];
  audit_non_hmac_response_keys?: string[];
  listing_visibility?: 'unauth' | 'hidden' | '';
  passthrough_request_headers?: string[];
  allowed_response_headers?: string[];
}

/** Body of `sys/mounts/<path>` and `sys/auth/<path>`. */
export interface MountInput {
  type: string;
  description?: string;
  config?: MountConfigInput;
  options?: Record<string, string>;
  local?: boolean;
  seal_wrap?: boolean;
  external_entropy_access?: boolean;
}

export interface MountEntry {
  type: string;
  description: string;
  accessor: string;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
  options: Record<string, string> | null;
  uuid: string;
  plugin_version: string;
  running_plugin_version: string;
  running_sha256: string;
  deprecation_status?: string;
  config: { default_lease_ttl: number; max_lease_ttl: number; force_no_cache: boolean; [k: string]: unknown };
}

/** `GET sys/mounts/<path>/tune`: TTLs in seconds. */
export interface MountTune {
  default_lease_ttl: number;
  max_lease_ttl: number;
  force_no_cache: boolean;
  description?: string;
  options?: Record<string, string> | null;
  [k: string]: unknown;
}

export interface MountTuneInput extends MountConfigInput {
  description?: string;
  options?: Record<string, string>;
}

/** `sys/internal/ui/mounts/<path>`: the mount that serves a path (how the CLI tells KV v1 from v2). */
export interface UiMount {
  path: string;
  type: string;
  options: Record<string, string> | null;
  description?: string;
  accessor?: string;
  [k: string]: unknown;
}

/** A response seen by the client, for callers (the CLI) that print the whole body. */
export interface ResponseRecord {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

function joinPath(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

export class Client {
  readonly address: string;
  token: string | null;
  /** Called with every response that did not throw (the CLI keeps the last one for -format=json). */
  onResponse: ((r: ResponseRecord) => void) | null = null;

  namespace: string | null;

  constructor(opts: ClientOptions = {}) {
    this.address = (opts.address ?? defaultAddress()).replace(/\/$/, '');
    this.token = opts.token === undefined ? defaultToken() : opts.token;
    this.namespace = opts.namespace === undefined ? defaultNamespace() : opts.namespace;
  }

  /** A copy of this client that sends another token (same address and namespace). */
  withToken(token: string | null): Client {
    return new Client({ address: this.address, token, namespace: this.namespace });
  }

  /** A copy of this client that works in another namespace (same address and token). */
  withNamespace(namespace: string | null): Client {
    return new Client({ address: this.address, token: this.token, namespace });
  }

  /**
   * One request; returns the parsed JSON body (null for 204), throws ApiError for any non-2xx.
   * `contentType` overrides `application/json` (KV v2 PATCH needs `application/merge-patch+json`).
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, opts: { okStatuses?: number[]; contentType?: string } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (this.token) headers['X-Vault-Token'] = this.token;
    if (this.namespace) headers['X-Vault-Namespace'] = this.namespace;
    if (body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const url = `${this.address}/v1/${path.replace(/^\//, '')}`;
    const res = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        if (res.ok) throw new Error(`${method} ${url}: the response is not JSON: ${text.slice(0, 200)}`);
        parsed = null;
      }
    }
    if (!res.ok && !(opts.okStatuses ?? []).includes(res.status)) {
      const errors = (parsed as { errors?: string[] } | null)?.errors ?? [];
      throw new ApiError(res.status, Array.isArray(errors) ? errors : [], method, url, parsed);
    }
    this.onResponse?.({ method, path, status: res.status, body: parsed });
    return { status: res.status, body: parsed as T };
  }

  /** GET/LIST that answers null for a 404 instead of throwing. */
  private async readOrNull<T>(method: string, path: string): Promise<T | null> {
    try {
      return (await this.request<T>(method, path)).body;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  async initStatus(): Promise<boolean> {
    return (await this.request<{ initialized: boolean }>('GET', 'sys/init')).body.initialized;
  }
  /** pgp_keys: one base64 binary public key per share; the shares (and with root_token_pgp_key the root token) come back encrypted. */
  async init(opts: { secret_shares: number; secret_threshold: number; pgp_keys?: string[]; root_token_pgp_key?: string }): Promise<InitResult> {
    return (await this.request<InitResult>('PUT', 'sys/init', opts)).body;
  }
  async unseal(key: string): Promise<SealStatus> {
    return (await this.request<SealStatus>('PUT', 'sys/unseal', { key })).body;
  }
  async unsealReset(): Promise<SealStatus> {
    return (await this.request<SealStatus>('PUT', 'sys/unseal', { reset: true })).body;
  }
  async sealStatus(): Promise<SealStatus> {
    return (await this.request<SealStatus>('GET', 'sys/seal-status')).body;
  }
  async seal(): Promise<void> {
    await this.request('PUT', 'sys/seal');
  }
  /** Health answers with non-2xx codes by design (sealed 503, uninitialised 501, standby 429). */
  async health(): Promise<{ status: number; body: HealthInfo }> {
    return this.request<HealthInfo>('GET', 'sys/health', undefined, { okStatuses: [429, 472, 473, 501, 503] });
  }
  async leader(): Promise<{ ha_enabled: boolean }> {
    return (await this.request<{ ha_enabled: boolean }>('GET', 'sys/leader')).body;
  }
  async rotate(): Promise<void> {
    await this.request('PUT', 'sys/rotate');
  }
  async keyStatus(): Promise<KeyStatus> {
    return (await this.request<Envelope<KeyStatus>>('GET', 'sys/key-status')).body.data;
  }
  async rawWrite(path: string, value: string): Promise<void> {
    await this.request('PUT', `sys/raw/${path}`, { value });
  }
  async rawRead(path: string): Promise<string | null> {
    try {
      return (await this.request<Envelope<{ value: string }>>('GET', `sys/raw/${path}`)).body.data.value;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }
  async rawList(path: string): Promise<string[]> {
    try {
      return (await this.request<Envelope<{ keys: string[] }>>('LIST', `sys/raw/${path}`)).body.data.keys;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }
  async rawDelete(path: string): Promise<void> {
    await this.request('DELETE', `sys/raw/${path}`);
  }

  // ---- KV v2 (API.md §4.1); `mount` is the mount path ("secret"), `path` the key inside it --------

  /** Reads the latest (or a given) version; null when the key or version never existed. A
   * soft-deleted or destroyed version answers `{ data: null, metadata }` (Vault's 404 with a body). */
  async kvRead<T = Record<string, unknown>>(mount: string, path: string, opts: { version?: number } = {}): Promise<KvSecret<T> | null> {
    const q = opts.version !== undefined ? `?version=${opts.version}` : '';
    const r = await this.request<Envelope<KvSecret<T>> | { errors: string[] } | null>('GET', `${encodePath(joinPath(mount, 'data', path))}${q}`, undefined, { okStatuses: [404] });
    if (r.status === 404) {
      const env = r.body as Envelope<KvSecret<T>> | null;
      return env && env.data && env.data.metadata ? env.data : null;
    }
    return (r.body as Envelope<KvSecret<T>>).data;
  }
  /** Writes a new version. `cas: 0` writes only if the key is absent; `cas: N` only if N is current. */
  async kvWrite(mount: string, path: string, data: Record<string, unknown>, opts: { cas?: number } = {}): Promise<KvVersionMetadata> {
    const body = { data, ...(opts.cas !== undefined ? { options: { cas: opts.cas } } : {}) };
    return (await this.request<Envelope<KvVersionMetadata>>('PUT', encodePath(joinPath(mount, 'data', path)), body)).body.data;
  }
  /** RFC 7386 merge into the latest version (`null` removes a field); needs the `patch` capability. */
  async kvPatch(mount: string, path: string, data: Record<string, unknown>, opts: { cas?: number } = {}): Promise<KvVersionMetadata> {
    const body = { data, ...(opts.cas !== undefined ? { options: { cas: opts.cas } } : {}) };
    return (await this.request<Envelope<KvVersionMetadata>>('PATCH', encodePath(joinPath(mount, 'data', path)), body, { contentType: 'application/merge-patch+json' })).body.data;
  }
  /** Soft-deletes the latest version (no error when the key does not exist). */
  async kvDelete(mount: string, path: string): Promise<void> {
    await this.request('DELETE', encodePath(joinPath(mount, 'data', path)));
  }
  /** Soft-deletes the given versions. */
  async kvDeleteVersions(mount: string, path: string, versions: number[]): Promise<void> {
    await this.request('POST', encodePath(joinPath(mount, 'delete', path)), { versions });
  }
  async kvUndelete(mount: string, path: string, versions: number[]): Promise<void> {
    await this.request('POST', encodePath(joinPath(mount, 'undelete', path)), { versions });
  }
  /** Wipes the given versions' data permanently. */
  async kvDestroy(mount: string, path: string, versions: number[]): Promise<void> {
    await this.request('PUT', encodePath(joinPath(mount, 'destroy', path)), { versions });
  }
  /** Keys under a prefix (folders end in "/"); [] when there are none. */
  async kvList(mount: string, prefix = ''): Promise<string[]> {
    const body = await this.readOrNull<Envelope<{ keys: string[] }>>('LIST', `${encodePath(joinPath(mount, 'metadata', prefix))}/`);
    return body?.data?.keys ?? [];
  }
  async kvReadMetadata(mount: string, path: string): Promise<KvMetadata | null> {
    return (await this.readOrNull<Envelope<KvMetadata>>('GET', encodePath(joinPath(mount, 'metadata', path))))?.data ?? null;
  }
  async kvWriteMetadata(mount: string, path: string, input: KvMetadataInput): Promise<void> {
    await this.request('POST', encodePath(joinPath(mount, 'metadata', path)), input);
  }
  async kvPatchMetadata(mount: string, path: string, input: KvMetadataInput): Promise<void> {
    await this.request('PATCH', encodePath(joinPath(mount, 'metadata', path)), input, { contentType: 'application/merge-patch+json' });
  }
  /** Removes every version and the metadata of a key. */
  async kvDeleteMetadata(mount: string, path: string): Promise<void> {
    await this.request('DELETE', encodePath(joinPath(mount, 'metadata', path)));
  }
  async kvReadConfig(mount: string): Promise<KvConfig> {
    return (await this.request<Envelope<KvConfig>>('GET', joinPath(mount, 'config'))).body.data;
  }
  async kvWriteConfig(mount: string, config: Partial<Omit<KvConfig, 'delete_version_after'>> & { delete_version_after?: string | number }): Promise<void> {
    await this.request('POST', joinPath(mount, 'config'), config);
  }
  /** The key structure of a version with leaf values null. */
  async kvSubkeys(mount: string, path: string, opts: { depth?: number; version?: number } = {}): Promise<{ subkeys: Record<string, unknown>; metadata: KvVersionMetadata } | null> {
    const q = new URLSearchParams();
    if (opts.depth !== undefined) q.set('depth', String(opts.depth));
    if (opts.version !== undefined) q.set('version', String(opts.version));
    const qs = q.size > 0 ? `?${q.toString()}` : '';
    return (await this.readOrNull<Envelope<{ subkeys: Record<string, unknown>; metadata: KvVersionMetadata }>>('GET', `${encodePath(joinPath(mount, 'subkeys', path))}${qs}`))?.data ?? null;
  }

  // ---- KV v1 (API.md §4.2) ---------------------------------------------------------------------

  /** The stored object, or null. */
  async kv1Read<T = Record<string, unknown>>(mount: string, path: string): Promise<T | null> {
    return (await this.readOrNull<Envelope<T>>('GET', encodePath(joinPath(mount, path))))?.data ?? null;
  }
  async kv1Write(mount: string, path: string, data: Record<string, unknown>): Promise<void> {
    await this.request('PUT', encodePath(joinPath(mount, path)), data);
  }
  async kv1Delete(mount: string, path: string): Promise<void> {
    await this.request('DELETE', encodePath(joinPath(mount, path)));
  }
  async kv1List(mount: string, prefix = ''): Promise<string[]> {
    const body = await this.readOrNull<Envelope<{ keys: string[] }>>('LIST', `${encodePath(joinPath(mount, prefix))}/`);
    return body?.data?.keys ?? [];
  }

  /** The mount serving `path` (`sys/internal/ui/mounts/<path>`): `path`, `type`, `options.version`. */
  async mountForPath(path: string): Promise<UiMount> {
    return (await this.request<Envelope<UiMount>>('GET', `sys/internal/ui/mounts/${encodePath(joinPath(path))}`)).body.data;
  }

  // ---- tokens (API.md §4.5) --------------------------------------------------------------------

  /** Creates a child of the calling token (or of nothing with `no_parent`, root/sudo only). */
  async tokenCreate(req: TokenCreateRequest = {}): Promise<AuthInfo> {
    const path = req.role_name ? `auth/token/create/${encodeURIComponent(req.role_name)}` : 'auth/token/create';
    return authOf(await this.request<Envelope<null>>('POST', path, req));
  }
  async tokenCreateOrphan(req: TokenCreateRequest = {}): Promise<AuthInfo> {
    return authOf(await this.request<Envelope<null>>('POST', 'auth/token/create-orphan', req));
  }
  async tokenLookup(token: string): Promise<TokenLookup> {
    return (await this.request<Envelope<TokenLookup>>('POST', 'auth/token/lookup', { token })).body.data;
  }
  async tokenLookupSelf(): Promise<TokenLookup> {
    return (await this.request<Envelope<TokenLookup>>('GET', 'auth/token/lookup-self')).body.data;
  }
  async tokenLookupAccessor(accessor: string): Promise<TokenLookup> {
    return (await this.request<Envelope<TokenLookup>>('POST', 'auth/token/lookup-accessor', { accessor })).body.data;
  }
  /** `increment`: "1h" or seconds. */
  async tokenRenew(token: string, increment?: string | number): Promise<AuthInfo> {
    return authOf(await this.request<Envelope<null>>('POST', 'auth/token/renew', { token, ...(increment !== undefined ? { increment } : {}) }));
  }
  async tokenRenewSelf(increment?: string | number): Promise<AuthInfo> {
    return authOf(await this.request<Envelope<null>>('POST', 'auth/token/renew-self', increment !== undefined ? { increment } : {}));
  }
  async tokenRenewAccessor(accessor: string, increment?: string | number): Promise<AuthInfo> {
    return authOf(await this.request<Envelope<null>>('POST', 'auth/token/renew-accessor', { accessor, ...(increment !== undefined ? { increment } : {}) }));
  }
  /** Revokes a token and all its children. */
  async tokenRevoke(token: string): Promise<void> {
    await this.request('POST', 'auth/token/revoke', { token });
  }
  async tokenRevokeSelf(): Promise<void> {
    await this.request('POST', 'auth/token/revoke-self');
  }
  async tokenRevokeAccessor(accessor: string): Promise<void> {
    await this.request('POST', 'auth/token/revoke-accessor', { accessor });
  }
  /** Revokes a token and leaves its children as orphans (root or sudo). */
  async tokenRevokeOrphan(token: string): Promise<void> {
    await this.request('POST', 'auth/token/revoke-orphan', { token });
  }
  /** Every token accessor (sudo). */
  async tokenListAccessors(): Promise<string[]> {
    return (await this.readOrNull<Envelope<{ keys: string[] }>>('LIST', 'auth/token/accessors'))?.data?.keys ?? [];
  }

  // ---- ACL policies (API.md §4.6) --------------------------------------------------------------

  /** Stores a policy (HCL or JSON text). Names are lower-cased by the server. */
  async policyWrite(name: string, policy: string): Promise<void> {
    await this.request('PUT', `sys/policies/acl/${encodeURIComponent(name)}`, { policy });
  }
  /** The policy's text exactly as written, or null. */
  async policyRead(name: string): Promise<string | null> {
    return (await this.readOrNull<Envelope<{ name: string; policy: string }>>('GET', `sys/policies/acl/${encodeURIComponent(name)}`))?.data?.policy ?? null;
  }
  async policyList(): Promise<string[]> {
    return (await this.readOrNull<Envelope<{ keys: string[] }>>('LIST', 'sys/policies/acl'))?.data?.keys ?? [];
  }
  // ---- namespaces (below the client's namespace) ----
  async namespaceCreate(name: string, customMetadata: Record<string, string> = {}): Promise<NamespaceInfo> {
    return (await this.request<Envelope<NamespaceInfo>>('PUT', `sys/namespaces/${encodeURIComponent(name)}`, { custom_metadata: customMetadata })).body.data;
  }
  async namespaceRead(name: string): Promise<NamespaceInfo | null> {
    return (await this.readOrNull<Envelope<NamespaceInfo>>('GET', `sys/namespaces/${encodeURIComponent(name)}`))?.data ?? null;
  }
  /** The direct children: keys relative to the client's namespace ("team1/"), with their details. */
  async namespaceList(): Promise<{ keys: string[]; key_info: Record<string, NamespaceInfo> }> {
    return (await this.readOrNull<Envelope<{ keys: string[]; key_info: Record<string, NamespaceInfo> }>>('LIST', 'sys/namespaces'))?.data ?? { keys: [], key_info: {} };
  }
  /** JSON merge patch of custom_metadata: a null value removes the key. */
  async namespacePatch(name: string, customMetadata: Record<string, string | null>): Promise<NamespaceInfo> {
    return (await this.request<Envelope<NamespaceInfo>>('PATCH', `sys/namespaces/${encodeURIComponent(name)}`, { custom_metadata: customMetadata }, { contentType: 'application/merge-patch+json' })).body.data;
  }
  /** Deletes the namespace with everything in it; false when there was none. */
  async namespaceDelete(name: string): Promise<boolean> {
    const r = await this.request<Envelope<null> | null>('DELETE', `sys/namespaces/${encodeURIComponent(name)}`);
    return !(r.body?.warnings ?? []).includes('requested namespace does not exist');
  }

  // ---- sealable namespaces (docs/namespace-seals.md; sent from the parent) ----
  /** Creates a namespace with a Shamir seal of its own; answers it with the shares of its unseal key (hex). It starts sealed. */
  /** `pgpKeys` (base64 binary public keys, one per share): each share is answered encrypted to its key (hex). */
  async namespaceCreateSealable(name: string, seal: { shares: number; threshold: number; pgpKeys?: string[] }, customMetadata: Record<string, string> = {}): Promise<NamespaceInfo & { key_shares: string[]; key_threshold: number }> {
    const doc = `seal "shamir" {\n  shares = ${seal.shares}\n  threshold = ${seal.threshold}\n}\n`;
    const body = { custom_metadata: customMetadata, seal: doc, ...(seal.pgpKeys !== undefined && seal.pgpKeys.length > 0 ? { pgp_keys: seal.pgpKeys } : {}) };
    return (await this.request<Envelope<NamespaceInfo & { key_shares: string[]; key_threshold: number }>>('PUT', `sys/namespaces/${encodePath(name)}`, body)).body.data;
  }
  async namespaceSealStatus(name: string): Promise<NamespaceSealStatus> {
    return (await this.request<Envelope<NamespaceSealStatus>>('GET', `sys/namespaces/${encodePath(name)}/seal-status`)).body.data;
  }
  /** One share of the namespace's unseal key (hex or base64); sealed stays true until the threshold. */
  async namespaceUnseal(name: string, key: string): Promise<NamespaceSealStatus> {
    return (await this.request<Envelope<NamespaceSealStatus>>('PUT', `sys/namespaces/${encodePath(name)}/unseal`, { key })).body.data;
  }
  async namespaceUnsealReset(name: string): Promise<NamespaceSealStatus> {
    return (await this.request<Envelope<NamespaceSealStatus>>('PUT', `sys/namespaces/${encodePath(name)}/unseal`, { reset: true })).body.data;
  }
  /** Seals the namespace (and every sealable namespace below it): its keyring leaves memory. */
  async namespaceSeal(name: string): Promise<void> {
    await this.request('PUT', `sys/namespaces/${encodePath(name)}/seal`);
  }
  /** Deletes a sealed namespace (needs sudo); with force, every namespace below it too. */
  async namespaceDeleteSealed(name: string, force = false): Promise<void> {
    await this.request('DELETE', `sys/namespaces/${encodePath(name)}/delete-sealed${force ? '?force=true' : ''}`);
  }

  /** API-locks the client's namespace (path "") or one below it; answers the unlock key. */
  async namespaceLock(path = ''): Promise<string> {
    return (await this.request<Envelope<{ unlock_key: string }>>('PUT', `sys/namespaces/api-lock/lock/${encodePath(path)}`.replace(/\/$/, ''))).body.data.unlock_key;
  }
  /** Unlocks with the key, or without it as a caller with sudo on the path. */
  async namespaceUnlock(path = '', unlockKey?: string): Promise<void> {
    await this.request('PUT', `sys/namespaces/api-lock/unlock/${encodePath(path)}`.replace(/\/$/, ''), unlockKey === undefined ? {} : { unlock_key: unlockKey });
  }

  async policyDelete(name: string): Promise<void> {
    await this.request('DELETE', `sys/policies/acl/${encodeURIComponent(name)}`);
  }

  // ---- secrets engines (API.md §4.3) -----------------------------------------------------------

  /** Mounts a secrets engine: `mountEnable('kv1', { type: 'kv', options: { version: '1' } })`. */
  async mountEnable(path: string, input: MountInput): Promise<void> {
    await this.request('POST', `sys/mounts/${encodePath(joinPath(path))}`, input);
  }
  /** Unmounts (and deletes the data of) a secrets engine; no error when nothing is mounted there. */
  async mountDisable(path: string): Promise<void> {
    await this.request('DELETE', `sys/mounts/${encodePath(joinPath(path))}`);
  }
  /** Moves a mount (a secrets engine, or an auth method given as "auth/<path>") and revokes its leases; the migration id. */
  async mountMove(from: string, to: string): Promise<string> {
    const r = await this.request<{ data: { migration_id: string } }>('POST', 'sys/remount', { from, to });
    return r.body.data.migration_id;
  }
  /** Every secrets engine, keyed "path/". */
  async mountList(): Promise<Record<string, MountEntry>> {
    return (await this.request<Envelope<Record<string, MountEntry>>>('GET', 'sys/mounts')).body.data;
  }
  async mountRead(path: string): Promise<MountEntry> {
    return (await this.request<Envelope<MountEntry>>('GET', `sys/mounts/${encodePath(joinPath(path))}`)).body.data;
  }
  async mountReadTune(path: string): Promise<MountTune> {
    return (await this.request<Envelope<MountTune>>('GET', `sys/mounts/${encodePath(joinPath(path))}/tune`)).body.data;
  }
  async mountTune(path: string, input: MountTuneInput): Promise<void> {
    await this.request('POST', `sys/mounts/${encodePath(joinPath(path))}/tune`, input);
  }

  // ---- auth methods (API.md §4.4; root-protected) ----------------------------------------------

  async authEnable(path: string, input: MountInput): Promise<void> {
    await this.request('POST', `sys/auth/${encodePath(joinPath(path))}`, input);
  }
  async authDisable(path: string): Promise<void> {
    await this.request('DELETE', `sys/auth/${encodePath(joinPath(path))}`);
  }
  /** Every auth method, keyed "path/" ("token/" is always there). */
  async authList(): Promise<Record<string, MountEntry>> {
    return (await this.request<Envelope<Record<string, MountEntry>>>('GET', 'sys/auth')).body.data;
  }
  async authReadTune(path: string): Promise<MountTune> {
    return (await this.request<Envelope<MountTune>>('GET', `sys/auth/${encodePath(joinPath(path))}/tune`)).body.data;
  }
  async authTune(path: string, input: MountTuneInput): Promise<void> {
    await this.request('POST', `sys/auth/${encodePath(joinPath(path))}/tune`, input);
  }

  // ---- capabilities (API.md §4.7) --------------------------------------------------------------

  /** The calling token's capabilities on each path: `{ "secret/data/x": ["read"] }` (root → ["root"]). */
  async capabilitiesSelf(paths: string[]): Promise<Record<string, string[]>> {
    return capabilitiesOf(paths, await this.request<Envelope<Record<string, string[]>>>('POST', 'sys/capabilities-self', { paths }));
  }
  /** Another token's capabilities (needs access to sys/capabilities). */
  async capabilities(token: string, paths: string[]): Promise<Record<string, string[]>> {
    return capabilitiesOf(paths, await this.request<Envelope<Record<string, string[]>>>('POST', 'sys/capabilities', { token, paths }));
  }
  async capabilitiesAccessor(accessor: string, paths: string[]): Promise<Record<string, string[]>> {
    return capabilitiesOf(paths, await this.request<Envelope<Record<string, string[]>>>('POST', 'sys/capabilities-accessor', { accessor, paths }));
  }
}

function authOf(r: { status: number; body: Envelope<null> }): AuthInfo {
  const auth = r.body?.auth;
  if (!auth) throw new Error('the response carries no auth block');
  return auth;
}

function capabilitiesOf(paths: string[], r: { body: Envelope<Record<string, string[]>> }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of paths) out[p] = r.body.data[p] ?? [];
  return out;
}
