// The history recorder (RELIABILITY.md §7.1): many logical clients in one process, one monotonic clock
// (process.hrtime.bigint(), ns since the recorder started), at most one outstanding operation per client
// (enforced: a second invoke throws), a unique value per write. Each operation ends as
//   ok            a response was received and trusted (a CAS that did not match is ok with ok:false);
//   failed        definitely never took effect (validated 4xx, request never sent);
//   indeterminate may or may not have taken effect (timeout, reset after send, 5xx on a forward):
//                 the checker opens writes to +inf and drops reads.
// It also keeps, per operation, the node the request was sent to, the node that served it, and the served
// Raft index (X-Vault-Index) or etcd revision: the inputs of standby-read replay (Appendix B).
// Output: RecordedOp[] for test/lin (prepareHistory/checkHistory) and the JSON-lines format of
// docs/linearizability.md (parseKvJsonl reads it back).
import type { KvInput, KvOutput, KvReturnEvent, KvInvokeEvent, Outcome, RecordedOp } from '../lin/index.js';

/** What an operation's executor reports back. Times come from the recorder's `now()`. */
export interface OpResult {
  outcome: Outcome;
  output?: KvOutput;
  /** When the request was handed to the socket (defaults to just before the executor ran). */
  call?: number;
  /** When the full answer arrived or the client gave up (defaults to just after the executor resolved). */
  ret?: number;
  /** The node the request was sent to. */
  node?: string;
  /** Who produced the answer, if the server says (e.g. X-Coffer-Served-By, or the etcd member). */
  servedBy?: string;
  /** The served index (X-Vault-Index decoded) or etcd header revision. */
  index?: number;
  /** HTTP status or error text, for the report. */
  error?: string;
  status?: number;
}

/** A recorded operation with the harness's extra fields (ignored by the checker). */
export interface HarnessOp extends RecordedOp<KvInput, KvOutput> {
  readonly node?: string;
  readonly servedBy?: string;
  readonly index?: number;
  readonly error?: string;
  readonly status?: number;
}

export class Recorder {
  private readonly origin = process.hrtime.bigint();
  private nextId = 1;
  private valueSeq = 0;
  private readonly outstanding = new Map<string, number>();
  private readonly done: HarnessOp[] = [];
  private readonly open = new Map<number, { client: string; key: string; input: KvInput; call: number }>();

  /** Nanoseconds since the recorder started (safe integers for ~104 days). */
  now(): number {
    return Number(process.hrtime.bigint() - this.origin);
  }

  /** A value no other write of this history uses. */
  uniqueValue(client: string): string {
    return `${client}-${++this.valueSeq}`;
  }

  /**
   * Runs one operation for `client`: records the invocation, awaits `exec`, records the completion.
   * An executor that throws records an indeterminate outcome (and rethrows nothing: the history goes on).
   */
  async invoke(client: string, key: string, input: KvInput, exec: () => Promise<OpResult>): Promise<HarnessOp> {
    const busy = this.outstanding.get(client);
    if (busy !== undefined) throw new Error(`recorder: client ${client} already has operation ${busy} outstanding`);
    const id = this.nextId++;
    this.outstanding.set(client, id);
    const before = this.now();
    this.open.set(id, { client, key, input, call: before });
    let r: OpResult;
    try {
      r = await exec();
    } catch (err) {
      r = { outcome: 'indeterminate', error: `executor threw: ${(err as Error).message}` };
    }
    const after = this.now();
    this.open.delete(id);
    this.outstanding.delete(client);
    const call = Math.max(before, r.call ?? before);
    const ret = Math.max(call, Math.min(after, r.ret ?? after));
    if (r.outcome === 'ok' && r.output === undefined) throw new Error(`recorder: op ${id} ok without an output`);
    const op: HarnessOp = {
      id,
      client,
      key,
      input,
      call,
      ret,
      outcome: r.outcome,
      ...(r.outcome === 'ok' ? { output: r.output } : {}),
      ...(r.node !== undefined ? { node: r.node } : {}),
      ...(r.servedBy !== undefined ? { servedBy: r.servedBy } : {}),
      ...(r.index !== undefined ? { index: r.index } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.status !== undefined ? { status: r.status } : {}),
    };
    this.done.push(op);
    return op;
  }

  /** Completed operations plus those still outstanding (no return: indeterminate), ordered by call. */
  history(): HarnessOp[] {
    const out: HarnessOp[] = [...this.done];
    for (const [id, o] of this.open) out.push({ id, client: o.client, key: o.key, input: o.input, call: o.call, outcome: 'indeterminate' });
    return out.sort((a, b) => a.call - b.call || a.id - b.id);
  }

  /** The history as JSON lines (docs/linearizability.md), with node, served index and error text. */
  jsonl(): string {
    const events: { t: number; order: number; line: string }[] = [];
    for (const o of this.history()) {
      const inv: KvInvokeEvent = {
        type: 'invoke',
        op: o.id,
        client: o.client,
        key: o.key,
        f: o.input.kind,
        ...(o.input.kind === 'write' || o.input.kind === 'cas' ? { value: o.input.value } : {}),
        ...(o.input.kind === 'cas' ? { expectVersion: o.input.expectVersion } : {}),
        time: o.call,
      };
      events.push({ t: o.call, order: 0, line: JSON.stringify(inv) });
      if (o.ret === undefined) continue;
      const out = o.outcome === 'ok' ? (o.output ?? {}) : {};
      const ret: KvReturnEvent & { servedBy?: string; status?: number } = {
        type: 'return',
        op: o.id,
        client: o.client,
        time: o.ret,
        outcome: o.outcome,
        ...(out.found !== undefined ? { found: out.found } : {}),
        ...(out.value !== undefined ? { value: out.value } : {}),
        ...(out.version !== undefined ? { version: out.version } : {}),
        ...(out.ok !== undefined ? { ok: out.ok } : {}),
        ...(o.error !== undefined ? { error: o.error } : {}),
        ...(o.node !== undefined ? { node: o.node } : {}),
        ...(o.index !== undefined ? { index: o.index } : {}),
        ...(o.servedBy !== undefined ? { servedBy: o.servedBy } : {}),
        ...(o.status !== undefined ? { status: o.status } : {}),
      };
      events.push({ t: o.ret, order: 1, line: JSON.stringify(ret) });
    }
    events.sort((a, b) => a.t - b.t || a.order - b.order);
    return events.map((e) => e.line).join('\n') + (events.length > 0 ? '\n' : '');
  }
}
