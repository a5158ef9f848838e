// A thin piscina wrapper for stateless CPU work (hashing, KDFs, big encodes): bounded queue, no
// Infinity anywhere (STYLE guideline 7). The task file's default export is called with `task`
// (or its named export `name`). Stateful work belongs in an actor (runtime/host), not here.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { assert } from './assert.js';
import { CofferError } from './errors.js';
import { poolLimits } from './limits.js';

export interface CpuPool {
  run<T>(task: unknown, name?: string): Promise<T>;
  destroy(): Promise<void>;
}

export function createCpuPool(filename: URL, opts: { maxThreads?: number; idleTimeoutMs?: number } = {}): CpuPool {
  const maxThreads = opts.maxThreads ?? Math.max(1, availableParallelism() - 1);
  assert(Number.isSafeInteger(maxThreads) && maxThreads >= 1, `maxThreads must be >= 1, got ${maxThreads}`);
  const pool = new Piscina({
    filename: fileURLToPath(filename),
    minThreads: 0,
    maxThreads,
    idleTimeout: opts.idleTimeoutMs ?? poolLimits.cpuPoolIdleTimeoutMs,
    maxQueue: poolLimits.cpuPoolQueueMax,
  });
  return {
    async run<T>(task: unknown, name?: string): Promise<T> {
      if (pool.queueSize >= poolLimits.cpuPoolQueueMax) {
        throw new CofferError('COFFER_ERR_BACKPRESSURE', `cpu pool queue full (${poolLimits.cpuPoolQueueMax} tasks)`);
      }
      return (await pool.run(task, name === undefined ? {} : { name })) as T;
    },
    destroy: () => pool.destroy(),
  };
}
