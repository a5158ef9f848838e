// The public contract of the pure Raft core. The simulator, the raft actor and the data-driven tests
// code against these types; the core's internals (messages, progress, log views) are its own.
// PURE: no node:* imports, no timers, no Date, no Math.random anywhere under actors/raft/core/.

export type NodeId = string;

/** A one-server-at-a-time membership change, carried in a log entry. */
export type ConfChange =
  | { t: 'add-voter'; node: NodeId }
  | { t: 'add-learner'; node: NodeId }
  | { t: 'promote'; node: NodeId }
  | { t: 'demote'; node: NodeId }
  | { t: 'remove'; node: NodeId }
  // Disaster recovery (RaftNode.recoverAsSoleVoter): `node` becomes the only voter and `learners` the only
  // non-voters, whatever the configuration was. Written by a node that lost its quorum, never proposed.
  | { t: 'recover'; node: NodeId; learners: NodeId[] };

export type EntryPayload =
  | { t: 'empty' } // appended by a new leader to commit an entry of its own term
  | { t: 'normal'; data: Uint8Array }
  | { t: 'conf'; change: ConfChange }
  // A normal entry whose data the core let go of (RaftNode.releasePayloads): it is durable and applied,
  // and the host's log store holds it. Only appends the core builds for a lagging peer carry it; the host
  // reads the data back from its log store before they leave, so it never crosses the wire or reaches disk.
  | { t: 'stored' };

export interface Entry {
  index: number;
  term: number;
  payload: EntryPayload;
}

export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** Opaque application state (the FSM image) at meta.index. */
  data: Uint8Array;
}

export interface RaftConfig {
  id: NodeId;
  /** Base election timeout; the effective one is drawn in [electionTicks, 2*electionTicks) from the seeded PRNG. */
  electionTicks: number;
  heartbeatTicks: number;
  /** Bounded pipeline: AppendEntries messages in flight per follower. */
  maxInflightMsgs: number;
  /** Most entries batched into one AppendEntries message. */
  maxEntriesPerMsg: number;
  /** InstallSnapshot chunk size. */
  snapshotChunkBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Seed of the PRNG held in the state (election jitter). */
  seed: number;
  /** Test builds only (RELIABILITY.md §7.3, runtime/mutations.ts): deliberate bugs that tests must catch. */
  mutations?: { oldTermCommit?: boolean; earlyMembership?: boolean };
}

/** What a node recovers from durable storage on (re)start. */
export interface RaftStorageState {
  hardState: HardState;
  /** Configuration as of the snapshot (or the initial bootstrap configuration when there is none). */
  snapshot: Snapshot | null;
  /** Log entries after the snapshot, in order, contiguous. */
  entries: Entry[];
  /** Initial configuration for a brand new cluster (ignored when snapshot or conf entries exist). */
  bootstrap?: ConfState;
  /**
   * ADDED (raft core): index the host's FSM has durably applied (etcd Config.Applied). Committed entries
   * after it are handed out again in Ready.committed; default: the snapshot index (apply must be idempotent).
   */
  applied?: number;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface ReadState {
  /** Linearizable once the local applied index reaches it. */
  index: number;
  /** The request's correlation id, echoed back. */
  ctx: string;
}

/** Output of the core, handed to the host; see RaftNode.ready(). */
export interface Ready {
  /** Present when term, vote or commit changed; persist it with `entries`. */
  hardState: HardState | null;
  /** Entries to persist (append; an entry at an existing index truncates the persisted log from there). */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and apply before `committed`. */
  snapshot: Snapshot | null;
  /** Messages that may be sent now. */
  messages: RaftMessage[];
  /** Messages that may leave only after `hardState`/`entries`/`snapshot` of this Ready are durable. */
  messagesAfterPersist: RaftMessage[];
  /** Committed entries to apply to the FSM, in order. */
  committed: Entry[];
  /** Completed ReadIndex requests. */
  readStates: ReadState[];
  /** Present when leader or role changed. */
  softState: { leader: NodeId | null; role: Role } | null;
}

/**
 * A message between peers. The core defines the full tagged union in messages.ts; every variant
 * carries at least these fields, which is all a transport or simulator needs to route it.
 */
export interface RaftMessageBase {
  t: string;
  from: NodeId;
  to: NodeId;
  term: number;
}

// Re-exported by messages.ts as the concrete union; declared here as the base so hosts need not import internals.
export type RaftMessage = RaftMessageBase & Record<string, unknown>;

/**
 * `leader-stepping-down`: this leader was removed or demoted by a committed membership change and hands
 * over once a quorum of the new voters knows the change committed; retry at the next leader.
 */
export type ProposeError = 'not-leader' | 'transfer-in-progress' | 'conf-change-pending' | 'no-current-term-commit' | 'too-large' | 'leader-stepping-down';

export interface RaftStatus {
  id: NodeId;
  term: number;
  role: Role;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  conf: ConfState;
  /** Leader only: per-peer match/next and whether it is recently active. */
  progress: Record<NodeId, { match: number; next: number; state: 'probe' | 'replicate' | 'snapshot'; active: boolean }> | null;
  /** Since start: follower ReadIndex requests this node answered as leader with no heartbeat round (docs/raft.md "ReadIndex"). */
  readsConfirmedByAsker: number;
}

/** The node as the host sees it. All methods are synchronous and deterministic. */
export interface RaftNode {
  tick(): void;
  step(msg: RaftMessage): void;
  propose(data: Uint8Array): { ok: true; index: number; term: number } | { ok: false; error: ProposeError };
  proposeConfChange(change: ConfChange): { ok: true; index: number; term: number } | { ok: false; error: ProposeError };
  /** Request a linearizable read point; answered via Ready.readStates (forwarded to the leader when a follower). */
  readIndex(ctx: string): { ok: true } | { ok: false; error: 'no-leader' };
  transferLeadership(to: NodeId): { ok: true } | { ok: false; error: 'not-leader' | 'unknown-node' };
  /** Start an election now (for tests and bootstrapping). */
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  /** The host persisted and applied (or scheduled) the last Ready; applied = index of the last committed entry handed out. */
  advance(): void;
  /** The application took a snapshot at `snapshot.meta.index` (<= applied): the core may drop log entries up to it and serve InstallSnapshot from it. */
  compact(snapshot: Snapshot): void;
  /**
   * The core may drop the data of normal entries up to `through`, capped at the applied and persisted
   * indexes: they stay in the log as { t: 'stored' } (index and term kept, for matching and elections).
   * Without it the core holds every entry since the last snapshot, each with its data. Returns the index
   * the log is now released through.
   */
  releasePayloads(through: number): number;
  /**
   * Leader only (snapshot restore, sys/storage/raft/snapshot): replace the whole log with a snapshot of
   * `data` at index lastIndex + 1 and the current term and configuration, as hashicorp/raft's Restore.
   * Refused with 'busy' unless everything in the log is committed and applied and no Ready is out.
   * Followers then need the snapshot (their next entry is compacted away) and get it by InstallSnapshot.
   * Optional so test doubles need not implement it.
   */
  restoreAsLeader?(data: Uint8Array): { ok: true; index: number; term: number } | { ok: false; error: ProposeError | 'busy' };
  /**
   * Disaster recovery, for a node that can no longer reach a quorum (the voters' site is lost): every
   * entry in its log counts as committed, and a `recover` configuration entry in a new term makes this
   * node the only voter, with `learners` as the non-voters. The node then elects itself. Entries other
   * nodes committed that never reached this log are lost, so the host must refuse this while a leader is
   * reachable. Refused on a leader, while a Ready is out, before the node has a base configuration, and
   * during a snapshot transfer. Optional so test doubles need not implement it.
   */
  recoverAsSoleVoter?(learners: NodeId[]): { ok: true; index: number; term: number } | { ok: false; error: 'is-leader' | 'busy' | 'no-base' };
  status(): RaftStatus;
}

export type CreateRaftNode = (config: RaftConfig, storage: RaftStorageState) => RaftNode;
