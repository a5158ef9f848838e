// A worker thread of the seed runner: runs its share of the seeds and posts each result.
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../../runtime/assert.js';
import { loadCore } from './core.js';
import { type WorkerJob, jobSeeds, runOneSeed } from './runner.js';

const job = workerData as WorkerJob;
assert(parentPort !== null, 'worker.js must run as a worker thread');
const port = parentPort;
const createNode = await loadCore(job.corePath);
for (const seed of jobSeeds(job)) {
  const result = runOneSeed(seed, job.steps, job.nodes, createNode);
  port.postMessage(result);
  if (!result.ok && job.stopOnFailure) break;
}
