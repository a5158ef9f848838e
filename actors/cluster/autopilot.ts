// Autopilot (sys/storage/raft/autopilot/*), inside the core actor next to ClusterCore. Runs on the active
// node only: a timer reads the raft actor's leader-side view (per-peer match index and last contact) and
//   - promotes a staged non-voter (a node that joined as a voter; it is added as a learner first) once it
//     has been healthy for server_stabilization_time (at once while the cluster has fewer than 3 voters:
//     there is no failure tolerance to protect yet, and cluster formation stays fast);
//   - with cleanup_dead_servers, removes servers not heard from for dead_server_last_contact_threshold,
//     never taking the voters below min_quorum.
// Permanent non-voters (joined with non_voter, or demoted) carry `non_voter: true` in the peer map and are
// never promoted. See docs/snapshots-autopilot.md.
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import type { PeerMap } from '../raft/host.js';
import type { ClusterStatus, RaftReplies, RaftRequest } from '../raft/protocol.js';
import type { StorageOp } from '../storage/write-set.js';
import type { RaftView } from './cluster.js';

export const AUTOPILOT_CONFIG_KEY = 'core/raft/autopilot/configuration';
const TICK_MS = 500;

/** Effective configuration; durations in seconds. */
export interface AutopilotConfig {
  cleanup_dead_servers: boolean;
  last_contact_threshold: number;
  dead_server_last_contact_threshold: number;
  max_trailing_logs: number;
  min_quorum: number;
  server_stabilization_time: number;
}

export const AUTOPILOT_DEFAULTS: AutopilotConfig = {
  cleanup_dead_servers: false,
  last_contact_threshold: 10,
  dead_server_last_contact_threshold: 24 * 3600,
  max_trailing_logs: 1000,
  min_quorum: 0,
  server_stabilization_time: 10,
};

export interface AutopilotHooks {
  nodeId: string;
  version: string;
  raft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]>;
  barrier(): Barrier | null;
  readPhysical(key: string): Buffer | undefined;
  commit(ops: StorageOp[]): Promise<number>;
  promote(id: string): Promise<void>;
  removePeer(id: string): Promise<void>;
  warn(msg: string, err?: unknown): void;
  /** The raft actor's published role: a follower's tick then does nothing, without asking the raft thread. */
  raftView?: RaftView;
}

export interface AutopilotServer {
  id: string;
  name: string;
  address: string;
  node_status: 'alive' | 'failed';
  last_contact: string | null;
  last_term: number;
  last_index: number;
  healthy: boolean;
  stable_since: string;
  status: 'leader' | 'voter' | 'non-voter';
  version: string;
  node_type: 'voter' | 'non-voter' | 'staging';
}

export interface AutopilotState {
  healthy: boolean;
  failure_tolerance: number;
  leader: string;
  voters: string[];
  non_voters?: string[];
  servers: Record<string, AutopilotServer>;
}

export class Autopilot {
  private timer: NodeJS.Timeout | null = null;
  /** Since when each server has been continuously healthy (ms), while this node leads. */
  private readonly healthySince = new Map<string, number>();
  /** When this leader first saw each server (stands in for last contact before any message). */
  private readonly firstSeen = new Map<string, number>();
  private acting = false;

  constructor(private readonly hooks: AutopilotHooks) {}

  onUnsealed(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  onSealed(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.reset();
  }

  close(): void {
    this.onSealed();
  }

  // ---- configuration ----------------------------------------------------------------------------

  /** The supplied overrides persisted at core/raft/autopilot/configuration (barrier-encrypted JSON). */
  private overrides(): Partial<AutopilotConfig> {
    const barrier = this.hooks.barrier();
    const blob = this.hooks.readPhysical(AUTOPILOT_CONFIG_KEY);
    if (barrier === null || blob === undefined) return {};
    try {
      return JSON.parse(barrier.decrypt(AUTOPILOT_CONFIG_KEY, blob).toString('utf8')) as Partial<AutopilotConfig>;
    } catch {
      return {};
    }
  }

  config(): AutopilotConfig {
    return { ...AUTOPILOT_DEFAULTS, ...this.overrides() };
  }

  /** GET .../autopilot/configuration: durations as Go duration strings. */
  configView(): Record<string, unknown> {
    const c = this.config();
    return {
      cleanup_dead_servers: c.cleanup_dead_servers,
      last_contact_threshold: goDuration(c.last_contact_threshold * 1000),
      dead_server_last_contact_threshold: goDuration(c.dead_server_last_contact_threshold * 1000),
      max_trailing_logs: c.max_trailing_logs,
      min_quorum: c.min_quorum,
      server_stabilization_time: goDuration(c.server_stabilization_time * 1000),
    };
  }

  /** POST .../autopilot/configuration: only the supplied fields are persisted, merged over the effective config. */
  async setConfig(body: Record<string, unknown>): Promise<void> {
    const barrier = this.hooks.barrier();
    if (barrier === null) throw new CofferError('COFFER_ERR_SEALED');
    await this.requireLeader();
    const next: Partial<AutopilotConfig> = { ...this.overrides() };
    if (body.cleanup_dead_servers !== undefined) next.cleanup_dead_servers = parseBoolField('cleanup_dead_servers', body.cleanup_dead_servers);
    for (const f of ['last_contact_threshold', 'dead_server_last_contact_threshold', 'server_stabilization_time'] as const) {
      if (body[f] !== undefined) next[f] = parseDurationSeconds(f, body[f]);
    }
    for (const f of ['max_trailing_logs', 'min_quorum'] as const) {
      if (body[f] !== undefined) next[f] = parseIntField(f, body[f]);
    }
    const eff = { ...AUTOPILOT_DEFAULTS, ...next };
    if (eff.cleanup_dead_servers && eff.min_quorum < 3) {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', `min_quorum must be set when cleanup_dead_servers is set and it should at least be 3; cleanup_dead_servers: true, min_quorum: ${eff.min_quorum}`);
    }
    if (eff.cleanup_dead_servers && eff.dead_server_last_contact_threshold < 60) {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', `dead_server_last_contact_threshold should not be set to less than 1m; received: ${goDuration(eff.dead_server_last_contact_threshold * 1000)}`);
    }
    await this.hooks.commit([{ t: 'put', key: AUTOPILOT_CONFIG_KEY, value: barrier.encrypt(AUTOPILOT_CONFIG_KEY, Buffer.from(JSON.stringify(next))) }]);
  }

  // ---- state ------------------------------------------------------------------------------------

  async state(): Promise<AutopilotState> {
    if (this.hooks.barrier() === null) throw new CofferError('COFFER_ERR_SEALED');
    const st = await this.hooks.raft({ t: 'cluster-status' });
    if (st.role !== 'leader') throw new CofferError('COFFER_ERR_NOT_LEADER', st.leader !== null ? `raft leader is ${st.leader}` : 'no raft leader known');
    return this.compute(st, this.config(), Date.now()).state;
  }

  private compute(st: ClusterStatus, cfg: AutopilotConfig, now: number): { state: AutopilotState; contactMs: Record<string, number> } {
    const ids = [...st.conf.voters, ...st.conf.learners];
    const lastIndex = st.lastIndex ?? st.commit;
    const servers: Record<string, AutopilotServer> = {};
    const contactMs: Record<string, number> = {};
    for (const id of ids) {
      if (!this.firstSeen.has(id)) this.firstSeen.set(id, now);
      const self = id === this.hooks.nodeId;
      const pr = st.progress?.[id];
      const contact = self ? 0 : (pr?.lastContactMs ?? now - (this.firstSeen.get(id) as number));
      contactMs[id] = contact;
      const match = self ? lastIndex : (pr?.match ?? 0);
      const alive = contact <= cfg.last_contact_threshold * 1000;
      const healthy = self || (alive && lastIndex - match <= cfg.max_trailing_logs && pr !== undefined && pr.lastContactMs !== undefined);
      if (healthy) {
        if (!this.healthySince.has(id)) this.healthySince.set(id, now);
      } else this.healthySince.delete(id);
      const voter = st.conf.voters.includes(id);
      const permanent = st.peers[id]?.non_voter === true;
      servers[id] = {
        id,
        name: id,
        address: st.peers[id]?.cluster_addr ?? '',
        node_status: alive ? 'alive' : 'failed',
        last_contact: self ? '0s' : pr?.lastContactMs !== undefined ? goDuration(pr.lastContactMs) : null,
        last_term: match > 0 ? st.term : 0,
        last_index: match,
        healthy,
        stable_since: new Date(this.healthySince.get(id) ?? now).toISOString(),
        status: self ? 'leader' : voter ? 'voter' : 'non-voter',
        version: this.hooks.version,
        node_type: voter ? 'voter' : permanent ? 'non-voter' : 'staging',
      };
    }
    for (const id of [...this.healthySince.keys()]) if (!ids.includes(id)) this.healthySince.delete(id);
    const voters = [...st.conf.voters].sort();
    const nonVoters = [...st.conf.learners].sort();
    const healthyVoters = voters.filter((id) => servers[id]?.healthy).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    const state: AutopilotState = {
      healthy: voters.every((id) => servers[id]?.healthy) && nonVoters.every((id) => servers[id]?.healthy),
      failure_tolerance: Math.max(0, healthyVoters - quorum),
      leader: st.leader ?? '',
      voters,
      ...(nonVoters.length > 0 ? { non_voters: nonVoters } : {}),
      servers,
    };
    return { state, contactMs };
  }

  // ---- the loop (active node) -------------------------------------------------------------------

  private reset(): void {
    this.healthySince.clear();
    this.firstSeen.clear();
  }

  private async tick(): Promise<void> {
    if (this.acting || this.hooks.barrier() === null) return;
    // A follower's tick reads the published role and asks nothing (reset() is cheap and idempotent).
    if (this.hooks.raftView !== undefined && !this.hooks.raftView.isLeader()) return this.reset();
    let st: ClusterStatus;
    try {
      st = await this.hooks.raft({ t: 'cluster-status' }, 5_000);
    } catch {
      return;
    }
    if (st.role !== 'leader') return this.reset();
    const now = Date.now();
    const cfg = this.config();
    const { state, contactMs } = this.compute(st, cfg, now);
    this.acting = true;
    try {
      // Promotion of staged non-voters, one change per tick.
      for (const id of st.conf.learners) {
        const s = state.servers[id];
        if (s === undefined || s.node_type !== 'staging' || !s.healthy) continue;
        const since = this.healthySince.get(id) ?? now;
        if (st.conf.voters.length >= 3 && now - since < cfg.server_stabilization_time * 1000) continue;
        this.hooks.warn(`autopilot: promoting ${id} to voter (healthy since ${new Date(since).toISOString()})`);
        await this.hooks.promote(id);
        return;
      }
      if (!cfg.cleanup_dead_servers) return;
      for (const id of [...st.conf.learners, ...st.conf.voters]) {
        if (id === this.hooks.nodeId) continue;
        if ((contactMs[id] ?? 0) <= cfg.dead_server_last_contact_threshold * 1000) continue;
        if (st.conf.voters.includes(id) && st.conf.voters.length - 1 < Math.max(cfg.min_quorum, 1)) continue;
        this.hooks.warn(`autopilot: removing dead server ${id} (no contact for ${goDuration(contactMs[id] ?? 0)})`);
        await this.hooks.removePeer(id);
        return;
      }
    } catch (err) {
      this.hooks.warn('autopilot: a membership change failed', err);
    } finally {
      this.acting = false;
    }
  }

  private async requireLeader(): Promise<void> {
    const st = await this.hooks.raft({ t: 'cluster-status' });
    if (st.role !== 'leader') throw new CofferError('COFFER_ERR_NOT_LEADER', st.leader !== null ? `raft leader is ${st.leader}` : 'no raft leader known');
  }
}

/** Is this learner a permanent non-voter (peer map flag)? */
export function isPermanentNonVoter(peers: PeerMap, id: string): boolean {
  return peers[id]?.non_voter === true;
}

// ---- Go durations -------------------------------------------------------------------------------

/** Go's time.Duration.String() for milliseconds: "0s", "516.4ms", "1.5s", "10s", "1m0s", "24h0m0s". */
export function goDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${trimNum(ms)}ms`;
  const totalS = ms / 1000;
  if (totalS < 60) return `${trimNum(totalS)}s`;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS - h * 3600) / 60);
  const s = totalS - h * 3600 - m * 60;
  return `${h > 0 ? `${h}h` : ''}${m}m${trimNum(s)}s`;
}

function trimNum(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in seconds from an integer/float of seconds, a numeric string, or a Go duration ("1h30m", "500ms"). */
export function parseDurationSeconds(field: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
    let total = 0;
    let pos = 0;
    let m: RegExpExecArray | null;
    while (pos < t.length && (m = re.exec(t)) !== null) {
      total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
      pos = re.lastIndex;
    }
    if (pos === t.length && t.length > 0) return total / 1000;
  }
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error parsing ${field}: invalid duration ${JSON.stringify(v)}`);
}

function parseIntField(field: string, v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid value for ${field}: expected a non-negative integer`);
  return n;
}

function parseBoolField(field: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid value for ${field}: expected a boolean`);
}
