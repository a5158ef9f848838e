// Rate-limit enforcement in the HTTP front, before a request is dispatched (Vault's
// rateLimitQuotaWrapping): exempt paths pass, otherwise the most specific quota's limiter takes one
// token for the client IP; a refusal is a 429 with Vault's message. Limiter state is per node.
import { PrefixIndex } from '../mounts/prefix-index.js';
import { EMPTY_FRONT_VIEW, type FrontView } from './front-view.js';
import { RateLimiter, type TakeResult } from './limiter.js';
import { QuotaIndex, isExempt } from './model.js';

export interface QuotaDecision extends TakeResult {
  quota: string;
}

export class QuotaEnforcer {
  private view: FrontView = EMPTY_FRONT_VIEW;
  private index = new QuotaIndex([]);
  /**
   * The namespaces ("" the root) with their mounts, by path: a request's lookups walk its own path, not
   * every tenant's mounts, and a partial view replaces only the namespaces it covers.
   */
  private namespaces = new PrefixIndex<{ path: string; mounts: PrefixIndex<{ path: string; type: string }> }>([]);
  private readonly limiters = new Map<string, { generation: string; limiter: RateLimiter }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  setView(view: FrontView): void {
    this.view = view;
    this.index = new QuotaIndex(view.quotas);
    this.mergeNamespaces(view);
    // A changed definition starts fresh buckets, as Vault re-initialises an updated quota.
    const names = new Set<string>();
    for (const q of view.quotas) {
      names.add(q.name);
      const generation = `${q.id}|${q.rate}|${q.interval}|${q.block_interval}`;
      if (this.limiters.get(q.name)?.generation !== generation) {
        const intervalMs = Math.max(1, q.interval / 1e6);
        this.limiters.set(q.name, { generation, limiter: new RateLimiter(q.rate, intervalMs, q.block_interval / 1e6, this.nowMs()) });
      }
    }
    for (const name of this.limiters.keys()) if (!names.has(name)) this.limiters.delete(name);
  }

  private mergeNamespaces(view: FrontView): void {
    const scope = view.scope;
    if (scope.t === 'quotas') return;
    if (scope.t === 'all') this.namespaces = new PrefixIndex([]);
    else if (scope.t === 'namespace') this.namespaces.delete(scope.path);
    else for (const ns of [...this.namespaces.values()]) if (ns.path.startsWith(scope.path)) this.namespaces.delete(ns.path);
    for (const ns of view.namespaces) this.namespaces.set({ path: ns.path, mounts: new PrefixIndex(ns.mounts) });
  }

  /** The longest mount path that prefixes `path` ("" when none). */
  mountOf(path: string): { path: string; type: string } | null {
    return this.namespaces.longest(path)?.mounts.longest(path) ?? null;
  }

  /** The path of the namespace `path` runs in ("" for the root): the longest namespace path in front of it. */
  namespaceOf(path: string): string {
    return this.namespaces.longest(path)?.path ?? '';
  }

  /** True when some role-based quota applies to this path's mount (the caller then passes the login's role). */
  needsRole(path: string): boolean {
    if (this.index.size === 0) return false;
    return this.index.hasRoleQuotas(this.mountOf(path)?.path ?? '');
  }

  /** Null when no quota applies (or the path is exempt); otherwise the limiter's decision. */
  check(path: string, clientIp: string, role = ''): QuotaDecision | null {
    if (this.index.size === 0) return null;
    if (isExempt(this.view.config.rate_limit_exempt_paths, path)) return null;
    const quota = this.index.find(path, this.mountOf(path)?.path ?? '', role, this.namespaceOf(path));
    if (quota === null) return null;
    const limiter = this.limiters.get(quota.name)?.limiter;
    if (limiter === undefined) return null;
    const taken = limiter.take(clientIp, this.nowMs(), this.view.config.enable_rate_limit_response_headers) as QuotaDecision;
    taken.quota = quota.name;
    return taken;
  }

  get headersEnabled(): boolean {
    return this.view.config.enable_rate_limit_response_headers;
  }

  get auditEnabled(): boolean {
    return this.view.config.enable_rate_limit_audit_logging;
  }

}

/** Vault's message for a refused request: `request path "x": rate limit quota exceeded` (Go %q quoting). */
export function rateLimitedMessage(path: string): string {
  return `request path ${JSON.stringify(path)}: rate limit quota exceeded`;
}
