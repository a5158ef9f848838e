// Optimistic concurrency for write-sets (docs/concurrency.md). A handler reads what it needs, builds its
// write-set and names, as guards, the keys it read with a hash of the ciphertext it saw. The one thread
// that proposes writes (the raft actor on a node; LocalWritePath in storage tests) checks the guards
// against the latest value of each key, the value of a write-set still in flight included, and refuses a
// write-set whose reads are out of date. The loser re-executes against the winner's value.
//
// The check runs where writes are proposed so that no second thread has to mirror the in-flight
// write-sets: before, the core actor checked them and then forwarded every write-set to the raft actor,
// a hop of its own per write (docs/performance.md, session 15).
import { createHash } from 'node:crypto';
import { encodeWriteSet, type StorageOp } from './write-set.js';

export interface Guard {
  key: string;
  /** Hash of the ciphertext read, or null when the key was absent. */
  hash: string | null;
}

export type CommitReply = { ok: true; index: number } | { ok: false; conflictKey: string };

export function versionHash(blob: Uint8Array | undefined): string | null {
  return blob === undefined ? null : createHash('sha256').update(blob).digest('base64').slice(0, 22);
}

/**
 * A write-set as the proposing thread takes it: already encoded for the log entry, with the hash of the
 * value it gives each key. The sender does this work, so the proposer (the raft actor, the busiest thread
 * of an active node under writes) neither decodes the values nor hashes them.
 */
export interface PreparedCommit {
  /** encodeWriteSet({ ops }): the log entry's payload. */
  data: Uint8Array;
  /** Per op: its key, and versionHash of the value it puts (null: a delete). */
  writes: { key: string; hash: string | null }[];
  guards: Guard[];
}

export function prepareCommit(ops: StorageOp[], guards: Guard[]): PreparedCommit {
  return {
    data: encodeWriteSet({ ops }),
    writes: ops.map((op) => ({ key: op.key, hash: op.t === 'put' ? versionHash(op.value) : null })),
    guards,
  };
}

export interface GuardedCommitDeps {
  /** The key's value as of everything applied so far (the caller keeps its read snapshot current). */
  read(key: string): Uint8Array | undefined;
  /** Proposes an encoded write-set; resolves with its index once it is applied (readable by `read`). */
  propose(data: Uint8Array): Promise<number>;
  /**
   * Null when `read` shows every write-set committed before this proposer's own, else a promise of that
   * (a new Raft leader until it applied the first entry of its term: RaftHost.termStartApplied).
   */
  ready?(): Promise<void> | null;
}

interface InFlight {
  /** versionHash of the value the newest in-flight write-set gives the key (null: deleted). */
  hash: string | null;
  inFlight: number;
  landed: Promise<unknown>;
}

export class GuardedCommit {
  private readonly pending = new Map<string, InFlight>();

  constructor(private readonly deps: GuardedCommitDeps) {}

  /** Write-sets in flight per key (tests). */
  inFlightKeys(): number {
    return this.pending.size;
  }

  /**
   * Refused with the first guard whose key changed since the handler read it. A key written by a
   * write-set still in flight counts with that write-set's value; the refusal then waits until it has
   * landed, so the re-executed request reads the winner's value instead of losing to it again.
   */
  async commit({ data, writes, guards }: PreparedCommit): Promise<CommitReply> {
    const wait = this.deps.ready?.() ?? null;
    if (wait !== null) await wait;
    // From here to the registration below nothing awaits: the check and the registration are one step.
    for (const g of guards) {
      const pending = this.pending.get(g.key);
      const current = pending ? pending.hash : versionHash(this.deps.read(g.key));
      if (current === g.hash) continue;
      if (pending) await pending.landed.catch(() => undefined);
      return { ok: false, conflictKey: g.key };
    }
    // Registered synchronously, before the first await: a guard check that runs while this write-set
    // is in flight already sees it.
    const proposed = this.deps.propose(data);
    for (const { key, hash } of writes) {
      const entry = this.pending.get(key);
      if (entry) {
        entry.hash = hash;
        entry.inFlight++;
        entry.landed = proposed;
      } else this.pending.set(key, { hash, inFlight: 1, landed: proposed });
    }
    try {
      return { ok: true, index: await proposed };
    } finally {
      for (const { key } of writes) {
        const entry = this.pending.get(key);
        if (entry && --entry.inFlight === 0) this.pending.delete(key);
      }
    }
  }
}
