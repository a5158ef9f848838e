import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { LocalWritePath } from './write-path.js';
import { put, tempDir } from './test-util.js';

test('reader: a worker thread sees a write after refresh(), and only then while parked', async (t) => {
  const dir = tempDir(t);
  const wp = LocalWritePath.open(dir);
  await wp.submit(put('k', 'old'));
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./reader-worker.js', import.meta.url), { workerData: { dataDir: dir, key: 'k', flag } });
  const result = new Promise<{ before: string; stale: string; fresh: string; applied: { index: number } }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  while (Atomics.load(flag, 0) !== 1) await new Promise((r) => setTimeout(r, 1));
  const { index } = await wp.submit(put('k', 'new'));
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  const r = await result;
  assert.equal(r.before, 'old');
  assert.equal(r.stale, 'old', 'a parked reader keeps its old snapshot (the BRIEF pitfall)');
  assert.equal(r.fresh, 'new');
  assert.equal(r.applied.index, index);
  await worker.terminate();
  await wp.close();
});
