// What the HTTP front needs from replicated storage, cached on the main thread: the mount paths (for
// quota matching and the `mount` metric label) and the rate-limit quotas with their config.
//
// Cheap path: a handler worker reads it from its LMDB snapshot (handler message {t:'front-view'},
// readFrontView below) — the front asks on a timer (FRONT_VIEW_REFRESH_MS) and at once after this node
// served a successful write to sys/quotas/*, sys/mounts/*, sys/auth/* or sys/remount. A write made on
// another node reaches this one by Raft and is seen at the next timer tick. The front never decrypts
// anything itself and never blocks a request on a refresh.
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import type { PhysicalReader } from '../mounts/framework/storage-view.js';
import { AUTH_KEY, MOUNTS_KEY, type MountTable } from '../mounts/mount-table.js';
import { NAMESPACES_KEY, namespaceSegment, ROOT_NAMESPACE, type NamespaceTable } from '../mounts/namespaces/model.js';
import { QUOTA_CONFIG_KEY, QUOTA_EXEMPT_TOGGLE_KEY, QUOTA_PREFIX, defaultQuotaConfig, type QuotaConfig, type StoredRateLimitQuota } from './model.js';

export const FRONT_VIEW_REFRESH_MS = 1_000;

/** The handler actor's extra message (next to HandlerMessage): answer readFrontView. */
export interface FrontViewMessage {
  t: 'front-view';
}

export interface FrontView {
  /** Routing paths of every namespace's mounts ("team1/secret/"), auth mounts with their "auth/" prefix. */
  mounts: { path: string; type: string }[];
  /** Paths of the namespaces other than the root ("team1/", "team1/dev/"). */
  namespaces: string[];
  quotas: StoredRateLimitQuota[];
  config: QuotaConfig;
  /** False while sealed (nothing could be decrypted): no quotas apply, as in Vault before unseal. */
  unsealed: boolean;
}

export const EMPTY_FRONT_VIEW: FrontView = { mounts: [], namespaces: [], quotas: [], config: defaultQuotaConfig(), unsealed: false };

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

/** Runs in a handler worker; `tables` carries decoded tables from one refresh to the next. */
export function readFrontView(physical: PhysicalReader, barrier: Barrier | null, tables: { current: FrontViewTables } = { current: new Map() }): FrontView {
  if (barrier === null) return EMPTY_FRONT_VIEW;
  const mounts: FrontView['mounts'] = [];
  const namespaces = readJson<NamespaceTable>(physical, barrier, NAMESPACES_KEY)?.entries ?? [];
  const next: FrontViewTables = new Map();
  for (const ns of [ROOT_NAMESPACE, ...namespaces]) {
    const segment = namespaceSegment(ns);
    // A sealed namespace serves nothing: it has no mounts to match (and its cached tables do not count).
    if (segment !== '' && barrier instanceof SegmentedBarrier && !barrier.available(ns.uuid)) continue;
    let read: [MountTable | undefined, MountTable | undefined];
    try {
      read = [readTable(physical, barrier, segment + MOUNTS_KEY, tables.current, next), readTable(physical, barrier, segment + AUTH_KEY, tables.current, next)];
    } catch (err) {
      // A sealed namespace's tables cannot be read here, and nothing in it is served: it has no mounts to match.
      if (err instanceof CofferError && err.value.code === 'COFFER_ERR_NAMESPACE_SEALED') continue;
      throw err;
    }
    for (const e of read[0]?.entries ?? []) mounts.push({ path: ns.path + e.path, type: e.type });
    for (const e of read[1]?.entries ?? []) mounts.push({ path: `${ns.path}auth/${e.path}`, type: e.type });
  }
  tables.current = next;
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
  return { mounts, namespaces: namespaces.map((n) => n.path), quotas, config, unsealed: true };
}
