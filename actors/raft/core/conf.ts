// One-server-at-a-time membership: applying a ConfChange to a ConfState, and the history of configurations.
// Coffer applies a change when its entry COMMITS (etcd style), see docs/raft.md §Membership.
import { assert, assertNever } from '../../../runtime/assert.js';
import type { ConfChange, ConfState, NodeId } from './types.js';

/** Node ids sort numerically when they are decimal strings ("2" < "10"), else lexicographically. */
export function compareIds(a: NodeId, b: NodeId): number {
  if (a.length !== b.length && /^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function normalizeConf(conf: ConfState): ConfState {
  const voters = [...new Set(conf.voters)].sort(compareIds);
  const learners = [...new Set(conf.learners)].filter((id) => !voters.includes(id)).sort(compareIds);
  assert(voters.length === conf.voters.length, 'duplicate voter in configuration');
  assert(learners.length === conf.learners.length, 'node both voter and learner, or duplicate learner');
  return { voters, learners };
}

export function sameConf(a: ConfState, b: ConfState): boolean {
  const x = normalizeConf(a);
  const y = normalizeConf(b);
  return x.voters.join(',') === y.voters.join(',') && x.learners.join(',') === y.learners.join(',');
}

/**
 * The configuration after `change`. A change that makes no sense in `conf` (adding an existing voter,
 * promoting a non-learner, removing or demoting the last voter) is a no-op on every node alike, so
 * replicas stay identical whatever the proposer checked.
 */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const id = change.node;
  const isVoter = conf.voters.includes(id);
  const isLearner = conf.learners.includes(id);
  const without = (list: NodeId[]) => list.filter((x) => x !== id);
  let next: ConfState;
  switch (change.t) {
    case 'add-voter':
      next = isVoter ? conf : { voters: [...conf.voters, id], learners: without(conf.learners) };
      break;
    case 'add-learner':
      next = isVoter || isLearner ? conf : { voters: conf.voters, learners: [...conf.learners, id] };
      break;
    case 'promote':
      next = isLearner ? { voters: [...conf.voters, id], learners: without(conf.learners) } : conf;
      break;
    case 'demote':
      next = isVoter && conf.voters.length > 1 ? { voters: without(conf.voters), learners: [...conf.learners, id] } : conf;
      break;
    case 'remove':
      if (isVoter) next = conf.voters.length > 1 ? { voters: without(conf.voters), learners: conf.learners } : conf;
      else next = isLearner ? { voters: conf.voters, learners: without(conf.learners) } : conf;
      break;
    case 'recover':
      next = { voters: [id], learners: change.learners.filter((x) => x !== id) };
      break;
    default:
      return assertNever(change);
  }
  const result = normalizeConf(next);
  assert(result.voters.length >= 1 || conf.voters.length === 0, 'a change never empties the voters');
  return result;
}

/** Configurations by the index at which they took effect (committed), oldest first; the first is the base. */
export class ConfHistory {
  private items: { index: number; conf: ConfState }[];

  constructor(baseIndex: number, base: ConfState) {
    this.items = [{ index: baseIndex, conf: normalizeConf(base) }];
  }

  current(): ConfState {
    return this.items[this.items.length - 1]!.conf;
  }

  push(index: number, conf: ConfState): void {
    assert(index > this.items[this.items.length - 1]!.index, 'configuration history must grow');
    this.items.push({ index, conf });
  }

  /** Configuration in effect at `index` (at or after the base). */
  at(index: number): ConfState {
    assert(index >= this.items[0]!.index, `configuration at ${index} is before the history base`);
    let found = this.items[0]!.conf;
    for (const item of this.items) if (item.index <= index) found = item.conf;
    return found;
  }

  /** Forgets configurations superseded before `index` (log compaction). */
  compact(index: number): void {
    const keep = this.items.filter((item, i) => item.index >= index || this.items[i + 1] === undefined || this.items[i + 1]!.index > index);
    assert(keep.length >= 1, 'configuration history must keep one entry');
    this.items = keep;
  }
}
