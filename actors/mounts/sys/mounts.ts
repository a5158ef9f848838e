// sys/mounts, sys/auth (+ /tune) and sys/internal/ui/mounts. Behaviour and messages follow OpenBao's
// logical_system.go (handleMount*, handleEnableAuth, handleTune*, pathInternalUIMount*), mount.go and
// auth.go; facts only, own code. Both tables are single JSON values (core/mounts, core/auth): one read
// guards the whole table, so two concurrent enables cannot both win.
import { randomBytes, randomUUID } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import { parseDurationSeconds } from '../framework/router.js';
import type { FieldSchema, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import {
  SYSTEM_DEFAULT_TTL_S,
  mountAccessor,
  mountDataPrefix,
  mountInfoOf,
  newMountEntry,
  tableKey,
  type MountEntry,
  type MountTable,
} from '../mount-table.js';
import type { Acl } from '../policy/acl.js';
import { hasSegmentWildcards } from '../policy/acl.js';
import type { Capability, Policy } from '../policy/types.js';
import { revokeLeasesUnder } from './leases.js';
import { systemView } from '../../expiration/revoke-token.js';
import { namespaceSegment, ROOT_NAMESPACE, type NamespaceRef } from '../namespaces/model.js';
import { readNamespace } from '../namespaces/store.js';
import { purgePrefix } from './deferred-purge.js';
import { deleteMountQuotas } from './mount-quotas.js';
import { aclOf } from './policy-store.js';
import { badRequest, commaSlice, sanitizePath, stringMap, subView } from './util.js';

export type TableName = 'mounts' | 'auth';

/** Paths no secrets engine may be mounted at or under, and that sys/mounts cannot unmount (Vault's protectedMounts). */
export const PROTECTED_MOUNT_PREFIXES: readonly string[] = ['audit/', 'auth/', 'sys/', 'cubbyhole/', 'identity/'];
/** Mounts whose TTLs, description and options cannot be tuned (Vault's untunableMounts). */
const UNTUNABLE_PREFIXES: readonly string[] = ['cubbyhole/', 'sys/', 'audit/', 'identity/'];
/** Built-in types that exist once and cannot be mounted again (Vault's singletonMounts). */
const SINGLETON_TYPES: readonly string[] = ['cubbyhole', 'ns_cubbyhole', 'system', 'ns_system', 'token', 'ns_token', 'identity', 'ns_identity'];
const LISTING_VISIBILITY = ['', 'hidden', 'unauth'];
const TOKEN_TYPES = ['', 'default-service', 'default-batch', 'service', 'batch'];

export async function readTable(storage: StorageView, table: TableName): Promise<MountTable> {
  const t = await storage.getJson<MountTable>(tableKey(table));
  return t && Array.isArray(t.entries) ? t : { entries: [] };
}

export function writeTable(storage: StorageView, table: TableName, t: MountTable): void {
  storage.putJson(tableKey(table), t);
}

export interface Located {
  table: TableName;
  entry: MountEntry;
  /** Routing path: auth entries with their "auth/" prefix. */
  fullPath: string;
}

export async function allMounts(storage: StorageView): Promise<Located[]> {
  const out: Located[] = [];
  for (const e of (await readTable(storage, 'mounts')).entries) out.push({ table: 'mounts', entry: e, fullPath: e.path });
  for (const e of (await readTable(storage, 'auth')).entries) out.push({ table: 'auth', entry: e, fullPath: `auth/${e.path}` });
  return out;
}

/** The router's MatchingMountEntry: the longest mount path that is a prefix of `path`. */
function matchingMount(mounts: Located[], path: string): Located | null {
  let best: Located | null = null;
  for (const m of mounts) if (path.startsWith(m.fullPath) && (best === null || m.fullPath.length > best.fullPath.length)) best = m;
  return best;
}

const NOT_DEPRECATABLE = new Set(['system', 'token', 'cubbyhole', 'identity']);

/** Vault's mountInfo: the public view of an entry (sys/mounts, sys/auth, internal/ui/mounts). */
export function mountInfo(entry: MountEntry, table: TableName): Record<string, unknown> {
  const c = entry.config;
  const config: Record<string, unknown> = {
    default_lease_ttl: c.default_lease_ttl ?? 0,
    max_lease_ttl: c.max_lease_ttl ?? 0,
    force_no_cache: c.force_no_cache ?? false,
  };
  if (c.audit_non_hmac_request_keys?.length) config.audit_non_hmac_request_keys = c.audit_non_hmac_request_keys;
  if (c.audit_non_hmac_response_keys?.length) config.audit_non_hmac_response_keys = c.audit_non_hmac_response_keys;
  if (c.listing_visibility) config.listing_visibility = c.listing_visibility;
  if (c.passthrough_request_headers?.length) config.passthrough_request_headers = c.passthrough_request_headers;
  if (c.allowed_response_headers?.length) config.allowed_response_headers = c.allowed_response_headers;
  if (table === 'auth') config.token_type = c.token_type || 'default-service';
  const info: Record<string, unknown> = {
    type: entry.type,
    description: entry.description,
    accessor: entry.accessor,
    local: entry.local,
    seal_wrap: entry.seal_wrap,
    external_entropy_access: entry.external_entropy_access ?? false,
    options: entry.options ?? null,
    uuid: entry.uuid,
    plugin_version: entry.plugin_version ?? '',
    running_plugin_version: entry.running_plugin_version ?? '',
    running_sha256: entry.running_sha256 ?? '',
  };
  if (!NOT_DEPRECATABLE.has(entry.type)) info.deprecation_status = 'supported';
  info.config = config;
  return info;
}

// ---- enable ----------------------------------------------------------------------------------------

function ttlOf(value: unknown, what: 'default' | 'max'): number {
  if (value === undefined || value === null || value === '' || value === 'system') return 0;
  try {
    return parseDurationSeconds(value, what);
  } catch {
    const s = typeof value === 'string' ? value : JSON.stringify(value);
    return badRequest(`unable to parse ${what} TTL of ${s}: time: invalid duration ${JSON.stringify(s)}`);
  }
}

function boolOf(value: unknown, convertError: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return badRequest(convertError);
}

async function mountableTypes(table: TableName): Promise<readonly string[]> {
  // Imported lazily: registry.ts imports this backend, so a static import would be a cycle.
  const registry = await import('../registry.js');
  return table === 'auth' ? registry.MOUNTABLE_AUTH_TYPES : registry.MOUNTABLE_SECRET_TYPES;
}

async function enable(table: TableName, rawPath: string, req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const path = sanitizePath(rawPath);
  // Routing takes namespaces first: a mount under a child namespace's name could never be reached.
  const here = req.mount.namespace ?? ROOT_NAMESPACE;
  const routed = table === 'auth' ? `${here.path}auth/${path}` : `${here.path}${path}`;
  // Namespaces exist only below their parents: a child of this one whose name starts the path is enough.
  const firstSegment = routed.slice(here.path.length).split('/')[0] ?? '';
  const shadow = firstSegment === '' ? undefined : await readNamespace(systemView(storage), `${here.path}${firstSegment}/`);
  if (shadow) badRequest(`cannot mount at "${path}": it is inside namespace "${shadow.path}"`);
  const f = req.fields;
  const noun = table === 'auth' ? 'auth' : 'mount';
  const configMap = (f.config ?? {}) as Record<string, unknown>;
  const convertError = `unable to convert given ${noun} config information`;

  const defTtl = ttlOf(configMap.default_lease_ttl, 'default');
  const maxTtl = ttlOf(configMap.max_lease_ttl, 'max');
  if (maxTtl !== 0 && defTtl > maxTtl) badRequest('given default lease TTL greater than given max lease TTL');
  if (defTtl > SYSTEM_DEFAULT_TTL_S && maxTtl === 0) badRequest(`given default lease TTL greater than system max lease TTL of ${SYSTEM_DEFAULT_TTL_S}`);

  let tokenType: string | undefined;
  if (table === 'auth') {
    const tt = configMap.token_type ?? '';
    if (typeof tt !== 'string') badRequest(convertError);
    if (!TOKEN_TYPES.includes(tt)) badRequest("invalid value for 'token_type'");
    tokenType = tt === '' ? 'default-service' : tt;
  }

  let type = typeof f.type === 'string' ? f.type : '';
  if (type === '') badRequest('backend type must be specified as a string');
  if (type === 'plugin') {
    const pn = typeof configMap.plugin_name === 'string' && configMap.plugin_name !== '' ? configMap.plugin_name : typeof f.plugin_name === 'string' ? f.plugin_name : '';
    if (pn === '') badRequest('plugin_name must be provided for plugin backend');
    type = pn;
  }

  const optionsGiven = req.data.options !== undefined && req.data.options !== null;
  let options: Record<string, string> = stringMap(req.data.options, 'options');
  if (table === 'mounts') {
    if (type === 'kv-v1' || type === 'kv-v2') {
      options = { ...options, version: type === 'kv-v1' ? '1' : '2' };
      type = 'kv';
    } else if (type !== 'kv' && options.version) {
      badRequest(`secrets engine ${JSON.stringify(type)} does not allow setting a version`);
    }
  } else if (options.version) {
    badRequest(`auth method ${JSON.stringify(type)} does not allow setting a version`);
  }

  const listingVisibility = configMap.listing_visibility ?? '';
  if (typeof listingVisibility !== 'string') badRequest(convertError);
  if (!LISTING_VISIBILITY.includes(listingVisibility)) badRequest(`invalid listing_visibility ${listingVisibility}`);

  const config: MountEntry['config'] = {
    default_lease_ttl: defTtl,
    max_lease_ttl: maxTtl,
    force_no_cache: boolOf(configMap.force_no_cache, convertError),
  };
  if (listingVisibility) config.listing_visibility = listingVisibility;
  for (const k of ['audit_non_hmac_request_keys', 'audit_non_hmac_response_keys', 'passthrough_request_headers', 'allowed_response_headers'] as const) {
    const list = commaSlice(configMap[k]);
    if (list.length > 0) config[k] = list;
  }
  if (tokenType !== undefined) config.token_type = tokenType;

  // Core.mount / enableCredential checks, in Vault's order.
  if (table === 'mounts') {
    for (const p of PROTECTED_MOUNT_PREFIXES) if (path.startsWith(p)) badRequest(`cannot mount ${JSON.stringify(path)}`);
    if (SINGLETON_TYPES.includes(type)) badRequest(`mount type of ${JSON.stringify(type)} is not mountable`);
  } else {
    if (type === 'token' || type === 'ns_token') badRequest('token credential backend cannot be instantiated');
    if (path === '/') badRequest('backend path must be specified');
  }
  const tables = { mounts: await readTable(storage, 'mounts'), auth: await readTable(storage, 'auth') };
  const own = tables[table];
  for (const ent of own.entries) {
    if (ent.path.startsWith(path) || path.startsWith(ent.path)) badRequest(`path is already in use at ${ent.path}`);
  }
  const fullPath = table === 'auth' ? `auth/${path}` : path;
  const other: TableName = table === 'auth' ? 'mounts' : 'auth';
  for (const ent of tables[other].entries) {
    const f2 = other === 'auth' ? `auth/${ent.path}` : ent.path;
    if (fullPath.startsWith(f2) || f2.startsWith(fullPath)) badRequest(`existing mount at ${f2}`);
  }
  if (!(await mountableTypes(table)).includes(type)) badRequest(`plugin not found in the catalog: ${type}`);

  const accessors = new Set([...tables.mounts.entries, ...tables.auth.entries].map((e) => e.accessor));
  let accessor: string;
  do accessor = mountAccessor(table, type, randomBytes(4).toString('hex'));
  while (accessors.has(accessor));
  const entry = newMountEntry(
    type,
    path,
    {
      description: typeof f.description === 'string' ? f.description : '',
      config,
      options: optionsGiven || Object.keys(options).length > 0 ? options : null,
      local: (f.local as boolean | undefined) ?? false,
      seal_wrap: (f.seal_wrap as boolean | undefined) ?? false,
      external_entropy_access: (f.external_entropy_access as boolean | undefined) ?? false,
    },
    randomUUID(),
    accessor,
  );

  // The backend's initial state joins the same write-set as the table change.
  const registry = await import('../registry.js');
  const factory = registry.backendFactories[type];
  if (factory) {
    const info = mountInfoOf(entry, table);
    const backend = factory(info);
    if (backend.initialize) await backend.initialize(info, subView(storage, mountDataPrefix(table, entry.uuid)), req.nowMs);
  }
  writeTable(storage, table, { ...own, entries: [...own.entries, entry] });
  return null;
}

// ---- disable ---------------------------------------------------------------------------------------

/**
 * What disabling a mount takes with it, in the request's write-set: every lease issued under its path is
 * revoked (for an auth method, every token its logins issued, with their children: Vault logs those
 * users out), its rate-limit quotas are deleted, and every key of its data.
 */
async function purgeMountData(storage: StorageView, table: TableName, entry: MountEntry, fullPath: string, ns: NamespaceRef | undefined): Promise<void> {
  // Leases live in the root segment, under the namespace's path (a namespace's sys/ sees only its own segment).
  await revokeLeasesUnder(systemView(storage), (ns?.path ?? '') + fullPath);
  await deleteMountQuotas(systemView(storage), fullPath, ns?.path ?? '');
  // The data: in this write-set when it fits, else by the purger (deferred-purge.ts); the row's removal
  // below makes it unreachable either way.
  await purgePrefix(systemView(storage), namespaceSegment(ns) + mountDataPrefix(table, entry.uuid), `mount ${(ns?.path ?? '') + fullPath}`);
}

async function unmount(rawPath: string, storage: StorageView, ns: NamespaceRef | undefined): Promise<null> {
  const path = sanitizePath(rawPath);
  const found = (await allMounts(storage)).find((m) => m.fullPath === path);
  // Vault answers 204 for a missing mount, so as not to reveal which mounts exist.
  if (!found) return null;
  for (const p of PROTECTED_MOUNT_PREFIXES) if (path.startsWith(p)) badRequest(`cannot unmount ${JSON.stringify(path)}`);
  const t = await readTable(storage, found.table);
  await purgeMountData(storage, found.table, found.entry, found.fullPath, ns);
  writeTable(storage, found.table, { ...t, entries: t.entries.filter((e) => e.uuid !== found.entry.uuid) });
  return null;
}

async function disableAuth(rawPath: string, storage: StorageView, ns: NamespaceRef | undefined): Promise<null> {
  const path = sanitizePath(rawPath);
  const t = await readTable(storage, 'auth');
  const entry = t.entries.find((e) => e.path === path);
  if (!entry) return null;
  if (path === 'token/') badRequest('token credential backend cannot be disabled');
  await purgeMountData(storage, 'auth', entry, `auth/${path}`, ns);
  writeTable(storage, 'auth', { ...t, entries: t.entries.filter((e) => e.uuid !== entry.uuid) });
  return null;
}

// ---- tune ------------------------------------------------------------------------------------------

/** Fields of Vault's tune schema (the untunable check looks only at these). */
const TUNE_FIELDS: Record<string, FieldSchema> = {
  default_lease_ttl: { type: 'any', description: 'Default lease TTL: a duration, seconds, or "system".' },
  max_lease_ttl: { type: 'any', description: 'Maximum lease TTL: a duration, seconds, or "system".' },
  description: { type: 'string', description: 'User-friendly description for this mount.' },
  audit_non_hmac_request_keys: { type: 'comma-string-slice', description: 'Request keys audit devices leave un-HMACed.' },
  audit_non_hmac_response_keys: { type: 'comma-string-slice', description: 'Response keys audit devices leave un-HMACed.' },
  options: { type: 'map', description: 'Backend options; kv: {version: "2"} upgrades a v1 mount.' },
  listing_visibility: { type: 'string', description: '"", "hidden" or "unauth" (shown by sys/internal/ui/mounts without a token).' },
  token_type: { type: 'string', description: 'Auth mounts: default-service, default-batch, service or batch.' },
  passthrough_request_headers: { type: 'comma-string-slice', description: 'Request headers passed to the backend.' },
  allowed_response_headers: { type: 'comma-string-slice', description: 'Response headers the backend may set.' },
  plugin_version: { type: 'string', description: 'Not supported: built-in backends only.' },
  user_lockout_config: { type: 'map', description: 'User lockout settings (userpass, approle, ldap).' },
};
const UNTUNABLE_ALLOWED = ['path', 'audit_non_hmac_request_keys', 'audit_non_hmac_response_keys'];

async function tuneRead(rawPath: string, storage: StorageView): Promise<LogicalResponse> {
  const path = sanitizePath(rawPath);
  const m = matchingMount(await allMounts(storage), path);
  if (!m) badRequest(`cannot fetch sysview for path ${JSON.stringify(path)}`);
  const e = m.entry;
  const c = e.config;
  const data: Record<string, unknown> = {
    description: e.description,
    default_lease_ttl: c.default_lease_ttl || SYSTEM_DEFAULT_TTL_S,
    max_lease_ttl: c.max_lease_ttl || SYSTEM_DEFAULT_TTL_S,
    force_no_cache: c.force_no_cache ?? false,
  };
  if (e.external_entropy_access) data.external_entropy_access = true;
  if (m.table === 'auth') data.token_type = c.token_type || 'default-service';
  if (c.audit_non_hmac_request_keys?.length) data.audit_non_hmac_request_keys = c.audit_non_hmac_request_keys;
  if (c.audit_non_hmac_response_keys?.length) data.audit_non_hmac_response_keys = c.audit_non_hmac_response_keys;
  if (c.listing_visibility) data.listing_visibility = c.listing_visibility;
  if (c.passthrough_request_headers?.length) data.passthrough_request_headers = c.passthrough_request_headers;
  if (c.allowed_response_headers?.length) data.allowed_response_headers = c.allowed_response_headers;
  if (e.options && Object.keys(e.options).length > 0) data.options = e.options;
  if (e.plugin_version) data.plugin_version = e.plugin_version;
  return { data, injectData: true };
}

function parseIntLike(v: string | undefined, what: string): number {
  if (v === undefined || v === '') return 0;
  if (!/^[+-]?\d+$/.test(v.trim())) badRequest(`unable to parse ${what}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

async function tuneWrite(rawPath: string, req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const path = sanitizePath(rawPath);
  const data = req.data;
  const present = (k: string) => data[k] !== undefined && data[k] !== null;
  let untunable = false;
  for (const p of UNTUNABLE_PREFIXES) {
    if (!path.startsWith(p)) continue;
    for (const field of Object.keys(data).sort()) {
      if (!(field in TUNE_FIELDS)) continue;
      if (!UNTUNABLE_ALLOWED.includes(field)) badRequest(`cannot tune parameter ${field} of ${path}`);
    }
    untunable = true;
    break;
  }
  const m = matchingMount(await allMounts(storage), path);
  if (!m) badRequest(`tune of path ${JSON.stringify(path)} failed: no mount entry found`);
  const isAuth = path.startsWith('auth/');
  const t = await readTable(storage, m.table);
  const idx = t.entries.findIndex((e) => e.uuid === m.entry.uuid);
  const entry: MountEntry = structuredClone(m.entry);
  const config = entry.config;

  if (!untunable) {
    const ttl = (k: 'default_lease_ttl' | 'max_lease_ttl'): number => {
      const v = data[k];
      if (v === undefined || v === null || v === '') return config[k] ?? 0;
      if (v === 'system') return 0;
      try {
        return parseDurationSeconds(v, k);
      } catch {
        return badRequest(`time: invalid duration ${JSON.stringify(String(v))}`);
      }
    };
    const newDef = ttl('default_lease_ttl');
    const newMax = ttl('max_lease_ttl');
    if (newDef !== config.default_lease_ttl || newMax !== config.max_lease_ttl) {
      if (newDef !== 0 && newMax !== 0 && newMax < newDef) {
        badRequest(`backend max lease TTL of ${newMax} would be less than backend default lease TTL of ${newDef}`);
      }
      config.default_lease_ttl = newDef;
      config.max_lease_ttl = newMax;
    }
    const lockout = data.user_lockout_config;
    if (lockout && typeof lockout === 'object' && Object.keys(lockout).length > 0 && !['ldap', 'approle', 'userpass'].includes(entry.type.toLowerCase())) {
      badRequest(`tuning of user lockout configuration for auth type ${JSON.stringify(entry.type)} not allowed`);
    }
  }
  if (present('description')) entry.description = String(req.fields.description ?? '');
  if (present('plugin_version') && String(data.plugin_version) !== '') badRequest(`plugin not found in the catalog: ${entry.type}, version=${String(data.plugin_version)}`);
  if (present('audit_non_hmac_request_keys')) config.audit_non_hmac_request_keys = commaSlice(data.audit_non_hmac_request_keys);
  if (present('audit_non_hmac_response_keys')) config.audit_non_hmac_response_keys = commaSlice(data.audit_non_hmac_response_keys);
  if (present('listing_visibility')) {
    const lv = String(data.listing_visibility);
    if (!LISTING_VISIBILITY.includes(lv)) badRequest(`invalid listing_visibility ${lv}`);
    if (lv === '') delete config.listing_visibility;
    else config.listing_visibility = lv;
  }
  if (present('token_type')) {
    if (!isAuth) badRequest("'token_type' can only be modified on auth mounts");
    if (entry.type === 'token' || entry.type === 'ns_token') badRequest("'token_type' cannot be set for 'token' or 'ns_token' auth mounts");
    const tt = String(data.token_type);
    if (!TOKEN_TYPES.includes(tt)) badRequest("invalid value for 'token_type'");
    config.token_type = tt === '' ? 'default-service' : tt;
  }
  if (present('passthrough_request_headers')) config.passthrough_request_headers = commaSlice(data.passthrough_request_headers);
  if (present('allowed_response_headers')) config.allowed_response_headers = commaSlice(data.allowed_response_headers);

  let upgrade: { from: number; to: number } | null = null;
  if (present('options')) {
    const options = stringMap(data.options, 'options');
    if (Object.keys(options).length > 0) {
      if (options.version !== undefined) {
        const meVersion = parseIntLike(entry.options?.version, 'mount entry');
        const optVersion = parseIntLike(options.version, 'options');
        if (optVersion !== 1 && optVersion !== 2) badRequest(`invalid version provided: ${optVersion}`);
        if (meVersion > optVersion) badRequest(`cannot downgrade mount from version ${meVersion}`);
        if (meVersion < optVersion) upgrade = { from: meVersion, to: optVersion };
      }
      const next: Record<string, string> = { ...(entry.options ?? {}) };
      for (const [k, v] of Object.entries(options)) {
        if (v === '' && k !== 'version') delete next[k];
        else next[k] = v;
      }
      entry.options = next;
    }
  }

  const entries = [...t.entries];
  entries[idx] = entry;
  writeTable(storage, m.table, { ...t, entries });
  if (upgrade) {
    return {
      warnings: [
        `Upgrading mount from version ${upgrade.from} to version ${upgrade.to}. This mount will be unavailable for a brief period and will resume service shortly.`,
      ],
    };
  }
  return null;
}

// ---- sys/internal/ui/mounts --------------------------------------------------------------------------

type Bits = Set<Capability>;

/**
 * OpenBao's hasMountAccess: the caller "sees" a mount when it has any capability on the mount path, or any
 * non-deny rule at or below it (exact or prefix rules under the path, or a `+` rule that can reach it).
 */
export function hasMountAccess(acl: Acl, policies: Policy[], path: string, nowMs: number): boolean {
  if (!acl.capabilities(path).includes('deny')) return true;
  const exact = new Map<string, Bits>();
  const prefix = new Map<string, Bits>();
  const segment = new Map<string, Bits>();
  for (const p of policies) {
    for (const r of p.rules) {
      if (r.templated) continue;
      if (r.expiration !== undefined && nowMs > Date.parse(r.expiration)) continue;
      const table = hasSegmentWildcards(r.path) ? segment : r.path.endsWith('*') ? prefix : exact;
      const key = table === prefix ? r.path.slice(0, -1) : r.path;
      const bits = table.get(key) ?? new Set<Capability>();
      for (const c of r.capabilities) bits.add(c);
      table.set(key, bits);
    }
  }
  const grants = (b: Bits) => !b.has('deny') && b.size > 0;
  for (const t of [exact, prefix]) {
    for (const key of [...t.keys()].sort()) {
      if (!key.startsWith(path)) continue;
      if (grants(t.get(key) as Bits)) return true;
    }
  }
  // CheckAllowedFromNonExactPaths(path, bareMount = true)
  const longestPrefix = [...prefix.keys()].filter((k) => path.startsWith(k)).sort((a, b) => b.length - a.length)[0];
  if (segment.size === 0) return longestPrefix !== undefined;
  const pathParts = path.split('/');
  for (const [full, bits] of segment) {
    if (full === '') continue;
    const isPrefix = full.endsWith('*');
    const wc = isPrefix ? full.slice(0, -1) : full;
    const parts = wc.split('/');
    const segments: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const a = parts[i] as string;
      const p = pathParts[i];
      if (p === undefined) break;
      if (a === '+' || a === p) segments.push(p);
      else if (isPrefix && i === parts.length - 1 && p.startsWith(a)) segments.push(...pathParts.slice(i));
      if (i === pathParts.length - 2) {
        if (`${segments.join('/')}/`.startsWith(path) && grants(bits)) return true;
        break;
      }
    }
  }
  return false;
}

function isAuthed(req: HandlerRequest): boolean {
  return req.caller.isRoot || req.caller.tokenKey !== null;
}

/**
 * The caller's ACL, its policies read in the caller's namespace, and the prefix that turns a path of the
 * request's namespace into one its policies name (a parent's token sees a child's mount "x/" as "child/x/").
 */
async function callerAcl(req: HandlerRequest, storage: StorageView): Promise<{ acl: Acl; policies: Policy[]; prefix: string }> {
  const callerNs = req.caller.namespace ?? ROOT_NAMESPACE;
  const here = req.mount.namespace ?? ROOT_NAMESPACE;
  const view = callerNs.path === here.path ? storage : subView(systemView(storage), namespaceSegment(callerNs));
  const { acl, policies } = await aclOf(view, req.caller.isRoot ? ['root'] : req.caller.policies, req.nowMs);
  return { acl, policies, prefix: here.path.slice(callerNs.path.length) };
}

async function uiMounts(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const authed = isAuthed(req);
  const access = authed ? await callerAcl(req, storage) : null;
  const secret: Record<string, unknown> = {};
  const auth: Record<string, unknown> = {};
  for (const m of await allMounts(storage)) {
    const visible = m.entry.config.listing_visibility === 'unauth' || (access !== null && hasMountAccess(access.acl, access.policies, access.prefix + m.fullPath, req.nowMs));
    if (!visible) continue;
    const out = m.table === 'auth' ? auth : secret;
    out[m.entry.path] = authed ? mountInfo(m.entry, m.table) : { type: m.entry.type, description: m.entry.description, options: m.entry.options ?? null };
  }
  return { data: { secret, auth } };
}

async function uiMount(rawPath: string, req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  if (rawPath === '') badRequest('path not set');
  const path = sanitizePath(rawPath);
  if (!isAuthed(req)) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  const denied = () => new CofferError('COFFER_ERR_PERMISSION_DENIED', `preflight capability check returned 403, please ensure client's policies grant access to path ${JSON.stringify(path)}`);
  const m = matchingMount(await allMounts(storage), path);
  // Denied rather than not-found, so this path cannot be used to enumerate mounts.
  if (!m) throw denied();
  const { acl, policies, prefix } = await callerAcl(req, storage);
  if (!hasMountAccess(acl, policies, prefix + m.fullPath, req.nowMs)) throw denied();
  return { data: { ...mountInfo(m.entry, m.table), path: m.entry.path } };
}

// ---- path table --------------------------------------------------------------------------------------

const MOUNT_FIELDS: Record<string, FieldSchema> = {
  type: { type: 'string', description: 'The type of the backend, e.g. "kv" (aliases kv-v1, kv-v2).' },
  description: { type: 'string', description: 'User-friendly description for this mount.' },
  config: { type: 'map', description: 'default_lease_ttl, max_lease_ttl, force_no_cache, listing_visibility, ...' },
  options: { type: 'map', description: 'Backend options, e.g. {version: "2"} for kv.' },
  local: { type: 'bool', description: 'Not replicated to other clusters.' },
  seal_wrap: { type: 'bool', description: 'Seal-wrap the mount (recorded only).' },
  external_entropy_access: { type: 'bool', description: 'Recorded only.' },
  plugin_name: { type: 'string', description: 'With type "plugin": the plugin to mount.' },
};

/** "<mount path>/tune" addresses the tune endpoint (Vault's `mounts/(?P<path>.+?)/tune$` wins over `mounts/(.+?)`). */
function splitTune(path: string): { tune: boolean; path: string } {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p.endsWith('/tune') && p.length > '/tune'.length) return { tune: true, path: p.slice(0, -'/tune'.length) };
  return { tune: false, path };
}

const methodNotAllowed = (): never => {
  throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
};

export const mountPaths: PathSpec[] = [
  {
    pattern: 'mounts',
    operations: {
      read: async (_req, storage) => {
        const data: Record<string, unknown> = {};
        for (const e of (await readTable(storage, 'mounts')).entries) data[e.path] = mountInfo(e, 'mounts');
        return { data, injectData: true };
      },
    },
    help: { synopsis: 'List the currently mounted secrets engines.', description: 'GET: every secrets engine keyed by path ("secret/": {...}).' },
  },
  {
    pattern: 'mounts/:path+',
    fields: { ...MOUNT_FIELDS, ...TUNE_FIELDS },
    operations: {
      read: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return tuneRead(s.path, storage);
        const path = sanitizePath(s.path);
        const m = matchingMount(await allMounts(storage), path);
        if (!m) badRequest(`No secret engine mount at ${path}`);
        return { data: mountInfo(m.entry, m.table), injectData: true };
      },
      update: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return tuneWrite(s.path, req, storage);
        return enable('mounts', s.path, req, storage);
      },
      delete: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return methodNotAllowed();
        return unmount(s.path, storage, req.mount.namespace);
      },
    },
    help: {
      synopsis: 'Enable, read or disable a secrets engine; <path>/tune reads or tunes it.',
      description: 'POST {type, description, config, options, local, seal_wrap} enables; DELETE disables and deletes all its data.',
    },
  },
  {
    pattern: 'auth',
    operations: {
      read: async (_req, storage) => {
        const data: Record<string, unknown> = {};
        for (const e of (await readTable(storage, 'auth')).entries) data[e.path] = mountInfo(e, 'auth');
        return { data, injectData: true };
      },
    },
    help: { synopsis: 'List the currently enabled auth methods.', description: 'GET: every auth method keyed by path without "auth/" ("token/": {...}).' },
  },
  {
    pattern: 'auth/:path+',
    sudo: true,
    fields: { ...MOUNT_FIELDS, ...TUNE_FIELDS },
    operations: {
      read: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return tuneRead(`auth/${s.path}`, storage);
        const path = sanitizePath(s.path);
        const entry = (await readTable(storage, 'auth')).entries.find((e) => e.path === path);
        if (!entry) badRequest(`No auth engine at ${path}`);
        return { data: mountInfo(entry, 'auth'), injectData: true };
      },
      update: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return tuneWrite(`auth/${s.path}`, req, storage);
        return enable('auth', s.path, req, storage);
      },
      delete: async (req, storage) => {
        const s = splitTune(req.params.path as string);
        if (s.tune) return methodNotAllowed();
        return disableAuth(s.path, storage, req.mount.namespace);
      },
    },
    help: {
      synopsis: 'Enable, read or disable an auth method; <path>/tune reads or tunes it (root-protected).',
      description: 'POST {type, description, config, local, seal_wrap} enables; DELETE disables and deletes its data; token/ cannot be disabled.',
    },
  },
  {
    pattern: 'internal/ui/mounts',
    unauthenticated: true,
    operations: { read: uiMounts },
    help: {
      synopsis: 'Secrets engines and auth methods visible to the caller.',
      description: 'Without a token: only mounts with listing_visibility "unauth". With one: mounts the token has any capability on.',
    },
  },
  {
    pattern: 'internal/ui/mounts/:path+',
    unauthenticated: true,
    operations: { read: async (req, storage) => uiMount(req.params.path as string, req, storage) },
    help: {
      synopsis: 'The mount serving a path (type, options, path), e.g. to tell KV v1 from v2.',
      description: 'Needs a token with some capability on the mount; otherwise 403 "preflight capability check returned 403, ...".',
    },
  },
];
