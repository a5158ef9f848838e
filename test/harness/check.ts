// Runs the test/lin checker over a recorded history and condenses the verdict for reports and asserts;
// plus the two history facts the fault tests print beside the verdict: definite stale reads and acked writes.
import { checkHistory, classifyKvViolation, kvModel, partitionByKey, prepareHistory, type KvInput, type KvOutput, type Operation, type Verdict } from '../lin/index.js';
import type { HarnessOp } from './recorder.js';

export interface LinSummary {
  verdict: Verdict;
  /** Operations the checker searched (after dropping definite failures and indeterminate reads). */
  ops: number;
  keys: number;
  /** Indeterminate writes/CAS kept open to +inf. */
  indeterminate: number;
  unknownKeys: number;
  illegalKeys: number;
  recorded: number;
  failedRemoved: number;
  indeterminateReadsRemoved: number;
  /** For an illegal history: the checker's explanation and a label (stale-read, garbage-read, …). */
  explanation?: string;
  violationClass?: string;
  violationKey?: string;
}

export function checkLinearizable(history: readonly HarnessOp[], opts: { deadlineMs?: number; allKeys?: boolean } = {}): LinSummary {
  const prepared = prepareHistory(kvModel, history);
  const r = checkHistory(kvModel, prepared.ops, {
    deadlineMs: opts.deadlineMs ?? 60_000,
    now: () => performance.now(),
    stopAtFirstViolation: opts.allKeys !== true,
  });
  const s: LinSummary = {
    verdict: r.verdict,
    ops: prepared.ops.length,
    keys: r.stats.keys,
    indeterminate: r.stats.indeterminate,
    unknownKeys: r.stats.unknownKeys,
    illegalKeys: r.stats.illegalKeys,
    recorded: prepared.stats.recorded,
    failedRemoved: prepared.stats.failedRemoved,
    indeterminateReadsRemoved: prepared.stats.indeterminateReadsRemoved,
  };
  if (r.violation !== undefined) {
    s.explanation = r.violation.explanation;
    s.violationKey = r.violation.key;
    const part = partitionByKey(prepared.ops).get(r.violation.key) ?? [];
    s.violationClass = classifyKvViolation(part, r.violation.stuck);
  }
  return s;
}

/**
 * Reads that are stale beyond doubt: an ok read returned version v (or not-found) although a write/CAS of
 * the same key acknowledged with a version > v had returned before the read was invoked. Each one alone
 * makes the history non-linearizable (versions are per-key and increase by one per applied write).
 */
export function definiteStaleReads(history: readonly HarnessOp[]): HarnessOp[] {
  const acked = new Map<string, { ret: number; version: number }[]>();
  for (const o of history) {
    if (o.outcome !== 'ok' || o.ret === undefined) continue;
    const v = o.output?.version;
    if ((o.input.kind === 'write' || (o.input.kind === 'cas' && o.output?.ok === true)) && v !== undefined) {
      let l = acked.get(o.key);
      if (l === undefined) acked.set(o.key, (l = []));
      l.push({ ret: o.ret, version: v });
    }
  }
  const stale: HarnessOp[] = [];
  for (const o of history) {
    if (o.outcome !== 'ok' || o.input.kind !== 'read') continue;
    const seen = o.output?.found === true ? (o.output.version ?? Infinity) : 0;
    if ((acked.get(o.key) ?? []).some((w) => w.ret < o.call && w.version > seen)) stale.push(o);
  }
  return stale;
}

/** Acknowledged writes/CAS (ok, with a version): what must survive to the end. */
export function ackedWrites(history: readonly HarnessOp[]): { key: string; value: string; version: number; op: HarnessOp }[] {
  const out: { key: string; value: string; version: number; op: HarnessOp }[] = [];
  for (const o of history) {
    if (o.outcome !== 'ok' || o.output?.version === undefined) continue;
    if (o.input.kind === 'write' || (o.input.kind === 'cas' && o.output.ok === true)) out.push({ key: o.key, value: o.input.value, version: o.output.version, op: o });
  }
  return out;
}

/** One line per operation for a report excerpt (times in ms since the recorder started). */
export function describeOp(o: HarnessOp | Operation<KvInput, KvOutput>): string {
  const h = o as HarnessOp;
  const ms = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? '∞' : (t / 1e6).toFixed(1));
  const extra = [h.node !== undefined ? `to ${h.node}` : '', h.servedBy ? `served ${h.servedBy}` : '', h.index !== undefined ? `index ${h.index}` : '', h.error ? `(${h.error})` : ''].filter(Boolean).join(' ');
  return `#${o.id} ${o.client} [${ms(o.call)}, ${ms(o.ret)}] ${o.key} ${kvModel.describeOperation(o.input, o.output)} ${h.outcome ?? ''} ${extra}`.trim();
}

/**
 * etcd robustness's history patch (RELIABILITY.md A.1 step 4): an indeterminate write/CAS whose unique value
 * never reached the final stored state did not take effect, so it becomes a definite failure; the checker then
 * need not consider it at every later point. Sound only when `applied` lists every value ever applied to the
 * key (no deletes, no version pruning). Returns the patched history and how many operations were patched.
 */
export function patchIndeterminateWrites(history: readonly HarnessOp[], applied: (key: string) => ReadonlySet<string> | undefined): { history: HarnessOp[]; patched: number } {
  let patched = 0;
  const out = history.map((o) => {
    if (o.outcome !== 'indeterminate' || (o.input.kind !== 'write' && o.input.kind !== 'cas')) return o;
    const values = applied(o.key);
    if (values === undefined || values.has(o.input.value)) return o;
    patched++;
    return { ...o, outcome: 'failed' as const, ret: o.ret ?? o.call, error: `${o.error ?? 'no answer'}; patched: its value was never applied` };
  });
  return { history: out, patched };
}
