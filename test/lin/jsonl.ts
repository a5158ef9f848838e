// The JSON-lines history format the Coffer recorder emits (specified in docs/linearizability.md):
// one line per invocation and one per return, all times from one monotonic clock. Pure.
import { HistoryError, type Outcome, type RecordedOp } from './history.js';
import type { KvInput, KvOutput } from './kv-model.js';

/** Integer nanoseconds from one monotonic clock: a JSON number, or a decimal string when above 2^53. */
export type WireTime = number | string;

export interface KvInvokeEvent {
  readonly type: 'invoke';
  /** Unique per history; pairs the return with its invocation. */
  readonly op: number;
  readonly client: string;
  readonly key: string;
  readonly f: 'read' | 'write' | 'cas' | 'delete';
  /** write, cas: the value written (unique per history, so reads identify their write). */
  readonly value?: string;
  /** cas: the version the key must have (KV v2 `options.cas`; 0 = the key has no version yet). */
  readonly expectVersion?: number;
  readonly time: WireTime;
}

export interface KvReturnEvent {
  readonly type: 'return';
  readonly op: number;
  readonly client: string;
  readonly time: WireTime;
  readonly outcome: Outcome;
  /** read (outcome ok): whether the key had a live value. */
  readonly found?: boolean;
  /** read (found): the value. */
  readonly value?: string;
  /** read (found), write, cas (ok): the version (optional; KV v1 has none). */
  readonly version?: number;
  /** cas (outcome ok): whether the check-and-set applied. */
  readonly ok?: boolean;
  /** Free text (HTTP status, error message); ignored by the checker. */
  readonly error?: string;
  /** Served-by node and X-Vault-Index; ignored by the checker (for standby-read replay, Appendix B). */
  readonly node?: string;
  readonly index?: number;
}

export type KvEvent = KvInvokeEvent | KvReturnEvent;

function toBig(t: WireTime, where: string): bigint {
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) throw new HistoryError(`${where}: time ${t} is not a safe integer (send large times as decimal strings)`);
    return BigInt(t);
  }
  if (typeof t === 'string' && /^-?\d+$/.test(t)) return BigInt(t);
  throw new HistoryError(`${where}: bad time ${JSON.stringify(t)}`);
}

/**
 * Parses a JSON-lines history into recorded operations. Times become numbers relative to the earliest
 * event (BigInt arithmetic first, so nanosecond hrtime values keep their precision). An invocation without
 * a return is indeterminate. Lines may appear in any order; blank lines are ignored.
 */
export function parseKvJsonl(text: string): RecordedOp<KvInput, KvOutput>[] {
  const invokes = new Map<number, { ev: KvInvokeEvent; t: bigint }>();
  const returns = new Map<number, { ev: KvReturnEvent; t: bigint }>();
  let origin: bigint | undefined;
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${n + 1}`;
    let ev: KvEvent;
    try {
      ev = JSON.parse(line) as KvEvent;
    } catch {
      throw new HistoryError(`${where}: not JSON`);
    }
    if (typeof ev !== 'object' || ev === null || !Number.isInteger(ev.op) || typeof ev.client !== 'string') throw new HistoryError(`${where}: needs integer "op" and string "client"`);
    const t = toBig(ev.time, where);
    if (origin === undefined || t < origin) origin = t;
    if (ev.type === 'invoke') {
      if (invokes.has(ev.op)) throw new HistoryError(`${where}: op ${ev.op} invoked twice`);
      if (typeof ev.key !== 'string') throw new HistoryError(`${where}: invoke needs a string "key"`);
      if (!['read', 'write', 'cas', 'delete'].includes(ev.f)) throw new HistoryError(`${where}: unknown f ${JSON.stringify(ev.f)}`);
      if ((ev.f === 'write' || ev.f === 'cas') && typeof ev.value !== 'string') throw new HistoryError(`${where}: ${ev.f} needs a string "value"`);
      if (ev.f === 'cas' && !Number.isInteger(ev.expectVersion)) throw new HistoryError(`${where}: cas needs an integer "expectVersion"`);
      invokes.set(ev.op, { ev, t });
    } else if (ev.type === 'return') {
      if (returns.has(ev.op)) throw new HistoryError(`${where}: op ${ev.op} returned twice`);
      if (!['ok', 'failed', 'indeterminate'].includes(ev.outcome)) throw new HistoryError(`${where}: unknown outcome ${JSON.stringify(ev.outcome)}`);
      returns.set(ev.op, { ev, t });
    } else {
      throw new HistoryError(`${where}: unknown type ${JSON.stringify((ev as { type?: unknown }).type)}`);
    }
  });
  for (const op of returns.keys()) if (!invokes.has(op)) throw new HistoryError(`op ${op}: return without invocation`);
  const rel = (t: bigint) => Number(t - origin!);
  const out: RecordedOp<KvInput, KvOutput>[] = [];
  for (const [op, { ev: inv, t: call }] of invokes) {
    const input: KvInput =
      inv.f === 'read' ? { kind: 'read' } : inv.f === 'write' ? { kind: 'write', value: inv.value! } : inv.f === 'cas' ? { kind: 'cas', expectVersion: inv.expectVersion!, value: inv.value! } : { kind: 'delete' };
    const r = returns.get(op);
    if (r === undefined) {
      out.push({ id: op, client: inv.client, key: inv.key, input, call: rel(call), outcome: 'indeterminate' });
      continue;
    }
    if (r.ev.client !== inv.client) throw new HistoryError(`op ${op}: returned to client ${r.ev.client}, invoked by ${inv.client}`);
    const base = { id: op, client: inv.client, key: inv.key, input, call: rel(call), ret: rel(r.t) };
    if (r.ev.outcome !== 'ok') {
      out.push({ ...base, outcome: r.ev.outcome });
      continue;
    }
    out.push({ ...base, outcome: 'ok', output: kvOutputOf(input, r.ev, op) });
  }
  return out.sort((a, b) => a.call - b.call || a.id - b.id);
}

function kvOutputOf(input: KvInput, r: KvReturnEvent, op: number): KvOutput {
  const version = r.version;
  if (version !== undefined && !Number.isInteger(version)) throw new HistoryError(`op ${op}: bad version`);
  switch (input.kind) {
    case 'read':
      if (typeof r.found !== 'boolean') throw new HistoryError(`op ${op}: read returned ok without "found"`);
      if (!r.found) return { found: false };
      if (typeof r.value !== 'string') throw new HistoryError(`op ${op}: found read without a string "value"`);
      return version === undefined ? { found: true, value: r.value } : { found: true, value: r.value, version };
    case 'write':
      return version === undefined ? {} : { version };
    case 'cas':
      if (typeof r.ok !== 'boolean') throw new HistoryError(`op ${op}: cas returned ok without boolean "ok"`);
      return version === undefined || !r.ok ? { ok: r.ok } : { ok: true, version };
    case 'delete':
      return {};
  }
}

/** Renders recorded operations as JSON lines (invocations and returns ordered by time; ties: invoke first). */
export function formatKvJsonl(ops: readonly RecordedOp<KvInput, KvOutput>[]): string {
  const events: { t: number; order: number; ev: KvEvent }[] = [];
  for (const o of ops) {
    const f = o.input.kind;
    const inv: KvInvokeEvent = {
      type: 'invoke',
      op: o.id,
      client: o.client,
      key: o.key,
      f,
      ...(o.input.kind === 'write' || o.input.kind === 'cas' ? { value: o.input.value } : {}),
      ...(o.input.kind === 'cas' ? { expectVersion: o.input.expectVersion } : {}),
      time: o.call,
    };
    events.push({ t: o.call, order: 0, ev: inv });
    if (o.ret === undefined) continue;
    const out = o.outcome === 'ok' ? o.output ?? {} : {};
    const ret: KvReturnEvent = {
      type: 'return',
      op: o.id,
      client: o.client,
      time: o.ret,
      outcome: o.outcome,
      ...(out.found !== undefined ? { found: out.found } : {}),
      ...(out.value !== undefined ? { value: out.value } : {}),
      ...(out.version !== undefined ? { version: out.version } : {}),
      ...(out.ok !== undefined ? { ok: out.ok } : {}),
    };
    events.push({ t: o.ret, order: 1, ev: ret });
  }
  events.sort((a, b) => a.t - b.t || a.order - b.order || a.ev.op - b.ev.op);
  return events.map((e) => JSON.stringify(e.ev)).join('\n') + (events.length > 0 ? '\n' : '');
}
