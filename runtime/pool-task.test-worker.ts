// Test task file for runtime/pool.test.ts.
import { threadId } from 'node:worker_threads';

export default function sum(task: { xs: number[] }): { sum: number; threadId: number } {
  return { sum: task.xs.reduce((a, b) => a + b, 0), threadId };
}

export function fail(task: { message: string }): never {
  throw new Error(task.message);
}
