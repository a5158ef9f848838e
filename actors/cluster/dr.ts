// Disaster recovery (docs/dr.md): non-voters in a second site follow the log without counting toward the
// quorum; when the voters' site is lost, an operator promotes one of them. `dr/status` shows what each
// node holds (to pick the most up-to-date one) and whether it may take over; `dr/promote` makes it the only
// voter (RaftHost.recoverAsSoleVoter), drops the lost voters from the peer map and fences them off, so a
// lost voter that comes back with its old log cannot pull the new group into the configuration it left.
// Both run on the node that receives them, never forwarded: there is no active node to forward to.
import { CofferError } from '../../runtime/errors.js';
import { raftLimits } from '../../runtime/limits.js';
import { FENCED_KEY, PEERS_KEY, parseFencedList, type PeerMap } from '../raft/host.js';
import type { CoreHooks } from './cluster.js';

export interface DrStatus {
  node_id: string;
  /** Raft role here: leader, follower, candidate or pre-candidate. */
  role: string;
  voter: boolean;
  leader_id: string;
  term: number;
  /** Highest log index held here: promote the DR node with the highest. */
  last_index: number;
  commit_index: number;
  applied_index: number;
  /** Each voter of the configuration, with the milliseconds since it was last heard from (-1: never). */
  voters: { node_id: string; last_contact_ms: number }[];
  non_voters: string[];
  fenced: string[];
  /** How long every voter must have been silent before dr/promote is accepted. */
  required_silence_ms: number;
  /** Whether dr/promote would be accepted now (the same checks as the promotion itself). */
  promotable: boolean;
  /** When not promotable: why (the promotion's 400 message). */
  reason?: string;
}

export interface DrPromoted {
  node_id: string;
  term: number;
  /** Index of the recovery entry: everything this node held up to it is kept. */
  index: number;
  removed_voters: string[];
  non_voters: string[];
}

export async function drStatus(hooks: CoreHooks, nodeId: string): Promise<DrStatus> {
  const st = await hooks.raft({ t: 'cluster-status' });
  if (!st.started) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'raft is not started on this node (not initialised or not joined)');
  const contact = st.contactMs ?? {};
  const voters = st.conf.voters.map((id) => ({ node_id: id, last_contact_ms: id === nodeId ? 0 : (contact[id] ?? -1) }));
  // null: promotable; absent: the group is not running on this node.
  const refusal = st.recoveryRefusal === undefined ? 'raft is not running on this node' : st.recoveryRefusal;
  return {
    node_id: nodeId,
    role: st.role ?? 'follower',
    voter: st.conf.voters.includes(nodeId),
    leader_id: st.leader ?? '',
    term: st.term,
    last_index: st.lastIndex ?? st.commit,
    commit_index: st.commit,
    applied_index: st.applied,
    voters,
    non_voters: [...st.conf.learners],
    fenced: st.fenced ?? [],
    required_silence_ms: raftLimits.drSilenceMs,
    promotable: refusal === null,
    ...(refusal !== null ? { reason: refusal } : {}),
  };
}

/** dr/promote on this node; `confLock` serialises it with the other membership changes of this node. */
export async function drPromote(hooks: CoreHooks, nodeId: string, confLock: <T>(fn: () => Promise<T>) => Promise<T>): Promise<DrPromoted> {
  return confLock(async () => {
    const st = await hooks.raft({ t: 'cluster-status' });
    if (!st.started) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'raft is not started on this node (not initialised or not joined)');
    const removed = st.conf.voters.filter((id) => id !== nodeId);
    const learners = st.conf.learners.filter((id) => id !== nodeId);
    const { index, term } = await hooks.raft({ t: 'dr-recover', learners, silenceMs: raftLimits.drSilenceMs }, 30_000);
    // This node leads a group of its own now: forget the lost voters' addresses, and fence them off.
    const peers = readPeerMap(hooks);
    for (const id of removed) delete peers[id];
    if (peers[nodeId] !== undefined) delete peers[nodeId].non_voter;
    const fenced = [...new Set([...readFencedList(hooks), ...removed])].sort();
    await hooks.commit(fenceOps(peers, fenced));
    hooks.warn(`disaster recovery: ${nodeId} is now the only voter (term ${term}, index ${index}); removed and fenced ${removed.join(', ') || 'no voter'}`);
    return { node_id: nodeId, term, index, removed_voters: removed, non_voters: learners };
  });
}

export function readPeerMap(hooks: Pick<CoreHooks, 'readPhysical'>): PeerMap {
  const bytes = hooks.readPhysical(PEERS_KEY);
  return bytes === undefined ? {} : (JSON.parse(bytes.toString('utf8')) as PeerMap);
}

export function readFencedList(hooks: Pick<CoreHooks, 'readPhysical'>): string[] {
  return parseFencedList(hooks.readPhysical(FENCED_KEY)) ?? [];
}

/** The peer map and the fence list are written together: the raft host reads the list whenever the map changes. */
export function fenceOps(peers: PeerMap, fenced: string[]): { t: 'put'; key: string; value: Buffer }[] {
  return [
    { t: 'put', key: PEERS_KEY, value: Buffer.from(JSON.stringify(peers)) },
    { t: 'put', key: FENCED_KEY, value: Buffer.from(JSON.stringify(fenced)) },
  ];
}
