// Standby reads, request forwarding and consistency headers, on the HTTP front (main thread).
// See docs/ha-standby-reads.md for the design; in short:
// - Every unsealed node executes requests itself against its local FSM. A request that writes fails on a
//   standby with COFFER_ERR_NOT_LEADER (predicted in the pipeline, or the raft actor's refused commit) and the
//   front FORWARDS it here: HTTP/1.1 over mutual TLS (cluster CA certificates on both ends) to the
//   active node's forwarding listener, advertised in core/leader/<uuid> (`forward_addr`). The answer is
//   relayed unchanged (status, headers, body). A 307 to the active node's api_addr is the fallback.
// - X-Vault-Index on every response (HMAC'd applied index); a request presenting one waits until this node
//   applied it; X-Vault-Inconsistent, X-Vault-Forward, X-Coffer-Consistency: linearizable (ReadIndex).
import { request as httpsRequest, createServer as createHttpsServer, Agent, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ApiRequest } from '../front/request.js';
import type { ErrorValue } from '../../runtime/errors.js';
import { isSealed, redirectToActive } from '../front/redirect.js';
import { sendError } from '../front/respond.js';
import type { AskCore } from '../front/routes.js';
import type { ForwardingInfo } from './cluster.js';
import { IndexStamper, RaftSharedState, ROLE_CANDIDATE, ROLE_FOLLOWER, STALE_READ_BOUND_MS, headerValues } from './consistency.js';
import { raftLimits } from '../../runtime/limits.js';
import { mutation } from '../../runtime/mutations.js';
import { TEST_FORWARD_LISTEN_PORT, testPeerDial } from '../raft/test-peer-dial.js';

/**
 * The active node's answer to a standby's namespace key sync (docs/namespace-seals.md): served only on the
 * mutual-TLS forwarding listener, to a node holding a certificate from the cluster CA.
 */
export const NAMESPACE_KEYS_PATH = 'sys/internal/coffer/namespace-keys';
/** Marks a request that arrived over the forwarding listener (never forwarded again: loop guard). */
const VIA_FORWARD = Symbol('coffer.viaForward');
/** The original client address of a forwarded request (trusted only on the mutual-TLS listener). */
const FORWARDED_FOR = 'x-coffer-forwarded-for';
const INTERNAL_NO_FORWARD = 'x-vault-internal-no-request-forwarding';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', FORWARDED_FOR]);
/** Local-only endpoints the front serves itself (actors/observability): never forwarded for disable_standby_reads. */
const LOCAL_ONLY = new Set(['sys/metrics', 'sys/in-flight-req']);
const FORWARD_TIMEOUT_MS = 30_000;
/** How long a standby trusts "every write under this mount is forwarded" (forwardsEarly), and how many it keeps. */
const FORWARD_HINT_TTL_MS = 30_000;
const FORWARD_HINTS_MAX = 1_024;
const WRITE_OPERATIONS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete']);
/** The election timeout (base): a follower that heard nothing from a leader this long may start an election. */
const ELECTION_TIMEOUT_MS = raftLimits.tickMs * raftLimits.electionTicks;

export interface HaFrontOptions {
  shared: RaftSharedState;
  ask: AskCore;
  /** ReadIndex through the raft actor. */
  readIndex(timeoutMs: number): Promise<number>;
  log: Logger;
  /** Config `disable_standby_reads`: a standby forwards every logical request. */
  disableStandbyReads?: boolean;
  /** How long a request presenting X-Vault-Index (or asking for a linearizable read) may wait (default 2 s). */
  indexWaitMs?: number;
  /** Seal epoch word (the core bumps it on unseal/seal/rotation): drop cached keys when it moves. */
  sealEpoch?: SharedArrayBuffer;
  /**
   * Bounded staleness: a standby that has not heard from a leader for longer than this stops serving
   * local reads (503). Default: the upper end of the randomized election timeout (2 x base = 2 s), by which
   * every healthy follower would have campaigned had the leader gone.
   */
  staleReadBoundMs?: number;
}

export interface HaCounters {
  servedActive: number;
  servedStandby: number;
  forwarded: number;
  /** Of `forwarded`: sent before dispatch on a learned hint (forwardsEarly), without a handler round trip. */
  forwardedEarly: number;
  forwardFailures: number;
  redirected: number;
  indexWaits: number;
  indexNotPresent: number;
  linearizableReads: number;
  /** Local reads refused because the standby lost contact with the leader (bounded staleness). */
  staleRefusals: number;
}

interface RequestState {
  /** A relayed answer: its headers (X-Vault-Index included) are the active node's, untouched. */
  relayed: boolean;
  viaForward: boolean;
  /** The handler's snapshot index for this answer (LogicalReply.index): the X-Vault-Index when known. */
  servedIndex: number | null;
}

const STATE = Symbol('coffer.haState');

export class HaFront {
  readonly counters: HaCounters = { servedActive: 0, servedStandby: 0, forwarded: 0, forwardedEarly: 0, forwardFailures: 0, redirected: 0, indexWaits: 0, indexNotPresent: 0, linearizableReads: 0, staleRefusals: 0 };
  private stamper: IndexStamper | null = null;
  private keyFetchedAt = 0;
  private keyFetching: Promise<void> | null = null;
  private target: ForwardingInfo | null = null;
  private targetFetching: Promise<ForwardingInfo | null> | null = null;
  private agent: { agent: Agent; key: string } | null = null;
  private readonly epoch: Int32Array | null;
  private seenEpoch = -1;
  private sealedAt: { epoch: number; sealed: boolean } | null = null;
  /** Mount path -> time until which its write-type requests are forwarded before dispatch (forwardsEarly). */
  private readonly forwardHints = new Map<string, number>();
  private listenerTls: string | null = null;
  private listener: HttpsServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly indexWaitMs: number;
  private readonly staleReadBoundMs: number;
  private freshCheck: Promise<boolean> | null = null;

  constructor(private readonly opts: HaFrontOptions) {
    this.epoch = opts.sealEpoch ? new Int32Array(opts.sealEpoch) : null;
    this.indexWaitMs = opts.indexWaitMs ?? 2_000;
    this.staleReadBoundMs = opts.staleReadBoundMs ?? STALE_READ_BOUND_MS;
  }

  // ---- the forwarding listener (this node as the active one) ----

  /**
   * Binds the mutual-TLS forwarding listener on `host` (an ephemeral port; the active node advertises it).
   * Its certificate arrives after unseal (this node's cert from the cluster CA): until then handshakes fail
   * and standbys fall back to 307.
   */
  async listen(host: string, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<string> {
    const server = createHttpsServer({ requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
      (req as unknown as Record<symbol, unknown>)[VIA_FORWARD] = true;
      void handler(req, res);
    });
    server.on('tlsClientError', () => undefined); // before TLS material is set, or a peer without a cluster cert
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(TEST_FORWARD_LISTEN_PORT, host, () => resolve()); // 0 (ephemeral) unless a fault test pins it
    });
    this.listener = server;
    const port = (server.address() as AddressInfo).port;
    this.timer = setInterval(() => void this.tick(), 1_000);
    this.timer.unref();
    void this.tick();
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.agent?.agent.destroy();
    const l = this.listener;
    this.listener = null;
    if (l !== null) await new Promise<void>((resolve) => {
      l.close(() => resolve());
      l.closeAllConnections();
    });
  }

  /** Periodic: fetch TLS material for the listener and the forwarding target while unsealed; sync namespace keys. */
  private async tick(): Promise<void> {
    try {
      const t = await this.forwardTarget(this.listenerTls === null);
      if (t?.tls && this.listener !== null) {
        const key = t.tls.certPem;
        if (key !== this.listenerTls) {
          this.listener.setSecureContext({ cert: t.tls.certPem, key: t.tls.keyPem, ca: t.tls.caPem });
          this.listenerTls = key;
        }
      }
      if (t !== null && !t.self) await this.syncNamespaceKeys(t);
    } catch {
      // sealed or uninitialised: later
    }
  }

  /**
   * A standby fetches from the active node the keyrings of the sealable namespaces unsealed there (and drops
   * those sealed on purpose: the core's sync plan), so it serves them itself and, once elected, keeps them
   * unsealed. Once a second, like OpenBao's 15 s namespace sync, only while a keyring is missing.
   */
  private async syncNamespaceKeys(target: ForwardingInfo): Promise<void> {
    const { missing } = await this.opts.ask({ t: 'ns-sync-plan' });
    if (missing.length === 0 || target.forwardAddr === '' || target.tls === null || target.leaderId === null) return;
    const answer = await this.send(target, { method: 'GET', path: `/v1/${NAMESPACE_KEYS_PATH}?uuids=${encodeURIComponent(missing.join(','))}`, headers: { 'content-length': 0 }, body: Buffer.alloc(0) });
    if (answer.status !== 200) return;
    const keys = (JSON.parse(answer.body.toString('utf8')) as { keys?: [string, string][] }).keys ?? [];
    if (keys.length > 0) await this.opts.ask({ t: 'ns-import', keys });
  }

  /** The active node's side of the key sync; false when the request is not one (then it is routed as usual: 404). */
  async serveNamespaceKeys(api: ApiRequest, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (api.path !== NAMESPACE_KEYS_PATH || !stateOf(res).viaForward) return false;
    if (!this.opts.shared.isLeader()) {
      sendError(res, 503, ['not the active node']);
      return true;
    }
    const uuids = (api.query.get('uuids') ?? '').split(',').filter((u) => u !== '');
    // The asking node, as its cluster certificate names it (the listener verified it against the cluster CA).
    const requester = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    if (typeof requester !== 'string' || requester === '') {
      sendError(res, 403, ['permission denied']);
      return true;
    }
    const { keys } = await this.opts.ask({ t: 'ns-export', uuids, requester });
    const body = JSON.stringify({ keys });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }

  // ---- per request ----

  /** At the start of each request: stamps X-Vault-Index on whatever response is written (unless relayed). */
  begin(req: IncomingMessage, res: ServerResponse): void {
    const state: RequestState = { relayed: false, viaForward: (req as unknown as Record<symbol, unknown>)[VIA_FORWARD] === true, servedIndex: null };
    (res as unknown as Record<symbol, unknown>)[STATE] = state;
    this.checkEpoch();
    if (this.stamper === null && Date.now() - this.keyFetchedAt > 250) void this.fetchKey();
    // The key is looked up when the answer is written, not now: a request that itself waited for the key
    // (X-Vault-Index on a node that just unsealed) must carry the header too.
    const currentStamper = () => this.stamper;
    const shared = this.opts.shared;
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      const stamper = currentStamper();
      // A handler's answer carries the index of the snapshot it read; anything else (errors, front-served
      // paths) the highest index any snapshot can hold now, so that the stamp is never below what was served.
      if (stamper !== null && !state.relayed && !this.headersSent) this.setHeader('X-Vault-Index', stamper.stamp(state.servedIndex ?? shared.stampIndex()));
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
  }

  /** Original client address: the forwarding standby's header on the mutual-TLS listener, else the socket's. */
  clientAddress(req: IncomingMessage): string | undefined {
    if ((req as unknown as Record<symbol, unknown>)[VIA_FORWARD] === true) {
      const v = req.headers[FORWARDED_FOR];
      if (typeof v === 'string' && v !== '') return v;
    }
    return req.socket.remoteAddress;
  }

  /** For LogicalRequest.standby: this node is not the Raft leader (writes known in advance are forwarded). */
  isStandby(): boolean {
    return !this.opts.shared.isLeader();
  }

  /** X-Vault-Index of this response: the index of the snapshot its answer was made from (default: shared.stampIndex()). */
  setServedIndex(res: ServerResponse, servedIndex: number): void {
    stateOf(res).servedIndex = servedIndex;
  }

  /** Marks a response the local handlers produced: X-Coffer-Served-By and the counters. */
  markServed(res: ServerResponse, servedIndex?: number): void {
    if (servedIndex !== undefined) this.setServedIndex(res, servedIndex);
    const standby = this.isStandby();
    if (standby) this.counters.servedStandby++;
    else this.counters.servedActive++;
    res.setHeader('X-Coffer-Served-By', standby ? 'standby' : 'active');
  }

  /**
   * Consistency headers, before routing. Returns true when the response was written here (400 forged
   * index, 412 index not present, or the request was forwarded). `storedData`: the request answers from
   * the replicated data (a logical path or sys/raw, front/routes.ts readsStoredData), so the standby rules
   * below apply; X-Vault-Index applies to every request.
   */
  async before(api: ApiRequest, req: IncomingMessage, res: ServerResponse, storedData: boolean): Promise<boolean> {
    const state = stateOf(res);
    const h = req.headers;
    const indexValues = headerValues(h['x-vault-index']);
    if (indexValues.length > 0) {
      const stamper = await this.requireKey();
      let want = 0;
      for (const v of indexValues) {
        const index = stamper === null ? null : stamper.verify(v);
        if (index === null) {
          if (stamper === null) break; // the key has not replicated here yet: treated as "not present"
          sendError(res, 400, ['invalid X-Vault-Index header: not issued by this cluster']);
          return true;
        }
        want = Math.max(want, index);
      }
      const modes = headerValues(h['x-vault-inconsistent']).map((m) => m.toLowerCase());
      const canWait = !(modes.includes('fail') && !modes.includes('await-state'));
      let present = mutation('standby-reads-no-index') || (stamper !== null && this.opts.shared.applied() >= want); // §7.3 mutation
      if (!present && canWait) {
        this.counters.indexWaits++;
        present = stamper !== null && (await this.opts.shared.waitApplied(want, this.indexWaitMs));
      }
      if (!present) {
        if (modes.includes('forward-active-node') && !state.viaForward && this.isStandby()) return this.forwardNow(api, req, res);
        this.counters.indexNotPresent++;
        sendError(res, 412, ['required index state not present']);
        return true;
      }
    }
    if (!storedData) return false;
    // On the active node: never older than what a standby may already have served (an entry is applied on
    // a follower before the leader at times: the leader tells followers of a commit, then applies it).
    const unapplied = this.opts.shared.unappliedOwnCommit();
    if (unapplied > 0 && !(await this.opts.shared.waitApplied(unapplied, this.indexWaitMs))) {
      sendError(res, 503, ['active node could not apply its committed log in time; retry the request']);
      return true;
    }
    const standby = this.isStandby();
    if (standby && !state.viaForward) {
      const fwd = h['x-vault-forward'];
      if (typeof fwd === 'string' && fwd.toLowerCase() === 'active-node') return this.forwardNow(api, req, res);
      if (this.opts.disableStandbyReads && !LOCAL_ONLY.has(api.path.replace(/\/$/, ''))) return this.forwardNow(api, req, res);
    }
    const consistency = h['x-coffer-consistency'];
    const linearizable = typeof consistency === 'string' && consistency.toLowerCase() === 'linearizable';
    if (standby && !state.viaForward) {
      const refusal = await this.staleRefusal(linearizable);
      if (refusal !== null) {
        this.counters.staleRefusals++;
        sendError(res, 503, [refusal]);
        return true;
      }
    }
    if (linearizable) {
      try {
        await this.opts.readIndex(this.indexWaitMs);
        this.counters.linearizableReads++;
      } catch (err) {
        // No leader contact within the election timeout, or no confirmation in time: never serve stale.
        // Forward only while the leader is in contact: a partitioned standby would wait out the forwarding
        // timeout; it answers 503 at once instead (bounded time).
        if (standby && !state.viaForward && this.opts.shared.sinceLeaderContactMs() <= ELECTION_TIMEOUT_MS) return this.forwardNow(api, req, res);
        sendError(res, 503, [`linearizable read not possible on this node: ${(err as Error).message}`]);
        return true;
      }
    }
    return false;
  }

  /**
   * Bounded staleness (RELIABILITY.md §7.4): a follower (or candidate) whose state was last known to be
   * current (applied >= the leader's commit, actors/cluster/freshness.ts) longer than staleReadBoundMs ago
   * serves from its FSM only after a ReadIndex round proved it current again (restarted, healed, idle
   * after a pause), and refuses (503) when that fails or when it has no contact with a leader at all
   * (partitioned or paused). Not applied while this node has no index key (sealed, or not yet caught up
   * with the cluster's first advertisement): the pipeline answers those requests as before.
   */
  private async staleRefusal(linearizable: boolean): Promise<string | null> {
    const shared = this.opts.shared;
    const role = shared.role();
    if ((role !== ROLE_FOLLOWER && role !== ROLE_CANDIDATE) || this.stamper === null) return null;
    if (!linearizable && shared.sinceFreshMs() <= this.staleReadBoundMs) return null;
    const since = shared.sinceLeaderContactMs();
    if (since > this.staleReadBoundMs) {
      const ago = since > 1e12 ? 'since this node started' : `for ${since} ms`;
      return `standby has not heard from the active node ${ago} (limit ${this.staleReadBoundMs} ms): refusing to serve possibly stale data; retry on the active node`;
    }
    if (linearizable) return null; // its ReadIndex round follows
    // In contact but not known to be current (restarted, healed from a partition or a pause, idle since,
    // or too slow to keep up): one ReadIndex round gets the leader's commit and waits until it is applied,
    // which makes the state current as of the moment we asked.
    // Concurrent requests share one round.
    this.freshCheck ??= (async () => {
      const askedAt = Date.now();
      try {
        await this.opts.readIndex(this.indexWaitMs);
        shared.publishFreshAsOf(askedAt);
        return true;
      } catch {
        return false; // still behind after the wait
      } finally {
        this.freshCheck = null;
      }
    })();
    if (await this.freshCheck) return null;
    return `standby is catching up with the active node (applied index ${shared.applied()} of ${shared.leaderCommit()}; last current ${shared.sinceFreshMs()} ms ago, limit ${this.staleReadBoundMs} ms): refusing to serve possibly stale data; retry on the active node`;
  }

  /**
   * Whether a standby forwards this request before dispatch: a write-type request under a mount whose
   * writes the handler always forwards (learned from its NOT_LEADER hints, below). Saves the handler round
   * trip, the token lookups and the routing a forwarded write would otherwise cost here. A hint is trusted
   * for FORWARD_HINT_TTL_MS, then one request goes through the handler again (a remount of another
   * engine type at that path is picked up then); a stale hint only forwards what could have run here.
   */
  forwardsEarly(api: ApiRequest, res: ServerResponse): boolean {
    if (this.forwardHints.size === 0 || !WRITE_OPERATIONS.has(api.operation) || stateOf(res).viaForward || !this.isStandby()) return false;
    const now = Date.now();
    for (const [prefix, until] of this.forwardHints) {
      if (!api.path.startsWith(prefix)) continue;
      if (until > now) return true;
      this.forwardHints.delete(prefix);
    }
    return false;
  }

  async forwardEarly(api: ApiRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.forwardedEarly++;
    await this.onNotLeader(api, req, res); // X-Vault-No-Request-Forwarding and streamed bodies: 307, as before
  }

  /** A request that must run on the active node (NOT_LEADER from the pipeline or the raft actor). */
  async onNotLeader(api: ApiRequest | null, req: IncomingMessage, res: ServerResponse, value?: ErrorValue): Promise<void> {
    const state = stateOf(res);
    const prefix = value?.forwardWritesUnder;
    if (prefix !== undefined && prefix !== '' && this.forwardHints.size < FORWARD_HINTS_MAX) this.forwardHints.set(prefix, Date.now() + FORWARD_HINT_TTL_MS);
    const noForward = req.headers['x-vault-no-request-forwarding'];
    // A streamed body (raft snapshot restore) is not buffered: such requests are redirected (§3.2).
    if (api === null || (api as { stream?: unknown }).stream !== undefined || state.viaForward || req.headers[INTERNAL_NO_FORWARD] !== undefined || (typeof noForward === 'string' && noForward !== '')) return this.redirect(req, res);
    await this.forwardNow(api, req, res);
  }

  // ---- forwarding ----

  private async forwardNow(api: ApiRequest, req: IncomingMessage, res: ServerResponse): Promise<true> {
    const state = stateOf(res);
    // A sealed node serves nothing logical, forwarded or not (Vault: 503). Without this, a target cached
    // before the seal would still relay, and without one the redirect found no leader (500).
    if (await this.sealed()) {
      sendError(res, 503, ['Vault is sealed']);
      return true;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const target = await this.forwardTarget(attempt > 0).catch(() => null);
      if (target === null || target.self || target.forwardAddr === '' || target.tls === null || target.leaderId === null) break;
      try {
        const answer = await this.relay(target, api, req);
        this.counters.forwarded++;
        state.relayed = true;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return true;
      } catch (err) {
        this.counters.forwardFailures++;
        this.opts.log.warn({ err: (err as Error).message, to: target.forwardAddr }, 'forwarding to the active node failed');
        this.dropAgent();
        // Once the request may have reached the active node, neither a retry nor a 307 is safe: the write
        // could run twice (LIN-KV-ACTIVE found a KV v2 write applied at two versions after a link reset).
        // The client learns the outcome is unknown, as from a timeout.
        if ((err as { delivered?: boolean }).delivered === true) {
          sendError(res, 502, [`error forwarding the request to the active node (${(err as Error).message}): it may or may not have been applied`]);
          return true;
        }
      }
    }
    await this.redirect(req, res);
    return true;
  }

  /**
   * Whether this node is sealed, asked of the core once per seal epoch (the core bumps the epoch word on
   * every seal, unseal and rotation), not once per forwarded request. The epoch is read before the ask, so
   * a seal that lands meanwhile moves it and the next call asks again.
   */
  private async sealed(): Promise<boolean> {
    if (this.epoch === null) return isSealed(this.opts.ask);
    const epoch = Atomics.load(this.epoch, 0);
    if (this.sealedAt !== null && this.sealedAt.epoch === epoch) return this.sealedAt.sealed;
    const sealed = await isSealed(this.opts.ask);
    this.sealedAt = { epoch, sealed };
    return sealed;
  }

  private relay(target: ForwardingInfo, api: ApiRequest, req: IncomingMessage): Promise<{ status: number; headers: OutgoingHttpHeaders; body: Buffer }> {
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['content-length'] = api.raw.length;
    headers[FORWARDED_FOR] = req.socket.remoteAddress ?? '';
    // The forwarding listener's HTTP parser (llhttp) rejects the LIST method (the API listener has
    // list-method.ts for it): a LIST travels as the equivalent GET ?list=true.
    const method = req.method === 'LIST' ? 'GET' : (req.method ?? 'GET');
    const path = req.method === 'LIST' ? `${req.url ?? '/'}${(req.url ?? '').includes('?') ? '&' : '?'}list=true` : (req.url ?? '/');
    return this.send(target, { method, path, headers, body: api.raw });
  }

  /** One request to the active node's forwarding listener, over mutual TLS. */
  private send(target: ForwardingInfo, out: { method: string; path: string; headers: OutgoingHttpHeaders; body: Buffer }): Promise<{ status: number; headers: OutgoingHttpHeaders; body: Buffer }> {
    const leaderId = target.leaderId as string;
    const { host, port } = testPeerDial(leaderId, 'forward') ?? splitHostPort(target.forwardAddr); // fault tests: nemesis proxy
    const { method, path, headers } = out;
    const agent = this.agentFor(target);
    // Delivered = the request may have reached the active node: written on a socket past its TLS handshake.
    let handshakeDone = false;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(Object.assign(err, { delivered: handshakeDone }));
      const request = httpsRequest(
        {
          host,
          port,
          method,
          path,
          headers,
          agent,
          servername: leaderId,
          // The active node's certificate must be from the cluster CA and name the leader Raft knows.
          checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.subject?.CN === leaderId ? undefined : new Error(`forwarding: expected the certificate of ${leaderId}, got ${cert.subject?.CN}`)),
          timeout: FORWARD_TIMEOUT_MS,
        },
        (inc) => {
          const chunks: Buffer[] = [];
          inc.on('data', (c: Buffer) => chunks.push(c));
          inc.on('error', fail);
          inc.on('end', () => {
            const body = Buffer.concat(chunks);
            const headersOut: OutgoingHttpHeaders = {};
            for (const [k, v] of Object.entries(inc.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headersOut[k] = v;
            if (inc.statusCode !== 204 && inc.statusCode !== 304) headersOut['content-length'] = body.length;
            resolve({ status: inc.statusCode ?? 502, headers: headersOut, body });
          });
        },
      );
      request.on('socket', (s) => {
        s.setNoDelay(true); // request/response on a reused socket: never wait on Nagle for the body
        // A reused keep-alive socket is past its handshake; a fresh one reports secureConnect.
        if ((s as TLSSocket).authorized === true) handshakeDone = true;
        else s.once('secureConnect', () => (handshakeDone = true));
      });
      request.on('timeout', () => request.destroy(new Error('forwarding timed out')));
      request.on('error', fail);
      request.end(out.body);
    });
  }

  private agentFor(target: ForwardingInfo): Agent {
    const tls = target.tls as NonNullable<ForwardingInfo['tls']>;
    const key = `${target.forwardAddr}|${tls.certPem}`;
    if (this.agent?.key === key) return this.agent.agent;
    this.agent?.agent.destroy();
    // timeout: idle keep-alive sockets close well before the listener's 65 s keepAliveTimeout, so a request is
    // not written on a socket the server is closing (its failure would now be a 502, not a retry).
    const agent = new Agent({ keepAlive: true, maxSockets: 128, timeout: FORWARD_TIMEOUT_MS, ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, rejectUnauthorized: true });
    this.agent = { agent, key };
    return agent;
  }

  private dropAgent(): void {
    this.agent?.agent.destroy();
    this.agent = null;
    this.target = null;
  }

  /** The cached target, refetched from the core when the Raft term moved (a new leader) or on demand. */
  private async forwardTarget(force: boolean): Promise<ForwardingInfo | null> {
    const cached = this.target;
    if (!force && cached !== null && cached.term === this.opts.shared.term() && cached.forwardAddr !== '' && cached.self === this.opts.shared.isLeader()) return cached;
    if (this.targetFetching !== null) return this.targetFetching;
    this.targetFetching = (async () => {
      try {
        const t = await this.opts.ask({ t: 'forwarding' });
        this.target = t;
        return t;
      } catch {
        this.target = null;
        return null;
      } finally {
        this.targetFetching = null;
      }
    })();
    return this.targetFetching;
  }

  private async redirect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.redirected++;
    await redirectToActive(res, this.opts.ask, req.url ?? '/', this.opts.log);
  }

  // ---- the X-Vault-Index key ----

  private checkEpoch(): void {
    if (this.epoch === null) return;
    const now = Atomics.load(this.epoch, 0);
    if (now === this.seenEpoch) return;
    this.seenEpoch = now;
    // Sealed, unsealed or rotated: ask again (the key itself never changes once written; sealed = null).
    void this.fetchKey();
  }

  private fetchKey(): Promise<void> {
    if (this.keyFetching !== null) return this.keyFetching;
    this.keyFetchedAt = Date.now();
    this.keyFetching = (async () => {
      try {
        const { key } = await this.opts.ask({ t: 'index-key' });
        this.stamper = key === null ? null : new IndexStamper(Buffer.from(key));
      } catch {
        // sealed: later
      } finally {
        this.keyFetching = null;
      }
    })();
    return this.keyFetching;
  }

  private async requireKey(): Promise<IndexStamper | null> {
    if (this.stamper === null) await this.fetchKey();
    return this.stamper;
  }
}

function stateOf(res: ServerResponse): RequestState {
  return ((res as unknown as Record<symbol, unknown>)[STATE] as RequestState | undefined) ?? { relayed: false, viaForward: false, servedIndex: null };
}

function splitHostPort(addr: string): { host: string; port: number } {
  const bare = addr.replace(/^[a-z]+:\/\//i, '');
  const i = bare.lastIndexOf(':');
  return { host: bare.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(bare.slice(i + 1)) };
}
