// Deliberately broken cores, to prove the checkers can fail (a checker that never fires proves nothing).
import type { ConfChange, CreateRaftNode, Entry, HardState, NodeId, RaftMessage, RaftNode, RaftStatus, Ready, Role } from '../../actors/raft/core/types.js';

/**
 * A core whose Readies pass through `mapReady` on their way to the host; every other call goes to the
 * wrapped node unchanged. For deliberately broken cores here and for tests that watch what a core emits.
 */
export function withReady(inner: CreateRaftNode, mapReady: (ready: Ready, id: NodeId) => Ready): CreateRaftNode {
  return (config, storage) => {
    const node = inner(config, storage);
    return {
      tick: () => node.tick(),
      step: (msg) => node.step(msg),
      propose: (data) => node.propose(data),
      proposeConfChange: (change) => node.proposeConfChange(change),
      readIndex: (ctx) => node.readIndex(ctx),
      transferLeadership: (to) => node.transferLeadership(to),
      campaign: () => node.campaign(),
      hasReady: () => node.hasReady(),
      ready: (): Ready => mapReady(node.ready(), config.id),
      advance: () => node.advance(),
      compact: (snapshot) => node.compact(snapshot),
      releasePayloads: (through) => node.releasePayloads(through),
      status: () => node.status(),
    };
  };
}

/**
 * Wraps a core so that one node hands the host a corrupted copy of one committed entry, as a bad
 * apply path or a bit flip between log and FSM would.
 */
export function corruptAppliedEntry(inner: CreateRaftNode, victim: NodeId, index: number): CreateRaftNode {
  const corrupt = (entry: Entry): Entry => (entry.index === index ? { ...entry, payload: { t: 'normal', data: new Uint8Array([0x62, 0x61, 0x64]) } } : entry);
  return withReady(inner, (ready, id) => (id === victim ? { ...ready, committed: ready.committed.map(corrupt) } : ready));
}

/**
 * A "core" that elects itself without votes and commits without a quorum: every voter becomes leader
 * of the next term on its first timeout and commits its own entries at once. Followers copy the log
 * of whoever sends an append with a term at least theirs.
 */
export const noQuorumCore: CreateRaftNode = (config, storage) => {
  let term = storage.hardState.term;
  let vote: NodeId | null = storage.hardState.vote;
  let commit = storage.hardState.commit;
  let applied = storage.snapshot?.meta.index ?? 0;
  let role: Role = 'follower';
  let leader: NodeId | null = null;
  const log: Entry[] = [...storage.entries];
  const base = storage.snapshot?.meta.index ?? 0;
  const conf = storage.snapshot?.meta.conf ?? storage.bootstrap ?? { voters: [], learners: [] };
  let elapsed = 0;
  let unstable: Entry[] = [];
  let hardDirty = false;
  let softDirty = false;
  let outbox: RaftMessage[] = [];
  const lastIndex = (): number => base + log.length;
  const append = (payload: Entry['payload']): Entry => {
    const entry: Entry = { index: lastIndex() + 1, term, payload };
    log.push(entry);
    unstable.push(entry);
    commit = lastIndex(); // the bug: no quorum
    hardDirty = true;
    return entry;
  };
  const broadcast = (): void => {
    for (const to of conf.voters) if (to !== config.id) outbox.push({ t: 'fake-app', from: config.id, to, term, entries: log.slice(), commit });
  };
  const node: RaftNode = {
    tick() {
      elapsed++;
      if (role === 'leader') broadcast();
      else if (elapsed >= config.electionTicks && conf.voters.includes(config.id)) node.campaign();
    },
    campaign() {
      term++;
      vote = config.id;
      role = 'leader';
      leader = config.id;
      softDirty = true;
      append({ t: 'empty' });
      broadcast();
    },
    step(msg) {
      if (msg.t !== 'fake-app' || msg.term < term) return;
      elapsed = 0;
      if (msg.term > term || role !== 'follower') (role = 'follower'), (softDirty = true);
      term = msg.term;
      leader = msg.from;
      const entries = (msg.entries as Entry[]).filter((e) => e.index > base);
      log.length = 0;
      log.push(...entries);
      unstable = entries.slice();
      commit = Math.min(msg.commit as number, lastIndex());
      hardDirty = true;
    },
    propose(data) {
      if (role !== 'leader') return { ok: false, error: 'not-leader' };
      const entry = append({ t: 'normal', data });
      return { ok: true, index: entry.index, term };
    },
    proposeConfChange(_change: ConfChange) {
      return { ok: false, error: 'conf-change-pending' };
    },
    readIndex() {
      return { ok: false, error: 'no-leader' };
    },
    transferLeadership() {
      return { ok: false, error: 'not-leader' };
    },
    hasReady() {
      return hardDirty || softDirty || unstable.length > 0 || outbox.length > 0 || applied < commit;
    },
    ready() {
      const hardState: HardState | null = hardDirty ? { term, vote, commit } : null;
      const committed = log.filter((e) => e.index > applied && e.index <= commit);
      const ready: Ready = { hardState, entries: unstable, snapshot: null, messages: outbox, messagesAfterPersist: [], committed, readStates: [], softState: softDirty ? { leader, role } : null };
      unstable = [];
      outbox = [];
      hardDirty = false;
      softDirty = false;
      applied = Math.max(applied, commit);
      return ready;
    },
    advance() {},
    compact() {},
    releasePayloads: () => 0,
    status(): RaftStatus {
      return { id: config.id, term, role, leader, commit, applied, lastIndex: lastIndex(), firstIndex: base + 1, conf, progress: null, readsConfirmedByAsker: 0 };
    },
  };
  return node;
};
