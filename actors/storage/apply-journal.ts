// Apply journal (test builds, RELIABILITY.md §7.1): with COFFER_APPLY_JOURNAL=<file>, every entry the FSM
// applies appends one line `index term sha256(payload)` to that file. Comparing the journals of all nodes
// is State Machine Safety checked on a real cluster: no two nodes may apply different entries at one
// index. Hashes only, never values (the payload holds barrier ciphertext anyway). Unset: one null check.
// A crash between the apply transaction and the append leaves a gap, never a wrong line, and snapshot
// installs skip indexes: readers must accept gaps, only conflicts count.
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { Entry } from '../raft/core/types.js';

const JOURNAL_PATH = process.env.COFFER_APPLY_JOURNAL || null;

function payloadHash(entry: Entry): string {
  const h = createHash('sha256');
  const p = entry.payload;
  if (p.t === 'normal') h.update('normal').update(p.data);
  else if (p.t === 'conf') h.update('conf').update(JSON.stringify(p.change));
  else h.update(p.t);
  return h.digest('hex').slice(0, 32);
}

export function journalApplied(entries: readonly Entry[]): void {
  if (JOURNAL_PATH === null || entries.length === 0) return;
  appendFileSync(JOURNAL_PATH, entries.map((e) => `${e.index} ${e.term} ${payloadHash(e)}\n`).join(''));
}
