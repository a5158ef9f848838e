// A broken invariant found by the simulator's checkers: a value with a name, never a crash of the host.
export type Invariant =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'committed-entry-lost'
  | 'apply-order'
  | 'applied-beyond-commit'
  | 'commit-beyond-log'
  | 'committed-not-durable'
  | 'hard-state-regression'
  | 'persist-contract'
  | 'snapshot-mismatch'
  | 'linearizable-read'
  | 'liveness'
  | 'core-threw';

export class Violation extends Error {
  override name = 'Violation';
  constructor(
    readonly invariant: Invariant,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

export function check(condition: boolean, invariant: Invariant, detail: () => string): asserts condition {
  if (!condition) throw new Violation(invariant, detail());
}
