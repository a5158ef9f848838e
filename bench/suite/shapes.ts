// Request shapes shared by the families. Coffer and etcd do the same work: reads of one random key out of
// `readKeys` preloaded 100-byte values, writes of a 100-byte value to a key never written before.
import { b64 } from '../lib/etcd-cluster.js';
import type { Shape } from './types.js';

export const VALUE = 'v'.repeat(100);
export const WRITE_BODY = JSON.stringify({ data: { value: VALUE } });
/** The bench policy: reads under bench/r/, writes under bench/w/ (a user's token, not root). */
export const BENCH_POLICY = 'path "secret/data/bench/r/*" {\n  capabilities = ["read"]\n}\npath "secret/data/bench/w/*" {\n  capabilities = ["create", "update"]\n}\n';

export const readKey = (i: number): string => `r/${String(i).padStart(8, '0')}`;
const runTag = Date.now().toString(36);
let writeCounter = 0;
/** A key no run has written: the run tag keeps repeated runs against one server apart. */
const freshKey = (): string => `w/${runTag}/${writeCounter++}`;

export function cofferRead(readKeys: number, extraHeaders?: Record<string, string>): Shape {
  return { method: 'GET', kind: 'read', path: () => `/v1/secret/data/bench/${readKey((Math.random() * readKeys) | 0)}`, ...(extraHeaders ? { headers: extraHeaders } : {}) };
}

export function cofferWrite(): Shape {
  return { method: 'PUT', kind: 'write', path: () => `/v1/secret/data/bench/${freshKey()}`, body: WRITE_BODY };
}

export const cofferLookupSelf: Shape = { method: 'GET', kind: 'lookup', path: () => '/v1/auth/token/lookup-self' };

export function tokenHeaders(token: string): Record<string, string> {
  return { 'X-Vault-Token': token, 'Content-Type': 'application/json' };
}

const VALUE_B64 = b64(VALUE);
let readKeysB64: string[] = [];
function readKeyB64(readKeys: number): string {
  if (readKeysB64.length !== readKeys) readKeysB64 = Array.from({ length: readKeys }, (_, i) => b64(readKey(i)));
  return readKeysB64[(Math.random() * readKeys) | 0] as string;
}

/** POST /v3/kv/range; linearizable unless `serializable` (etcd's default is linearizable). */
export function etcdRange(readKeys: number, serializable: boolean): Shape {
  const ser = serializable ? ',"serializable":true' : '';
  return { method: 'POST', path: () => '/v3/kv/range', body: () => `{"key":"${readKeyB64(readKeys)}"${ser}}` };
}

export function etcdPut(): Shape {
  return { method: 'POST', path: () => '/v3/kv/put', body: () => `{"key":"${b64(freshKey())}","value":"${VALUE_B64}"}` };
}

export function etcdPutAt(i: number): { path: string; body: string } {
  return { path: '/v3/kv/put', body: `{"key":"${b64(readKey(i))}","value":"${VALUE_B64}"}` };
}

/** Each connection cycles 9 reads then 1 write. */
export function mix90(read: Shape, write: Shape): Shape[] {
  return [...Array.from({ length: 9 }, () => read), write];
}

export const ETCD_HEADERS = { 'Content-Type': 'application/json' };
