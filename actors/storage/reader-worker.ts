// Test fixture for reader.test.ts: a reader in a worker thread on the same dataDir. It reads, then
// blocks in Atomics.wait (no timers run, as in an actor parked on a ring) while the main thread writes,
// then reads again without and with refresh().
import { parentPort, workerData } from 'node:worker_threads';
import { openStorageEnv } from './env.js';
import { FsmReader } from './fsm-reader.js';

const { dataDir, key, flag } = workerData as { dataDir: string; key: string; flag: Int32Array };
const env = openStorageEnv(dataDir, { readOnly: true });
const reader = new FsmReader(env);
const before = reader.get(key)?.toString() ?? null;
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
Atomics.wait(flag, 0, 1); // main sets 2 after its write is applied
const stale = reader.get(key)?.toString() ?? null;
reader.refresh();
const fresh = reader.get(key)?.toString() ?? null;
const applied = reader.applied();
parentPort!.postMessage({ before, stale, fresh, applied });
await env.close();
