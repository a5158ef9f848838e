// Rate-limit quotas: the stored records, the config, and which quota applies to a request.
// Facts from OpenBao internal/vault/quotas/{quotas,quotas_rate_limit}.go and logical_system_quotas.go
// (own code): storage under the system view at sys/quotas/rate-limit/<name> and sys/quotas/config;
// the most specific quota wins: role (login requests) > exact path suffix > path-suffix glob > mount >
// namespace (the innermost first) > global. A namespace or global quota that is not `inheritable` applies to
// requests in its own namespace only.

export const QUOTA_PREFIX = 'sys/quotas/rate-limit/';
export const QUOTA_CONFIG_KEY = 'sys/quotas/config';
/** Set once an operator writes sys/quotas/config: from then on their exempt list replaces the defaults. */
export const QUOTA_EXEMPT_TOGGLE_KEY = 'sys/quotas/default_rate_limit_exempt_paths_toggle';
export const quotaKey = (name: string) => `${QUOTA_PREFIX}${name}`;

/** Vault's defaultExemptPaths. */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = [
  'sys/generate-recovery-token/attempt',
  'sys/generate-recovery-token/update',
  'sys/generate-root/attempt',
  'sys/generate-root/update',
  'sys/health',
  'sys/seal-status',
  'sys/unseal',
];

const NS_PER_S = 1e9;

/** As stored (Vault's RateLimitQuota JSON; durations in nanoseconds as Go encodes time.Duration). */
export interface StoredRateLimitQuota {
  id: string;
  type: 'rate-limit';
  name: string;
  /** "root", or the namespace's full path ("team1/") for a quota on a namespace or one of its mounts. */
  namespace_path: string;
  /** The mount's API path within the namespace, e.g. "secret/" or "auth/userpass/"; "" for a namespace-wide or global quota. */
  mount_path: string;
  role: string;
  /** Path below the mount without a trailing "/", possibly ending in "*" (glob); "" for the whole mount. */
  path_suffix: string;
  rate: number;
  interval: number;
  block_interval: number;
  inheritable: boolean;
}

export interface QuotaConfig {
  enable_rate_limit_audit_logging: boolean;
  enable_rate_limit_response_headers: boolean;
  rate_limit_exempt_paths: string[];
}

export function defaultQuotaConfig(): QuotaConfig {
  return { enable_rate_limit_audit_logging: false, enable_rate_limit_response_headers: false, rate_limit_exempt_paths: [...DEFAULT_EXEMPT_PATHS] };
}

export const intervalSeconds = (q: StoredRateLimitQuota) => Math.trunc(q.interval / NS_PER_S);
export const blockSeconds = (q: StoredRateLimitQuota) => Math.trunc(q.block_interval / NS_PER_S);
export const secondsToNs = (s: number) => Math.round(s * NS_PER_S);

/** The quota's namespace as a path prefix: "" for the root. */
export function quotaNamespace(q: StoredRateLimitQuota): string {
  return q.namespace_path === 'root' ? '' : q.namespace_path;
}

/** The read shape of `GET sys/quotas/rate-limit/<name>`. */
export function quotaReadData(q: StoredRateLimitQuota): Record<string, unknown> {
  const ns = quotaNamespace(q);
  return {
    type: 'rate-limit',
    name: q.name,
    path: ns + q.mount_path + q.path_suffix,
    role: q.role,
    rate: q.rate,
    interval: intervalSeconds(q),
    block_interval: blockSeconds(q),
    inheritable: q.inheritable,
  };
}

/** Exempt-path matching (Vault's path manager): an entry ending in "*" is a prefix, others match exactly. */
export function isExempt(exempt: readonly string[], path: string): boolean {
  const p = path.replace(/^\/+/, '');
  const bare = p.replace(/\/$/, '');
  for (const e of exempt) {
    if (e.endsWith('*')) {
      if (p.startsWith(e.slice(0, -1))) return true;
    } else if (bare === e.replace(/\/$/, '')) return true;
  }
  return false;
}

/** An index of quotas for the front's per-request lookup (a few Map reads; no string building per request). */
export class QuotaIndex {
  private readonly byMount = new Map<string, { whole: StoredRateLimitQuota | null; exact: Map<string, StoredRateLimitQuota>; globs: [string, StoredRateLimitQuota][]; roles: Map<string, StoredRateLimitQuota> }>();
  /** Namespace-wide quotas by namespace path, the root's ("") being the global one. */
  private readonly byNamespace = new Map<string, StoredRateLimitQuota>();
  readonly size: number;

  constructor(quotas: readonly StoredRateLimitQuota[]) {
    for (const q of quotas) {
      if (q.mount_path === '' && q.role === '') {
        this.byNamespace.set(quotaNamespace(q), q);
        continue;
      }
      // Mounts by their full routing path ("team1/secret/"), as the front matches them.
      const key = quotaNamespace(q) + q.mount_path;
      let m = this.byMount.get(key);
      if (m === undefined) {
        m = { whole: null, exact: new Map(), globs: [], roles: new Map() };
        this.byMount.set(key, m);
      }
      if (q.role !== '') m.roles.set(q.role, q);
      else if (q.path_suffix === '') m.whole = q;
      else if (q.path_suffix.endsWith('*')) m.globs.push([q.path_suffix.slice(0, -1), q]);
      else m.exact.set(q.path_suffix, q);
    }
    // Vault tries the longest trimmed suffix first, so the longest glob prefix wins.
    for (const m of this.byMount.values()) m.globs.sort((a, b) => b[0].length - a[0].length);
    this.size = quotas.length;
  }

  /** True when some quota on this mount is role-based (the front then reads the login's role). */
  hasRoleQuotas(mountPath: string): boolean {
    return (this.byMount.get(mountPath)?.roles.size ?? 0) > 0;
  }

  /**
   * Vault's queryQuota. `mountPath` is the request's longest matching mount as a full path ("" if none),
   * `namespace` the path of the namespace the request runs in ("" for the root).
   */
  find(path: string, mountPath: string, role: string, namespace = ''): StoredRateLimitQuota | null {
    const m = mountPath === '' ? undefined : this.byMount.get(mountPath);
    if (m !== undefined) {
      if (role !== '') {
        const q = m.roles.get(role);
        if (q) return q;
      }
      if (m.exact.size > 0 || m.globs.length > 0) {
        const suffix = (path.startsWith(mountPath) ? path.slice(mountPath.length) : path).replace(/\/$/, '');
        const exact = suffix === '' ? undefined : m.exact.get(suffix);
        if (exact) return exact;
        for (const [prefix, q] of m.globs) if (suffix.startsWith(prefix)) return q;
      }
      if (m.whole) return m.whole;
    }
    // The innermost namespace quota that applies here: its own namespace's, or an ancestor's if inheritable.
    let best: StoredRateLimitQuota | null = null;
    let bestLength = -1;
    for (const [ns, q] of this.byNamespace) {
      if (!namespace.startsWith(ns) || ns.length <= bestLength) continue;
      if (ns !== namespace && !q.inheritable) continue;
      best = q;
      bestLength = ns.length;
    }
    return best;
  }
}
