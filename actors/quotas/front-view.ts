// What the HTTP front needs from replicated storage, cached on the main thread: the mount paths (for
// quota matching and the `mount` metric label) and the rate-limit quotas with their config.
//
// A handler worker reads it from its LMDB snapshot (handler message {t:'front-view'}, readFrontView
// below). The front asks for everything on a timer, and for the part a write changed at once after this
// node served a successful write to sys/quotas/*, sys/mounts/*, sys/auth/*, sys/namespaces/* or
// sys/remount: one namespace's tables, or one namespace's subtree, so a write's cost does not grow with
// the number of namespaces (frontViewScopeOf). A write made on another node reaches this one by Raft and
// is seen at the next full refresh. The front never decrypts anything itself.
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import type { PhysicalReader } from '../mounts/framework/storage-view.js';
import { AUTH_KEY, MOUNTS_KEY, type MountTable } from '../mounts/mount-table.js';
import { namespaceSegment, ROOT_NAMESPACE, type NamespaceRef } from '../mounts/namespaces/model.js';
import { NamespaceDirectory } from '../mounts/namespaces/directory.js';
import { QUOTA_CONFIG_KEY, QUOTA_EXEMPT_TOGGLE_KEY, QUOTA_PREFIX, defaultQuotaConfig, type QuotaConfig, type StoredRateLimitQuota } from './model.js';

export const FRONT_VIEW_REFRESH_MS = 1_000;

/**
 * What a view covers: every namespace; one namespace's own tables (a mount or auth change in it); a
 * namespace with everything below it (one created, changed, sealed or deleted there); or none (quotas).
 */
export type FrontViewScope = { t: 'all' } | { t: 'namespace'; path: string } | { t: 'subtree'; path: string } | { t: 'quotas' };

/** The handler actor's extra message (next to HandlerMessage): answer readFrontView. */
export interface FrontViewMessage {
  t: 'front-view';
  scope?: FrontViewScope;
}

/** A namespace ("" for the root) with the routing paths of its mounts ("team1/secret/", "team1/auth/userpass/"). */
export interface FrontViewNamespace {
  path: string;
  mounts: { path: string; type: string }[];
}

export interface FrontView {
  scope: FrontViewScope;
  /** The namespaces in the scope that exist and are not sealed, with their mounts. */
  namespaces: FrontViewNamespace[];
  quotas: StoredRateLimitQuota[];
  config: QuotaConfig;
  /** False while sealed (nothing could be decrypted): no quotas apply, as in Vault before unseal. */
  unsealed: boolean;
}

export const EMPTY_FRONT_VIEW: FrontView = { scope: { t: 'all' }, namespaces: [], quotas: [], config: defaultQuotaConfig(), unsealed: false };

/** Writes whose success changes the view: the namespace path in front, the sys/ path after. */
const VIEW_WRITE = /^((?:.+\/)?)sys\/(quotas\/|mounts\/|auth\/|remount|namespaces\/)(.*)$/;

/** The part of the view a successful write to `path` (a full request path) may have changed; null: none. */
export function frontViewScopeOf(path: string): FrontViewScope | null {
  const m = VIEW_WRITE.exec(path);
  if (m === null) return null;
  const [, ns = '', what, rest = ''] = m;
  if (what === 'quotas/') return { t: 'quotas' };
  if (what === 'mounts/' || what === 'auth/') return { t: 'namespace', path: ns };
  if (what === 'namespaces/') {
    const name = rest.split('/')[0] ?? '';
    if (name === 'api-lock') return { t: 'quotas' }; // a lock changes no mount and no namespace path
    return name === '' ? { t: 'all' } : { t: 'subtree', path: `${ns}${name}/` };
  }
  return { t: 'all' }; // remount: either side may be in any namespace
}

function readJson<T>(physical: PhysicalReader, barrier: Barrier, key: string): T | undefined {
  const blob = physical.get(key);
  return blob === undefined ? undefined : (JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as T);
}

/**
 * Decoded mount tables from the last refresh, by storage key, with the ciphertext they came from: a
 * refresh decrypts only the tables that changed since (with thousands of namespaces, decrypting every
 * table every second was most of an idle node's CPU). Rebuilt on each refresh, so deleted tables leave.
 */
export type FrontViewTables = Map<string, { blob: Buffer; table: MountTable | undefined }>;

function readTable(physical: PhysicalReader, barrier: Barrier, key: string, previous: FrontViewTables, next: FrontViewTables): MountTable | undefined {
  const blob = physical.get(key);
  if (blob === undefined) return undefined;
  const known = previous.get(key);
  const table = known !== undefined && known.blob.equals(blob) ? known.table : (JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as MountTable);
  next.set(key, { blob: known !== undefined && known.table === table ? known.blob : Buffer.from(blob), table });
  return table;
}

/** What a handler worker keeps from one refresh to the next: decoded tables and namespace entries. */
export interface FrontViewState {
  tables: FrontViewTables;
  namespaces: NamespaceDirectory;
}

export function frontViewState(physical: PhysicalReader): FrontViewState {
  return { tables: new Map(), namespaces: new NamespaceDirectory(physical) };
}

/** Runs in a handler worker. */
export function readFrontView(physical: PhysicalReader, barrier: Barrier | null, state: FrontViewState = frontViewState(physical), scope: FrontViewScope = { t: 'all' }): FrontView {
  if (barrier === null) return EMPTY_FRONT_VIEW;
  let covered: NamespaceRef[];
  if (scope.t === 'all') covered = [ROOT_NAMESPACE, ...state.namespaces.all(barrier)];
  else if (scope.t === 'quotas') covered = [];
  else if (scope.path === '') covered = scope.t === 'namespace' ? [ROOT_NAMESPACE] : [ROOT_NAMESPACE, ...state.namespaces.all(barrier)];
  else {
    const top = state.namespaces.lookup(barrier, scope.path);
    covered = top === undefined ? [] : scope.t === 'namespace' ? [top] : [top, ...state.namespaces.below(barrier, top.path)];
  }
  // A full view starts the table cache afresh (deleted tables leave); a partial one adds to it.
  const next: FrontViewTables = scope.t === 'all' ? new Map() : state.tables;
  const namespaces: FrontViewNamespace[] = [];
  for (const ns of covered) {
    const segment = namespaceSegment(ns);
    // A sealed namespace serves nothing: it has no mounts to match (and its cached tables do not count).
    if (segment !== '' && barrier instanceof SegmentedBarrier && !barrier.available(ns.uuid)) continue;
    let read: [MountTable | undefined, MountTable | undefined];
    try {
      read = [readTable(physical, barrier, segment + MOUNTS_KEY, state.tables, next), readTable(physical, barrier, segment + AUTH_KEY, state.tables, next)];
    } catch (err) {
      if (err instanceof CofferError && err.value.code === 'COFFER_ERR_NAMESPACE_SEALED') continue;
      throw err;
    }
    const mounts: FrontViewNamespace['mounts'] = [];
    for (const e of read[0]?.entries ?? []) mounts.push({ path: ns.path + e.path, type: e.type });
    for (const e of read[1]?.entries ?? []) mounts.push({ path: `${ns.path}auth/${e.path}`, type: e.type });
    namespaces.push({ path: ns.path, mounts });
  }
  state.tables = next;
  const quotas: StoredRateLimitQuota[] = [];
  for (const name of physical.list(QUOTA_PREFIX)) {
    if (name.endsWith('/')) continue;
    const q = readJson<StoredRateLimitQuota>(physical, barrier, QUOTA_PREFIX + name);
    if (q) quotas.push(q);
  }
  const stored = readJson<QuotaConfig>(physical, barrier, QUOTA_CONFIG_KEY);
  const toggled = physical.get(QUOTA_EXEMPT_TOGGLE_KEY) !== undefined;
  const config = { ...defaultQuotaConfig(), ...(stored ?? {}) };
  if (!toggled) config.rate_limit_exempt_paths = defaultQuotaConfig().rate_limit_exempt_paths;
  return { scope, namespaces, quotas, config, unsealed: true };
}
