// History generators for the checker's own tests and benchmark. Pure: randomness comes from the
// caller's `rand` (uint32 source, e.g. splitmix32(seed)).
import type { RecordedOp } from './history.js';
import { kvModel, type KvInput, type KvOutput, type KvState } from './kv-model.js';

export interface ExecutionOptions {
  readonly clients: number;
  readonly keys: number;
  readonly ops: number;
  /** Probability that an operation's outcome is indeterminate (a write then takes effect with p 1/2, possibly after the client gave up). */
  readonly pIndeterminate?: number;
  /** Probability of a definite failure (never takes effect). */
  readonly pFailed?: number;
  readonly pRead?: number;
  readonly pCas?: number;
  readonly pDelete?: number;
  /** Upper bounds of the random gap between a client's operations and of each half of an operation's latency. */
  readonly maxGap?: number;
  readonly maxHalfLatency?: number;
}

/**
 * Runs a real sequential execution of the KV v2 model and records it through clients with random delays:
 * each operation takes effect at a point inside its interval (indeterminate writes at any point after
 * their call, or never), so the recorded history is linearizable by construction.
 */
export function generateLinearizableKv(rand: () => number, o: ExecutionOptions): RecordedOp<KvInput, KvOutput>[] {
  const below = (n: number) => (n <= 0 ? 0 : rand() % n);
  const chance = (p: number) => rand() / 0x1_0000_0000 < p;
  const pInd = o.pIndeterminate ?? 0.05;
  const pFail = o.pFailed ?? 0.02;
  const pRead = o.pRead ?? 0.5;
  const pCas = o.pCas ?? 0.15;
  const pDel = o.pDelete ?? 0.03;
  const maxGap = o.maxGap ?? 20;
  const maxHalf = o.maxHalfLatency ?? 30;
  const clock = new Array<number>(o.clients).fill(0).map(() => below(maxGap));
  interface Plan {
    id: number;
    client: number;
    key: string;
    kind: KvInput['kind'];
    call: number;
    ret: number;
    /** When it takes effect; undefined = never. */
    at: number | undefined;
    outcome: 'ok' | 'failed' | 'indeterminate';
    casHit: boolean;
    casOffset: number;
  }
  const plans: Plan[] = [];
  for (let id = 0; id < o.ops; id++) {
    const client = below(o.clients);
    const key = `k${below(o.keys)}`;
    const x = rand() / 0x1_0000_0000;
    const kind: KvInput['kind'] = x < pRead ? 'read' : x < pRead + pCas ? 'cas' : x < pRead + pCas + pDel ? 'delete' : 'write';
    const call = clock[client]! + below(maxGap + 1);
    const at0 = call + below(maxHalf + 1);
    const ret = at0 + below(maxHalf + 1);
    clock[client] = ret + 1;
    const outcome = chance(pFail) ? 'failed' : chance(pInd) ? 'indeterminate' : 'ok';
    let at: number | undefined = at0;
    if (outcome === 'failed') at = undefined;
    else if (outcome === 'indeterminate') at = kind === 'read' || chance(0.5) ? undefined : call + below(4 * maxHalf + 1);
    plans.push({ id, client, key, kind, call, ret, at, outcome, casHit: chance(0.6), casOffset: 1 + below(2) });
  }
  // Execute in effect order (ties: either order is valid, both operations contain the instant).
  const effective = plans.filter((p) => p.at !== undefined).sort((a, b) => a.at! - b.at! || a.id - b.id);
  const store = new Map<string, KvState>();
  const inputs = new Map<number, KvInput>();
  const outputs = new Map<number, KvOutput>();
  const inputOf = (p: Plan, s: KvState): KvInput => {
    switch (p.kind) {
      case 'read':
        return { kind: 'read' };
      case 'delete':
        return { kind: 'delete' };
      case 'write':
        return { kind: 'write', value: `c${p.client}-${p.id}` };
      case 'cas':
        return { kind: 'cas', expectVersion: p.casHit ? s.version : Math.max(0, s.version + (rand() % 2 === 0 ? p.casOffset : -p.casOffset)), value: `c${p.client}-${p.id}` };
    }
  };
  for (const p of effective) {
    const s = store.get(p.key) ?? kvModel.init();
    const input = inputOf(p, s);
    inputs.set(p.id, input);
    const next = kvModel.step(s, input, undefined)!;
    store.set(p.key, next);
    switch (input.kind) {
      case 'read':
        outputs.set(p.id, s.exists ? { found: true, value: s.value!, version: s.version } : { found: false });
        break;
      case 'write':
        outputs.set(p.id, { version: next.version });
        break;
      case 'cas':
        outputs.set(p.id, next === s ? { ok: false } : { ok: true, version: next.version });
        break;
      case 'delete':
        outputs.set(p.id, {});
        break;
    }
  }
  return plans.map((p) => {
    const input = inputs.get(p.id) ?? inputOf(p, { exists: false, value: null, version: 1 + below(3) });
    const base = { id: p.id, client: `c${p.client}`, key: p.key, input, call: p.call, ret: p.ret };
    return p.outcome === 'ok' ? { ...base, outcome: 'ok' as const, output: outputs.get(p.id)! } : { ...base, outcome: p.outcome };
  });
}

/**
 * Corrupts one read into a stale read that no order can explain: it now returns the value and version of an
 * acknowledged write W1 although an acknowledged write W2 with a higher version returned before the read
 * was invoked (versions only grow). Returns undefined when the history has no such (W1, W2, read) triple.
 */
export function injectStaleRead(rand: () => number, ops: readonly RecordedOp<KvInput, KvOutput>[]): { ops: RecordedOp<KvInput, KvOutput>[]; readId: number } | undefined {
  type Op = RecordedOp<KvInput, KvOutput>;
  const ackedByKey = new Map<string, Op[]>();
  for (const o of ops) {
    if (o.outcome === 'ok' && (o.input.kind === 'write' || o.input.kind === 'cas') && o.output?.version !== undefined) {
      let list = ackedByKey.get(o.key);
      if (list === undefined) ackedByKey.set(o.key, (list = []));
      list.push(o);
    }
  }
  for (const list of ackedByKey.values()) list.sort((a, b) => a.ret! - b.ret!);
  // For each read: the highest acknowledged version that returned before the read was invoked.
  const eligible: { read: Op; newest: number; acked: Op[] }[] = [];
  for (const r of ops) {
    if (r.outcome !== 'ok' || r.input.kind !== 'read') continue;
    const acked = ackedByKey.get(r.key) ?? [];
    let newest = 0;
    let minVersion = Infinity;
    for (const w of acked) {
      minVersion = Math.min(minVersion, w.output!.version!);
      if (w.ret! < r.call) newest = Math.max(newest, w.output!.version!);
    }
    if (minVersion < newest) eligible.push({ read: r, newest, acked });
  }
  if (eligible.length === 0) return undefined;
  const { read, newest, acked } = eligible[rand() % eligible.length]!;
  const older = acked.filter((w) => w.output!.version! < newest);
  const w1 = older[rand() % older.length]!;
  const value = (w1.input as { value: string }).value;
  return {
    readId: read.id,
    ops: ops.map((o) => (o.id === read.id ? { ...o, output: { found: true, value, version: w1.output!.version! } } : o)),
  };
}

/** Drops every version from the outputs (KV v1 style): write order becomes ambiguous, which stresses the memo. */
export function stripVersions(ops: readonly RecordedOp<KvInput, KvOutput>[]): RecordedOp<KvInput, KvOutput>[] {
  return ops.map((o) => {
    if (o.output === undefined || o.output.version === undefined) return o;
    const { version: _drop, ...rest } = o.output;
    return { ...o, output: rest };
  });
}

/**
 * Replaces one acknowledged read's answer with another plausible one (not found, or the value, and the
 * version unless `withVersion` is false, of some write/CAS in the history). The result may or may not be
 * linearizable: for comparing the checker with the brute-force oracle near the boundary.
 */
export function mutateOneRead(rand: () => number, ops: readonly RecordedOp<KvInput, KvOutput>[], withVersion: boolean): RecordedOp<KvInput, KvOutput>[] | undefined {
  const reads = ops.filter((o) => o.outcome === 'ok' && o.input.kind === 'read');
  if (reads.length === 0) return undefined;
  const target = reads[rand() % reads.length]!;
  const writers = ops.filter((o) => o.input.kind === 'write' || o.input.kind === 'cas');
  const pick = rand() % (writers.length + 1);
  let output: KvOutput;
  if (pick === writers.length) output = { found: false };
  else {
    const src = writers[pick]!;
    const value = (src.input as { value: string }).value;
    const version = src.outcome === 'ok' ? src.output?.version : undefined;
    output = withVersion && version !== undefined ? { found: true, value, version } : { found: true, value };
  }
  return ops.map((o) => (o.id === target.id ? { ...o, output } : o));
}
