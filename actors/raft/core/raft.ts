// The Raft state and the role-independent half of step(): term handling, votes, elections, ticks.
// Roles are swapped functions: become*() sets r.stepFn and r.tickFn (etcd raft.go). Leader behaviour lives
// in leader.ts, follower and candidate behaviour in follower.ts.
import { assert } from '../../../runtime/assert.js';
import { ConfHistory, applyConfChange, compareIds, normalizeConf } from './conf.js';
import { stepCandidate, stepFollower } from './follower.js';
import { onLeaderConfChanged, onLeaderCommitted, stepLeader, tickHeartbeat } from './leader.js';
import { RaftLog } from './log.js';
import { isFromLeader, isResponse, type MsgVote, type RaftMsg } from './messages.js';
import { Prng } from './prng.js';
import { Progress } from './progress.js';
import { voteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import type { ConfState, NodeId, RaftConfig, RaftStorageState, ReadState, Role, Snapshot } from './types.js';

export type StepFn = (r: Raft, m: RaftMsg) => void;
export type TickFn = (r: Raft) => void;

/** Receiving side of an InstallSnapshot in progress. */
export interface SnapAssembly {
  index: number;
  term: number;
  conf: ConfState;
  totalBytes: number;
  receivedBytes: number;
  chunks: Uint8Array[];
}

export class Raft {
  readonly id: NodeId;
  readonly cfg: RaftConfig;
  term: number;
  vote: NodeId | null;
  lead: NodeId | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;
  /** Configuration of the log's base (snapshot or bootstrap); sent to a joining node as an index-0 snapshot. */
  baseConf: ConfState;
  /** False for a node that joined empty: it learns its base configuration from the leader first. */
  hasBase: boolean;
  confs: ConfHistory;
  /** Conf entries are folded into `confs` up to this index (always the commit index after a step). */
  confIndex: number;
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  /** Candidate: our own vote counts only once the hard state carrying it is durable (see advance()). */
  selfVotePending = false;
  msgs: RaftMsg[] = [];
  msgsAfterPersist: RaftMsg[] = [];
  readStates: ReadState[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;
  readonly prng: Prng;
  leadTransferee: NodeId | null = null;
  pendingConfIndex = 0;
  /**
   * Leader removed or demoted by the committed conf entry at this index (0: not leaving). It keeps leading
   * (refusing proposals) until a quorum of the new voters acknowledged a commit index >= it (F5).
   */
  leavingAt = 0;
  reads = new ReadOnly();
  readSeqSent = 0;
  /** Follower reads this node, as leader, answered without a heartbeat round (the asker completed the quorum). */
  readsConfirmedByAsker = 0;
  /** Leader: appends to send at the next flush (batching), and whether the commit index moved. */
  needsFlush = false;
  commitMoved = false;
  snapAssembly: SnapAssembly | null = null;
  stepFn: StepFn = stepFollower;
  tickFn: TickFn = tickElection;
  private applyingConf = false;

  constructor(cfg: RaftConfig, storage: RaftStorageState) {
    this.id = cfg.id;
    this.cfg = cfg;
    this.prng = new Prng(cfg.seed);
    this.term = storage.hardState.term;
    this.vote = storage.hardState.vote;
    this.log = new RaftLog(storage.snapshot, storage.entries, storage.hardState.commit, storage.applied ?? 0);
    this.hasBase = storage.snapshot !== null || storage.bootstrap !== undefined;
    this.baseConf = normalizeConf(storage.snapshot?.meta.conf ?? storage.bootstrap ?? { voters: [], learners: [] });
    this.confs = new ConfHistory(this.log.snapIndex, this.baseConf);
    this.confIndex = this.log.snapIndex;
    if (!this.hasBase) assert(storage.entries.length === 0, 'a node without snapshot or bootstrap must have an empty log');
    this.applyCommittedConf();
    becomeFollower(this, this.term, null);
    assert(this.confIndex === this.log.committed, 'restart must fold every committed conf entry');
  }

  get conf(): ConfState {
    return this.confs.current();
  }

  promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  /** Peers the leader replicates to: voters and learners except ourselves, in id order. */
  peers(): NodeId[] {
    return [...this.progress.keys()].filter((id) => id !== this.id).sort(compareIds);
  }

  send(m: RaftMsg): void {
    assert(m.from === this.id && m.to !== this.id, `bad addressing: ${m.from}->${m.to}`);
    if (m.t === 'vote' || m.t === 'prevote' || m.t === 'prevote-resp') assert(m.term > 0, `${m.t} must carry a term`);
    else if (m.t !== 'vote-resp') assert(m.term === this.term, `${m.t} must carry our term`);
    // "Persist before you answer": acknowledgements of votes and of appended entries wait for the Ready's durability.
    if (m.t === 'vote-resp' || m.t === 'prevote-resp' || m.t === 'app-resp') this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  resetRandomizedElectionTimeout(): void {
    const base = this.cfg.electionTicks;
    this.randomizedElectionTicks = base + this.prng.intBelow(base);
    assert(this.randomizedElectionTicks >= base && this.randomizedElectionTicks < 2 * base, 'election timeout out of range');
  }

  /** Folds committed conf entries into the configuration; called whenever the commit index moves. */
  applyCommittedConf(): void {
    if (this.applyingConf) return;
    this.applyingConf = true;
    while (this.confIndex < this.log.committed) {
      const index = this.confIndex + 1;
      const entry = this.log.entry(index);
      this.confIndex = index;
      if (entry.payload.t !== 'conf') continue;
      const before = this.conf;
      const after = applyConfChange(before, entry.payload.change);
      this.confs.push(index, after);
      if (this.role === 'leader') onLeaderConfChanged(this);
    }
    this.applyingConf = false;
    assert(this.confIndex === this.log.committed, 'conf not folded to commit');
  }

  /** The commit index moved (any role). */
  onCommitted(): void {
    this.applyCommittedConf();
    if (this.role === 'leader') onLeaderCommitted(this);
  }

  commitTo(index: number): void {
    if (this.log.commitTo(index)) this.onCommitted();
  }
}

// ---- role transitions --------------------------------------------------------------------------

function reset(r: Raft, term: number): void {
  if (r.term !== term) {
    assert(term > r.term, 'term must never go backwards');
    r.term = term;
    r.vote = null;
  }
  r.lead = null;
  r.electionElapsed = 0;
  r.heartbeatElapsed = 0;
  r.resetRandomizedElectionTimeout();
  r.votes.clear();
  r.selfVotePending = false;
  r.leadTransferee = null;
  r.leavingAt = 0;
  r.reads = new ReadOnly();
  r.readSeqSent = 0;
  r.needsFlush = false;
  r.commitMoved = false;
  r.progress = new Map();
}

export function becomeFollower(r: Raft, term: number, lead: NodeId | null): void {
  reset(r, term);
  r.stepFn = stepFollower;
  r.tickFn = tickElection;
  r.lead = lead;
  r.role = 'follower';
  assert(r.progress.size === 0, 'a follower tracks no progress');
}

function becomePreCandidate(r: Raft): void {
  assert(r.role !== 'leader', 'leader cannot become pre-candidate');
  // Does not change term or vote (PreVote, dissertation §9.6): only the step function and the votes.
  r.stepFn = stepCandidate;
  r.tickFn = tickElection;
  r.votes.clear();
  r.lead = null;
  r.role = 'pre-candidate';
}

function becomeCandidate(r: Raft): void {
  assert(r.role !== 'leader', 'leader cannot become candidate');
  reset(r, r.term + 1);
  r.stepFn = stepCandidate;
  r.tickFn = tickElection;
  r.vote = r.id;
  r.role = 'candidate';
}

export function becomeLeader(r: Raft): void {
  assert(r.role === 'candidate', 'only a candidate becomes leader');
  reset(r, r.term);
  r.stepFn = stepLeader;
  r.tickFn = tickHeartbeat;
  r.lead = r.id;
  r.role = 'leader';
  const last = r.log.lastIndex();
  for (const id of [...r.conf.voters, ...r.conf.learners]) {
    const pr = new Progress(last + 1, r.cfg.maxInflightMsgs, r.conf.learners.includes(id));
    if (id === r.id) {
      pr.match = r.log.persistedIndex; // our own entries count only once durable
      pr.becomeReplicate();
      pr.recentActive = true;
    }
    r.progress.set(id, pr);
  }
  // Any conf entry in the uncommitted tail may still be pending: refuse changes until our first commit.
  r.pendingConfIndex = last;
  r.log.append([{ index: last + 1, term: r.term, payload: { t: 'empty' } }]);
  r.needsFlush = true;
  assert(r.progress.has(r.id), 'leader must be a voter');
}

// ---- ticks -------------------------------------------------------------------------------------

/** Follower and candidate tick: campaign once the randomized election timeout passed. */
export function tickElection(r: Raft): void {
  assert(r.role !== 'leader', 'tickElection on a leader');
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTicks) {
    r.electionElapsed = 0;
    hup(r, false);
  }
}

// ---- elections ---------------------------------------------------------------------------------

/** Start an election (a timeout, campaign(), or a leadership transfer when forced). */
export function hup(r: Raft, force: boolean): void {
  if (r.role === 'leader' || !r.promotable()) return;
  if (r.cfg.preVote && !force) campaign(r, 'prevote', false);
  else campaign(r, 'vote', force);
}

function campaign(r: Raft, kind: 'prevote' | 'vote', force: boolean): void {
  let voteTerm: number;
  if (kind === 'prevote') {
    becomePreCandidate(r);
    voteTerm = r.term + 1;
  } else {
    becomeCandidate(r);
    voteTerm = r.term;
  }
  assert(voteTerm > 0 && r.promotable(), 'campaign needs a term and a voter');
  for (const id of r.conf.voters) {
    if (id === r.id) continue;
    const m: MsgVote = { t: kind, from: r.id, to: id, term: voteTerm, index: r.log.lastIndex(), logTerm: r.log.lastTerm(), force };
    r.send(m);
  }
  if (kind === 'prevote') poll(r, r.id, true); // a pre-vote changes no durable state: count it at once
  else r.selfVotePending = true; // counted in advance(), once term and vote are durable
}

/** Records a vote and acts on the result. */
export function poll(r: Raft, from: NodeId, granted: boolean): void {
  assert(r.role === 'pre-candidate' || r.role === 'candidate', 'poll outside an election');
  if (!r.votes.has(from)) r.votes.set(from, granted);
  tally(r);
}

/** Acts on the votes so far (also after the configuration changed under a running election). */
function tally(r: Raft): void {
  const result = voteResult(r.conf.voters, r.votes);
  if (result === 'won') {
    if (r.role === 'pre-candidate') campaign(r, 'vote', false);
    else becomeLeader(r);
  } else if (result === 'lost') {
    becomeFollower(r, r.term, null);
  }
}

function handleVoteRequest(r: Raft, m: MsgVote): void {
  const respType = m.t === 'vote' ? 'vote-resp' : 'prevote-resp';
  const canVote = r.vote === m.from || (r.vote === null && r.lead === null) || (m.t === 'prevote' && m.term > r.term);
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // Granting answers at the candidate's term (for a pre-vote, the term it would campaign in).
    r.send({ t: respType, from: r.id, to: m.from, term: m.term, reject: false, ...commitHint(r) });
    if (m.t === 'vote') {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ t: respType, from: r.id, to: m.from, term: r.term, reject: true, ...commitHint(r) });
  }
}

/** Our highest committed entry we hold (the commit index may run ahead of a restarted log). */
function commitHint(r: Raft): { commit: number; commitTerm: number } {
  const commit = Math.min(r.log.committed, r.log.lastIndex());
  const commitTerm = r.log.term(commit);
  if (commitTerm === undefined) return { commit: 0, commitTerm: 0 };
  return { commit, commitTerm };
}

/**
 * A vote answer told us the voter's commit index. When we hold the same entry there (same term), Log
 * Matching makes our log up to it identical to the voter's, so it is committed here too. This is how a
 * candidate learns that a membership change committed when the only node that knew it was the removed
 * or demoted leader (F5): under the old configuration it would need that node's vote, which the node
 * (longer log, no longer a voter) never gives. The new configuration may decide the election at once.
 */
function learnCommit(r: Raft, commit: number, commitTerm: number): void {
  if (r.role === 'leader' || commit <= r.log.committed || r.log.term(commit) !== commitTerm) return;
  r.commitTo(commit);
  if (r.role !== 'pre-candidate' && r.role !== 'candidate') return;
  if (!r.promotable()) becomeFollower(r, r.term, null);
  else tally(r);
}

// ---- step: the role-independent half -------------------------------------------------------------

export function step(r: Raft, m: RaftMsg): void {
  // Whatever its term: a commit index is a fact, not an opinion of that term. Learnt first, so that this
  // very answer is counted under the configuration it may reveal.
  if (m.t === 'vote-resp' || m.t === 'prevote-resp') learnCommit(r, m.commit, m.commitTerm);
  stepMsg(r, m);
}

function stepMsg(r: Raft, m: RaftMsg): void {
  assert(m.to === r.id, `message for ${m.to} stepped on ${r.id}`);
  assert(m.from !== r.id, 'a node never messages itself');
  if (m.term > r.term) {
    if (m.t === 'vote' || m.t === 'prevote') {
      // Leader stickiness: within the minimum election timeout of hearing from a leader, a vote request
      // comes from a node that merely lost contact; ignore it unless it is a leadership transfer. As in etcd
      // this needs CheckQuorum: only then does a leader that lost its quorum step down, backing the lease.
      const inLease = r.cfg.checkQuorum && r.lead !== null && r.electionElapsed < r.cfg.electionTicks;
      if (inLease && !m.force) return;
    }
    if (m.t === 'prevote' || (m.t === 'prevote-resp' && !m.reject)) {
      // A pre-vote (and its grant) carries the term the candidate would use; it changes nobody's term.
    } else if (isFromLeader[m.t] && m.t !== 'read-index-resp') {
      becomeFollower(r, m.term, m.from);
    } else {
      becomeFollower(r, m.term, null);
    }
  } else if (m.term < r.term) {
    if ((r.cfg.checkQuorum || r.cfg.preVote || !r.promotable()) && (m.t === 'app' || m.t === 'heartbeat')) {
      // A stale leader (or a node whose term we out-ran while partitioned) learns our term from this answer.
      // Without CheckQuorum/PreVote etcd stays silent and relies on our next vote request to carry the term,
      // but a node that is not a voter in its own (possibly stale) configuration never campaigns: it would
      // ignore a leader that counts it as a voter for good (sim seed 3871: a removed node's vote requests
      // raised its term past the leader's).
      r.send({ t: 'app-resp', from: r.id, to: m.from, term: r.term, index: 0, reject: false, hintIndex: 0, hintTerm: 0, noBase: false });
    } else if (m.t === 'prevote' || m.t === 'vote') {
      // Reject with our term (Raft figure 2: the reply carries currentTerm), so a candidate behind us adopts it
      // and campaigns above it next time. etcd drops a lower-term vote request, but then a candidate never
      // learns our term when we never message it ourselves (a non-voter, or its vote requests are all we see),
      // and another node's futile elections can keep our term ahead of its own for good (sim F8, seed 21547).
      r.send({ t: m.t === 'vote' ? 'vote-resp' : 'prevote-resp', from: r.id, to: m.from, term: r.term, reject: true, ...commitHint(r) });
    }
    return;
  }
  if (m.t === 'vote' || m.t === 'prevote') {
    handleVoteRequest(r, m);
    return;
  }
  assert(m.term === r.term || (m.t === 'prevote-resp' && !m.reject), 'only a pre-vote grant may carry a future term');
  if (isResponse[m.t] && m.t !== 'read-index-resp' && r.role !== 'leader' && m.t !== 'vote-resp' && m.t !== 'prevote-resp') return;
  r.stepFn(r, m);
}

export function installSnapshotConf(r: Raft, snapshot: Snapshot): void {
  r.confs = new ConfHistory(snapshot.meta.index, snapshot.meta.conf);
  r.confIndex = snapshot.meta.index;
  r.baseConf = normalizeConf(snapshot.meta.conf);
  r.hasBase = true;
}
