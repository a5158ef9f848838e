// Leader behaviour: replication (probe / replicate / snapshot), commit, heartbeats, CheckQuorum,
// ReadIndex confirmation and leadership transfer.
import { assert } from '../../../runtime/assert.js';
import type { MsgAppResp, MsgHeartbeatResp, MsgSnapResp, RaftMsg } from './messages.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { becomeFollower, type Raft } from './raft.js';
import type { RecordedRead } from './read-only.js';
import type { NodeId, Snapshot } from './types.js';

function progressOf(r: Raft, id: NodeId): Progress | undefined {
  return r.progress.get(id);
}

export function stepLeader(r: Raft, m: RaftMsg): void {
  assert(r.role === 'leader', 'stepLeader on a non-leader');
  switch (m.t) {
    case 'app':
    case 'heartbeat':
    case 'snap':
      assert(false, `two leaders in term ${r.term}: ${m.from} and ${r.id}`);
      return;
    case 'read-index':
      leaderReadIndex(r, m.from, m.ctx);
      return;
    case 'app-resp':
    case 'heartbeat-resp':
    case 'snap-resp': {
      const pr = progressOf(r, m.from);
      if (pr === undefined) return; // removed meanwhile
      pr.recentActive = true;
      if (m.t === 'app-resp') handleAppResp(r, pr, m);
      else if (m.t === 'heartbeat-resp') handleHeartbeatResp(r, pr, m);
      else handleSnapResp(r, pr, m);
      return;
    }
    default:
      return; // stale vote answers, timeout-now addressed to a leader
  }
}

// ---- replication -------------------------------------------------------------------------------

function handleAppResp(r: Raft, pr: Progress, m: MsgAppResp): void {
  if (m.noBase) {
    // A node acknowledges entries only once it has a base, so with a match this answer is stale (a
    // reordered reply from before the base snapshot arrived): starting a snapshot from a base below the
    // match would move the follower back (F7).
    if (pr.state !== 'snapshot' && pr.match === 0) startSnapshot(r, m.from, pr);
    return;
  }
  if (m.reject) {
    let probeIndex = m.hintIndex;
    if (m.hintTerm > 0) probeIndex = r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
    if (pr.maybeDecrTo(m.index, probeIndex)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      r.needsFlush = true;
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (pr.state === 'snapshot') {
    if (pr.match >= pr.pendingSnapshot) pr.becomeProbe();
  } else if (pr.state === 'probe') {
    if (updated || pr.match === m.index) pr.becomeReplicate();
  } else {
    pr.inflights.freeLE(m.index);
  }
  if (updated) maybeCommit(r);
  r.needsFlush = true;
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResp(r: Raft, pr: Progress, m: MsgHeartbeatResp): void {
  pr.probeSent = false;
  // A full replicate window may hold only lost appends, which nobody will ever answer: free one slot
  // (etcd FreeFirstOne) so the append below can go out. The follower either acknowledges it or rejects
  // the gap, which moves the progress back to probing and resends from match + 1.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  // A lagging follower (e.g. appends lost while in replicate state): an append, even empty, makes it
  // answer with its position, which moves the progress back to probing where needed.
  if (pr.match < r.log.lastIndex() && pr.state !== 'snapshot') sendAppend(r, m.from, true);
  if (pr.state === 'snapshot') sendSnapChunk(r, m.from, pr); // resend a chunk that may have been lost
  if (m.readSeq > pr.readAckSeq) {
    pr.readAckSeq = m.readSeq;
    confirmReads(r);
  }
  if (m.commit > pr.commitAck) {
    pr.commitAck = m.commit;
    if (r.leavingAt > 0) maybeHandOver(r);
  }
}

/**
 * A leaving leader (removed or demoted, see onLeaderConfChanged) steps down once a quorum of the new voters
 * knows the change committed: they then elect among themselves without us. The most caught-up of them is
 * told to campaign at once (timeout-now), as a leadership transfer would.
 */
function maybeHandOver(r: Raft): void {
  assert(r.role === 'leader' && r.leavingAt > 0, 'hand over without leaving');
  const known = committedIndex(r.conf.voters, (id) => progressOf(r, id)?.commitAck ?? 0);
  if (known < r.leavingAt) return;
  let target: NodeId | null = null;
  let best = -1;
  for (const id of r.conf.voters) {
    const pr = progressOf(r, id);
    if (pr !== undefined && pr.commitAck >= r.leavingAt && pr.match > best) (target = id), (best = pr.match);
  }
  if (target !== null && best === r.log.lastIndex()) sendTimeoutNow(r, target);
  becomeFollower(r, r.term, null);
}

function handleSnapResp(r: Raft, pr: Progress, m: MsgSnapResp): void {
  if (pr.state !== 'snapshot' || m.snapIndex !== pr.pendingSnapshot) return;
  if (m.offset === pr.snapshotOffset) return; // duplicate acknowledgement
  pr.snapshotOffset = m.offset; // forward on progress, backward when the follower lost the chunks
  sendSnapChunk(r, m.from, pr);
}

/**
 * Sends one append (or starts a snapshot) to `to`; false when nothing was sent. `sendIfEmpty` sends an
 * append without entries (to carry the commit index).
 */
function sendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = progressOf(r, to);
  assert(pr !== undefined && to !== r.id, 'sendAppend to an untracked peer');
  if (pr.isPaused()) return false;
  assert(pr.next <= r.log.lastIndex() + 1, 'progress next beyond the log');
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) {
    startSnapshot(r, to, pr); // the entries it needs were compacted away
    return false;
  }
  const last = Math.min(r.log.lastIndex(), pr.next + r.cfg.maxEntriesPerMsg - 1);
  const entries = r.log.slice(pr.next, last);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ t: 'app', from: r.id, to, term: r.term, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  pr.sentEntries(entries.length, last);
  return true;
}

/** Sends every append the peers can take now: called when a Ready is built, so proposals batch. */
export function flushLeader(r: Raft): void {
  if (r.role !== 'leader') {
    r.needsFlush = false;
    return;
  }
  for (const id of r.peers()) {
    const pr = progressOf(r, id)!;
    let sent = false;
    // Bounded: each send either fills one inflight slot or pauses a probe.
    for (let i = 0; i <= r.cfg.maxInflightMsgs; i++) {
      if (!sendAppend(r, id, false)) break;
      sent = true;
    }
    if (!sent && r.commitMoved) sendAppend(r, id, true);
    assert(pr.next <= r.log.lastIndex() + 1, 'flush overran the log');
  }
  if (r.reads.newestRecordedSeq() > r.readSeqSent) bcastHeartbeat(r);
  r.needsFlush = false;
  r.commitMoved = false;
}

function baseSnapshot(r: Raft): Snapshot {
  // Without a compacted snapshot the log starts at index 1 after the bootstrap configuration.
  return r.log.snapshot ?? { meta: { index: 0, term: 0, conf: r.baseConf }, data: new Uint8Array(0) };
}

function startSnapshot(r: Raft, to: NodeId, pr: Progress): void {
  const snapshot = baseSnapshot(r);
  pr.becomeSnapshot(snapshot.meta.index);
  sendSnapChunk(r, to, pr);
  assert(pr.state === 'snapshot', 'startSnapshot must leave the peer in snapshot state');
}

function sendSnapChunk(r: Raft, to: NodeId, pr: Progress): void {
  let snapshot = baseSnapshot(r);
  if (snapshot.meta.index !== pr.pendingSnapshot) {
    pr.becomeSnapshot(snapshot.meta.index); // compacted again meanwhile: send the newer one from the start
    snapshot = baseSnapshot(r);
  }
  const total = snapshot.data.length;
  const offset = pr.snapshotOffset;
  if (offset > total) return;
  const data = snapshot.data.slice(offset, Math.min(total, offset + r.cfg.snapshotChunkBytes));
  const done = offset + data.length === total;
  assert(data.length > 0 || total === offset, 'empty chunk before the end');
  const { index, term, conf } = snapshot.meta;
  r.send({ t: 'snap', from: r.id, to, term: r.term, snapIndex: index, snapTerm: term, conf, offset, totalBytes: total, data, done });
}

function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ t: 'timeout-now', from: r.id, to, term: r.term });
}

// ---- commit ------------------------------------------------------------------------------------

/** Advances commit to the quorum match index, but only over an entry of the current term (Raft §5.4.2). */
export function maybeCommit(r: Raft): boolean {
  const index = committedIndex(r.conf.voters, (id) => progressOf(r, id)?.match ?? 0);
  if (index <= r.log.committed || (r.log.term(index) !== r.term && r.cfg.mutations?.oldTermCommit !== true)) return false;
  r.commitTo(index);
  return true;
}

export function onLeaderCommitted(r: Raft): void {
  r.commitMoved = true;
  r.needsFlush = true;
  if (r.log.term(r.log.committed) === r.term && r.reads.waiting.length > 0) {
    for (const request of r.reads.waiting.splice(0)) recordRead(r, request.from, request.ctx);
  }
}

/** The leader's own entries became durable (advance()). */
export function onLeaderPersisted(r: Raft): void {
  const self = progressOf(r, r.id);
  if (self === undefined) return;
  if (self.maybeUpdate(r.log.persistedIndex)) maybeCommit(r);
}

export function onLeaderConfChanged(r: Raft): void {
  const conf = r.conf;
  const members = [...conf.voters, ...conf.learners];
  for (const id of [...r.progress.keys()]) {
    if (members.includes(id)) continue;
    const pr = progressOf(r, id)!;
    // Tell the removed node the commit index (so it learns of its removal) before forgetting it.
    if (id !== r.id) r.send({ t: 'heartbeat', from: r.id, to: id, term: r.term, commit: Math.min(pr.match, r.log.committed), readSeq: 0 });
    r.progress.delete(id);
  }
  for (const id of members) {
    const learner = conf.learners.includes(id);
    const pr = progressOf(r, id);
    if (pr === undefined) r.progress.set(id, new Progress(r.log.lastIndex() + 1, r.cfg.maxInflightMsgs, learner));
    else pr.learner = learner;
  }
  if (r.leadTransferee !== null && !conf.voters.includes(r.leadTransferee)) r.leadTransferee = null;
  if (conf.voters.includes(r.id)) r.leavingAt = 0; // (re-added by a later entry of the tail)
  else if (r.leavingAt === 0) {
    // Removed or demoted. Configurations take effect at commit, and so far only we know that this one
    // committed: the other voters still count us in and may need our vote, which we (no longer a voter,
    // perhaps with a longer log) would never give. So keep leading, with proposals refused, until a quorum
    // of the new voters acknowledged a commit index >= the change (heartbeat answers), then hand over (F5).
    r.leavingAt = r.confIndex;
    r.leadTransferee = null;
    r.commitMoved = true;
    bcastHeartbeat(r);
  }
  maybeCommit(r);
  confirmReads(r);
  r.needsFlush = true;
}

// ---- ticks, heartbeats, CheckQuorum, transfer -----------------------------------------------------

export function tickHeartbeat(r: Raft): void {
  assert(r.role === 'leader', 'tickHeartbeat on a non-leader');
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) {
      if (!quorumActive(r)) {
        becomeFollower(r, r.term, null); // lost contact with a quorum for an election timeout
        return;
      }
      for (const [id, pr] of r.progress) pr.recentActive = id === r.id;
    }
    r.leadTransferee = null; // a transfer that did not finish within an election timeout is aborted
  }
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r);
  }
}

function quorumActive(r: Raft): boolean {
  const active = new Map<NodeId, boolean>();
  for (const [id, pr] of r.progress) if (pr.recentActive || id === r.id) active.set(id, true);
  return voteResult(r.conf.voters, active) === 'won';
}

function bcastHeartbeat(r: Raft): void {
  const readSeq = r.reads.recorded.length > 0 ? r.reads.lastSeq : 0;
  for (const id of r.peers()) {
    const pr = progressOf(r, id)!;
    r.send({ t: 'heartbeat', from: r.id, to: id, term: r.term, commit: Math.min(pr.match, r.log.committed), readSeq });
  }
  r.readSeqSent = r.reads.lastSeq;
}

export function transferLeadership(r: Raft, to: NodeId): void {
  assert(r.role === 'leader' && r.conf.voters.includes(to), 'transfer needs a leader and a voter target');
  if (to === r.id || r.leadTransferee === to) return;
  r.leadTransferee = to;
  r.electionElapsed = 0; // the transfer must finish within one election timeout
  const pr = progressOf(r, to)!;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, to);
  else sendAppend(r, to, true); // catch the target up first; its answer triggers timeout-now
}

// ---- ReadIndex ---------------------------------------------------------------------------------

export function leaderReadIndex(r: Raft, from: NodeId, ctx: string): void {
  assert(r.role === 'leader', 'leaderReadIndex on a non-leader');
  if (r.log.term(r.log.committed) !== r.term) {
    r.reads.enqueueWaiting({ from, ctx }); // our commit index is not known to be current yet
    return;
  }
  recordRead(r, from, ctx);
}

function recordRead(r: Raft, from: NodeId, ctx: string): void {
  const read = r.reads.record({ from, ctx }, r.log.committed);
  if (read === null) return; // queue full: dropped, the host times out
  r.needsFlush = true; // the next flush sends one heartbeat round for every read recorded and not yet confirmed
  confirmReads(r);
}

/**
 * Releases every recorded read that a quorum has confirmed. A heartbeat answer echoing `seq` shows its
 * sender was still in our term after the read was recorded. A read forwarded by a voter gets that voter's
 * confirmation for free: the voter accepts our answer only while it is still in our term (a lower-term
 * message is dropped, raft.ts stepMsg), so its acceptance is the same fact a heartbeat answer states, made
 * later. With three voters the leader and the asking voter are a quorum: a follower's ReadIndex costs one
 * round trip to the leader and no heartbeat round (docs/raft.md "ReadIndex").
 */
function confirmReads(r: Raft): void {
  if (r.reads.recorded.length === 0) return;
  const self = r.id;
  const acked = (id: NodeId): number => (id === self ? r.reads.lastSeq : (progressOf(r, id)?.readAckSeq ?? 0));
  const voters = r.conf.voters;
  const confirmed = committedIndex(voters, acked);
  const confirmedWithAsker = (read: RecordedRead): boolean =>
    read.from !== self && voters.includes(read.from) && committedIndex(voters, (id) => (id === read.from ? read.seq : acked(id))) >= read.seq;
  for (const read of r.reads.release(confirmed, confirmedWithAsker)) {
    if (read.seq > confirmed) r.readsConfirmedByAsker++;
    answerRead(r, read);
  }
}

function answerRead(r: Raft, read: RecordedRead): void {
  if (read.from === r.id) r.readStates.push({ index: read.index, ctx: read.ctx });
  else r.send({ t: 'read-index-resp', from: r.id, to: read.from, term: r.term, ctx: read.ctx, index: read.index });
}
