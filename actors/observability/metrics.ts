// The node's metrics registry (prom-client), owned by the HTTP front on the main thread.
//
// Cost model: the front already knows everything a request metric needs (method → operation, path →
// mount through its cached mount list, status, duration, this node's role), so nothing travels from
// the handler workers per request. The hot path is `observeRequest`: one Map lookup on a label key
// and a few number increments; the Prometheus series are built only when /v1/sys/metrics is scraped
// (custom collectors registered in the prom-client registry). Raft indexes, actor ring depth, pending
// asks and worker event-loop utilisation are read at scrape time too (see RuntimeSources).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { thisThreadTrimTotals, type HeapTrimTotals } from '../../runtime/heap-trim.js';
import type { RaftHostStats } from '../raft/protocol.js';

/** How often the event-loop lag metric (coffer_nodejs_eventloop_lag_*) samples the loop. */
const EVENT_LOOP_LAG_SAMPLE_MS = 100;

export type ServedBy = 'active' | 'standby';


/** Latency buckets in seconds: 100 µs to 10 s. */
export const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface RequestSeries {
  labels: { mount: string; operation: string; status: string; served_by: string };
  count: number;
}

interface LatencySeries {
  labels: { mount: string; operation: string };
  buckets: Float64Array; // cumulative counts are computed at scrape time
  count: number;
  sum: number;
}

/** Bound on distinct label sets; past it, new mounts are folded into mount="other". */
const SERIES_MAX = 4096;

type MetricValue = { value: number; labels?: Record<string, string | number>; metricName?: string };

/** A prom-client compatible metric whose values are produced by `values()` at scrape time. */
function scrapeMetric(registry: Registry, name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => MetricValue[] | Promise<MetricValue[]>): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, aggregator: 'sum', values: await values() };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** Per-actor runtime figures (ActorSystem.stats()). */
export interface ActorStat {
  name: string;
  state: string;
  pendingAsks: number;
  requestRingBytes: number;
  replyRingBytes: number;
  ringCapacityBytes: number;
  restarts: number;
  /** Worker event loop: cumulative active/idle ms (performance.eventLoopUtilization of the Worker). */
  eluActiveMs: number;
  eluIdleMs: number;
  /** Heap given back after bursts (runtime/heap-trim.ts). */
  heapTrims: HeapTrimTotals;
}

export interface RaftIndexes {
  commit: number;
  applied: number;
  term: number;
  role: string | null;
  silentRedials: number;
  /** RaftHost counters (ClusterStatus.host); absent before the Raft group started. */
  host?: RaftHostStats;
}

export interface RuntimeSources {
  actors(): ActorStat[];
  /** Null when the raft actor does not answer (e.g. before it started). */
  raft(): Promise<RaftIndexes | null>;
  /** Standby reads and forwarding counters of the HA front (actors/cluster/forwarding.ts HaCounters). */
  ha?(): Readonly<Record<string, number>>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Map<string, RequestSeries>();
  private readonly latency = new Map<string, LatencySeries>();
  private readonly eluLast = new Map<string, { active: number; idle: number }>();
  readonly quotaViolations: Counter<'name'>;
  /** Set by the front: the number of requests in flight, read at scrape time. */
  inFlightSize: () => number = () => 0;
  /** The role this node serves requests as (`served_by` label); per node, as a process may run several (dev cluster). */
  private servedBy: ServedBy = 'active';

  constructor(private readonly sources: RuntimeSources | null = null) {
    // prom-client samples event-loop lag with a native 10 ms timer by default: 100 wake-ups a second of
    // the front's thread, ~8 ms of CPU a second on an idle node here (over half of what an idle dev
    // node spent). Sampled every 100 ms, a stall still shows in the lag histogram when a tick falls in it.
    collectDefaultMetrics({ register: this.registry, prefix: 'coffer_', eventLoopMonitoringPrecision: EVENT_LOOP_LAG_SAMPLE_MS });
    scrapeMetric(this.registry, 'coffer_ha_requests_total', 'Requests by how the HA front handled them: served here as active or standby, forwarded to the active node (forwarded_early: before dispatch, on a learned hint), redirected, index waits, stale refusals.', 'counter', () =>
      Object.entries(this.sources?.ha?.() ?? {}).map(([k, v]) => ({ value: v, labels: { kind: k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) } })),
    );
    scrapeMetric(this.registry, 'coffer_requests_total', 'HTTP API requests served by this node, by mount, operation, status and the role the node served them as.', 'counter', () =>
      [...this.requests.values()].map((s) => ({ value: s.count, labels: s.labels })),
    );
    scrapeMetric(this.registry, 'coffer_request_duration_seconds', 'Request latency measured by the HTTP front (parse to last byte written), by mount and operation.', 'histogram', () => this.latencyValues());
    this.quotaViolations = new Counter({ name: 'coffer_quota_rate_limit_violation_total', help: 'Requests refused by a rate-limit quota, by quota name.', labelNames: ['name'], registers: [this.registry] });
    scrapeMetric(this.registry, 'coffer_requests_in_flight', 'Requests being served by this node now.', 'gauge', () => [{ value: this.inFlightSize() }]);
    if (sources) this.registerRuntime(sources);
  }

  /** The HA code (or the front's role poll) calls this on leader/standby transitions. */
  setServedBy(role: ServedBy): void {
    this.servedBy = role;
  }

  getServedBy(): ServedBy {
    return this.servedBy;
  }

  /** Hot path: once per request, from the front. */
  observeRequest(mount: string, operation: string, status: number, seconds: number): void {
    const role = this.servedBy;
    let key = `${mount}\u0000${operation}\u0000${status}\u0000${role}`;
    let s = this.requests.get(key);
    if (s === undefined) {
      if (this.requests.size >= SERIES_MAX) {
        mount = 'other';
        key = `${mount}\u0000${operation}\u0000${status}\u0000${role}`;
        s = this.requests.get(key);
      }
      if (s === undefined) {
        s = { labels: { mount, operation, status: String(status), served_by: role }, count: 0 };
        this.requests.set(key, s);
      }
    }
    s.count++;
    const lkey = `${mount}\u0000${operation}`;
    let l = this.latency.get(lkey);
    if (l === undefined) {
      l = { labels: { mount, operation }, buckets: new Float64Array(LATENCY_BUCKETS_S.length), count: 0, sum: 0 };
      this.latency.set(lkey, l);
    }
    l.count++;
    l.sum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
      if (seconds <= (LATENCY_BUCKETS_S[i] as number)) {
        l.buckets[i] = (l.buckets[i] as number) + 1;
        break;
      }
    }
  }

  private latencyValues(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const l of this.latency.values()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
        cumulative += l.buckets[i] as number;
        out.push({ metricName: 'coffer_request_duration_seconds_bucket', value: cumulative, labels: { ...l.labels, le: LATENCY_BUCKETS_S[i] as number } });
      }
      out.push({ metricName: 'coffer_request_duration_seconds_bucket', value: l.count, labels: { ...l.labels, le: '+Inf' } });
      out.push({ metricName: 'coffer_request_duration_seconds_sum', value: l.sum, labels: l.labels });
      out.push({ metricName: 'coffer_request_duration_seconds_count', value: l.count, labels: l.labels });
    }
    return out;
  }

  private registerRuntime(src: RuntimeSources): void {
    let raftSnapshot: Promise<RaftIndexes | null> | null = null;
    // One raft ask per scrape, shared by the raft gauges.
    const raft = (): Promise<RaftIndexes | null> => {
      if (raftSnapshot === null) {
        raftSnapshot = src.raft().catch(() => null);
        setImmediate(() => (raftSnapshot = null));
      }
      return raftSnapshot;
    };
    const raftGauge = (name: string, help: string, pick: (r: RaftIndexes) => number) =>
      scrapeMetric(this.registry, name, help, 'gauge', async () => {
        const r = await raft();
        return r === null ? [] : [{ value: pick(r) }];
      });
    raftGauge('coffer_raft_commit_index', 'Highest log index known committed by this node.', (r) => r.commit);
    raftGauge('coffer_raft_applied_index', 'Highest log index applied to this node\'s FSM.', (r) => r.applied);
    raftGauge('coffer_raft_apply_lag', 'commit index minus applied index on this node (entries committed but not yet applied).', (r) => Math.max(0, r.commit - r.applied));
    raftGauge('coffer_raft_term', 'Current Raft term seen by this node.', (r) => r.term);
    scrapeMetric(this.registry, 'coffer_raft_peer_silent_redials_total', 'Outbound peer connections this node dropped and redialled because the peer stopped answering pings on them.', 'counter', async () => {
      const r = await raft();
      return r === null ? [] : [{ value: r.silentRedials }];
    });
    const hostCounter = (name: string, help: string, pick: (h: NonNullable<RaftIndexes['host']>) => number) =>
      scrapeMetric(this.registry, name, help, 'counter', async () => {
        const r = await raft();
        return r?.host === undefined ? [] : [{ value: pick(r.host) }];
      });
    hostCounter('coffer_raft_log_flushes_total', 'Synced writes of this node\'s Raft log (entries, term, vote); entries_persisted / flushes is the group commit.', (h) => h.flushes);
    hostCounter('coffer_raft_entries_persisted_total', 'Raft log entries this node made durable.', (h) => h.entriesPersisted);
    hostCounter('coffer_raft_compactions_total', 'Times this node snapshotted its FSM and dropped the log behind the snapshot.', (h) => h.compactions);
    hostCounter('coffer_raft_applied_during_snapshot_total', 'Entries this node applied while a snapshot image was being written (compaction runs beside the log, not in its way).', (h) => h.appliedDuringImage);
    hostCounter('coffer_raft_applied_with_own_flush_total', 'Entries a lone voter applied in the same transaction that made them durable (one LMDB commit per write instead of two).', (h) => h.appliedWithOwnFlush);
    hostCounter('coffer_raft_fsm_applies_alone_total', 'FSM transactions that applied committed entries on their own rather than with a log append (each costs a sync of its own).', (h) => h.appliesAlone);
    hostCounter('coffer_raft_read_index_confirmed_by_asker_total', 'Follower ReadIndex requests this node answered as leader without a heartbeat round: the asking voter completed the quorum (docs/raft.md "ReadIndex").', (h) => h.readsConfirmedByAsker);
    hostCounter('coffer_raft_entries_read_back_total', 'Log entries this node sent a lagging peer after the Raft core had let go of their data (it keeps the last raftLimits.payloadsKeptInMemory applied): read back from the log store.', (h) => h.entriesReadBack);
    hostCounter('coffer_raft_fenced_messages_dropped_total', 'Raft messages dropped because their sender was fenced off by a disaster-recovery promotion (docs/dr.md).', (h) => h.fencedDropped);
    hostCounter('coffer_raft_snapshots_installed_total', 'Snapshots this node installed from the leader (InstallSnapshot) or by a restore.', (h) => h.snapshotsInstalled);
    scrapeMetric(this.registry, 'coffer_raft_is_leader', '1 when this node is the Raft leader.', 'gauge', async () => {
      const r = await raft();
      return r === null ? [] : [{ value: r.role === 'leader' ? 1 : 0 }];
    });
    scrapeMetric(this.registry, 'coffer_node_served_by', '1 for the role this node currently serves requests as (active or standby).', 'gauge', () => [
      { value: this.servedBy === 'active' ? 1 : 0, labels: { role: 'active' } },
      { value: this.servedBy === 'standby' ? 1 : 0, labels: { role: 'standby' } },
    ]);
    const perActor = (name: string, help: string, type: 'gauge' | 'counter', pick: (a: ActorStat) => number) =>
      scrapeMetric(this.registry, name, help, type, () => src.actors().map((a) => ({ value: pick(a), labels: { actor: a.name } })));
    perActor('coffer_actor_pending_asks', 'Asks from the main thread to this actor awaiting a reply.', 'gauge', (a) => a.pendingAsks);
    perActor('coffer_actor_request_ring_bytes', 'Bytes queued in the main thread -> actor request ring (unread by the actor).', 'gauge', (a) => a.requestRingBytes);
    perActor('coffer_actor_reply_ring_bytes', 'Bytes queued in the actor -> main thread reply ring (unread by the front).', 'gauge', (a) => a.replyRingBytes);
    perActor('coffer_actor_ring_capacity_bytes', 'Capacity of each of the actor\'s main-thread rings.', 'gauge', (a) => a.ringCapacityBytes);
    perActor('coffer_actor_restarts_total', 'Restarts of this actor by its supervisor (recent window).', 'counter', (a) => a.restarts);
    // The main thread (the HTTP front) trims too when the server started it there: reported as actor="main".
    const trims = (pick: (t: HeapTrimTotals) => number) => () => {
      const out = src.actors().map((a) => ({ value: pick(a.heapTrims), labels: { actor: a.name } }));
      const main = thisThreadTrimTotals();
      if (main) out.push({ value: pick(main), labels: { actor: 'main' } });
      return out;
    };
    scrapeMetric(this.registry, 'coffer_actor_heap_trims_total', 'Times the thread gave its heap back once idle after a burst (two major GCs; runtime/heap-trim.ts).', 'counter', trims((t) => t.trims));
    scrapeMetric(this.registry, 'coffer_actor_heap_released_bytes_total', 'Heap bytes those trims released (heap size before minus after).', 'counter', trims((t) => t.bytesReleased));
    perActor('coffer_actor_up', '1 while the actor\'s worker is running.', 'gauge', (a) => (a.state === 'running' ? 1 : 0));
    // A Worker's ELU read from the main thread is racy (it can step back by microseconds): keep the
    // counter monotonic and the utilisation within [0, 1].
    const activeMax = new Map<string, number>();
    perActor('coffer_actor_event_loop_active_seconds_total', 'Time the actor\'s worker event loop was busy (rate() of it is the worker saturation).', 'counter', (a) => {
      const v = Math.max(activeMax.get(a.name) ?? 0, a.eluActiveMs);
      activeMax.set(a.name, v);
      return v / 1000;
    });
    scrapeMetric(this.registry, 'coffer_actor_event_loop_utilization', 'Share of time the actor\'s worker event loop was busy since the previous scrape (0..1; ring readers spin briefly, so idle workers show a small floor).', 'gauge', () =>
      src.actors().map((a) => {
        const last = this.eluLast.get(a.name) ?? { active: 0, idle: 0 };
        this.eluLast.set(a.name, { active: a.eluActiveMs, idle: a.eluIdleMs });
        const active = Math.max(0, a.eluActiveMs - last.active);
        const total = active + Math.max(0, a.eluIdleMs - last.idle);
        return { value: total > 0 ? Math.min(1, active / total) : 0, labels: { actor: a.name } };
      }),
    );
  }

  prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Vault's in-memory sink shape (`GET sys/metrics` without format): {Timestamp, Gauges, Counters, Samples}.
   * Counters carry Count/Sum as totals since start (Vault's are per interval); Samples are the latency histograms.
   */
  async json(): Promise<Record<string, unknown>> {
    const all = await this.registry.getMetricsAsJSON();
    const gauges: unknown[] = [];
    const counters: unknown[] = [];
    const samples: unknown[] = [];
    for (const m of all) {
      const type = m.type as unknown as string;
      if (type === 'histogram') {
        const byLabels = new Map<string, { Name: string; Labels: Record<string, unknown>; Count: number; Sum: number }>();
        for (const v of m.values as MetricValue[]) {
          if (!v.metricName?.endsWith('_count') && !v.metricName?.endsWith('_sum')) continue;
          const labels = v.labels ?? {};
          const k = JSON.stringify(labels);
          const e = byLabels.get(k) ?? { Name: m.name, Labels: labels, Count: 0, Sum: 0 };
          if (v.metricName.endsWith('_count')) e.Count = v.value;
          else e.Sum = v.value;
          byLabels.set(k, e);
        }
        for (const e of byLabels.values()) samples.push({ ...e, Mean: e.Count > 0 ? e.Sum / e.Count : 0 });
        continue;
      }
      for (const v of m.values as MetricValue[]) {
        if (type === 'counter') counters.push({ Name: m.name, Count: v.value, Sum: v.value, Labels: v.labels ?? {} });
        else gauges.push({ Name: v.metricName ?? m.name, Value: v.value, Labels: v.labels ?? {} });
      }
    }
    return { Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Gauges: gauges, Counters: counters, Points: [], Samples: samples };
  }
}
