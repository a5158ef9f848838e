// Reads the apply journals nodes write with COFFER_APPLY_JOURNAL (actors/storage/apply-journal.ts) and
// compares them: State Machine Safety on a real cluster — every index applied by more than one node (or
// by one node twice, across restarts) carries the same term and payload hash. Gaps are normal (a crash
// between apply and append, a snapshot install), conflicts are not.
import { existsSync, readFileSync } from 'node:fs';

export interface JournalComparison {
  /** Indexes seen on at least two nodes (or twice on one), compared entry by entry. */
  compared: number;
  /** Lines read over all journals. */
  lines: number;
  /** Index → the differing (node, term, hash) records, empty when safe. */
  conflicts: string[];
}

export function compareApplyJournals(files: Record<string, string>): JournalComparison {
  const seen = new Map<number, { node: string; rec: string }>();
  const comparedAt = new Set<number>();
  const conflicts: string[] = [];
  let lines = 0;
  for (const [node, file] of Object.entries(files)) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      const [indexText, term, hash] = line.split(' ');
      const index = Number(indexText);
      if (!Number.isInteger(index) || term === undefined || hash === undefined) {
        conflicts.push(`${node}: malformed journal line "${line}"`);
        continue;
      }
      const rec = `${term} ${hash}`;
      const first = seen.get(index);
      if (first === undefined) {
        seen.set(index, { node, rec });
        continue;
      }
      comparedAt.add(index);
      if (first.rec !== rec) conflicts.push(`index ${index}: ${first.node} applied ${first.rec}, ${node} applied ${rec}`);
    }
  }
  return { compared: comparedAt.size, lines, conflicts };
}
