// Follower and (pre-)candidate step functions: accepting appends, heartbeats and snapshots from the leader.
import { assert } from '../../../runtime/assert.js';
import type { MsgApp, MsgHeartbeat, MsgSnap, RaftMsg } from './messages.js';
import { becomeFollower, hup, installSnapshotConf, poll, type Raft } from './raft.js';
import type { Snapshot } from './types.js';

export function stepFollower(r: Raft, m: RaftMsg): void {
  assert(r.role === 'follower', 'stepFollower on a non-follower');
  switch (m.t) {
    case 'app':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snap':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnap(r, m);
      return;
    case 'timeout-now':
      // Leadership transfer: campaign at once, skipping PreVote and the stickiness of other voters.
      hup(r, true);
      return;
    case 'read-index-resp':
      r.readStates.push({ index: m.index, ctx: m.ctx });
      return;
    default:
      return; // stale votes, forwarded reads addressed to a non-leader: dropped
  }
}

export function stepCandidate(r: Raft, m: RaftMsg): void {
  assert(r.role === 'candidate' || r.role === 'pre-candidate', 'stepCandidate outside an election');
  switch (m.t) {
    case 'app':
    case 'heartbeat':
    case 'snap':
      // A leader exists in our term (a pre-candidate's term is the current one): follow it.
      becomeFollower(r, m.term, m.from);
      stepFollower(r, m);
      return;
    case 'vote-resp':
      if (r.role === 'candidate') poll(r, m.from, !m.reject);
      return;
    case 'prevote-resp':
      if (r.role === 'pre-candidate') poll(r, m.from, !m.reject);
      return;
    default:
      return;
  }
}

function handleAppend(r: Raft, m: MsgApp): void {
  const reply = { t: 'app-resp' as const, from: r.id, to: m.from, term: r.term, hintIndex: 0, hintTerm: 0, noBase: false };
  if (!r.hasBase) {
    r.send({ ...reply, index: m.index, reject: true, noBase: true });
    return;
  }
  if (m.index < r.log.committed) {
    r.send({ ...reply, index: r.log.committed, reject: false });
    return;
  }
  if (r.log.matchTerm(m.index, m.logTerm)) {
    const lastNew = r.log.appendAfter(m.index, m.entries);
    assert(lastNew >= m.index && lastNew <= r.log.lastIndex(), 'append result out of range');
    r.commitTo(Math.min(m.commit, lastNew));
    r.send({ ...reply, index: lastNew, reject: false });
    return;
  }
  // Fast back-off: hint the largest index whose term is <= the leader's term at m.index.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  assert(hint.index <= m.index, 'the hint never points past the probe');
  r.send({ ...reply, index: m.index, reject: true, hintIndex: hint.index, hintTerm: hint.term });
}

function handleHeartbeat(r: Raft, m: MsgHeartbeat): void {
  // The leader sends min(match, commit), so the entry is present here.
  r.commitTo(m.commit);
  r.send({ t: 'heartbeat-resp', from: r.id, to: m.from, term: r.term, readSeq: m.readSeq, commit: r.log.committed });
}

function handleSnap(r: Raft, m: MsgSnap): void {
  const stale = r.hasBase && m.snapIndex <= r.log.committed;
  if (stale) {
    r.snapAssembly = null;
    r.send({ t: 'app-resp', from: r.id, to: m.from, term: r.term, index: r.log.committed, reject: false, hintIndex: 0, hintTerm: 0, noBase: false });
    return;
  }
  if (m.offset === 0) {
    r.snapAssembly = { index: m.snapIndex, term: m.snapTerm, conf: m.conf, totalBytes: m.totalBytes, receivedBytes: 0, chunks: [] };
  }
  const asm = r.snapAssembly;
  const ack = (offset: number) => r.send({ t: 'snap-resp', from: r.id, to: m.from, term: r.term, snapIndex: m.snapIndex, offset });
  if (asm === null || asm.index !== m.snapIndex || asm.term !== m.snapTerm) {
    ack(0); // we hold nothing of this snapshot: restart it
    return;
  }
  if (m.offset !== asm.receivedBytes) {
    ack(asm.receivedBytes); // duplicate or gap: tell the leader where we are
    return;
  }
  asm.chunks.push(m.data);
  asm.receivedBytes += m.data.length;
  assert(asm.receivedBytes <= asm.totalBytes, 'snapshot chunks overrun the announced size');
  if (!m.done) {
    ack(asm.receivedBytes);
    return;
  }
  assert(asm.receivedBytes === asm.totalBytes, 'last snapshot chunk before the announced size');
  const data = new Uint8Array(asm.totalBytes);
  let at = 0;
  for (const chunk of asm.chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  r.snapAssembly = null;
  restoreSnapshot(r, m.from, { meta: { index: asm.index, term: asm.term, conf: asm.conf }, data });
}

function restoreSnapshot(r: Raft, leader: string, snapshot: Snapshot): void {
  const reply = { t: 'app-resp' as const, from: r.id, to: leader, term: r.term, reject: false, hintIndex: 0, hintTerm: 0, noBase: false };
  const index = snapshot.meta.index;
  if (!r.hasBase && index <= r.log.committed) {
    // A joining node learns the cluster's base configuration (the leader's log starts right after it).
    assert(r.log.lastIndex() === 0 && index === 0, 'a base snapshot is only adopted by an empty node');
    r.log.snapshot = snapshot;
    r.log.pendingSnapshot = snapshot;
    installSnapshotConf(r, snapshot);
    r.send({ ...reply, index: 0 });
    return;
  }
  if (r.log.matchTerm(index, snapshot.meta.term)) {
    // We already hold the snapshot's last entry: only the commit index moves.
    r.commitTo(index);
    r.send({ ...reply, index: r.log.lastIndex() });
    return;
  }
  r.log.restore(snapshot);
  installSnapshotConf(r, snapshot);
  assert(r.log.lastIndex() === index && r.log.committed === index, 'restore must reset the log to the snapshot');
  r.send({ ...reply, index });
}
