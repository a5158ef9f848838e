// The raft actor is the one thread that proposes write-sets on a node, so it checks their guards
// (actors/storage/guarded-commit.ts) against this host's FSM and the write-sets it has in flight.
import { raftLimits } from '../../runtime/limits.js';
import { GuardedCommit } from '../storage/guarded-commit.js';
import type { RaftHost } from './host.js';

export function guardedProposals(h: RaftHost): GuardedCommit {
  let readAt = -1;
  return new GuardedCommit({
    read: (key) => {
      // Entries are applied in this thread; its read snapshot is renewed once the applied index moved,
      // so a guard is checked against every write-set that has left the in-flight map.
      const applied = h.fsmApplied().index;
      if (applied !== readAt) {
        h.env.root.resetReadTxn();
        readAt = applied;
      }
      return h.env.fsm.get(key);
    },
    propose: (data) => h.propose(data),
    ready: () => h.termStartApplied(raftLimits.termStartWaitMs),
  });
}
