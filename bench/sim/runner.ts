// Runs many seeds, in this thread or spread over worker threads (seed i goes to worker i mod jobs),
// and folds the per-seed results into one summary. Wall-clock time is measured here, outside the
// simulation; nothing inside a run reads a clock.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { assert } from '../../runtime/assert.js';
import type { CreateRaftNode } from '../../actors/raft/core/types.js';
import { loadCore } from './core.js';
import { swarmOptions } from './options.js';
import { type SimResult, type SimStats, runSimulation, zeroStats } from './simulation.js';

export interface RunSeedsOptions {
  seedFrom: number;
  seedCount: number;
  steps: number;
  nodes?: number;
  jobs: number;
  /** Stop every worker at the first failure (the default for reproduction). */
  stopOnFailure: boolean;
  /** Path of a module exporting createRaftNode (tests use this to run a broken core). */
  corePath?: string;
  onResult?: (result: SimResult) => void;
}

export interface Summary {
  seeds: number;
  failures: SimResult[];
  steps: number;
  livenessTicks: number;
  elapsedMs: number;
  ticksToLeader: number[];
  ticksToCommit: number[];
  totals: Record<string, number>;
}

export interface WorkerJob {
  seedFrom: number;
  seedCount: number;
  stride: number;
  offset: number;
  steps: number;
  nodes?: number;
  stopOnFailure: boolean;
  corePath?: string;
}

/** The seeds of one job, in order. */
export function* jobSeeds(job: WorkerJob): Generator<number> {
  for (let k = job.offset; k < job.seedCount; k += job.stride) yield job.seedFrom + k;
}

export function runOneSeed(seed: number, steps: number, nodes: number | undefined, createNode: CreateRaftNode): SimResult {
  const overrides = nodes === undefined ? {} : { nodes };
  const options = swarmOptions(seed, steps, overrides);
  try {
    return runSimulation(options, createNode);
  } catch (error) {
    // A bug in the simulator itself: still a failing seed, reported with its reproduction.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { seed, ok: false, failure: { invariant: 'simulator-error', detail, step: -1, phase: 'safety' }, stats: zeroStats() };
  }
}

export async function runSeeds(options: RunSeedsOptions): Promise<Summary> {
  assert(options.jobs >= 1 && options.jobs <= 64, `jobs must be in [1, 64], got ${options.jobs}`);
  assert(options.seedCount >= 1, 'at least one seed');
  const summary = emptySummary();
  const started = performance.now();
  const fold = (result: SimResult): void => {
    addResult(summary, result);
    options.onResult?.(result);
  };
  const base = { seedFrom: options.seedFrom, seedCount: options.seedCount, steps: options.steps, stopOnFailure: options.stopOnFailure, stride: options.jobs };
  const extra = { ...(options.nodes === undefined ? {} : { nodes: options.nodes }), ...(options.corePath === undefined ? {} : { corePath: options.corePath }) };
  if (options.jobs === 1) {
    const createNode = await loadCore(options.corePath);
    for (const seed of jobSeeds({ ...base, ...extra, offset: 0 })) {
      const result = runOneSeed(seed, options.steps, options.nodes, createNode);
      fold(result);
      if (!result.ok && options.stopOnFailure) break;
    }
  } else {
    const jobs: Promise<void>[] = [];
    const workers: Worker[] = [];
    for (let offset = 0; offset < options.jobs; offset++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ...base, ...extra, offset } satisfies WorkerJob });
      workers.push(worker);
      jobs.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (result: SimResult) => {
            fold(result);
            if (!result.ok && options.stopOnFailure) for (const w of workers) void w.terminate();
          });
          worker.on('error', reject);
          worker.on('exit', () => resolve());
        }),
      );
    }
    await Promise.all(jobs);
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
}

function emptySummary(): Summary {
  return { seeds: 0, failures: [], steps: 0, livenessTicks: 0, elapsedMs: 0, ticksToLeader: [], ticksToCommit: [], totals: {} };
}

function addResult(summary: Summary, result: SimResult): void {
  summary.seeds++;
  if (!result.ok) summary.failures.push(result);
  const stats: SimStats = result.stats;
  summary.steps += stats.steps;
  summary.livenessTicks += stats.livenessTicks;
  if (stats.ticksToLeader >= 0) summary.ticksToLeader.push(stats.ticksToLeader);
  if (stats.ticksToCommit >= 0) summary.ticksToCommit.push(stats.ticksToCommit);
  for (const [key, value] of Object.entries(stats)) {
    if (key === 'ticksToLeader' || key === 'ticksToCommit') continue;
    summary.totals[key] = (summary.totals[key] ?? 0) + value;
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
