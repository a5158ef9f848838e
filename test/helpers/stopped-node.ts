// Editing a STOPPED node's storage from a test, the way an attacker with disk access or a failing disk
// would: the node's one LMDB file (<data>/coffer.mdb, actors/storage/env.ts) opened with the lmdb
// package, values changed through LMDB itself so the B-tree stays valid and only record bytes differ.
// Also: init/unseal of a fresh `coffer server` process and restart-with-unseal.
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { http, startServerProcess, type ServerProcess } from './server-process.js';

export interface InitResult {
  rootToken: string;
  keys: string[];
}

export async function initAndUnseal(server: ServerProcess, shares = 1, threshold = 1): Promise<InitResult> {
  const init = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: shares, secret_threshold: threshold } });
  if (init.status !== 200) throw new Error(`init: ${init.text}`);
  await unseal(server.url, init.body.keys.slice(0, threshold));
  return { rootToken: init.body.root_token, keys: init.body.keys };
}

export async function unseal(url: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    const r = await http(url, 'PUT', 'sys/unseal', { body: { key } });
    if (r.status !== 200) throw new Error(`unseal: ${r.status} ${r.text}`);
  }
}

/** Starts the node on its existing storage and unseals it (throws with the node's stderr if it cannot start). */
export async function restart(dir: string, keys: string[]): Promise<ServerProcess> {
  const server = await startServerProcess(dir);
  try {
    await unseal(server.url, keys);
  } catch (err) {
    await server.kill();
    throw new Error(`${(err as Error).message}; stderr:\n${server.stderr()}`);
  }
  return server;
}

/** Opens the stopped node's LMDB env; every named database uses the node's encodings. */
export function openStoppedEnv(dir: string): { root: RootDatabase<Buffer, any>; db(name: 'fsm' | 'meta' | 'log' | 'hard'): Database<Buffer, any>; close(): Promise<void> } {
  const root = open<Buffer, any>(join(dir, 'data', 'coffer.mdb'), { noSubdir: true, maxDbs: 16, encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
  return {
    root,
    db: (name) => root.openDB<Buffer, any>(name, { encoding: 'binary', keyEncoding: 'ordered-binary', cache: false }),
    close: () => root.close(),
  };
}

/** A copy of `v` with one bit flipped at byte `at` (default: the middle). */
export function flipBit(v: Buffer, at = Math.floor(v.length / 2), bit = 4): Buffer {
  const out = Buffer.from(v);
  out[at] = (out[at] as number) ^ (1 << bit);
  return out;
}
