// The raft actor's protocol (asked over rings by the core and handler actors, or by a process entry in tests).
import type { CommitReply, PreparedCommit } from '../storage/guarded-commit.js';
import type { ConfChange, ConfState, RaftStatus, Role } from './core/types.js';
import type { PeerMap } from './host.js';
import type { PeerAddress, TransportStats, TransportTls } from './transport.js';

export type RaftRequest =
  /** Append one opaque entry (an encoded write-set); answered once it is applied, with its index. */
  | { t: 'propose'; data: Uint8Array }
  /**
   * An encoded write-set with the guards of what its handler read: refused when a guarded key changed,
   * else proposed and answered once applied (actors/storage/guarded-commit.ts).
   */
  | ({ t: 'commit' } & PreparedCommit)
  /** Many proposals in one ask; each answered separately (index, or the error code). */
  | { t: 'propose-many'; items: Uint8Array[] }
  | { t: 'status' }
  /** Tests: every FSM key/value (small FSMs only). */
  | { t: 'fsm-dump' }
  /** Tests: log entries [lo, hi) still in this node's log (compacted ones are skipped). */
  | { t: 'log-entries'; lo: number; hi: number }
  // ---- dynamic membership (RaftActorConfig.dynamic) ----
  /** Start a brand-new single-voter group of this node (sys/init). No-op when the group already exists. */
  | { t: 'bootstrap' }
  /** Start as a joiner of an existing group: no bootstrap configuration; the leader sends its snapshot. */
  | { t: 'join'; peers: PeerMap; tls: TransportTls }
  /** The node's certificate (issued from the cluster CA on unseal): starts the transport if it is not running. */
  | { t: 'set-tls'; tls: TransportTls }
  /** A membership change, proposed by the core on the leader; answered once applied here. */
  | { t: 'conf-change'; change: ConfChange }
  /** Leadership transfer (sys/step-down); `to` null = the most caught-up voter. */
  | { t: 'transfer-leader'; to: string | null; holdMs: number }
  /** Cheap view for the core's HA logic; works before the group is started. */
  | { t: 'cluster-status' }
  /**
   * Disaster recovery (RaftHost.recoverAsSoleVoter): this node becomes the only voter, `learners` the
   * non-voters; refused while a voter was heard from within `silenceMs`. Answered once this node leads.
   */
  | { t: 'dr-recover'; learners: string[]; silenceMs: number }
  /** Leader: restore the FSM from a verified snapshot file through Raft (actors/cluster/snapshot.ts). */
  | { t: 'snapshot-restore'; path: string; timeoutMs: number }
  /** The core unsealed: lift the fence a snapshot restore put on proposals (RaftHost.unfenceWrites). */
  | { t: 'unfence-writes' }
  /** A linearizable read point (ReadIndex): answered once this node has applied it (docs/ha-standby-reads.md). */
  | { t: 'read-index'; timeoutMs: number }
  /**
   * Graceful shutdown: snapshot the FSM and compact the log behind it (when it holds at least
   * `minEntries`), then close storage. A restart then reads an empty log: no log pages mapped at open.
   */
  | { t: 'compact-and-close'; minEntries: number };

export interface ProposeResult {
  index: number;
  /** Awaited log flushes of this raft actor so far (for the write path's stats). */
  flushes: number;
}

export type ProposeManyResult = ({ ok: true; index: number } | { ok: false; code: string; message: string })[];

export interface RaftHostStats {
  readies: number;
  flushes: number;
  entriesPersisted: number;
  entriesPerFlushMax: number;
  applied: number;
  proposals: number;
  proposalsLost: number;
  compactions: number;
  /** Entries applied while a snapshot image was being written in the background (compaction does not stall the log). */
  appliedDuringImage: number;
  /** Entries a lone voter applied in the transaction that made them durable (no second commit). */
  appliedWithOwnFlush: number;
  /** FSM transactions that applied committed entries on their own, not with a log append (each costs a sync). */
  appliesAlone: number;
  snapshotsInstalled: number;
  /** Entries a lagging peer's appends needed after the core had let go of their data: read back from the log store. */
  entriesReadBack: number;
  /** Messages dropped because their sender was fenced off by a disaster-recovery promotion (FENCED_KEY). */
  fencedDropped: number;
  /** ReadIndex rounds sent (concurrent linearizable reads share one). */
  readRounds: number;
  /** As leader: follower ReadIndex requests answered with no heartbeat round, the asker completing the quorum. */
  readsConfirmedByAsker: number;
  /** With digestApplied: SHA-256 chain over the entries applied in (from, index]. */
  appliedDigest?: { from: number; index: number; hex: string };
}

export interface RaftActorStatus {
  raft: RaftStatus;
  host: RaftHostStats;
  transport: TransportStats | null;
  fsmApplied: { index: number; term: number };
  logFirstIndex: number;
  logLastIndex: number;
  snapshotIndex: number;
}

export interface RaftReplies {
  propose: ProposeResult;
  commit: CommitReply;
  'propose-many': ProposeManyResult;
  status: RaftActorStatus;
  'fsm-dump': [string, Uint8Array][];
  'log-entries': { index: number; term: number; data: Uint8Array | null }[];
  bootstrap: { started: boolean };
  join: { started: boolean };
  'set-tls': { transportUp: boolean };
  'conf-change': { index: number };
  'transfer-leader': { to: string | null };
  'cluster-status': ClusterStatus;
  'dr-recover': { index: number; term: number };
  'snapshot-restore': { index: number; term: number; pairs: number; marker: string };
  'read-index': { index: number };
  'unfence-writes': { fenced: boolean };
  'compact-and-close': { compacted: boolean; logEntries: number };
}

export interface ClusterStatus {
  /** false until bootstrap/join (or a restart on an existing group). */
  started: boolean;
  id: string;
  role: Role | null;
  leader: string | null;
  term: number;
  commit: number;
  /** Last log index (autopilot: a follower's trailing logs = lastIndex - match). */
  lastIndex?: number;
  /** The FSM's applied index. */
  applied: number;
  /** Configuration at the applied index, and the index that set it. */
  conf: ConfState;
  confIndex: number;
  /** Leader only: per-peer match index and recent activity. */
  progress: Record<string, { match: number; active: boolean; lastContactMs?: number }> | null;
  /** The replicated peer map (FSM core/raft/peers). */
  peers: PeerMap;
  /** Milliseconds since the last message from each peer that ever sent one (any role). */
  contactMs?: Record<string, number>;
  /** Node ids fenced off by a disaster-recovery promotion (FSM core/raft/fenced). */
  fenced?: string[];
  /** Why a disaster-recovery promotion would be refused now (RaftHost.recoveryRefusal), or null. */
  recoveryRefusal?: string | null;
  transportUp: boolean;
  /** Outbound peer connections dropped and redialled because the peer stopped answering pings on them. */
  silentRedials: number;
  /** The host's counters (log flushes, compactions, snapshot installs); absent before the group started. */
  host?: RaftHostStats;
}

export type RaftReply = RaftReplies[keyof RaftReplies];

/** workerData of the raft actor. */
export interface RaftActorConfig {
  id: string;
  dataDir: string;
  /** Static voter set, ourselves included (a single id = single-node group). */
  voters: string[];
  /** Required when there are other voters. */
  transport?: { listen: PeerAddress; peers: Record<string, PeerAddress>; tls: TransportTls };
  tickMs?: number;
  electionTicks?: number;
  /** Compact the log once it holds this many entries behind the applied index. */
  compactAt?: number;
  seed?: number;
  /** Tests: chain a digest over applied entries (RaftHostStats.appliedDigest). */
  digestApplied?: boolean;
  /** Bytes per InstallSnapshot chunk. */
  snapshotChunkBytes?: number;
  /**
   * Dynamic membership (a Coffer node): the group starts only on `bootstrap` (init) or `join`, or at once
   * when this data dir already holds a group; `voters` is then ignored. The transport listens on
   * `clusterListen` once it has TLS material (`set-tls` or `join`); peers come from the replicated peer map.
   */
  dynamic?: boolean;
  clusterListen?: PeerAddress;
  /** RaftSharedState buffer (actors/cluster/consistency.ts): role, term, applied index for the front. */
  sharedState?: SharedArrayBuffer;
}
