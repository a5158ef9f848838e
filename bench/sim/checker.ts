// Cross-node invariants (RELIABILITY §4.1), kept as global knowledge that only grows:
// - leaderOfTerm: Election Safety, at most one leader per term, over the whole run;
// - entryIds: (index, term) -> payload digest and previous term. In Raft an (index, term) pair names
//   one entry forever (one leader per term, append-only), so a second, different entry under the same
//   pair, or the same pair after a different previous term, breaks Log Matching;
// - committed: index -> (term, digest), from every node's commit index and every apply: a committed
//   entry never changes and is never lost;
// - chainAt: index -> FSM hash chain, so every node applies the same sequence (prefix property).
import type { Entry, NodeId } from '../../actors/raft/core/types.js';
import { payloadDigest } from './fsm.js';
import type { SimDisk } from './disk.js';
import { check } from './violation.js';

interface EntryId {
  digest: string;
  prevTerm: number | undefined;
}

interface Committed {
  term: number;
  digest: string;
  /**
   * Term of the node that first saw it committed: an upper bound of the term it was committed in.
   * Leader Completeness binds leaders of later terms only: a leader of a lower term may still be
   * elected afterwards by delayed votes, without the entry, and that is correct Raft.
   */
  observedTerm: number;
}

export class Checker {
  readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly entryIds = new Map<string, EntryId>();
  private readonly committed: Committed[] = [];
  private readonly chainAt: number[] = [];
  committedMax = 0;
  appliedMax = 0;
  readsChecked = 0;

  /** Returns true when `node` is the first leader seen for `term`. */
  observeLeader(node: NodeId, term: number): boolean {
    const prev = this.leaderOfTerm.get(term);
    check(prev === undefined || prev === node, 'election-safety', () => `two leaders in term ${term}: ${prev} and ${node}`);
    if (prev !== undefined) return false;
    this.leaderOfTerm.set(term, node);
    return true;
  }

  /** An entry made durable on a node, with the term of the entry before it in that node's log. */
  recordEntry(node: NodeId, entry: Entry, prevTerm: number | undefined): void {
    const key = `${entry.index}/${entry.term}`;
    const digest = payloadDigest(entry.payload);
    const known = this.entryIds.get(key);
    if (known === undefined) {
      this.entryIds.set(key, { digest, prevTerm });
      return;
    }
    check(known.digest === digest, 'log-matching', () => `${node}: entry ${key} is ${digest}, elsewhere ${known.digest}`);
    if (known.prevTerm !== undefined && prevTerm !== undefined) {
      check(known.prevTerm === prevTerm, 'log-matching', () => `${node}: entry ${key} follows term ${prevTerm}, elsewhere term ${known.prevTerm}`);
    }
    if (known.prevTerm === undefined && prevTerm !== undefined) known.prevTerm = prevTerm;
  }

  /** Entry `index` is committed on `node` with this term and payload. */
  recordCommitted(node: NodeId, index: number, term: number, digest: string, observedTerm: number): void {
    const known = this.committed[index];
    if (known === undefined) {
      this.committed[index] = { term, digest, observedTerm };
      if (index > this.committedMax) this.committedMax = index;
      return;
    }
    check(known.term === term && known.digest === digest, 'committed-entry-lost', () => `${node}: committed entry ${index} is ${term}/${digest}, elsewhere ${known.term}/${known.digest}`);
  }

  committedAt(index: number): { term: number; digest: string } | undefined {
    return this.committed[index];
  }

  raiseCommittedMax(index: number): void {
    if (index > this.committedMax) this.committedMax = index;
  }

  /** A node applied `entry`, reaching `chain`. */
  recordApplied(node: NodeId, entry: Entry, chain: number, observedTerm: number): void {
    const digest = payloadDigest(entry.payload);
    const known = this.committed[entry.index];
    if (known !== undefined) {
      check(known.term === entry.term && known.digest === digest, 'state-machine-safety', () => `${node}: applied ${entry.index} as ${entry.term}/${digest}, elsewhere ${known.term}/${known.digest}`);
    } else {
      this.recordCommitted(node, entry.index, entry.term, digest, observedTerm);
    }
    const chainKnown = this.chainAt[entry.index];
    if (chainKnown === undefined) this.chainAt[entry.index] = chain;
    else check(chainKnown === chain, 'state-machine-safety', () => `${node}: applied sequence up to ${entry.index} differs from another node's (chain ${chain} != ${chainKnown})`);
    if (entry.index > this.appliedMax) this.appliedMax = entry.index;
  }

  /** A node's FSM was set from snapshot data at `index` with `chain`. */
  recordSnapshotState(node: NodeId, index: number, chain: number): void {
    if (index === 0) return;
    const known = this.chainAt[index];
    check(known !== undefined, 'snapshot-mismatch', () => `${node}: snapshot at ${index} that no node applied up to`);
    check(known === chain, 'snapshot-mismatch', () => `${node}: snapshot at ${index} holds a state no node applied (chain ${chain} != ${known})`);
  }

  /** Leader Completeness: a newly seen leader holds every entry committed so far. */
  checkLeaderLog(node: NodeId, term: number, disk: SimDisk): void {
    for (let index = disk.snapshotIndex + 1; index <= this.committedMax; index++) {
      const known = this.committed[index];
      // Unknown: committed index learned where the entry was compacted. Later: see observedTerm.
      if (known === undefined || known.observedTerm >= term) continue;
      const entry = disk.entry(index);
      check(entry !== undefined, 'leader-completeness', () => `${node} leads term ${term} without committed entry ${index} (log ends at ${disk.lastIndex})`);
      check(entry.term === known.term && payloadDigest(entry.payload) === known.digest, 'leader-completeness', () => `${node} leads term ${term} with ${index} = ${entry.term}/${payloadDigest(entry.payload)}, committed ${known.term}/${known.digest}`);
    }
  }

  /** A ReadIndex answer must be at or after every commit observed before the read was issued. */
  checkRead(node: NodeId, ctx: string, index: number, minIndex: number): void {
    this.readsChecked++;
    check(index >= minIndex, 'linearizable-read', () => `${node}: read ${ctx} answered at index ${index}, but ${minIndex} was committed before it was issued`);
  }
}
