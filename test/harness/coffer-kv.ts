// KV v2 register operations against one Coffer node, mapped to recorder outcomes (RELIABILITY.md §7.1):
//   read  GET  <mount>/data/<key>                 200 -> found (value, metadata.version); 404 -> not found
//   write PUT  <mount>/data/<key> {data:{v}}      200 -> version
//   cas   PUT  ... {options:{cas:n}}              200 -> ok, version; 400 "check-and-set ..." -> ok:false
// Any other 4xx is a definite failure (validated before it could take effect); 5xx, 307, timeouts and
// resets after sending are indeterminate (a 5xx may come from a forward whose write committed).
// Reads carry `X-Coffer-Consistency: linearizable` unless asked otherwise (docs/ha-standby-reads.md).
import type { Agent } from 'node:http';
import type { KvInput } from '../lin/index.js';
import { httpCall, HttpCallError, type HttpAnswer } from './http-call.js';
import type { OpResult } from './recorder.js';

export interface CofferKvOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8200. */
  url: string;
  /** Node id, recorded as the target. */
  node: string;
  token: string;
  /** KV v2 mount (default "secret"). */
  mount?: string;
  timeoutMs: number;
  now: () => number;
  agent?: Agent;
  /** 'linearizable' (default): ReadIndex on whichever node serves; 'local': plain standby read. */
  readMode?: 'linearizable' | 'local';
  /** Extra request headers (e.g. X-Vault-Index / X-Vault-Inconsistent for read-your-writes tests). */
  headers?: Record<string, string>;
}

/** The Raft index inside an X-Vault-Index token (0x01 | u64 BE | 16-byte MAC, base64); undefined if absent. */
export function decodeVaultIndex(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[header.length - 1] : header;
  if (v === undefined || v === '') return undefined;
  const b = Buffer.from(v, 'base64');
  if (b.length !== 25 || b[0] !== 1) return undefined;
  return Number(b.readBigUInt64BE(1));
}

const CAS_MISMATCH = /check-and-set parameter did not match/;

export async function cofferKvOp(o: CofferKvOptions, key: string, input: KvInput): Promise<OpResult> {
  const mount = o.mount ?? 'secret';
  const url = `${o.url}/v1/${mount}/data/${key}`;
  const headers: Record<string, string> = { ...(o.headers ?? {}), 'X-Vault-Token': o.token };
  let method = 'GET';
  let body: string | undefined;
  if (input.kind === 'read') {
    if ((o.readMode ?? 'linearizable') === 'linearizable') headers['X-Coffer-Consistency'] = 'linearizable';
  } else if (input.kind === 'write') {
    method = 'PUT';
    body = JSON.stringify({ data: { v: input.value } });
  } else if (input.kind === 'cas') {
    method = 'PUT';
    body = JSON.stringify({ options: { cas: input.expectVersion }, data: { v: input.value } });
  } else {
    method = 'DELETE';
  }
  let a: HttpAnswer;
  try {
    a = await httpCall({ method, url, headers, ...(body !== undefined ? { body } : {}), timeoutMs: o.timeoutMs, now: o.now, ...(o.agent ? { agent: o.agent } : {}) });
  } catch (err) {
    if (err instanceof HttpCallError) return { outcome: err.sent ? 'indeterminate' : 'failed', call: err.call, ret: err.ret, node: o.node, error: err.message };
    throw err;
  }
  const base: OpResult = { outcome: 'indeterminate', call: a.call, ret: a.ret, node: o.node, status: a.status };
  const servedBy = a.headers['x-coffer-served-by'];
  if (typeof servedBy === 'string') base.servedBy = servedBy;
  const index = decodeVaultIndex(a.headers['x-vault-index']);
  if (index !== undefined) base.index = index;
  let json: any = null;
  try {
    json = a.text === '' ? null : JSON.parse(a.text);
  } catch {
    json = null;
  }
  const errText = Array.isArray(json?.errors) ? json.errors.join('; ') : undefined;
  if (errText !== undefined) base.error = `${a.status} ${errText}`;
  else if (a.status >= 300) base.error = String(a.status);
  switch (input.kind) {
    case 'read':
      if (a.status === 200) {
        const v = json?.data?.data?.v;
        const version = json?.data?.metadata?.version;
        if (typeof v !== 'string' || !Number.isInteger(version)) return { ...base, outcome: 'indeterminate', error: `unexpected read body: ${a.text.slice(0, 200)}` };
        return { ...base, outcome: 'ok', output: { found: true, value: v, version } };
      }
      if (a.status === 404) return { ...base, outcome: 'ok', output: { found: false } };
      return { ...base, outcome: a.status >= 400 && a.status < 500 ? 'failed' : 'indeterminate' };
    case 'write':
    case 'cas':
    case 'delete': {
      if (a.status === 200 || a.status === 204) {
        const version = json?.data?.version;
        if (input.kind === 'delete') return { ...base, outcome: 'ok', output: {} };
        if (!Number.isInteger(version)) return { ...base, outcome: 'indeterminate', error: `unexpected write body: ${a.text.slice(0, 200)}` };
        return { ...base, outcome: 'ok', output: input.kind === 'cas' ? { ok: true, version } : { version } };
      }
      if (input.kind === 'cas' && a.status === 400 && errText !== undefined && CAS_MISMATCH.test(errText)) return { ...base, outcome: 'ok', output: { ok: false } };
      return { ...base, outcome: a.status >= 400 && a.status < 500 ? 'failed' : 'indeterminate' };
    }
  }
}
