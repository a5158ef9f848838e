// The CPU pool's task module for large transit batches: the same pure code the handler runs inline
// (crypto.ts), on a piscina worker so a 10k-item batch does not hold up the handler thread.
import { runBatch, type BatchOutcome, type BatchTask } from './crypto.js';

export default function transitBatch(task: BatchTask): (BatchOutcome | null)[] {
  return runBatch(task);
}
