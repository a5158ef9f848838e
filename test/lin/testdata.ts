// Parsers and models for the known-answer histories staged from porcupine's test_data
// (shared/linearizability-testdata/porcupine, README there): Jepsen etcd CAS-register logs and the
// get/put/append KV histories. Pure: callers read the files and pass the text.
import type { RecordedOp } from './history.js';
import { fnv1a, type Model } from './model.js';

// ---- Jepsen etcd 0.4 CAS register ----------------------------------------------------------------

export type RegisterInput = { readonly kind: 'read' } | { readonly kind: 'write'; readonly value: number } | { readonly kind: 'cas'; readonly from: number; readonly to: number };
/** read: the value (null = nil); write: nothing; cas: whether it applied. */
export type RegisterOutput = { readonly value: number | null } | { readonly ok: boolean } | Record<string, never>;

/** One register, initially nil. A CAS that reports failure asserts that the compare did not match. */
export const casRegisterModel: Model<number | null, RegisterInput, RegisterOutput> = {
  name: 'cas-register',
  init: () => null,
  step(state, input, output) {
    switch (input.kind) {
      case 'read':
        if (output === undefined) return state;
        return 'value' in output && output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const match = state === input.from;
        if (output !== undefined && (!('ok' in output) || output.ok !== match)) return undefined;
        return match ? input.to : state;
      }
    }
  },
  hash: (s) => (s === null ? 0x7fffffff : s >>> 0),
  equal: (a, b) => a === b,
  readOnly: (i) => i.kind === 'read',
  describeOperation(input, output) {
    const res = output === undefined ? '?' : 'value' in output ? String(output.value ?? 'nil') : 'ok' in output ? (output.ok ? 'ok' : 'fail') : 'ok';
    switch (input.kind) {
      case 'read':
        return `read -> ${res}`;
      case 'write':
        return `write ${input.value} -> ${res}`;
      case 'cas':
        return `cas ${input.from}->${input.to} -> ${res}`;
    }
  },
  describeState: (s) => String(s ?? 'nil'),
};

const JEPSEN_LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$/;

/**
 * Parses a Jepsen 0.x etcd log. Time = line number. `:fail :cas` is a response (compare did not match);
 * `:info` (timed out) and operations without a completion are indeterminate; `:fail :read :timed-out` is a
 * read with unknown result (indeterminate).
 */
export function parseJepsenLog(text: string): RecordedOp<RegisterInput, RegisterOutput>[] {
  const open = new Map<string, { id: number; input: RegisterInput; call: number }>();
  const out: RecordedOp<RegisterInput, RegisterOutput>[] = [];
  let nextId = 0;
  const lines = text.split('\n');
  const num = (s: string) => {
    const v = Number(s);
    if (!Number.isInteger(v)) throw new Error(`jepsen log: bad number ${JSON.stringify(s)}`);
    return v;
  };
  const pair = (s: string) => {
    const m = /^\[(\d+)\s+(\d+)\]$/.exec(s);
    if (m === null) throw new Error(`jepsen log: bad cas argument ${JSON.stringify(s)}`);
    return [num(m[1]!), num(m[2]!)] as const;
  };
  lines.forEach((line, t) => {
    if (line.trim() === '') return;
    const m = JEPSEN_LINE.exec(line);
    if (m === null) throw new Error(`jepsen log line ${t + 1}: unrecognised ${JSON.stringify(line)}`);
    const [, proc, type, f, arg] = m as unknown as [string, string, string, string, string];
    if (type === 'invoke') {
      if (open.has(proc)) throw new Error(`jepsen log line ${t + 1}: process ${proc} already has an operation outstanding`);
      const input: RegisterInput = f === 'read' ? { kind: 'read' } : f === 'write' ? { kind: 'write', value: num(arg) } : { kind: 'cas', from: pair(arg)[0], to: pair(arg)[1] };
      open.set(proc, { id: nextId++, input, call: t });
      return;
    }
    const inv = open.get(proc);
    if (inv === undefined) throw new Error(`jepsen log line ${t + 1}: completion without invocation for process ${proc}`);
    open.delete(proc);
    const base = { id: inv.id, client: proc, key: 'register', input: inv.input, call: inv.call, ret: t };
    if (type === 'info' || (type === 'fail' && f === 'read')) {
      out.push({ ...base, outcome: 'indeterminate' });
    } else if (f === 'read') {
      out.push({ ...base, outcome: 'ok', output: { value: arg === 'nil' ? null : num(arg) } });
    } else if (f === 'write') {
      out.push({ ...base, outcome: 'ok', output: {} });
    } else {
      out.push({ ...base, outcome: 'ok', output: { ok: type === 'ok' } });
    }
  });
  for (const [proc, inv] of open) out.push({ id: inv.id, client: proc, key: 'register', input: inv.input, call: inv.call, outcome: 'indeterminate' });
  return out.sort((a, b) => a.id - b.id);
}

// ---- porcupine kv: get/put/append on string values ----------------------------------------------

export type StringKvInput = { readonly kind: 'get' } | { readonly kind: 'put'; readonly value: string } | { readonly kind: 'append'; readonly value: string };
export type StringKvOutput = { readonly value: string } | Record<string, never>;

/** Per key: a string, initially ""; get returns it, put replaces it, append concatenates. */
export const stringKvModel: Model<string, StringKvInput, StringKvOutput> = {
  name: 'string-kv',
  init: () => '',
  step(state, input, output) {
    switch (input.kind) {
      case 'get':
        if (output === undefined) return state;
        return 'value' in output && output.value === state ? state : undefined;
      case 'put':
        return input.value;
      case 'append':
        return state + input.value;
    }
  },
  hash: (s) => fnv1a(s),
  equal: (a, b) => a === b,
  readOnly: (i) => i.kind === 'get',
  describeOperation: (input, output) =>
    input.kind === 'get' ? `get -> ${output === undefined ? '?' : JSON.stringify((output as { value?: string }).value)}` : `${input.kind} ${JSON.stringify(input.value)}${output === undefined ? ' -> ?' : ''}`,
  describeState: (s) => JSON.stringify(s),
};

const EDN_LINE = /^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(get|put|append), :key "([^"]*)", :value (nil|"([^"]*)")\}$/;

/** Parses porcupine's kv test logs (one EDN-like map per line). Time = line number. */
export function parseKvLog(text: string): RecordedOp<StringKvInput, StringKvOutput>[] {
  const open = new Map<string, { id: number; key: string; input: StringKvInput; call: number }>();
  const out: RecordedOp<StringKvInput, StringKvOutput>[] = [];
  let nextId = 0;
  text.split('\n').forEach((raw, t) => {
    const line = raw.trim();
    if (line === '') return;
    const m = EDN_LINE.exec(line);
    if (m === null) throw new Error(`kv log line ${t + 1}: unrecognised ${JSON.stringify(line)}`);
    const [, proc, type, f, key] = m as unknown as [string, string, string, string, string];
    const value = m[6];
    if (type === 'invoke') {
      if (open.has(proc)) throw new Error(`kv log line ${t + 1}: process ${proc} already has an operation outstanding`);
      const input: StringKvInput = f === 'get' ? { kind: 'get' } : { kind: f as 'put' | 'append', value: value ?? '' };
      open.set(proc, { id: nextId++, key, input, call: t });
      return;
    }
    const inv = open.get(proc);
    if (inv === undefined) throw new Error(`kv log line ${t + 1}: completion without invocation for process ${proc}`);
    open.delete(proc);
    const base = { id: inv.id, client: proc, key: inv.key, input: inv.input, call: inv.call, ret: t };
    if (type !== 'ok') out.push({ ...base, outcome: type === 'fail' ? 'failed' : 'indeterminate' });
    else out.push({ ...base, outcome: 'ok', output: inv.input.kind === 'get' ? { value: value ?? '' } : {} });
  });
  for (const [proc, inv] of open) out.push({ id: inv.id, client: proc, key: inv.key, input: inv.input, call: inv.call, outcome: 'indeterminate' });
  return out.sort((a, b) => a.id - b.id);
}

/** Expected verdicts from the README's tables (`| file | true/false |` rows); files without a row have none. */
export function parseExpectedVerdicts(readme: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of readme.split('\n')) {
    const m = /^\|\s*([\w.-]+\.(?:log|txt))\s*\|\s*(true|false)\s*\|/.exec(line);
    if (m !== null) out.set(m[1]!, m[2] === 'true');
  }
  return out;
}
