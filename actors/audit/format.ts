// Audit entries in Vault's JSON shapes (OpenBao audit/format.go: AuditRequestEntry, AuditResponseEntry;
// facts only, own code). Empty fields are omitted as Go's `omitempty` does. Unless the device logs raw,
// tokens, accessors (unless hmac_accessor = false) and every string in request and response data are
// HMAC'd with the device's salt (hash.ts) before anything is serialised.
import type { CallerInfo, MountInfo } from '../mounts/framework/types.js';
import type { FileDeviceOptions } from './file-device.js';
import { hashData, hashString } from './hash.js';

/** What the pipeline knows about one request, gathered as it runs. */
export interface AuditRequestInfo {
  id: string;
  operation: string;
  path: string;
  data: Record<string, unknown>;
  /** The token the client sent (hashed in the entry), or null. */
  token: string | null;
  remoteAddr?: string;
  wrapTtlS: number | null;
  caller: CallerInfo | null;
  mount: MountInfo | null;
  /** Set once the ACL allowed the request (policy_results.allowed). */
  allowed: boolean | null;
}

/** What a reply looked like, as the pipeline is about to hand it to the front. */
export interface AuditReplyInfo {
  status: number;
  body: unknown;
}

type Obj = Record<string, unknown>;

/** Go's omitempty for the scalar/collection fields of an entry object (not applied inside data). */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).length === 0) continue;
    out[k] = v;
  }
  return out;
}

function rfc3339(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) || ms <= 0 ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

class Hasher {
  constructor(
    private readonly salt: string,
    private readonly opts: FileDeviceOptions,
  ) {}
  str(s: string | null | undefined): string | undefined {
    if (s === null || s === undefined || s === '') return undefined;
    return this.opts.logRaw ? s : hashString(this.salt, s);
  }
  accessor(s: string | null | undefined): string | undefined {
    if (s === null || s === undefined || s === '') return undefined;
    return this.opts.hmacAccessor ? this.str(s) : s;
  }
  data(d: unknown): unknown {
    if (d === null || d === undefined) return undefined;
    return this.opts.logRaw ? d : hashData(d, (x) => hashString(this.salt, x));
  }
}

function callerAuth(h: Hasher, info: AuditRequestInfo): Obj {
  const c = info.caller;
  const e = c?.entry as (Obj & { ttl_s?: number; meta?: Record<string, string> | null; num_uses?: number; issue_time_ms?: number; creation_time_ms?: number; type?: string }) | null | undefined;
  const auth = compact({
    client_token: c ? h.str(info.token) : undefined,
    accessor: h.accessor(c?.accessor),
    display_name: c?.displayName,
    policies: c?.policies,
    token_policies: c?.policies,
    metadata: e?.meta ?? undefined,
    remaining_uses: e && typeof e.num_uses === 'number' && e.num_uses > 0 ? e.num_uses : undefined,
    entity_id: c?.entityId,
    token_type: c ? (e?.type ?? 'service') : undefined,
    token_ttl: e?.ttl_s,
    token_issue_time: rfc3339(e?.issue_time_ms ?? e?.creation_time_ms),
  });
  if (info.allowed !== null) auth.policy_results = { allowed: info.allowed };
  return auth;
}

function requestObj(h: Hasher, info: AuditRequestInfo): Obj {
  const m = info.mount;
  return compact({
    id: info.id,
    operation: info.operation,
    mount_point: m?.path,
    mount_type: m?.type,
    mount_accessor: m?.accessor,
    client_token: h.str(info.token),
    client_token_accessor: h.accessor(info.caller?.accessor),
    // Vault's shape: the namespace by id and path, and the request path relative to it.
    namespace: m?.namespace ? { id: m.namespace.id, path: m.namespace.path } : { id: 'root' },
    path: m?.namespace && info.path.startsWith(m.namespace.path) ? info.path.slice(m.namespace.path.length) : info.path,
    data: h.data(Object.keys(info.data).length > 0 ? info.data : null),
    remote_address: info.remoteAddr?.replace(/^::ffff:/, ''),
    wrap_ttl: info.wrapTtlS ?? undefined,
  });
}

function entryLine(opts: FileDeviceOptions, entry: Obj): string {
  return `${opts.prefix}${JSON.stringify(entry)}\n`;
}

export function formatRequest(salt: string, opts: FileDeviceOptions, info: AuditRequestInfo, error: string | null, type = 'request'): string {
  const h = new Hasher(salt, opts);
  return entryLine(opts, compact({ time: new Date().toISOString(), type, auth: callerAuth(h, info), request: requestObj(h, info), error }));
}

function isEnvelope(b: unknown): b is Obj {
  return typeof b === 'object' && b !== null && !Array.isArray(b) && 'request_id' in b && 'data' in b && 'wrap_info' in b && 'auth' in b;
}

function elide(data: Obj): Obj {
  const out = { ...data };
  if (Array.isArray(out.keys)) out.keys = out.keys.length;
  if (out.key_info && typeof out.key_info === 'object') out.key_info = Object.keys(out.key_info as Obj).length;
  return out;
}

function responseObj(h: Hasher, opts: FileDeviceOptions, info: AuditRequestInfo, reply: AuditReplyInfo | null): { response: Obj; error: string | null } {
  const m = info.mount;
  const base: Obj = { mount_point: m?.path, mount_type: m?.type, mount_accessor: m?.accessor };
  const body = reply?.body;
  let error: string | null = null;
  if (body === null || body === undefined) {
    // no content
  } else if (isEnvelope(body)) {
    let data = body.data as Obj | null;
    if (data && opts.elideListResponses && info.operation === 'list') data = elide(data);
    base.data = h.data(data);
    base.warnings = body.warnings;
    if (typeof body.lease_id === 'string' && body.lease_id !== '') base.secret = { lease_id: body.lease_id };
    const a = body.auth as Obj | null;
    if (a && typeof a === 'object') {
      base.auth = compact({
        client_token: h.str(a.client_token as string),
        accessor: h.accessor(a.accessor as string),
        policies: a.policies,
        token_policies: a.token_policies,
        metadata: a.metadata,
        num_uses: a.num_uses,
        entity_id: a.entity_id,
        token_type: a.token_type,
        token_ttl: a.lease_duration,
      });
    }
    const w = body.wrap_info as Obj | null;
    if (w && typeof w === 'object') {
      base.wrap_info = compact({
        ttl: w.ttl,
        token: h.str(w.token as string),
        accessor: h.accessor(w.accessor as string),
        creation_time: w.creation_time,
        creation_path: w.creation_path,
        wrapped_accessor: h.accessor(w.wrapped_accessor as string),
      });
    }
  } else if (typeof body === 'object' && !Array.isArray(body) && Array.isArray((body as Obj).errors) && (reply as AuditReplyInfo).status >= 400) {
    const errors = (body as Obj).errors as unknown[];
    if (errors.length > 0) error = errors.map(String).join('; ');
  } else {
    // A raw (non-envelope) body: logged as Vault logs raw HTTP responses, the whole body one hashed string
    // (CVE-2025-62513: raw bodies must not reach the log in clear).
    base.data = h.data({ http_content_type: 'application/json', http_raw_body: JSON.stringify(body), http_status_code: (reply as AuditReplyInfo).status });
  }
  return { response: compact(base), error };
}

export function formatResponse(salt: string, opts: FileDeviceOptions, info: AuditRequestInfo, reply: AuditReplyInfo | null, outerError: string | null): string {
  const h = new Hasher(salt, opts);
  const { response, error } = responseObj(h, opts, info, reply);
  return entryLine(opts, compact({ time: new Date().toISOString(), type: 'response', auth: callerAuth(h, info), request: requestObj(h, info), response, error: outerError ?? error }));
}
