// Simulator options: everything a run depends on. `swarmOptions(seed)` derives them from the seed
// alone (swarm testing, as TigerBeetle's `options_swarm`), so `--seed N --steps M [--nodes K]` is a
// complete reproduction.
import { assert } from '../../runtime/assert.js';
import { Prng } from './prng.js';

export interface FaultOptions {
  /** Per message: dropped in the network. */
  dropProbability: number;
  /** Per message: delivered twice (the copy with its own delay). */
  duplicateProbability: number;
  /** Delivery delay drawn in [delayTicksMin, delayTicksMax]. */
  delayTicksMin: number;
  delayTicksMax: number;
  /** When false, each directed link stays FIFO despite random delays. */
  reorder: boolean;
  /** Per step: a new partition is drawn (replacing any current one). */
  partitionProbability: number;
  /** Per partition: it is one-way (asymmetric) rather than symmetric. */
  partitionAsymmetricProbability: number;
  /** Per step: the current partition heals. */
  healProbability: number;
  /** Per step: one up node crashes (volatile state lost). */
  crashProbability: number;
  /** Per Ready processed: the node crashes inside the Ready cycle (before/after persist, before advance). */
  crashInReadyProbability: number;
  /** Per step per down node: it restarts from its disk. */
  restartProbability: number;
  /** Per node: probability it ticks in a step (skew and pauses). */
  tickProbabilityMin: number;
  /**
   * Per step: whole-cluster power loss. Every up node crashes at once and its disk loses what the host
   * wrote without awaiting a flush (a Ready that only moved the commit index: RaftHost does not await
   * those). A crash inside a Ready before its persist is the power loss of that Ready's own write.
   */
  powerLossProbability: number;
}

export interface WorkloadOptions {
  /** Per step: a client proposes a batch. */
  proposeProbability: number;
  proposeBatchMax: number;
  /** Host backpressure: no proposal while the target's log holds this many uncommitted entries. */
  uncommittedEntriesMax: number;
  /** Per step: a membership change is attempted at a leader. */
  confChangeProbability: number;
  /** Per step per node: the host compacts at its applied index. */
  compactProbability: number;
  /** Per step per node: the host lets the core release applied payloads, keeping this many behind applied (-1: never). */
  releaseKeep: number;
  /** Per step: a ReadIndex request at a random node. */
  readIndexProbability: number;
  /** Per step: a leadership transfer is attempted. */
  transferProbability: number;
  /** Per node input: the Ready is processed right away instead of at the end of the step. */
  eagerReadyProbability: number;
}

export interface RaftTuning {
  electionTicks: number;
  heartbeatTicks: number;
  maxInflightMsgs: number;
  maxEntriesPerMsg: number;
  snapshotChunkBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
}

export interface SimOptions {
  seed: number;
  /** Safety-phase steps (one step = one simulated tick). */
  steps: number;
  /** Initial voters. */
  nodes: number;
  /** Nodes outside the bootstrap configuration, available to membership changes. */
  spares: number;
  /** Spares start with an empty disk and no bootstrap configuration (they learn it from the leader). */
  sparesJoinEmpty: boolean;
  /** Liveness phase bound: a leader and a committed proposal on every voter within this many ticks. */
  livenessTicksMax: number;
  faults: FaultOptions;
  workload: WorkloadOptions;
  raft: RaftTuning;
  /** Most messages in flight; beyond it the network drops (a bound, like a full socket buffer). */
  inflightMessagesMax: number;
}

export interface CliOverrides {
  nodes?: number;
}

/** Derive every option from the seed (and the node count, when given). */
export function swarmOptions(seed: number, steps: number, overrides: CliOverrides = {}): SimOptions {
  assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative safe integer, got ${seed}`);
  assert(Number.isSafeInteger(steps) && steps >= 0, `steps must be a non-negative safe integer, got ${steps}`);
  const rng = new Prng(seed ^ 0x5eed);
  const nodes = overrides.nodes ?? rng.pick([3, 3, 5, 5, 4, 1]);
  assert(nodes >= 1 && nodes <= 9, `nodes must be in [1, 9], got ${nodes}`);
  // "Sometimes zero" is part of swarm testing: a fault that is off lets the others dominate.
  const maybe = (p: number, max: number): number => (rng.chance(p) ? rng.float() * max : 0);
  const delayTicksMin = rng.int(0, 2);
  const electionTicks = rng.pick([5, 8, 10, 10, 15]);
  const faults: FaultOptions = {
    dropProbability: maybe(0.7, 0.3),
    duplicateProbability: maybe(0.5, 0.15),
    delayTicksMin,
    delayTicksMax: delayTicksMin + rng.int(0, rng.pick([1, 3, 8, 20])),
    reorder: rng.chance(0.7),
    partitionProbability: maybe(0.7, 0.03),
    partitionAsymmetricProbability: rng.float(),
    healProbability: 0.005 + rng.float() * 0.1,
    crashProbability: maybe(0.7, 0.02),
    crashInReadyProbability: maybe(0.5, 0.01),
    restartProbability: 0.01 + rng.float() * 0.2,
    tickProbabilityMin: rng.chance(0.5) ? 1 : 0.5 + rng.float() * 0.5,
    powerLossProbability: 0,
  };
  // Drawn from a separate stream: the options of every earlier seed stay exactly as they were.
  const extra = new Prng(seed ^ 0x70e1);
  faults.powerLossProbability = extra.chance(0.5) ? extra.float() * 0.004 : 0;
  const workload: WorkloadOptions = {
    proposeProbability: 0.05 + rng.float() * 0.6,
    proposeBatchMax: rng.pick([1, 2, 5, 20]),
    uncommittedEntriesMax: rng.pick([16, 64, 256]),
    confChangeProbability: maybe(0.6, 0.03),
    compactProbability: maybe(0.7, 0.05),
    readIndexProbability: maybe(0.6, 0.1),
    transferProbability: maybe(0.4, 0.01),
    eagerReadyProbability: rng.float(),
    releaseKeep: -1,
  };
  // Also from the separate stream (added later): how far behind its applied index a host keeps payloads.
  workload.releaseKeep = extra.chance(0.6) ? extra.pick([0, 1, 4, 32]) : -1;
  const raft: RaftTuning = {
    electionTicks,
    heartbeatTicks: rng.int(1, Math.max(1, Math.floor(electionTicks / 3))),
    maxInflightMsgs: rng.pick([1, 2, 8, 256]),
    maxEntriesPerMsg: rng.pick([1, 3, 16, 64]),
    snapshotChunkBytes: rng.pick([16, 64, 1024, 65536]),
    preVote: rng.chance(0.8),
    checkQuorum: rng.chance(0.8),
  };
  const options: SimOptions = {
    seed,
    steps,
    nodes,
    spares: rng.int(0, 2),
    sparesJoinEmpty: rng.chance(0.5),
    livenessTicksMax: 0,
    faults,
    workload,
    raft,
    inflightMessagesMax: 4096,
  };
  options.livenessTicksMax = livenessBoundTicks(options);
  assert(faults.delayTicksMin <= faults.delayTicksMax, 'delay range');
  assert(raft.heartbeatTicks < raft.electionTicks, 'heartbeat must be shorter than the election timeout');
  return options;
}

/** Liveness-phase delay is at most 2 ticks each way, plus a tick of processing on each side. */
const livenessRoundTripTicks = 2 * 2 + 2;

/**
 * The liveness bound without catch-up: stale messages drain (delay max), up to ten elections (each
 * up to 2x electionTicks plus a pre-vote round), then a commit round trip. `catchUpTicks` adds the time
 * to ship the lag at heal; see `livenessCatchUpTicks`.
 */
export function livenessBoundTicks(options: SimOptions): number {
  const electionsMax = 10;
  return options.faults.delayTicksMax + electionsMax * (2 * options.raft.electionTicks + 2 * livenessRoundTripTicks) + 200;
}

/**
 * Ticks to ship `lagEntries` to the slowest voter at the probe-state rate, the slowest correct one:
 * one append of maxEntriesPerMsg entries per round trip plus a heartbeat interval (a snapshot or the
 * replicate-state pipeline is faster; this is the upper bound), doubled for slack.
 */
export function livenessCatchUpTicks(options: SimOptions, lagEntries: number): number {
  const perRoundTrip = Math.max(1, options.raft.maxEntriesPerMsg);
  return Math.ceil(lagEntries / perRoundTrip) * (livenessRoundTripTicks + options.raft.heartbeatTicks) * 2;
}

/** The command line that reproduces a run. */
export function reproduceCommand(options: SimOptions, nodesGiven: boolean): string {
  const nodes = nodesGiven ? ` --nodes ${options.nodes}` : '';
  return `npm run sim -- --seed ${options.seed} --steps ${options.steps}${nodes}`;
}

/** One line per group, for the log of a run. */
export function describeOptions(options: SimOptions): string {
  const f = options.faults;
  const w = options.workload;
  const r = options.raft;
  const p = (x: number): string => x.toFixed(4);
  return [
    `SEED=${options.seed} steps=${options.steps} nodes=${options.nodes} spares=${options.spares} spares_join_empty=${options.sparesJoinEmpty} liveness_ticks_max=${options.livenessTicksMax}`,
    `  faults: drop=${p(f.dropProbability)} duplicate=${p(f.duplicateProbability)} delay_ticks=[${f.delayTicksMin},${f.delayTicksMax}] reorder=${f.reorder}` +
      ` partition=${p(f.partitionProbability)} asymmetric=${p(f.partitionAsymmetricProbability)} heal=${p(f.healProbability)}` +
      ` crash=${p(f.crashProbability)} crash_in_ready=${p(f.crashInReadyProbability)} restart=${p(f.restartProbability)} tick_probability_min=${p(f.tickProbabilityMin)} power_loss=${p(f.powerLossProbability)}`,
    `  workload: propose=${p(w.proposeProbability)} batch_max=${w.proposeBatchMax} uncommitted_max=${w.uncommittedEntriesMax} conf_change=${p(w.confChangeProbability)} compact=${p(w.compactProbability)} release_keep=${w.releaseKeep}` +
      ` read_index=${p(w.readIndexProbability)} transfer=${p(w.transferProbability)} eager_ready=${p(w.eagerReadyProbability)}`,
    `  raft: election_ticks=${r.electionTicks} heartbeat_ticks=${r.heartbeatTicks} max_inflight_msgs=${r.maxInflightMsgs}` +
      ` max_entries_per_msg=${r.maxEntriesPerMsg} snapshot_chunk_bytes=${r.snapshotChunkBytes} pre_vote=${r.preVote} check_quorum=${r.checkQuorum}`,
  ].join('\n');
}
