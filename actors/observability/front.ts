// The front's observability hooks (main thread): in-flight tracking, rate-limit quota enforcement before
// dispatch, request metrics, one debug log line per request, and the front-served sys endpoints
// (sys/metrics, sys/in-flight-req) once a handler worker has authorised the caller.
//
// Stateless for requests: the only state is counters, the in-flight map, per-node limiter buckets and
// a read-only cache of replicated config (mount paths, quotas; see actors/quotas/front-view.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApiRequest } from '../front/request.js';
import { sendError } from '../front/respond.js';
import type { LogicalReply } from '../handler/messages.js';
import { FRONT_SERVED } from '../mounts/sys/metrics.js';
import { FRONT_VIEW_REFRESH_MS, frontViewScopeOf, type FrontView, type FrontViewScope } from '../quotas/front-view.js';
import { QuotaEnforcer, rateLimitedMessage } from '../quotas/enforcer.js';
import { InFlight } from './in-flight.js';
import { Metrics, type RuntimeSources, type ServedBy } from './metrics.js';

export const FRONT_SERVED_PATHS = new Set(['sys/metrics', 'sys/in-flight-req']);

/** Token-shaped path segments (s./b./r./hvs./hvb./hvr.) are never logged. */
const TOKEN_SEGMENT = /(^|\/)(?:hv[sbr]|[sbr])\.[A-Za-z0-9._-]{8,}/g;
export function redactPath(path: string): string {
  return path.replace(TOKEN_SEGMENT, '$1<redacted>');
}

/** Writes that change what the front caches (in any namespace's sys/): refresh the view before answering. */
export interface RequestContext {
  inFlightId: number;
  startedMs: number;
  api: ApiRequest | null;
}

export interface FrontSources extends RuntimeSources {
  /** Reads the front view (all of it, or the part `scope` names) through a handler worker. */
  frontView(scope?: FrontViewScope): Promise<FrontView>;
  /** The node's current role from the core (health): null while unknown or sealed. */
  role(): Promise<ServedBy | null>;
  /**
   * A value that changes whenever the view or the role may have: the applied index, the Raft role and
   * term, the seal epoch. The timer refreshes only when it moved (or every VIEW_RECHECK_MS), so an idle
   * node does not wake a handler, the core and the raft thread every second. Absent: refresh every tick.
   */
  changeKey?(): string;
}

/** Even with an unchanged changeKey, the timer refreshes this often (a missed change heals itself). */
const VIEW_RECHECK_MS = 30_000;

/**
 * A full view costs the handler thread time in proportion to the namespaces and mounts (a list and a few
 * gets each): the timer waits at least this many times the last full refresh's duration before the next,
 * so its share of a handler stays near 2% with any number of tenants. Local writes refresh their part at once.
 */
const FULL_REFRESH_COST_FACTOR = 50;

export class FrontObservability {
  readonly metrics: Metrics;
  readonly inFlight = new InFlight();
  readonly quotas = new QuotaEnforcer();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** The newest partial refresh (refreshPart), which later ones and full ones wait for. */
  private parts: Promise<void> = Promise.resolve();
  /** How long the last full refresh took (ms). */
  private fullRefreshMs = 0;
  /** changeKey() as of the last refresh that read both the view and the role. */
  private refreshedKey: string | null = null;
  private refreshedAt = 0;

  constructor(
    private readonly log: Logger,
    private readonly sources: FrontSources | null,
  ) {
    this.metrics = new Metrics(sources);
    this.metrics.inFlightSize = () => this.inFlight.size;
  }

  /** Starts the periodic refresh of the cached view and role (unref'd timer). */
  start(): void {
    if (this.sources === null || this.timer !== null) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refreshIfChanged(), FRONT_VIEW_REFRESH_MS);
    this.timer.unref();
  }

  /** The timer's refresh: skipped while nothing the view depends on has moved (FrontSources.changeKey). */
  private refreshIfChanged(): Promise<void> {
    const src = this.sources;
    if (src?.changeKey === undefined) return this.refresh();
    const key = src.changeKey();
    const since = Date.now() - this.refreshedAt;
    if (key === this.refreshedKey && since < VIEW_RECHECK_MS) return Promise.resolve();
    if (since < this.fullRefreshMs * FULL_REFRESH_COST_FACTOR) return Promise.resolve();
    return this.refresh();
  }

  /**
   * After a local write that changed `scope`'s part of the view: read that part, after any refresh in
   * flight (which may have started before the write and would otherwise land after this one).
   */
  private async refreshPart(scope: FrontViewScope): Promise<void> {
    const src = this.sources;
    if (src === null) return;
    // Both taken now: a full refresh started later waits for this one instead (no cycle).
    const previous = this.parts;
    const inFlight = this.refreshing;
    const mine = (async () => {
      await previous;
      await inFlight;
      try {
        this.quotas.setView(await src.frontView(scope));
      } catch (err) {
        this.log.debug({ err }, 'front view refresh failed');
      }
    })();
    this.parts = mine;
    await mine;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Refresh the view (coalesced); failures keep the previous view. */
  refresh(): Promise<void> {
    if (this.sources === null) return Promise.resolve();
    if (this.refreshing !== null) return this.refreshing;
    const src = this.sources;
    // Taken before the reads: a change landing while they run moves the key again, so the next tick refreshes.
    const key = src.changeKey?.() ?? null;
    this.refreshing = (async () => {
      let complete = true;
      await this.parts; // a partial refresh in flight read newer data than this one may: let it land first
      const started = performance.now();
      try {
        this.quotas.setView(await src.frontView());
        this.fullRefreshMs = performance.now() - started;
      } catch (err) {
        complete = false;
        this.log.debug({ err }, 'front view refresh failed');
      }
      try {
        const role = await src.role();
        if (role !== null) this.metrics.setServedBy(role);
        else complete = false; // sealed or not known yet: keep asking every tick
      } catch {
        complete = false; // the core is busy or restarting: keep the last role
      }
      if (complete) {
        this.refreshedKey = key;
        this.refreshedAt = Date.now();
      }
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  begin(req: IncomingMessage): RequestContext {
    const ctx = { inFlightId: this.inFlight.begin(req.method ?? 'GET', req.url ?? '/', req.socket.remoteAddress ?? ''), startedMs: performance.now(), api: null };
    return ctx;
  }

  /** Rate-limit quotas, before routing and auth. True when the request was refused (429 written). */
  admit(ctx: RequestContext, api: ApiRequest, req: IncomingMessage, res: ServerResponse): boolean {
    ctx.api = api;
    let role = '';
    if (this.quotas.needsRole(api.path) && /(^|\/)login(\/|$)/.test(api.path)) {
      const r = api.body.role ?? api.body.role_name;
      role = typeof r === 'string' ? r : '';
    }
    const decision = this.quotas.check(api.path, req.socket.remoteAddress ?? '', role);
    // (no quota → null without touching the limiter; headers are built only when enabled or refused)
    if (decision === null) return false;
    if (this.quotas.headersEnabled) for (const [h, v] of Object.entries(decision.headers)) res.setHeader(h, v);
    if (decision.allowed) return false;
    this.metrics.quotaViolations.inc({ name: decision.quota });
    if (this.quotas.auditEnabled) this.log.warn({ quota: decision.quota, path: redactPath(api.path), method: api.method }, 'request rejected by a rate limit quota');
    sendError(res, 429, [rateLimitedMessage(api.path)]);
    return true;
  }

  /**
   * After a handler replied: refresh the cached view when this was a successful write to quotas or
   * mounts (so the next request sees it), and answer the front-served sys paths the handler authorised.
   * True when the response was written here.
   */
  async afterHandler(api: ApiRequest, reply: LogicalReply, res: ServerResponse): Promise<boolean> {
    const scope = reply.status < 400 && api.operation !== 'read' && api.operation !== 'list' ? frontViewScopeOf(api.path) : null;
    if (scope !== null) await (scope.t === 'all' ? this.refresh() : this.refreshPart(scope));
    const body = reply.body as Record<string, unknown> | null;
    if (reply.status !== 200 || body === null || typeof body !== 'object' || !(FRONT_SERVED in body)) return false;
    const path = api.path.replace(/\/$/, '');
    if (!FRONT_SERVED_PATHS.has(path) || body[FRONT_SERVED] !== path) return false;
    if (path === 'sys/in-flight-req') {
      writeRaw(res, 200, 'application/json', JSON.stringify(this.inFlight.snapshot()));
      return true;
    }
    let format = api.query.get('format') ?? '';
    if (format === '') {
      const accept = api.headers.accept ?? '';
      if (accept.startsWith('application/openmetrics-text') || accept.includes('prometheus/telemetry')) format = 'prometheus';
    }
    if (format === 'prometheus') writeRaw(res, 200, this.metrics.registry.contentType, await this.metrics.prometheus());
    else if (format === '') writeRaw(res, 200, 'application/json', JSON.stringify(await this.metrics.json()));
    else writeRaw(res, 400, 'text/plain', `metric response format ${JSON.stringify(format)} unknown`);
    return true;
  }

  /** Once per request, in the front's finally: metrics, the debug log line, in-flight removal. */
  end(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
    this.inFlight.end(ctx.inFlightId);
    const seconds = (performance.now() - ctx.startedMs) / 1e3;
    const api = ctx.api;
    // Unseal/init change what the handler can read: refresh the cached view now rather than at the next tick.
    if (api !== null && res.statusCode === 200 && (api.path === 'sys/unseal' || api.path === 'sys/init')) void this.refresh();
    const mount = api === null ? null : this.quotas.mountOf(api.path);
    this.metrics.observeRequest(mount?.path ?? '', api?.operation ?? 'unknown', res.statusCode, seconds);
    if (this.log.isLevelEnabled('debug')) {
      // Never the token, the body, the query string or headers: method, path, status, timing, labels.
      this.log.debug(
        {
          method: req.method,
          path: api === null ? null : redactPath(api.path),
          status: res.statusCode,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
          mount_type: mount?.type ?? null,
          served_by: this.metrics.getServedBy(),
        },
        'request',
      );
    }
  }
}

function writeRaw(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'Cache-Control': 'no-store', 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
