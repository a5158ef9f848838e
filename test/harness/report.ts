// A fault run's report (RELIABILITY.md §7.1): a directory holding the history as JSON lines
// (history-<run>.jsonl, docs/linearizability.md format plus node/index/servedBy), the run's events
// (events.jsonl: faults, summaries, one JSON object per line) and a readable summary.txt.
// finish(ok): on success everything is removed (report dir and the registered data dirs); on failure all
// of it is kept and the path is returned for the test's failure message.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RunReport {
  readonly dir: string;
  private readonly dataDirs: { path: string; remove: () => void | Promise<void> }[] = [];
  private readonly lines: string[] = [];

  constructor(name: string, root: string = process.env.COFFER_HARNESS_REPORTS ?? tmpdir()) {
    this.dir = mkdtempSync(join(root, `coffer-harness-${name}-`));
  }

  /** Data directories (node data, etcd members) kept on failure, removed by `remove` on success. */
  addDataDir(path: string, remove: () => void | Promise<void>): void {
    this.dataDirs.push({ path, remove });
  }

  /** Appends one event (fault injected, healed, run summary, …) to events.jsonl. */
  event(obj: Record<string, unknown>): void {
    appendFileSync(join(this.dir, 'events.jsonl'), JSON.stringify({ at: new Date().toISOString(), ...obj }) + '\n');
  }

  /** Writes one run's history (JSON lines). */
  history(run: string, jsonl: string): string {
    const path = join(this.dir, `history-${run}.jsonl`);
    writeFileSync(path, jsonl);
    return path;
  }

  /** Adds a line to summary.txt (and returns it, for console.log). */
  line(text: string): string {
    this.lines.push(text);
    writeFileSync(join(this.dir, 'summary.txt'), this.lines.join('\n') + '\n');
    return text;
  }

  /** Removes everything on success; on failure keeps it and returns where it is. */
  async finish(ok: boolean): Promise<string> {
    if (ok) {
      for (const d of this.dataDirs) await d.remove();
      rmSync(this.dir, { recursive: true, force: true });
      return '';
    }
    const kept = [this.dir, ...this.dataDirs.map((d) => d.path)];
    return `report and data kept: ${kept.join(' ')}`;
  }
}
