// Brute-force oracle for tiny histories: enumerates every order consistent with real time, on the whole
// history at once (one model state per key, no partitioning, no memoization), with indeterminate
// operations treated literally as "took effect at some point after their call, or never".
// Independent of checker.ts and prepareHistory on purpose: property tests compare the two.
import type { RecordedOp } from './history.js';
import type { Model } from './model.js';

/** True iff the recorded history is linearizable. Exponential: keep it to about 9 operations. */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, recorded: readonly RecordedOp<I, O>[]): boolean {
  interface Op {
    readonly key: string;
    readonly input: I;
    readonly output: O | undefined;
    readonly call: number;
    /** +Infinity for indeterminate: never forces anything to come after it. */
    readonly ret: number;
    readonly required: boolean;
  }
  const ops: Op[] = [];
  for (const r of recorded) {
    if (r.outcome === 'failed') continue; // never happened
    const determinate = r.outcome === 'ok' && r.ret !== undefined;
    ops.push({ key: r.key, input: r.input, output: determinate ? r.output : undefined, call: r.call, ret: determinate ? r.ret! : Infinity, required: determinate });
  }
  if (ops.length > 20) throw new Error('bruteForceLinearizable: too many operations');
  const states = new Map<string, S>();
  const stateOf = (key: string) => (states.has(key) ? states.get(key)! : model.init());
  const placed = new Array<boolean>(ops.length).fill(false);
  let requiredLeft = ops.filter((o) => o.required).length;

  const search = (): boolean => {
    if (requiredLeft === 0) return true; // the remaining (indeterminate) operations never happened
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      const o = ops[i]!;
      // o may take effect next only if no other unplaced operation returned strictly before o was invoked.
      let blocked = false;
      for (let j = 0; j < ops.length; j++) {
        if (j !== i && !placed[j] && ops[j]!.ret < o.call) {
          blocked = true;
          break;
        }
      }
      if (blocked) continue;
      const before = stateOf(o.key);
      const had = states.has(o.key);
      const after = model.step(before, o.input, o.output);
      if (after === undefined) continue;
      placed[i] = true;
      states.set(o.key, after);
      if (o.required) requiredLeft--;
      const found = search();
      if (o.required) requiredLeft++;
      if (had) states.set(o.key, before);
      else states.delete(o.key);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search();
}
