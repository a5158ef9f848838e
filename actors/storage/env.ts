// One LMDB environment per node: <dataDir>/coffer.mdb (a single file, noSubdir; the lock file is
// coffer.mdb-lock), holding four named databases:
//   fsm   string key -> barrier ciphertext (opaque bytes)
//   meta  string key -> versioned record   (the FSM's applied {index, term})
//   log   uint index -> versioned Entry    (the Raft log)
//   hard  string key -> versioned record   (hard state, log base, snapshot meta)
// lmdb-js shares one native environment between all worker threads of a process that open the same
// path, so every thread opens with the SAME flags (the first opener's flags win for everyone). That is
// why `readOnly` here is a guard in this wrapper, not LMDB's read-only mode: an LMDB read-only open by a
// reader worker that raced ahead of the writer would make the shared env read-only for the writer too.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../../runtime/assert.js';
import { mutation } from '../../runtime/mutations.js';
import { storageLimits } from './storage-limits.js';

export const ENV_FILE_NAME = 'coffer.mdb';

export interface StorageEnv {
  /** Path of the LMDB data file. */
  readonly path: string;
  /** Opened by a reader: LogStore, Fsm and LocalWritePath refuse such an env. */
  readonly readOnly: boolean;
  readonly root: RootDatabase<Buffer, string>;
  readonly fsm: Database<Buffer, string>;
  readonly meta: Database<Buffer, string>;
  readonly log: Database<Buffer, number>;
  readonly hard: Database<Buffer, string>;
  close(): Promise<void>;
}

export function openStorageEnv(dataDir: string, opts?: { readOnly?: boolean }): StorageEnv {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, ENV_FILE_NAME);
  const root = open<Buffer, string>(path, {
    noSubdir: true,
    maxDbs: storageLimits.dbsMax,
    // Asserted, not left to the platform default: commits resolve early and `flushed` is the fsync,
    // and a crash after a commit but before its flush restores the last flushed transaction.
    // §7.3 mutation ack-before-fsync (runtime/mutations.ts): no sync at commit (a flush only when lmdb-js gets to it).
    ...(mutation('ack-before-fsync') ? { overlappingSync: false, noSync: true } : { overlappingSync: true }),
    encoding: 'binary',
    keyEncoding: 'ordered-binary',
    cache: false,
    // lmdb-js starts with a 128 KiB map and doubles it as the file grows, keeping every earlier mapping
    // (buffers may still point into them): at 100k secrets 9 mappings held 134 MiB of file pages for a
    // 67 MiB file, all counted in RSS. One map reserved up front is address space only, not memory.
    mapSize: storageLimits.mapBytes,
  });
  const db = <K extends string | number>(name: string): Database<Buffer, K> =>
    root.openDB<Buffer, K>(name, { encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
  const env: StorageEnv = {
    path,
    readOnly: opts?.readOnly === true,
    root,
    fsm: db<string>('fsm'),
    meta: db<string>('meta'),
    log: db<number>('log'),
    hard: db<string>('hard'),
    close: () => root.close(),
  };
  return env;
}

export function assertWritable(env: StorageEnv, who: string): void {
  assert(!env.readOnly, `${who} needs a writable storage env, got a read-only one (${env.path})`);
}
