// Every bound in one place, units last, relations asserted at load. Nothing defaults to Infinity.
import { assert } from './assert.js';

export const limits = {
  /** Bytes of one SPSC ring's data area (per direction per actor pair). */
  ringBytes: 4 * 1024 * 1024,
  /** Largest frame a ring accepts; larger ones are refused with a clear error. */
  frameBytesMax: 1024 * 1024,
  /** Default timeout of an `ask` between actors. */
  askTimeoutMs: 30_000,
  /** Largest HTTP request body (Vault's default per listener). */
  requestBodyBytesMax: 32 * 1024 * 1024,
  /** Largest single storage value. */
  entryBytesMax: 512 * 1024,
  /** Write-sets group-committed in one flush at most. */
  groupCommitWriteSetsMax: 1024,
  /** Pending asks per actor before the sender gets backpressure. */
  pendingAsksMax: 65_536,
} as const;

assert(limits.frameBytesMax <= limits.ringBytes / 4, 'a ring must hold at least four of the largest frames');
assert(limits.entryBytesMax <= limits.frameBytesMax / 2, 'a storage entry must fit in a frame with room to spare');

// ---- runtime/ring and runtime/host (appended) ----
export const ringLimits = {
  /** Bytes copied out of a ring in one drain before the consumer yields (at least one whole frame). */
  drainBytesMax: 256 * 1024,
  /** Frames queued in one ring outbox (waiting for ring space) before senders get COFFER_ERR_BACKPRESSURE. */
  outboxFramesMax: 65_536,
  /** How long an outbox waits for ring space per attempt before it logs and retries. */
  spaceWaitMs: 1_000,
  /** A consumer spins this long on an empty ring before it marks itself sleeping (0 = never spin). */
  ringSpinUs: 50,
  /** Crash-loop guard: more than this many restarts of one actor ... */
  actorRestartsMax: 5,
  /** ... within this window turns 'restart' into 'fail-stop'. */
  actorRestartWindowMs: 10_000,
  /** A worker that has not signalled READY by then is treated as crashed during bootstrap. */
  actorStartTimeoutMs: 10_000,
} as const;

assert(ringLimits.drainBytesMax >= 4096, 'a drain must cover more than one small frame');
assert(ringLimits.actorRestartsMax >= 1, 'restart policy must allow one restart');

export const poolLimits = {
  /** Tasks queued in a CPU pool (beyond those running) before run() rejects with COFFER_ERR_BACKPRESSURE. */
  cpuPoolQueueMax: 4096,
  /** A CPU pool thread idle this long exits. */
  cpuPoolIdleTimeoutMs: 30_000,
} as const;

// ---- actors/raft: the raft actor and its peer transport (appended) ----
export const raftLimits = {
  /** One Raft tick of the raft actor's timer. */
  tickMs: 100,
  /** Base election timeout in ticks (effective: [electionTicks, 2*electionTicks) ticks = 1-2 s). */
  electionTicks: 10,
  /**
   * Disaster recovery (sys/storage/raft/dr/promote) is refused while any voter was heard from within this
   * long: three of the longest election timeouts (2 s), so a quorum that is merely slow or electing is
   * never mistaken for a lost one.
   */
  drSilenceMs: 6_000,
  /** Leader heartbeat interval in ticks. */
  heartbeatTicks: 1,
  /** AppendEntries messages in flight per follower. */
  maxInflightMsgs: 256,
  /** Entries in one AppendEntries message (each at most entryBytesMax, so a message stays below peerFrameBytesMax). */
  maxEntriesPerMsg: 64,
  /** InstallSnapshot chunk. */
  snapshotChunkBytes: 256 * 1024,
  /** Compact the log behind the applied index once it holds this many entries. */
  logEntriesCompactAt: 20_000,
  /**
   * Applied log entries whose data the Raft core keeps in memory; older ones are read back from the log
   * store when a lagging peer needs them (hashicorp/raft keeps a 512-entry log cache the same way).
   */
  payloadsKeptInMemory: 2_048,
  /**
   * A snapshot image is written in slices of this much work, yielding to the raft thread's event loop between
   * them. The image's read transaction keeps every page freed meanwhile from reuse, so a longer image write
   * grows the LMDB file: at 4 ms a 100k-secret fill under load left a 200 MiB file (150 without yields); at 16 ms,
   * 151-156 MiB, and writes still wait at most ~0.3 s per compaction (was 0.65-1 s).
   */
  imageSliceMs: 16,
  /**
   * A graceful shutdown compacts the log when it holds at least this many entries: a restart then reads
   * (and maps) no log pages. Below it, reading the log at open costs less than writing an FSM image.
   */
  shutdownCompactMinEntries: 1_024,
  /** How long a graceful shutdown waits for that compaction before the workers are stopped anyway. */
  shutdownCompactTimeoutMs: 120_000,
  /** Largest frame on the peer wire; a peer sending more is disconnected. */
  peerFrameBytesMax: 64 * 1024 * 1024,
  /** Frames queued per peer (connecting, or socket backed up) before new ones are dropped and counted. */
  peerSendQueueFramesMax: 4096,
  /** Bytes queued per peer before new frames are dropped. */
  peerSendQueueBytesMax: 128 * 1024 * 1024,
  /**
   * Frames queued for a peer whose connection has been down longer than this are dropped when it comes
   * back, not delivered: Raft resends what is still needed (a probe, or a snapshot for a follower behind
   * the compacted log), and a stale flood would otherwise hold up to peerSendQueueBytesMax per dead peer
   * on the leader and replay minutes-old appends and heartbeats into the restarted node.
   */
  peerStaleQueueMs: 2_000,
  /** Reconnect backoff: first delay, doubled per failure up to the max (plus up to 50% jitter). */
  peerReconnectMinMs: 50,
  peerReconnectMaxMs: 2_000,
  /** TCP/TLS connect attempt timeout. */
  peerConnectTimeoutMs: 3_000,
  /** Every outbound peer connection carries a ping this often; the peer answers each on the same connection. */
  peerPingIntervalMs: 500,
  /**
   * An outbound connection that brought no answer for this long is dropped and redialled: a connection a
   * firewall or NAT forgot (or a peer that stopped reading) otherwise looks healthy to TCP for many
   * minutes while every frame written to it is lost. Well above an election timeout, so a busy peer that
   * is merely slow is not cut.
   */
  peerSilentMaxMs: 5_000,
  /** A proposal made while no leader is known waits this long for one before failing. */
  proposeWaitLeaderMs: 5_000,
  /** A new leader's guarded write waits this long for the leader to apply the first entry of its term. */
  termStartWaitMs: 5_000,
  /** Proposals waiting for their entry to be applied, per raft actor, before COFFER_ERR_BACKPRESSURE. */
  pendingProposalsMax: 65_536,
} as const;

assert(raftLimits.heartbeatTicks < raftLimits.electionTicks, 'heartbeats must come more often than elections');
assert(raftLimits.maxEntriesPerMsg * limits.entryBytesMax * 2 <= raftLimits.peerFrameBytesMax, 'a full AppendEntries message must fit in a peer frame');
assert(raftLimits.snapshotChunkBytes * 2 <= raftLimits.peerFrameBytesMax, 'a snapshot chunk must fit in a peer frame');
assert(raftLimits.peerReconnectMinMs <= raftLimits.peerReconnectMaxMs, 'backoff bounds in order');
assert(raftLimits.peerPingIntervalMs * 4 <= raftLimits.peerSilentMaxMs, 'several pings must go unanswered before a connection is called dead');
