// Test helpers: fresh temp data dirs, removed after the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../raft/core/types.js';
import type { StorageEnv } from './env.js';
import { encodeWriteSet, type WriteSet } from './write-set.js';

export function tempDir(t: { after(fn: () => void): void }, label = 'coffer-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), label));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function put(key: string, value: string): WriteSet {
  return { ops: [{ t: 'put', key, value: Buffer.from(value) }] };
}

export function normal(index: number, term: number, ws: WriteSet): Entry {
  return { index, term, payload: { t: 'normal', data: encodeWriteSet(ws) } };
}

export function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString();
}

/** Every FSM pair in key order (values base64), from a fresh read snapshot. */
export function fsmPairs(env: StorageEnv): [string, string][] {
  env.root.resetReadTxn();
  const out: [string, string][] = [];
  for (const { key, value } of env.fsm.getRange({})) out.push([key, Buffer.from(value).toString('base64')]);
  return out;
}
