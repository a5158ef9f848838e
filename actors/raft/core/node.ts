// RaftNode facade (etcd rawnode.go): the host drives it with tick/step/propose and drains it with
// ready()/advance(). Contract: persist Ready.snapshot, Ready.hardState and Ready.entries, then send
// Ready.messagesAfterPersist, apply Ready.committed, then call advance(). Ready.messages may go at once.
import { assert } from '../../../runtime/assert.js';
import { limits } from '../../../runtime/limits.js';
import { isResponse, type RaftMsg } from './messages.js';
import { flushLeader, leaderReadIndex, onLeaderPersisted, transferLeadership } from './leader.js';
import { Raft, becomeFollower, hup, installSnapshotConf, poll, step } from './raft.js';
import type {
  ConfChange,
  Entry,
  EntryPayload,
  HardState,
  NodeId,
  ProposeError,
  RaftConfig,
  RaftMessage,
  RaftNode,
  RaftStatus,
  RaftStorageState,
  Ready,
  Role,
  Snapshot,
} from './types.js';
import { sameConf } from './conf.js';

/** Largest proposal payload: an app message carrying it must fit in one ring frame with room to spare. */
export const proposalBytesMax = limits.frameBytesMax / 2;

type SoftState = { leader: string | null; role: Role };

export function validateConfig(config: RaftConfig): void {
  for (const key of ['electionTicks', 'heartbeatTicks', 'maxInflightMsgs', 'maxEntriesPerMsg', 'snapshotChunkBytes'] as const) {
    assert(Number.isSafeInteger(config[key]) && config[key] > 0, `raft config ${key} must be a positive integer`);
  }
  assert(config.heartbeatTicks < config.electionTicks, 'heartbeatTicks must be below electionTicks');
  assert(config.electionTicks <= 32_768, 'electionTicks too large for the jitter PRNG');
  assert(config.id.length > 0, 'raft config id must be set');
}

class Node implements RaftNode {
  private readonly r: Raft;
  /** Hard state handed to the host in the last Ready (durable once advanced). */
  private handedHardState: HardState;
  private handedSoft: SoftState;
  private inReady: { hardState: HardState; lastIndex: number; applying: number; logEpoch: number } | null = null;

  constructor(config: RaftConfig, storage: RaftStorageState) {
    validateConfig(config);
    this.r = new Raft(config, storage);
    this.handedHardState = { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
    this.handedSoft = { leader: null, role: 'follower' };
  }

  tick(): void {
    this.r.tickFn(this.r);
  }

  step(msg: RaftMessage): void {
    assert(Object.hasOwn(isResponse, msg.t), `unknown raft message type ${msg.t}`);
    assert(Number.isSafeInteger(msg.term) && msg.term >= 0, 'message term must be a non-negative integer');
    step(this.r, msg as unknown as RaftMsg);
  }

  propose(data: Uint8Array): { ok: true; index: number; term: number } | { ok: false; error: ProposeError } {
    if (data.length > proposalBytesMax) return { ok: false, error: 'too-large' };
    return this.append({ t: 'normal', data });
  }

  proposeConfChange(change: ConfChange): { ok: true; index: number; term: number } | { ok: false; error: ProposeError } {
    const r = this.r;
    if (r.role === 'leader' && r.leavingAt > 0) return { ok: false, error: 'leader-stepping-down' };
    if (r.role === 'leader' && r.leadTransferee === null) {
      if (r.log.term(r.log.committed) !== r.term && r.cfg.mutations?.earlyMembership !== true) return { ok: false, error: 'no-current-term-commit' };
      if (r.pendingConfIndex > r.log.committed) return { ok: false, error: 'conf-change-pending' };
    }
    const result = this.append({ t: 'conf', change });
    if (result.ok) r.pendingConfIndex = result.index;
    return result;
  }

  private append(payload: EntryPayload): { ok: true; index: number; term: number } | { ok: false; error: ProposeError } {
    const r = this.r;
    if (r.role !== 'leader') return { ok: false, error: 'not-leader' };
    if (r.leavingAt > 0) return { ok: false, error: 'leader-stepping-down' };
    if (r.leadTransferee !== null) return { ok: false, error: 'transfer-in-progress' };
    const entry: Entry = { index: r.log.lastIndex() + 1, term: r.term, payload };
    r.log.append([entry]);
    r.needsFlush = true;
    assert(r.log.lastIndex() === entry.index, 'proposal not appended');
    return { ok: true, index: entry.index, term: entry.term };
  }

  readIndex(ctx: string): { ok: true } | { ok: false; error: 'no-leader' } {
    const r = this.r;
    if (r.role === 'leader') {
      leaderReadIndex(r, r.id, ctx);
      return { ok: true };
    }
    if (r.lead === null) return { ok: false, error: 'no-leader' };
    r.send({ t: 'read-index', from: r.id, to: r.lead, term: r.term, ctx });
    return { ok: true };
  }

  transferLeadership(to: string): { ok: true } | { ok: false; error: 'not-leader' | 'unknown-node' } {
    const r = this.r;
    if (r.role !== 'leader') return { ok: false, error: 'not-leader' };
    if (!r.conf.voters.includes(to)) return { ok: false, error: 'unknown-node' };
    transferLeadership(r, to);
    return { ok: true };
  }

  campaign(): void {
    hup(this.r, false);
  }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
  }

  hasReady(): boolean {
    if (this.inReady !== null) return false; // one Ready at a time: advance() first
    const r = this.r;
    // Closes the batching window: pending appends become messages (deterministic, so safe to do here).
    if (r.needsFlush) flushLeader(r);
    const hs = this.hardState();
    const prev = this.handedHardState;
    return (
      r.needsFlush ||
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      r.log.pendingSnapshot !== null ||
      r.log.handedIndex < r.log.lastIndex() ||
      r.log.applying < Math.min(r.log.committed, r.log.lastIndex()) ||
      hs.term !== prev.term ||
      hs.vote !== prev.vote ||
      hs.commit !== prev.commit ||
      r.lead !== this.handedSoft.leader ||
      r.role !== this.handedSoft.role
    );
  }

  ready(): Ready {
    assert(this.inReady === null, 'ready() called again before advance()');
    const r = this.r;
    flushLeader(r);
    const hs = this.hardState();
    const prev = this.handedHardState;
    const hsChanged = hs.term !== prev.term || hs.vote !== prev.vote || hs.commit !== prev.commit;
    const softChanged = r.lead !== this.handedSoft.leader || r.role !== this.handedSoft.role;
    const rd: Ready = {
      hardState: hsChanged ? hs : null,
      entries: r.log.unstableEntries(),
      snapshot: r.log.pendingSnapshot,
      messages: r.msgs as unknown as RaftMessage[],
      messagesAfterPersist: r.msgsAfterPersist as unknown as RaftMessage[],
      committed: r.log.committedToApply(),
      readStates: r.readStates,
      softState: softChanged ? { leader: r.lead, role: r.role } : null,
    };
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    r.log.pendingSnapshot = null;
    r.log.handedIndex = r.log.lastIndex();
    const last = rd.committed[rd.committed.length - 1];
    if (last !== undefined) r.log.applying = last.index;
    this.handedHardState = hs;
    this.handedSoft = { leader: r.lead, role: r.role };
    this.inReady = { hardState: hs, lastIndex: r.log.lastIndex(), applying: r.log.applying, logEpoch: r.log.epoch };
    assert(rd.entries.every((e, i) => i === 0 || e.index === rd.entries[i - 1]!.index + 1), 'ready entries not contiguous');
    return rd;
  }

  advance(): void {
    const handed = this.inReady;
    assert(handed !== null, 'advance() without ready()');
    this.inReady = null;
    const r = this.r;
    // A snapshot restored after ready() replaced the log: what was handed says nothing about it.
    if (handed.logEpoch === r.log.epoch) {
      r.log.persistedIndex = Math.max(r.log.persistedIndex, Math.min(handed.lastIndex, r.log.handedIndex));
    }
    r.log.applied = Math.max(r.log.applied, Math.min(handed.applying, r.log.applying));
    assert(r.log.persistedIndex <= r.log.lastIndex(), 'persisted beyond the log');
    if (r.role === 'candidate' && r.selfVotePending && handed.hardState.term === r.term && handed.hardState.vote === r.id) {
      r.selfVotePending = false;
      poll(r, r.id, true);
    }
    if (r.role === 'leader') onLeaderPersisted(r);
  }

  compact(snapshot: Snapshot): void {
    const r = this.r;
    assert(snapshot.meta.index <= r.log.applied, `compact at ${snapshot.meta.index} beyond applied ${r.log.applied}`);
    if (snapshot.meta.index <= r.log.snapIndex) return;
    assert(sameConf(snapshot.meta.conf, r.confs.at(snapshot.meta.index)), 'snapshot configuration differs from the log at its index');
    r.log.compact(snapshot);
    r.confs.compact(snapshot.meta.index);
  }

  releasePayloads(through: number): number {
    return this.r.log.releasePayloads(through);
  }

  restoreAsLeader(data: Uint8Array): { ok: true; index: number; term: number } | { ok: false; error: ProposeError | 'busy' } {
    const r = this.r;
    if (r.role !== 'leader') return { ok: false, error: 'not-leader' };
    if (r.leavingAt > 0) return { ok: false, error: 'leader-stepping-down' };
    if (r.leadTransferee !== null) return { ok: false, error: 'transfer-in-progress' };
    const last = r.log.lastIndex();
    if (this.inReady !== null || r.needsFlush || r.log.committed !== last || r.log.applied !== last || r.pendingConfIndex > r.log.committed) return { ok: false, error: 'busy' };
    if (r.log.term(last) !== r.term) return { ok: false, error: 'no-current-term-commit' };
    const snapshot: Snapshot = { meta: { index: last + 1, term: r.term, conf: { voters: [...r.conf.voters], learners: [...r.conf.learners] } }, data };
    // The log becomes the snapshot (committed and applied at its index); the host persists and installs it
    // from Ready.snapshot as it does a follower's. Every follower's next entry is now compacted away, so the
    // next append to it starts an InstallSnapshot.
    r.log.restore(snapshot);
    installSnapshotConf(r, snapshot);
    return { ok: true, index: snapshot.meta.index, term: snapshot.meta.term };
  }

  recoverAsSoleVoter(learners: NodeId[]): { ok: true; index: number; term: number } | { ok: false; error: 'is-leader' | 'busy' | 'no-base' } {
    const r = this.r;
    if (r.role === 'leader') return { ok: false, error: 'is-leader' };
    if (!r.hasBase) return { ok: false, error: 'no-base' };
    if (this.inReady !== null || r.snapAssembly !== null || r.log.pendingSnapshot !== null) return { ok: false, error: 'busy' };
    // A term of its own: no other node holds an entry of it, so the recovered history cannot be confused
    // with anything the lost voters wrote at the same indexes.
    becomeFollower(r, r.term + 1, null);
    const index = r.log.lastIndex() + 1;
    const term = r.term;
    r.log.append([{ index, term, payload: { t: 'conf', change: { t: 'recover', node: r.id, learners: [...learners] } } }]);
    r.commitTo(index); // every entry held becomes committed; the configuration folds to the recovered one
    assert(r.conf.voters.length === 1 && r.conf.voters[0] === r.id, 'recovery makes this node the only voter');
    hup(r, false); // the only voter: wins at once, leads once its vote is durable (advance)
    return { ok: true, index, term };
  }

  status(): RaftStatus {
    const r = this.r;
    let progress: RaftStatus['progress'] = null;
    if (r.role === 'leader') {
      progress = {};
      for (const [id, pr] of r.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state, active: pr.recentActive };
    }
    return {
      id: r.id,
      term: r.term,
      role: r.role,
      leader: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      conf: { voters: [...r.conf.voters], learners: [...r.conf.learners] },
      progress,
      readsConfirmedByAsker: r.readsConfirmedByAsker,
    };
  }
}

export function createNode(config: RaftConfig, storage: RaftStorageState): RaftNode {
  return new Node(config, storage);
}
