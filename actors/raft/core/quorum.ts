// Majority vote and commit math over a voter list. Pure and small, checked against a dumb version in quorum.test.ts.
import { assert } from '../../../runtime/assert.js';
import type { NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/** Majority size of a voter set of `count` members. */
export function quorumSize(count: number): number {
  assert(Number.isSafeInteger(count) && count >= 0, 'voter count must be a non-negative integer');
  return Math.floor(count / 2) + 1;
}

/**
 * The largest index acknowledged by a majority of `voters`; `acked` returns 0 for an unknown voter.
 * An empty voter set commits nothing (0): callers never advance with no voters.
 */
export function committedIndex(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const indexes = voters.map(acked);
  for (const index of indexes) assert(Number.isSafeInteger(index) && index >= 0, `acked index must be a non-negative integer: ${index}`);
  indexes.sort((a, b) => b - a); // descending
  const result = indexes[quorumSize(voters.length) - 1];
  assert(result !== undefined, 'quorum index must exist');
  return result;
}

/** Tally of granted (true) and rejected (false) votes; voters that did not answer are pending. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won'; // by convention, as etcd: an empty config wins every vote
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  assert(granted + rejected <= voters.length, 'more votes than voters');
  const need = quorumSize(voters.length);
  if (granted >= need) return 'won';
  if (granted + (voters.length - granted - rejected) >= need) return 'pending';
  return 'lost';
}
