// History model: operations as recorded by clients (with an outcome) and as the checker sees them
// (closed real-time intervals, indeterminate writes open until +Infinity). Pure.
import type { Model } from './model.js';

/** ok: a response was received and is trusted. failed: definitely never took effect (rejected before it
 * could). indeterminate: may or may not have taken effect (timeout, reset after send, 5xx on forward). */
export type Outcome = 'ok' | 'failed' | 'indeterminate';

/** One operation as a client recorded it. `ret` is when the client got its answer or gave up; missing
 * means the history ended with the operation outstanding (treated as indeterminate). */
export interface RecordedOp<I, O> {
  readonly id: number;
  readonly client: string;
  readonly key: string;
  readonly input: I;
  readonly call: number;
  readonly ret?: number;
  readonly outcome: Outcome;
  /** Required when `outcome === 'ok'`; ignored otherwise. */
  readonly output?: O;
}

/** One operation as the checker sees it: `[call, ret]` is a closed interval; `output === undefined` is unknown. */
export interface Operation<I, O> {
  readonly id: number;
  readonly client: string;
  readonly key: string;
  readonly input: I;
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

export interface PreparedHistory<I, O> {
  readonly ops: Operation<I, O>[];
  readonly stats: {
    /** Operations in the recorded history. */
    readonly recorded: number;
    /** Definite failures removed (never happened). */
    readonly failedRemoved: number;
    /** Indeterminate read-only operations removed (no information). */
    readonly indeterminateReadsRemoved: number;
    /** Indeterminate state-changing operations kept, open until +Infinity. */
    readonly indeterminate: number;
  };
}

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

/**
 * Appendix A.1 preparation: assert one outstanding operation per client (on the recorded times, before
 * indeterminate operations are opened to +Infinity), drop definite failures, drop indeterminate reads,
 * open indeterminate writes. Throws HistoryError on a malformed history.
 */
export function prepareHistory<S, I, O>(model: Model<S, I, O>, recorded: readonly RecordedOp<I, O>[]): PreparedHistory<I, O> {
  const ids = new Set<number>();
  const byClient = new Map<string, RecordedOp<I, O>[]>();
  for (const r of recorded) {
    if (ids.has(r.id)) throw new HistoryError(`duplicate operation id ${r.id}`);
    ids.add(r.id);
    if (!Number.isFinite(r.call)) throw new HistoryError(`operation ${r.id}: call time ${r.call} is not finite`);
    if (r.ret !== undefined && !(r.ret >= r.call)) throw new HistoryError(`operation ${r.id}: returns (${r.ret}) before its call (${r.call})`);
    if (r.outcome === 'ok' && r.ret === undefined) throw new HistoryError(`operation ${r.id}: outcome ok without a return time`);
    if (r.outcome === 'ok' && r.output === undefined) throw new HistoryError(`operation ${r.id}: outcome ok without an output`);
    let list = byClient.get(r.client);
    if (list === undefined) byClient.set(r.client, (list = []));
    list.push(r);
  }
  for (const [client, list] of byClient) {
    list.sort((a, b) => a.call - b.call || a.id - b.id);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      const prevRet = prev.ret ?? Infinity;
      if (!(prevRet < cur.call)) {
        throw new HistoryError(`client ${client} has two outstanding operations: ${prev.id} [${prev.call}, ${prevRet}] and ${cur.id} called at ${cur.call}`);
      }
    }
  }
  const ops: Operation<I, O>[] = [];
  let failedRemoved = 0;
  let indeterminateReadsRemoved = 0;
  let indeterminate = 0;
  for (const r of recorded) {
    if (r.outcome === 'failed') {
      failedRemoved++;
      continue;
    }
    const open = r.outcome === 'indeterminate' || r.ret === undefined;
    if (open) {
      if (model.readOnly?.(r.input) === true) {
        indeterminateReadsRemoved++;
        continue;
      }
      indeterminate++;
      ops.push({ id: r.id, client: r.client, key: r.key, input: r.input, output: undefined, call: r.call, ret: Infinity });
    } else {
      ops.push({ id: r.id, client: r.client, key: r.key, input: r.input, output: r.output, call: r.call, ret: r.ret! });
    }
  }
  return { ops, stats: { recorded: recorded.length, failedRemoved, indeterminateReadsRemoved, indeterminate } };
}
