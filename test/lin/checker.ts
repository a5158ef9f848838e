// Linearizability checker (RELIABILITY.md Appendix A): per-key partitioning (P-compositionality, Horn &
// Kroening) and, per partition, the Wing & Gong just-in-time linearization search with Lowe's memoization
// of (set of linearized operations, model state). Pure and deterministic: the budget is a step count
// (optionally also a deadline against a clock the caller injects); no I/O, no global randomness.
import type { Operation } from './history.js';
import { splitmix32, type Model } from './model.js';

export type Verdict = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Total search steps over all partitions (one step = one candidate tried or one backtrack). Default 20,000,000. */
  readonly maxSteps?: number;
  /** Memoized configurations held at once for one partition (bounds memory). Default 3,000,000. */
  readonly maxCacheEntries?: number;
  /** Optional wall-clock budget in ms; needs `now` (e.g. `() => performance.now()`). Checked every 4096 steps. */
  readonly deadlineMs?: number;
  readonly now?: () => number;
  /** Stop at the first illegal partition (smallest partitions are checked first). Default true. */
  readonly stopAtFirstViolation?: boolean;
}

/** Why an illegal partition is illegal: the longest prefix the search could linearize and the operation it then could not place. */
export interface Violation<S, I, O> {
  readonly key: string;
  /** The longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly Operation<I, O>[];
  /** Model state after `prefix`. */
  readonly stateAfterPrefix: S;
  /** The operation whose return was reached while it was still unplaced: no pending operation could be linearized before it. */
  readonly stuck: Operation<I, O>;
  /** Operations invoked no later than `stuck` returned and not in `prefix`: the candidates for the next slot, each with whether its step is legal from `stateAfterPrefix`. */
  readonly candidates: readonly { readonly op: Operation<I, O>; readonly legalNext: boolean }[];
  /** Human-readable explanation (several lines). */
  readonly explanation: string;
}

export interface PartitionResult<S, I, O> {
  readonly key: string;
  readonly verdict: Verdict | 'skipped';
  readonly ops: number;
  readonly steps: number;
  /** Memoized configurations at the end of the search. */
  readonly cacheEntries: number;
  /** For `ok`: operation ids in a valid linearization order. */
  readonly linearization?: readonly number[];
  readonly violation?: Violation<S, I, O>;
  /** For `unknown`: which budget ran out. */
  readonly reason?: string;
}

export interface CheckResult<S, I, O> {
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionResult<S, I, O>[];
  /** The first illegal partition's explanation (partitions are checked smallest first). */
  readonly violation?: Violation<S, I, O>;
  readonly stats: {
    readonly ops: number;
    readonly keys: number;
    readonly indeterminate: number;
    readonly steps: number;
    readonly unknownKeys: number;
    readonly illegalKeys: number;
  };
}

const DEFAULT_MAX_STEPS = 20_000_000;
const DEFAULT_MAX_CACHE = 3_000_000;

/** Groups operations by key: the history is linearizable iff every per-key sub-history is (Herlihy & Wing locality). */
export function partitionByKey<I, O>(ops: readonly Operation<I, O>[]): Map<string, Operation<I, O>[]> {
  const parts = new Map<string, Operation<I, O>[]>();
  for (const op of ops) {
    let list = parts.get(op.key);
    if (list === undefined) parts.set(op.key, (list = []));
    list.push(op);
  }
  return parts;
}

/** Checks a prepared history (see prepareHistory). */
export function checkHistory<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult<S, I, O> {
  const budget = new Budget(options);
  const parts = [...partitionByKey(ops)].sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const results: PartitionResult<S, I, O>[] = [];
  const stopAtFirst = options.stopAtFirstViolation ?? true;
  let violation: Violation<S, I, O> | undefined;
  let stop = false;
  for (const [key, partOps] of parts) {
    if (stop) {
      results.push({ key, verdict: 'skipped', ops: partOps.length, steps: 0, cacheEntries: 0 });
      continue;
    }
    const r = checkPartition(model, key, partOps, budget, options.maxCacheEntries ?? DEFAULT_MAX_CACHE);
    results.push(r);
    if (r.verdict === 'illegal') {
      violation ??= r.violation;
      if (stopAtFirst) stop = true;
    }
  }
  const illegalKeys = results.filter((r) => r.verdict === 'illegal').length;
  const unknownKeys = results.filter((r) => r.verdict === 'unknown').length;
  const verdict: Verdict = illegalKeys > 0 ? 'illegal' : unknownKeys > 0 || results.some((r) => r.verdict === 'skipped') ? 'unknown' : 'ok';
  return {
    verdict,
    partitions: results,
    ...(violation !== undefined ? { violation } : {}),
    stats: {
      ops: ops.length,
      keys: parts.length,
      indeterminate: ops.filter((o) => o.output === undefined).length,
      steps: budget.steps,
      unknownKeys,
      illegalKeys,
    },
  };
}

class Budget {
  steps = 0;
  readonly maxSteps: number;
  private readonly deadline: number | undefined;
  private readonly now: (() => number) | undefined;
  constructor(options: CheckOptions) {
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.now = options.now;
    this.deadline = options.deadlineMs !== undefined && options.now !== undefined ? options.now() + options.deadlineMs : undefined;
  }
  /** Adds one step; returns a reason when the budget is exhausted. */
  take(): string | undefined {
    this.steps++;
    if (this.steps > this.maxSteps) return `budget exhausted: ${this.maxSteps} steps`;
    if (this.deadline !== undefined && (this.steps & 4095) === 0 && this.now!() > this.deadline) return 'budget exhausted: deadline';
    return undefined;
  }
}

// Zobrist keys: one random uint32 per operation index, XORed into the hash of the linearized set so that
// the set's hash is updated in O(1) when one operation is added or removed.
let zobrist = new Uint32Array(0);
function zobristKeys(n: number): Uint32Array {
  if (zobrist.length < n) {
    const next = new Uint32Array(Math.max(n, zobrist.length * 2, 64));
    const rand = splitmix32(0x5eed1234);
    for (let i = 0; i < next.length; i++) next[i] = rand();
    zobrist = next;
  }
  return zobrist;
}

/**
 * Lowe's memo of visited (linearized set, model state) configurations. The sets live in one flat
 * Uint32Array arena (`words` per entry) and entries with the same hash are chained, so remembering a
 * configuration allocates nothing but (amortised) arena growth — per-entry typed arrays cost a third of
 * the run time in garbage collection.
 */
class ConfigCache<S> {
  size = 0;
  private arena: Uint32Array;
  private chain: Int32Array;
  private readonly states: S[] = [];
  private readonly heads = new Map<number, number>();
  constructor(
    private readonly words: number,
    private readonly equal: (a: S, b: S) => boolean,
  ) {
    this.arena = new Uint32Array(words * 1024);
    this.chain = new Int32Array(1024);
  }
  /** Adds the configuration unless present; returns false when it was already there. */
  add(hash: number, bits: Uint32Array, state: S): boolean {
    const words = this.words;
    const arena = this.arena;
    const head = this.heads.get(hash);
    for (let e = head ?? -1; e !== -1; e = this.chain[e]!) {
      const base = e * words;
      let same = true;
      for (let i = 0; i < words; i++) {
        if (arena[base + i] !== bits[i]) {
          same = false;
          break;
        }
      }
      if (same && this.equal(this.states[e]!, state)) return false;
    }
    const e = this.size++;
    if (e >= this.chain.length) {
      const chain = new Int32Array(this.chain.length * 2);
      chain.set(this.chain);
      this.chain = chain;
      const grown = new Uint32Array(this.arena.length * 2);
      grown.set(this.arena);
      this.arena = grown;
    }
    this.arena.set(bits, e * words);
    this.chain[e] = head ?? -1;
    this.states.push(state);
    this.heads.set(hash, e);
    return true;
  }
}

/** Searches one partition. Exported for tests; most callers want checkHistory. */
export function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: readonly Operation<I, O>[],
  budget: { take(): string | undefined; readonly steps: number } = new Budget({}),
  maxCacheEntries: number = DEFAULT_MAX_CACHE,
): PartitionResult<S, I, O> {
  const n = ops.length;
  const stepsAtStart = budget.steps;
  // Entries: e < n is the call of ops[e], e >= n the return of ops[e - n]. Sorted by time; at equal times
  // calls before returns (closed intervals: a.ret === b.call means concurrent); then by index (determinism).
  const order = new Int32Array(2 * n);
  for (let e = 0; e < 2 * n; e++) order[e] = e;
  const timeOf = (e: number) => (e < n ? ops[e]!.call : ops[e - n]!.ret);
  const sorted = Array.from(order).sort((a, b) => {
    const d = timeOf(a) - timeOf(b);
    if (d !== 0 && !Number.isNaN(d)) return d;
    const ca = a < n ? 0 : 1;
    const cb = b < n ? 0 : 1;
    return ca - cb || a - b;
  });
  // Doubly linked list over positions 0..2n-1 in sorted order; HEAD = 2n is the sentinel; -1 is null.
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  const opAt = new Int32Array(2 * n); // operation index at a position
  const isCall = new Uint8Array(2 * n);
  const match = new Int32Array(2 * n); // for a call position: the position of its return
  const retPos = new Int32Array(n);
  for (let p = 0; p < 2 * n; p++) {
    const e = sorted[p]!;
    opAt[p] = e < n ? e : e - n;
    isCall[p] = e < n ? 1 : 0;
    if (e >= n) retPos[e - n] = p;
  }
  for (let p = 0; p < 2 * n; p++) if (isCall[p] === 1) match[p] = retPos[opAt[p]!]!;
  next[HEAD] = n > 0 ? 0 : -1;
  prev[HEAD] = -1;
  for (let p = 0; p < 2 * n; p++) {
    prev[p] = p === 0 ? HEAD : p - 1;
    next[p] = p === 2 * n - 1 ? -1 : p + 1;
  }
  const unlinkOne = (p: number) => {
    const a = prev[p]!;
    const b = next[p]!;
    next[a] = b;
    if (b !== -1) prev[b] = a;
  };
  const relinkOne = (p: number) => {
    const a = prev[p]!;
    const b = next[p]!;
    next[a] = p;
    if (b !== -1) prev[b] = p;
  };
  const lift = (p: number) => {
    unlinkOne(p);
    unlinkOne(match[p]!);
  };
  const unlift = (p: number) => {
    relinkOne(match[p]!);
    relinkOne(p);
  };

  const words = Math.max(1, Math.ceil(n / 32));
  const bits = new Uint32Array(words);
  const zk = zobristKeys(n);
  let setHash = 0;
  const cache = new ConfigCache<S>(words, model.equal);
  const stackPos = new Int32Array(n);
  const stackState: S[] = new Array<S>(n);
  let depth = 0;
  let state = model.init();
  // Diagnosis: the deepest dead end seen (its stack is the longest linearizable prefix found).
  let deadEndDepth = -1;
  let deadEndPrefix: number[] = [];
  let deadEndState: S = state;
  let deadEndStuck = -1;

  let cur = next[HEAD]!;
  while (next[HEAD] !== -1) {
    const exhausted = budget.take();
    if (exhausted !== undefined) {
      return { key, verdict: 'unknown', ops: n, steps: budget.steps - stepsAtStart, cacheEntries: cache.size, reason: exhausted };
    }
    if (isCall[cur] === 1) {
      const i = opAt[cur]!;
      const op = ops[i]!;
      const after = model.step(state, op.input, op.output);
      if (after !== undefined) {
        const w = i >>> 5;
        const m = 1 << (i & 31);
        bits[w] = bits[w]! | m;
        const h = (setHash ^ zk[i]! ^ Math.imul(model.hash(after), 0x9e3779b1)) >>> 0;
        if (cache.size >= maxCacheEntries) {
          return { key, verdict: 'unknown', ops: n, steps: budget.steps - stepsAtStart, cacheEntries: cache.size, reason: `budget exhausted: ${maxCacheEntries} memoized configurations` };
        }
        if (cache.add(h, bits, after)) {
          stackPos[depth] = cur;
          stackState[depth] = state;
          depth++;
          setHash = (setHash ^ zk[i]!) >>> 0;
          state = after;
          lift(cur);
          cur = next[HEAD]!;
          continue;
        }
        bits[w] = bits[w]! & ~m;
      }
      cur = next[cur]!;
    } else {
      // A return whose operation is not linearized yet: nothing pending can be placed before it. Dead end.
      if (depth > deadEndDepth) {
        deadEndDepth = depth;
        deadEndPrefix = Array.from(stackPos.subarray(0, depth), (p) => opAt[p]!);
        deadEndState = state;
        deadEndStuck = opAt[cur]!;
      }
      if (depth === 0) {
        return {
          key,
          verdict: 'illegal',
          ops: n,
          steps: budget.steps - stepsAtStart,
          cacheEntries: cache.size,
          violation: explain(model, key, ops, deadEndPrefix, deadEndState, deadEndStuck),
        };
      }
      depth--;
      const p = stackPos[depth]!;
      const i = opAt[p]!;
      state = stackState[depth]!;
      stackState[depth] = undefined as unknown as S;
      bits[i >>> 5] = bits[i >>> 5]! & ~(1 << (i & 31));
      setHash = (setHash ^ zk[i]!) >>> 0;
      unlift(p);
      cur = next[p]!;
    }
  }
  const linearization = Array.from(stackPos.subarray(0, depth), (p) => ops[opAt[p]!]!.id);
  return { key, verdict: 'ok', ops: n, steps: budget.steps - stepsAtStart, cacheEntries: cache.size, linearization };
}

function explain<S, I, O>(model: Model<S, I, O>, key: string, ops: readonly Operation<I, O>[], prefixIdx: readonly number[], state: S, stuckIdx: number): Violation<S, I, O> {
  const prefix = prefixIdx.map((i) => ops[i]!);
  const stuck = ops[stuckIdx]!;
  const placed = new Set(prefixIdx);
  const candidates = ops
    .map((op, i) => ({ op, i }))
    .filter(({ op, i }) => !placed.has(i) && op.call <= stuck.ret)
    .map(({ op }) => ({ op, legalNext: model.step(state, op.input, op.output) !== undefined }));
  const fmt = (o: Operation<I, O>) => `#${o.id} client ${o.client} [${o.call}, ${o.ret === Infinity ? '∞' : o.ret}] ${model.describeOperation(o.input, o.output)}`;
  const tail = prefix.slice(-10);
  const lines = [
    `key ${JSON.stringify(key)} is not linearizable (${ops.length} operations).`,
    `Longest linearizable prefix: ${prefix.length} operations${prefix.length > tail.length ? `; the last ${tail.length}` : ''}:`,
    ...tail.map((o) => `  ${fmt(o)}`),
    `State after the prefix: ${model.describeState(state)}`,
    `Cannot be placed: ${fmt(stuck)}`,
    `  it had returned, but the search could not extend the prefix: every pending candidate is either illegal`,
    `  from this state or leads only to configurations already shown to fail. Candidates at that point:`,
    ...candidates.slice(0, 12).map((c) => `  ${c.legalNext ? 'legal next  ' : 'illegal next'} ${fmt(c.op)}`),
  ];
  if (candidates.length > 12) lines.push(`  ... ${candidates.length - 12} more`);
  return { key, prefix, stateAfterPrefix: state, stuck, candidates, explanation: lines.join('\n') };
}
