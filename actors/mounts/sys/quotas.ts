// sys/quotas/config and sys/quotas/rate-limit[/<name>] (OpenBao logical_system_quotas.go; facts only,
// own code). Records live in replicated storage under the system view (actors/quotas/model.ts); the
// HTTP front enforces them from a cached copy (actors/quotas/front-view.ts). Root namespace only.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import {
  QUOTA_CONFIG_KEY,
  QUOTA_EXEMPT_TOGGLE_KEY,
  QUOTA_PREFIX,
  defaultQuotaConfig,
  quotaKey,
  quotaReadData,
  secondsToNs,
  type QuotaConfig,
  type StoredRateLimitQuota,
} from '../../quotas/model.js';
import { readTable } from './mounts.js';
import { allQuotas } from './mount-quotas.js';
import { badRequest, sanitizePath, subView } from './util.js';
import { namespaceSegment } from '../namespaces/model.js';
import { namespaceOfFullPath } from '../namespaces/store.js';

/** Vault's GenericNameRegex. */
const NAME = /^\w(?:[\w\-.@]*\w)?$/;

async function loadConfig(storage: StorageView): Promise<QuotaConfig> {
  const stored = await storage.getJson<QuotaConfig>(QUOTA_CONFIG_KEY);
  const config = { ...defaultQuotaConfig(), ...(stored ?? {}) };
  if ((await storage.get(QUOTA_EXEMPT_TOGGLE_KEY)) === undefined) config.rate_limit_exempt_paths = defaultQuotaConfig().rate_limit_exempt_paths;
  return config;
}

const configFields: Record<string, FieldSchema> = {
  rate_limit_exempt_paths: { type: 'string-slice', description: 'Paths exempt from all rate limit quotas; empty means none.' },
  enable_rate_limit_audit_logging: { type: 'bool', description: 'Log requests rejected by rate limit quotas.' },
  enable_rate_limit_response_headers: { type: 'bool', description: 'Add X-Ratelimit-* and Retry-After headers to responses.' },
};

const quotaFields: Record<string, FieldSchema> = {
  type: { type: 'string', description: 'Type of the quota rule.' },
  name: { type: 'string', description: 'Name of the quota rule.' },
  path: { type: 'string', description: 'Mount or path prefix the quota applies to; blank for a global quota.' },
  role: { type: 'string', description: 'Login role the quota applies to (path must be an auth mount).' },
  rate: { type: 'any', description: 'Maximum requests per interval (positive).' },
  interval: { type: 'duration', description: "Interval of the rate (default '1s')." },
  block_interval: { type: 'duration', description: 'How long a client that exceeded the rate is refused.' },
  inheritable: { type: 'bool', description: 'Child namespaces use this quota (default true for global quotas).' },
};

async function writeConfig(req: HandlerRequest, storage: StorageView): Promise<null> {
  // As Vault: every field is replaced by the request's value (absent → false / empty).
  const config: QuotaConfig = {
    enable_rate_limit_audit_logging: (req.fields.enable_rate_limit_audit_logging as boolean | undefined) ?? false,
    enable_rate_limit_response_headers: (req.fields.enable_rate_limit_response_headers as boolean | undefined) ?? false,
    rate_limit_exempt_paths: (req.fields.rate_limit_exempt_paths as string[] | undefined) ?? [],
  };
  storage.putJson(QUOTA_CONFIG_KEY, config);
  storage.putJson(QUOTA_EXEMPT_TOGGLE_KEY, true);
  return null;
}

function parseRate(v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (v === undefined || v === null) return 0;
  if (typeof n !== 'number' || !Number.isFinite(n)) badRequest('error converting input for field "rate": expected a number');
  return n;
}

async function writeQuota(req: HandlerRequest, storage: StorageView): Promise<null> {
  const name = req.params.name ?? '';
  if (!NAME.test(name)) badRequest(`invalid quota name ${JSON.stringify(name)}`);
  const rate = parseRate(req.data.rate);
  if (rate <= 0) badRequest("'rate' is invalid");
  let interval = (req.fields.interval as number | undefined) ?? 0;
  if (interval === 0) interval = 1;
  if (interval < 0) badRequest("'interval' is invalid");
  const block = (req.fields.block_interval as number | undefined) ?? 0;
  if (block < 0) badRequest("'block' is invalid");

  let mountPath = sanitizePath((req.fields.path as string | undefined) ?? '');
  let pathSuffix = '';
  // A path in a namespace names the namespace itself ("team1/": a namespace-wide quota) or one of its mounts.
  const ns = await namespaceOfFullPath(storage, mountPath);
  mountPath = mountPath.slice(ns.path.length);
  if (mountPath !== '') {
    const tables = subView(storage, namespaceSegment(ns));
    const mounts = [
      ...(await readTable(tables, 'mounts')).entries.map((e) => ({ path: e.path, auth: false })),
      ...(await readTable(tables, 'auth')).entries.map((e) => ({ path: `auth/${e.path}`, auth: true })),
    ];
    let match: { path: string; auth: boolean } | null = null;
    for (const m of mounts) if (mountPath.startsWith(m.path) && (match === null || m.path.length > match.path.length)) match = m;
    if (match === null) badRequest(`invalid mount path ${JSON.stringify(ns.path + mountPath)}`);
    pathSuffix = mountPath.slice(match.path.length).replace(/\/$/, '');
    mountPath = match.path;
    const role = (req.fields.role as string | undefined) ?? '';
    if (role !== '') {
      if (pathSuffix !== '') badRequest('Quotas cannot contain both a path suffix and a role. If a role is provided, path must be a valid auth mount with a concept of roles');
      if (!match.auth) badRequest(`Mount path ${JSON.stringify(mountPath)} is not a valid auth method and therefore unsuitable for use with role-based quotas`);
    }
  }
  const role = (req.fields.role as string | undefined) ?? '';
  if (role !== '' && mountPath === '') badRequest(`Mount path ${JSON.stringify(mountPath)} is not a valid auth method and therefore unsuitable for use with role-based quotas`);

  const all = await allQuotas(storage);
  const namespacePath = ns.path === '' ? 'root' : ns.path;
  const similar = all.find((q) => q.name !== name && q.namespace_path === namespacePath && q.mount_path === mountPath && q.path_suffix === pathSuffix && q.role === role);
  if (similar) badRequest(`quota rule with similar properties exists under the name ${JSON.stringify(similar.name)}`);
  const existing = all.find((q) => q.name === name);
  // Vault: only the root namespace's global quota is inherited by default; a namespace's must ask for it.
  const inheritable = req.data.inheritable !== undefined ? (req.fields.inheritable as boolean) : mountPath === '' && ns.path === '';
  const quota: StoredRateLimitQuota = {
    id: existing?.id ?? randomUUID(),
    type: 'rate-limit',
    name,
    namespace_path: namespacePath,
    mount_path: mountPath,
    role,
    path_suffix: pathSuffix,
    rate,
    interval: secondsToNs(interval),
    block_interval: secondsToNs(block),
    inheritable,
  };
  storage.putJson(quotaKey(name), quota);
  return null;
}

async function readQuota(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const q = await storage.getJson<StoredRateLimitQuota>(quotaKey(req.params.name ?? ''));
  return q ? { data: quotaReadData(q) } : null;
}

async function listQuotas(_req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const keys = (await allQuotas(storage)).map((q) => q.name).sort();
  return { data: { keys } };
}

/** Named operations need a name; on the bare collection path only LIST exists. */
const named =
  (f: (req: HandlerRequest, storage: StorageView) => Promise<LogicalResponse | null>) =>
  (req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> => {
    if ((req.params.name ?? '') === '') throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
    return f(req, storage);
  };

const help = (synopsis: string) => ({ synopsis, description: 'Rate limit quotas: a token bucket per client IP on each node; the most specific quota applies (role, path, mount, global).' });

export const quotaPaths: PathSpec[] = [
  {
    pattern: 'quotas/config',
    fields: configFields,
    operations: {
      read: async (_req, storage) => ({ data: { ...(await loadConfig(storage)) } }),
      update: writeConfig,
    },
    help: help('Create, update and read the quota configuration.'),
  },
  {
    // One pattern for the list (`quotas/rate-limit/` as LIST sends it) and the named operations.
    pattern: 'quotas/rate-limit/:name*',
    fields: quotaFields,
    existenceCheck: async (req, storage) => (await storage.get(quotaKey(req.params.name ?? ''))) !== undefined,
    operations: {
      read: named(readQuota),
      create: named(writeQuota),
      update: named(writeQuota),
      delete: named(async (req, storage) => {
        storage.delete(quotaKey(req.params.name ?? ''));
        return null;
      }),
      list: listQuotas,
    },
    help: help('Get, create or update a rate limit quota for an optional mount or path.'),
  },
];
