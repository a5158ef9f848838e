import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { createCpuPool } from './pool.js';

test('cpu pool runs tasks off the main thread, named exports too, and propagates task errors', async () => {
  const pool = createCpuPool(new URL('./pool-task.test-worker.js', import.meta.url), { maxThreads: 2, idleTimeoutMs: 100 });
  try {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run<{ sum: number; threadId: number }>({ xs: [i, i, 1] })));
    results.forEach((r, i) => assert.equal(r.sum, 2 * i + 1));
    assert.ok(results.every((r) => r.threadId !== threadId), 'ran on worker threads');
    await assert.rejects(pool.run({ message: 'bad input' }, 'fail'), /bad input/);
  } finally {
    await pool.destroy();
  }
});
