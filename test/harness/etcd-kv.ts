// The same register operations against one etcd member through its JSON gateway (HTTP/1.1), so the
// harness can be validated on a reference system (HARNESS-CONTROL, RELIABILITY.md §7.3):
//   read  POST /v3/kv/range {key, serializable}  kvs[0] -> found (value, version); no kvs -> not found
//   write POST /v3/kv/put {key, value, prev_kv}  version = prev_kv.version + 1 (1 when there was none)
//   cas   POST /v3/kv/txn  compare VERSION == expect, then put with prev_kv   succeeded -> ok, version
// etcd's per-key `version` is exactly KV v2's versioned register as long as nothing deletes (the workload
// never does). The header revision is recorded as the served index. Errors: a non-200 answer or a network
// failure after sending is indeterminate (etcd answers "request timed out" / "leader changed" for writes
// that may still commit); a refused connection is a definite failure.
import type { Agent } from 'node:http';
import type { KvInput } from '../lin/index.js';
import { httpCall, HttpCallError, type HttpAnswer } from './http-call.js';
import type { OpResult } from './recorder.js';

export interface EtcdKvOptions {
  clientUrl: string;
  /** Member name, recorded as node and servedBy. */
  node: string;
  timeoutMs: number;
  now: () => number;
  agent?: Agent;
  /** 'linearizable' (etcd's default, a ReadIndex round) or 'serializable' (the member's local state). */
  readMode: 'linearizable' | 'serializable';
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export async function etcdKvOp(o: EtcdKvOptions, key: string, input: KvInput): Promise<OpResult> {
  let path: string;
  let body: unknown;
  const k = b64(key);
  switch (input.kind) {
    case 'read':
      path = '/v3/kv/range';
      body = { key: k, serializable: o.readMode === 'serializable' };
      break;
    case 'write':
      path = '/v3/kv/put';
      body = { key: k, value: b64(input.value), prev_kv: true };
      break;
    case 'cas':
      path = '/v3/kv/txn';
      body = {
        compare: [{ key: k, target: 'VERSION', result: 'EQUAL', version: String(input.expectVersion) }],
        success: [{ request_put: { key: k, value: b64(input.value), prev_kv: true } }],
        failure: [],
      };
      break;
    case 'delete':
      throw new Error('etcd workload: delete is not part of the register workload');
  }
  let a: HttpAnswer;
  try {
    a = await httpCall({ method: 'POST', url: `${o.clientUrl}${path}`, body: JSON.stringify(body), timeoutMs: o.timeoutMs, now: o.now, ...(o.agent ? { agent: o.agent } : {}) });
  } catch (err) {
    if (err instanceof HttpCallError) return { outcome: err.sent ? 'indeterminate' : 'failed', call: err.call, ret: err.ret, node: o.node, error: err.message };
    throw err;
  }
  const base: OpResult = { outcome: 'indeterminate', call: a.call, ret: a.ret, node: o.node, servedBy: o.node, status: a.status };
  let json: any = null;
  try {
    json = JSON.parse(a.text);
  } catch {
    json = null;
  }
  if (a.status !== 200 || json === null || json.error !== undefined) return { ...base, error: `${a.status} ${a.text.slice(0, 200)}` };
  const rev = Number(json.header?.revision);
  if (Number.isFinite(rev)) base.index = rev;
  // The gateway omits zero values (proto3 JSON): absent `kvs`, `succeeded` or `version` mean empty/false/0.
  switch (input.kind) {
    case 'read': {
      const kv = json.kvs?.[0];
      if (kv === undefined) return { ...base, outcome: 'ok', output: { found: false } };
      return { ...base, outcome: 'ok', output: { found: true, value: unb64(kv.value ?? ''), version: Number(kv.version) } };
    }
    case 'write':
      return { ...base, outcome: 'ok', output: { version: Number(json.prev_kv?.version ?? 0) + 1 } };
    case 'cas': {
      if (json.succeeded !== true) return { ...base, outcome: 'ok', output: { ok: false } };
      const prev = json.responses?.[0]?.response_put?.prev_kv;
      return { ...base, outcome: 'ok', output: { ok: true, version: Number(prev?.version ?? 0) + 1 } };
    }
  }
}
