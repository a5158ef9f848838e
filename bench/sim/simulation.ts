// The simulator: N nodes of the real Raft core in one thread, a seeded network, a disk per node, crashes,
// client proposals, membership changes, compaction and ReadIndex. One step = one simulated tick.
// A run is a safety phase (faults) then a liveness phase (faults healed, every node up).
// All randomness comes from `rng` (seeded); iteration is over arrays and insertion-ordered maps only.
import { assert } from '../../runtime/assert.js';
import type { ConfChange, CreateRaftNode, Entry, NodeId, RaftMessage, RaftNode, RaftStatus, Ready, Role } from '../../actors/raft/core/types.js';
import { withStoredEntries } from '../../actors/raft/core/index.js';
import { Checker } from './checker.js';
import { SimDisk } from './disk.js';
import { type FsmState, decodeFsm, fsmApply, initialFsm, payloadDigest, snapshotOf, textToBytes } from './fsm.js';
import { Network, cloneData } from './network.js';
import { type SimOptions, livenessCatchUpTicks } from './options.js';
import { Prng } from './prng.js';
import { Violation, check } from './violation.js';

export interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  raft: RaftNode | null;
  fsm: FsmState;
  role: Role;
  leader: NodeId | null;
  tickProbability: number;
  /** ReadIndex requests in flight: ctx -> lowest acceptable read index. */
  pendingReads: Map<string, number>;
  /** Highest commit index whose entries were checked against the global committed log. */
  verifiedCommit: number;
  /** Commit index last seen in status(), this incarnation (monotonic within it). */
  commitSeen: number;
}

export interface SimStats {
  steps: number;
  livenessTicks: number;
  ticksToLeader: number;
  ticksToCommit: number;
  crashes: number;
  crashesInReady: number;
  /** Whole-cluster power losses (each also counts its nodes in crashes). */
  powerLosses: number;
  /** Restarts after which a node's durable commit index was behind the one it had written (lost unflushed writes). */
  commitRollbacks: number;
  restarts: number;
  partitions: number;
  proposals: number;
  proposalsAccepted: number;
  confChangesAccepted: number;
  confChangesApplied: number;
  transfers: number;
  compactions: number;
  snapshotsInstalled: number;
  /** Released entries an append carried, read back from the sender's log before it left (releaseKeep). */
  entriesFilledFromLog: number;
  truncations: number;
  readsChecked: number;
  committedMax: number;
  termMax: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
}

export interface SimFailure {
  invariant: string;
  detail: string;
  step: number;
  phase: 'safety' | 'liveness';
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure: SimFailure | null;
  stats: SimStats;
}

interface Marker {
  digest: string;
  leader: NodeId;
  index: number;
}

type CrashPoint = 'before-persist' | 'after-persist' | 'before-advance';
const crashPoints: readonly CrashPoint[] = ['before-persist', 'after-persist', 'before-advance'];
/** Ready cycles one input may cause; a core that keeps producing Readies is stuck in a loop. */
const readyCyclesMax = 64;

export class Simulation {
  readonly rng: Prng;
  /** Power-loss draws only: a separate stream, so seeds without power loss run exactly as before. */
  private readonly powerRng: Prng;
  readonly network: Network;
  readonly checker = new Checker();
  readonly nodes: SimNode[] = [];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly bootstrapVoters: NodeId[];
  private nowTick = 0;
  private phase: 'safety' | 'liveness' = 'safety';
  private proposalCounter = 0;
  private readCounter = 0;
  private markerCounter = 0;
  private localInbox: RaftMessage[] = [];
  readonly stats: SimStats;

  constructor(
    readonly options: SimOptions,
    private readonly createNode: CreateRaftNode,
  ) {
    assert(options.nodes >= 1, 'at least one node');
    this.rng = new Prng(options.seed);
    this.powerRng = new Prng(options.seed ^ 0x7077);
    this.network = new Network(this.rng, { ...options.faults }, options.inflightMessagesMax);
    this.stats = zeroStats();
    const total = options.nodes + options.spares;
    const ids: NodeId[] = [];
    for (let i = 1; i <= total; i++) ids.push(`n${i}`);
    this.bootstrapVoters = ids.slice(0, options.nodes);
    for (const id of ids) {
      const node: SimNode = {
        id,
        disk: new SimDisk(id),
        raft: null,
        fsm: initialFsm(this.bootstrap()),
        role: 'follower',
        leader: null,
        tickProbability: options.faults.tickProbabilityMin + this.rng.float() * (1 - options.faults.tickProbabilityMin),
        pendingReads: new Map(),
        verifiedCommit: 0,
        commitSeen: 0,
      };
      this.nodes.push(node);
      this.byId.set(id, node);
    }
    for (const node of this.nodes) this.start(node);
  }

  private bootstrap(): { voters: NodeId[]; learners: NodeId[] } {
    return { voters: [...this.bootstrapVoters], learners: [] };
  }

  /** Run both phases; a broken invariant or a throwing core ends the run with a failure. */
  run(): SimResult {
    let failure: SimFailure | null = null;
    try {
      for (let step = 0; step < this.options.steps; step++) this.safetyStep();
      this.phase = 'liveness';
      this.livenessPhase();
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      failure = { invariant: error.invariant, detail: error.detail, step: this.nowTick, phase: this.phase };
    }
    this.collectStats();
    return { seed: this.options.seed, ok: failure === null, failure, stats: this.stats };
  }

  // ---- the step -------------------------------------------------------------------------------

  private safetyStep(): void {
    this.injectFaults();
    this.workload(true);
    this.deliverAndTick();
    this.checkStep();
    this.nowTick++;
    this.stats.steps++;
  }

  private deliverAndTick(): void {
    const eager = this.options.workload.eagerReadyProbability;
    for (const message of this.network.takeDue(this.nowTick)) {
      const node = this.byId.get(message.to);
      if (node === undefined || node.raft === null) continue;
      this.network.stats.delivered++;
      this.callCore(node, (raft) => raft.step(message));
      if (this.rng.chance(eager)) this.processReady(node);
    }
    for (const node of this.nodes) {
      if (node.raft === null || !this.rng.chance(node.tickProbability)) continue;
      this.callCore(node, (raft) => raft.tick());
      if (this.rng.chance(eager)) this.processReady(node);
    }
    for (const node of this.nodes) this.processReady(node);
    this.drainLocalInbox();
  }

  /** Messages a node addresses to itself skip the network (the local storage/apply peers of §4). */
  private drainLocalInbox(): void {
    for (let round = 0; round < readyCyclesMax && this.localInbox.length > 0; round++) {
      const inbox = this.localInbox;
      this.localInbox = [];
      for (const message of inbox) {
        const node = this.byId.get(message.to);
        if (node === undefined || node.raft === null) continue;
        this.callCore(node, (raft) => raft.step(message));
        this.processReady(node);
      }
    }
    assert(this.localInbox.length === 0, 'self-addressed messages did not drain');
  }

  /** Run a core call; anything it throws is a failure of the core, reported with the seed. */
  private callCore<T>(node: SimNode, fn: (raft: RaftNode) => T): T {
    const raft = node.raft;
    assert(raft !== null, `core call on down node ${node.id}`);
    try {
      return fn(raft);
    } catch (error) {
      if (error instanceof Violation) throw error;
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Violation('core-threw', `${node.id}: ${text}`);
    }
  }

  // ---- node lifecycle -------------------------------------------------------------------------

  private start(node: SimNode): void {
    assert(node.raft === null, `start of running node ${node.id}`);
    const o = this.options.raft;
    const config = { id: node.id, ...o, seed: this.rng.u32() };
    const storage = {
      hardState: { ...node.disk.hardState },
      snapshot: node.disk.snapshot === null ? null : cloneData(node.disk.snapshot),
      entries: cloneData(node.disk.entries),
      // The FSM is volatile here: it restarts from the snapshot, so everything after it is re-applied.
      applied: node.disk.snapshotIndex,
      ...(this.options.sparesJoinEmpty && !this.bootstrapVoters.includes(node.id) ? {} : { bootstrap: this.bootstrap() }),
    };
    try {
      node.raft = this.createNode(config, storage);
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Violation('core-threw', `${node.id}: restart failed: ${text}`);
    }
    node.role = 'follower';
    node.leader = null;
    node.commitSeen = node.disk.hardState.commit;
    const snapshot = node.disk.snapshot;
    node.fsm = snapshot === null ? initialFsm(this.bootstrap()) : snapshot.meta.index === 0 ? initialFsm(snapshot.meta.conf) : decodeFsm(snapshot.data);
    this.checker.recordSnapshotState(node.id, node.fsm.index, node.fsm.chain);
  }

  private crash(node: SimNode, inReady: boolean): void {
    assert(node.raft !== null, `crash of down node ${node.id}`);
    node.raft = null;
    node.pendingReads.clear();
    node.role = 'follower';
    node.leader = null;
    this.stats.crashes++;
    if (inReady) this.stats.crashesInReady++;
  }

  // ---- Ready ----------------------------------------------------------------------------------

  private processReady(node: SimNode): void {
    for (let cycle = 0; node.raft !== null && this.callCore(node, (raft) => raft.hasReady()); cycle++) {
      check(cycle < readyCyclesMax, 'core-threw', () => `${node.id}: still hasReady() after ${readyCyclesMax} Ready cycles`);
      const ready = this.callCore(node, (raft) => raft.ready());
      this.handleReady(node, ready);
    }
  }

  private handleReady(node: SimNode, ready: Ready): void {
    const crashPoint = this.rng.chance(this.options.faults.crashInReadyProbability) && this.phase === 'safety' ? this.rng.pick(crashPoints) : null;
    const roleBefore = node.role;
    const termBefore = node.disk.hardState.term;
    if (ready.softState !== null) {
      node.role = ready.softState.role;
      node.leader = ready.softState.leader;
    }
    for (const message of ready.messages) this.send(node, message);
    if (crashPoint === 'before-persist') return this.crash(node, true);
    this.persist(node, ready, roleBefore, termBefore);
    if (crashPoint === 'after-persist') return this.crash(node, true);
    for (const message of ready.messagesAfterPersist) this.send(node, message);
    if (ready.snapshot !== null) this.restoreSnapshot(node, ready);
    for (const entry of ready.committed) this.apply(node, entry);
    for (const read of ready.readStates) {
      const minIndex = node.pendingReads.get(read.ctx);
      if (minIndex === undefined) continue; // issued before a restart, or answered twice
      node.pendingReads.delete(read.ctx);
      this.checker.checkRead(node.id, read.ctx, read.index, minIndex);
    }
    if (crashPoint === 'before-advance') return this.crash(node, true);
    this.callCore(node, (raft) => raft.advance());
  }

  private persist(node: SimNode, ready: Ready, roleBefore: Role, termBefore: number): void {
    const disk = node.disk;
    const commitKnown = Math.max(node.verifiedCommit, disk.hardState.commit);
    if (ready.snapshot !== null) disk.writeSnapshot(ready.snapshot);
    const truncatedAt = disk.append(ready.entries);
    if (truncatedAt > 0) {
      this.stats.truncations++;
      check(truncatedAt > commitKnown, 'committed-entry-lost', () => `${node.id}: Ready.entries truncate the log at ${truncatedAt}, at or below its commit ${commitKnown}`);
      const stillLeader = roleBefore === 'leader' && node.role === 'leader' && (ready.hardState === null || ready.hardState.term === termBefore);
      check(!stillLeader, 'leader-append-only', () => `${node.id}: leader of term ${termBefore} truncated its log at ${truncatedAt}`);
    }
    for (let k = 0; k < ready.entries.length; k++) {
      const entry = ready.entries[k]!;
      this.checker.recordEntry(node.id, entry, disk.termAt(entry.index - 1));
    }
    const termOrVote = ready.hardState !== null && (ready.hardState.term !== disk.hardState.term || ready.hardState.vote !== disk.hardState.vote);
    if (ready.hardState !== null) disk.writeHardState(ready.hardState);
    // As RaftHost: a Ready that only moves the commit index is written without awaiting its flush.
    if (ready.entries.length > 0 || ready.snapshot !== null || ready.messagesAfterPersist.length > 0 || termOrVote) disk.flushed();
    if (node.role === 'leader') this.checker.observeLeader(node.id, disk.hardState.term);
  }

  private restoreSnapshot(node: SimNode, ready: Ready): void {
    const snapshot = ready.snapshot!;
    if (snapshot.meta.index === 0) {
      // A base configuration for a node that joined empty: no FSM image, nothing applied yet.
      check(node.fsm.index === 0, 'snapshot-mismatch', () => `${node.id}: index-0 snapshot after applying ${node.fsm.index}`);
      node.fsm = initialFsm(snapshot.meta.conf);
      return;
    }
    const state = decodeFsm(snapshot.data);
    check(state.index === snapshot.meta.index && state.term === snapshot.meta.term, 'snapshot-mismatch', () => `${node.id}: snapshot meta ${snapshot.meta.index}/${snapshot.meta.term} but data at ${state.index}/${state.term}`);
    check(state.index > node.fsm.index, 'snapshot-mismatch', () => `${node.id}: snapshot at ${state.index} would move the FSM back from ${node.fsm.index}`);
    this.checker.recordSnapshotState(node.id, state.index, state.chain);
    node.fsm = state;
    this.stats.snapshotsInstalled++;
  }

  private apply(node: SimNode, entry: Ready['committed'][number]): void {
    check(entry.index === node.fsm.index + 1, 'apply-order', () => `${node.id}: applies ${entry.index} after ${node.fsm.index}`);
    const durable = node.disk.entry(entry.index);
    check(durable !== undefined && durable.term === entry.term, 'committed-not-durable', () => `${node.id}: applies ${entry.index}/${entry.term} but its disk holds ${durable === undefined ? 'nothing' : durable.term} there`);
    node.fsm = fsmApply(node.fsm, entry);
    if (entry.payload.t === 'conf' && entry.index > this.checker.appliedMax) this.stats.confChangesApplied++;
    this.checker.recordApplied(node.id, entry, node.fsm.chain, node.disk.hardState.term);
  }

  private send(node: SimNode, message: RaftMessage): void {
    check(message.from === node.id, 'persist-contract', () => `${node.id} emitted a message from ${message.from}`);
    message = withStoredEntries(message, (lo, hi) => this.fromDisk(node, lo, hi));
    if (message.to === node.id) {
      this.localInbox.push(cloneData(message));
      return;
    }
    this.network.send(message, this.nowTick);
  }

  /** As RaftHost: released entries in an append are read back from the node's own log. */
  private fromDisk(node: SimNode, lo: number, hi: number): Entry[] {
    const out: Entry[] = [];
    for (let index = lo; index <= hi; index++) {
      const entry = node.disk.entry(index);
      check(entry !== undefined, 'persist-contract', () => `${node.id}: released entry ${index} is not in its log (first ${node.disk.firstIndex})`);
      out.push(entry);
    }
    this.stats.entriesFilledFromLog += out.length;
    return out;
  }

  // ---- faults and workload --------------------------------------------------------------------

  private injectFaults(): void {
    const f = this.options.faults;
    if (f.powerLossProbability > 0 && this.powerRng.chance(f.powerLossProbability)) this.powerLoss();
    if (this.rng.chance(f.partitionProbability)) this.partition();
    else if (this.network.partitioned && this.rng.chance(f.healProbability)) this.network.heal();
    if (this.rng.chance(f.crashProbability)) {
      const up = this.nodes.filter((n) => n.raft !== null);
      if (up.length > 0) this.crash(this.rng.pick(up), false);
    }
    for (const node of this.nodes) {
      if (node.raft === null && this.rng.chance(f.restartProbability)) {
        this.start(node);
        this.stats.restarts++;
      }
    }
  }

  /** Whole-cluster power loss: every up node crashes at once and loses its unflushed writes. */
  private powerLoss(): void {
    this.stats.powerLosses++;
    for (const node of this.nodes) {
      if (node.disk.hardState.commit !== node.disk.flushedHardState.commit) this.stats.commitRollbacks++;
      node.disk.powerLoss();
      if (node.raft !== null) this.crash(node, false);
    }
  }

  /** A random cut into two sides; symmetric, or one-way (side A cannot reach side B). */
  private partition(): void {
    this.network.heal();
    this.stats.partitions++;
    const ids = this.rng.shuffle(this.nodes.map((n) => n.id));
    const cut = this.rng.int(1, Math.max(1, ids.length - 1));
    const sideA = ids.slice(0, cut);
    const sideB = ids.slice(cut);
    const asymmetric = this.rng.chance(this.options.faults.partitionAsymmetricProbability);
    for (const a of sideA) {
      for (const b of sideB) {
        this.network.block(a, b);
        if (!asymmetric) this.network.block(b, a);
      }
    }
  }

  private upLeaders(): SimNode[] {
    return this.nodes.filter((n) => n.raft !== null && n.role === 'leader');
  }

  /** Safety phase: everything. Liveness phase: reads and compaction only (the markers are the writes). */
  private workload(safety: boolean): void {
    const w = this.options.workload;
    if (safety && this.rng.chance(w.proposeProbability)) this.propose();
    if (safety && this.rng.chance(w.confChangeProbability)) this.confChange();
    if (safety && this.rng.chance(w.transferProbability)) this.transfer();
    if (this.rng.chance(w.readIndexProbability)) this.readIndex();
    for (const node of this.nodes) {
      if (node.raft !== null && this.rng.chance(w.compactProbability)) this.compact(node);
      // As RaftHost after each Ready: payloads behind the applied index are let go; no draw from rng.
      if (node.raft !== null && w.releaseKeep >= 0) this.callCore(node, (raft) => raft.releasePayloads(node.fsm.index - w.releaseKeep));
    }
  }

  private propose(): void {
    const up = this.nodes.filter((n) => n.raft !== null);
    if (up.length === 0) return;
    const leaders = this.upLeaders();
    const node = leaders.length > 0 && this.rng.chance(0.9) ? this.rng.pick(leaders) : this.rng.pick(up);
    const status = this.callCore(node, (raft) => raft.status());
    if (status.lastIndex - status.commit >= this.options.workload.uncommittedEntriesMax) return; // backpressure
    const count = this.rng.int(1, this.options.workload.proposeBatchMax);
    for (let k = 0; k < count && node.raft !== null; k++) {
      this.stats.proposals++;
      const data = textToBytes(`p${this.proposalCounter++}`);
      const result = this.callCore(node, (raft) => raft.propose(data));
      if (result.ok) this.stats.proposalsAccepted++;
      if (this.rng.chance(this.options.workload.eagerReadyProbability)) this.processReady(node);
    }
  }

  private confChange(): void {
    const leaders = this.upLeaders();
    if (leaders.length === 0) return;
    const leader = this.rng.pick(leaders);
    const status = this.callCore(leader, (raft) => raft.status());
    const change = this.pickConfChange(status);
    if (change === null) return;
    const result = this.callCore(leader, (raft) => raft.proposeConfChange(change));
    if (result.ok) this.stats.confChangesAccepted++;
  }

  /** add-learner / add-voter (new or re-added node), promote, demote, remove; never below one voter. */
  private pickConfChange(status: RaftStatus): ConfChange | null {
    const { voters, learners } = status.conf;
    const members = new Set([...voters, ...learners]);
    const outsiders = this.nodes.map((n) => n.id).filter((id) => !members.has(id));
    const choices: ConfChange[] = [];
    for (const node of outsiders) choices.push({ t: 'add-learner', node }, { t: 'add-learner', node }, { t: 'add-voter', node });
    for (const node of learners) choices.push({ t: 'promote', node }, { t: 'remove', node });
    if (voters.length > 1) for (const node of voters) choices.push({ t: 'demote', node }, { t: 'remove', node });
    return choices.length === 0 ? null : this.rng.pick(choices);
  }

  private transfer(): void {
    const leaders = this.upLeaders();
    if (leaders.length === 0) return;
    const leader = this.rng.pick(leaders);
    const target = this.rng.pick(this.nodes).id;
    if (target === leader.id) return;
    const result = this.callCore(leader, (raft) => raft.transferLeadership(target));
    if (result.ok) this.stats.transfers++;
  }

  private readIndex(): void {
    const up = this.nodes.filter((n) => n.raft !== null);
    if (up.length === 0) return;
    const node = this.rng.pick(up);
    const ctx = `r${this.readCounter++}`;
    const result = this.callCore(node, (raft) => raft.readIndex(ctx));
    if (result.ok) node.pendingReads.set(ctx, this.checker.committedMax);
  }

  /** The host snapshots its FSM at the applied index and lets the core drop the log up to it. */
  private compact(node: SimNode): void {
    if (node.fsm.index <= node.disk.snapshotIndex) return;
    const snapshot = snapshotOf(node.fsm);
    node.disk.compact(snapshot);
    node.disk.flushed(); // RaftHost awaits the flush of a compaction
    this.callCore(node, (raft) => raft.compact(cloneData(snapshot)));
    this.stats.compactions++;
  }

  // ---- checks after every step ----------------------------------------------------------------

  private checkStep(): void {
    for (const node of this.nodes) {
      if (node.raft === null) continue;
      const status = this.callCore(node, (raft) => raft.status());
      this.checkNode(node, status);
    }
  }

  private checkNode(node: SimNode, status: RaftStatus): void {
    const id = node.id;
    const disk = node.disk;
    check(status.applied <= status.commit, 'applied-beyond-commit', () => `${id}: status applied ${status.applied} > commit ${status.commit}`);
    check(node.fsm.index <= status.commit, 'applied-beyond-commit', () => `${id}: FSM applied ${node.fsm.index} > commit ${status.commit}`);
    check(status.commit <= disk.lastIndex, 'commit-beyond-log', () => `${id}: commit ${status.commit} beyond its durable log (last ${disk.lastIndex})`);
    check(status.commit >= node.commitSeen, 'hard-state-regression', () => `${id}: commit went back from ${node.commitSeen} to ${status.commit}`);
    node.commitSeen = status.commit;
    if (status.role === 'leader' && this.checker.observeLeader(id, status.term)) this.checker.checkLeaderLog(id, status.term, disk);
    if (status.term > this.stats.termMax) this.stats.termMax = status.term;
    for (let index = Math.max(node.verifiedCommit, disk.snapshotIndex) + 1; index <= status.commit; index++) {
      const entry = disk.entry(index)!;
      this.checker.recordCommitted(id, index, entry.term, payloadDigest(entry.payload), status.term);
    }
    if (status.commit > node.verifiedCommit) node.verifiedCommit = status.commit;
    this.checker.raiseCommittedMax(status.commit);
  }

  // ---- liveness -------------------------------------------------------------------------------

  /** Heal everything, restart every node, then demand a leader and a commit on every voter in bound. */
  private livenessPhase(): void {
    this.network.heal();
    this.network.faults = { dropProbability: 0, duplicateProbability: 0, delayTicksMin: 0, delayTicksMax: Math.min(2, this.options.faults.delayTicksMax), reorder: false };
    for (const node of this.nodes) {
      node.tickProbability = 1;
      if (node.raft === null) {
        this.start(node);
        this.stats.restarts++;
      }
    }
    const startTick = this.nowTick;
    const boundTicks = this.options.livenessTicksMax + livenessCatchUpTicks(this.options, this.lagEntries());
    let marker: Marker | null = null;
    for (let t = 0; t < boundTicks; t++) {
      this.workload(false);
      this.deliverAndTick();
      this.checkStep();
      this.nowTick++;
      this.stats.livenessTicks++;
      const state = marker === null ? 'lost' : this.markerState(marker);
      if (state === 'done') {
        this.stats.ticksToCommit = this.nowTick - startTick;
        return;
      }
      const leader = this.stableLeader();
      if (leader === null) continue;
      if (this.stats.ticksToLeader < 0) this.stats.ticksToLeader = this.nowTick - startTick;
      if (state === 'lost' || marker?.leader !== leader.id) marker = this.proposeMarker(leader);
    }
    check(false, 'liveness', () => `no leader with a proposal committed on every voter within ${boundTicks} ticks after healing; ${this.describeNodes()}`);
  }

  /** Entries the slowest node may have to receive: from the lowest applied index to the longest log. */
  private lagEntries(): number {
    let lastMax = 0;
    let appliedMin = Number.MAX_SAFE_INTEGER;
    for (const node of this.nodes) {
      lastMax = Math.max(lastMax, node.disk.lastIndex);
      appliedMin = Math.min(appliedMin, node.fsm.index);
    }
    return Math.max(0, lastMax - appliedMin);
  }

  /** A leader whose every voter (by its configuration) follows it. */
  private stableLeader(): SimNode | null {
    for (const node of this.upLeaders()) {
      const status = this.callCore(node, (raft) => raft.status());
      if (status.role !== 'leader') continue;
      const followed = status.conf.voters.every((id) => {
        const voter = this.byId.get(id);
        return voter !== undefined && voter.raft !== null && (id === node.id || voter.leader === node.id);
      });
      if (followed) return node;
    }
    return null;
  }

  private proposeMarker(leader: SimNode): Marker | null {
    const text = `live-${this.markerCounter++}`;
    const result = this.callCore(leader, (raft) => raft.propose(textToBytes(text)));
    return result.ok ? { digest: `n:${text}`, leader: leader.id, index: result.index } : null;
  }

  /**
   * 'done' once every voter's FSM is at or past the marker's index and the entry committed there is the
   * marker (chains are checked equal on every apply and snapshot, so the FSM holds it, even when it
   * arrived inside a snapshot); 'lost' when another entry was committed at its index.
   */
  private markerState(marker: Marker): 'done' | 'pending' | 'lost' {
    const committed = this.checker.committedAt(marker.index);
    if (committed !== undefined && committed.digest !== marker.digest) return 'lost';
    const leader = this.byId.get(marker.leader)!;
    if (committed === undefined || leader.raft === null) return 'pending';
    const voters = this.callCore(leader, (raft) => raft.status()).conf.voters;
    return voters.every((id) => (this.byId.get(id)?.fsm.index ?? 0) >= marker.index) ? 'done' : 'pending';
  }

  describeNodes(): string {
    return this.nodes
      .map((n) => {
        if (n.raft === null) return `${n.id}:down`;
        const s = n.raft.status();
        return `${n.id}:${s.role}/t${s.term}/c${s.commit}/a${s.applied}/last${s.lastIndex}/leader=${s.leader}/voters=${s.conf.voters.join(',')}/learners=${s.conf.learners.join(',')}`;
      })
      .join(' ');
  }

  private collectStats(): void {
    const s = this.stats;
    s.readsChecked = this.checker.readsChecked;
    s.committedMax = this.checker.committedMax;
    s.messagesSent = this.network.stats.sent;
    s.messagesDelivered = this.network.stats.delivered;
    s.messagesDropped = this.network.stats.dropped + this.network.stats.blocked + this.network.stats.overflowed;
  }
}

export function zeroStats(): SimStats {
  return {
    steps: 0, livenessTicks: 0, ticksToLeader: -1, ticksToCommit: -1, crashes: 0, crashesInReady: 0, powerLosses: 0, commitRollbacks: 0, restarts: 0, partitions: 0,
    proposals: 0, proposalsAccepted: 0, confChangesAccepted: 0, confChangesApplied: 0, transfers: 0, compactions: 0,
    snapshotsInstalled: 0, entriesFilledFromLog: 0, truncations: 0, readsChecked: 0, committedMax: 0, termMax: 0, messagesSent: 0, messagesDelivered: 0, messagesDropped: 0,
  };
}

/** Run one seed with the given core. */
export function runSimulation(options: SimOptions, createNode: CreateRaftNode): SimResult {
  return new Simulation(options, createNode).run();
}
