// bench/compaction: KV v2 write latency on a 3-node cluster while the Raft log is compacted behind a
// snapshot, against the latency of the same run outside compactions (the baseline, same invocation).
// Every node writes an image of its FSM at each compaction; before session 7 that happened in one
// synchronous stretch of the raft thread and every write of the cluster waited for it (docs/performance.md).
// The writes go to new keys, so the FSM grows and each compaction has more to write than the last.
// Each node's raft-snapshot/ directory is polled: a compaction window runs from the first node's
// `<index>-<term>.img.tmp` to the last node's `.img` (+250 ms for the log truncation after it).
// Usage: node dist/bench/compaction.js [--duration S=40] [--connections C=64] [--threshold N=15000] [--json]
import autocannon from 'autocannon';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startCofferCluster } from './lib/coffer-cluster.js';
import { quantile } from './lib/load.js';
import { writeReport } from './lib/report.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || dflt : dflt;
};
const durationS = arg('--duration', 40);
const connections = arg('--connections', 64);
const threshold = arg('--threshold', 15_000);
const json = args.includes('--json');
const POLL_MS = 25;
const TRUNCATION_MARGIN_MS = 250;

interface Sample {
  /** Completion time (ms since the run began) and latency (ms) of one 2xx write. */
  doneMs: number;
  latencyMs: number;
}

interface Window {
  index: number;
  startMs: number;
  endMs: number;
}

/** Compaction windows from the image files seen appearing (`.tmp`) and completing (renamed) on each node. */
class ImageWatch {
  private readonly seen = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly dirs: string[], private readonly t0: number) {
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  private poll(): void {
    const now = performance.now() - this.t0;
    this.dirs.forEach((dir, node) => {
      let names: string[] = [];
      try {
        names = readdirSync(join(dir, 'data', 'raft-snapshot'));
      } catch {
        return; // not created yet
      }
      for (const name of names) if (!this.seen.has(`${node}/${name}`)) this.seen.set(`${node}/${name}`, now);
    });
  }

  stop(): Window[] {
    clearInterval(this.timer);
    const byIndex = new Map<number, { start: number; end: number }>();
    for (const [key, at] of this.seen) {
      const m = /\/(\d+)-\d+\.img(\.tmp)?$/.exec(key);
      if (!m) continue;
      const index = Number(m[1]);
      const w = byIndex.get(index) ?? { start: Infinity, end: -Infinity };
      if (m[2]) w.start = Math.min(w.start, at);
      else w.end = Math.max(w.end, at);
      byIndex.set(index, w);
    }
    return [...byIndex]
      .filter(([, w]) => Number.isFinite(w.end))
      .map(([index, w]) => ({ index, startMs: Number.isFinite(w.start) ? w.start : w.end - POLL_MS, endMs: w.end + TRUNCATION_MARGIN_MS }))
      .sort((a, b) => a.startMs - b.startMs);
  }
}

async function main(): Promise<void> {
  process.stderr.write(`bench/compaction: 3 nodes, snapshot_threshold ${threshold}, ${connections} connections, ${durationS} s of writes to new keys\n`);
  const cluster = await startCofferCluster({ size: 3, storageExtra: `snapshot_threshold = ${threshold}`, onProgress: (l) => process.stderr.write(`  ${l}\n`) });
  const samples: Sample[] = [];
  let windows: Window[] = [];
  let errors = 0;
  try {
    const body = JSON.stringify({ data: { v: 'x'.repeat(100) } });
    let next = 0;
    const t0 = performance.now();
    const watch = new ImageWatch(cluster.nodeDirs, t0);
    const progress = setInterval(() => process.stderr.write(`  t=${Math.round((performance.now() - t0) / 1000)}s: ${samples.length.toLocaleString('en-US')} writes\n`), 10_000);
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const inst = autocannon(
        {
          url: cluster.urls[0] as string,
          connections,
          duration: durationS,
          requests: [{ method: 'PUT', setupRequest: (r) => ({ ...r, path: `/v1/secret/data/c/${next++}`, headers: { 'X-Vault-Token': cluster.rootToken, 'Content-Type': 'application/json' }, body }) }],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (status >= 200 && status < 300) samples.push({ doneMs: performance.now() - t0, latencyMs: ms });
      });
    });
    clearInterval(progress);
    windows = watch.stop();
    errors = result.errors + result.non2xx;
  } finally {
    await cluster.stop();
  }

  const inWindow = (s: Sample, w: Window) => s.doneMs >= w.startMs && s.doneMs - s.latencyMs <= w.endMs;
  const outside = samples.filter((s) => !windows.some((w) => inWindow(s, w))).map((s) => s.latencyMs).sort((a, b) => a - b);
  const outsideP99 = quantile(outside, 0.99);
  const rows = windows.map((w) => {
    const during = samples.filter((s) => inWindow(s, w)).map((s) => s.latencyMs);
    const max = during.length > 0 ? Math.max(...during) : 0;
    return { index: w.index, ms: w.endMs - TRUNCATION_MARGIN_MS - w.startMs, writes: during.length, max, ratio: outsideP99 > 0 ? max / outsideP99 : 0 };
  });
  const all = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  writeReport({
    name: 'compaction',
    title: 'Write latency while the Raft log is compacted (3 nodes)',
    json,
    intro:
      `A 3-node cluster (snapshot_threshold = ${threshold}) takes KV v2 writes of new keys (100-byte values, root token) from ${connections} connections ` +
      `for ${durationS} s through the active node: ${samples.length.toLocaleString('en-US')} writes (${Math.round(samples.length / durationS).toLocaleString('en-US')}/s), ` +
      `${errors} errors or non-2xx. Overall p50 ${quantile(all, 0.5).toFixed(1)} ms, p99 ${quantile(all, 0.99).toFixed(1)} ms, p99.9 ${quantile(all, 0.999).toFixed(1)} ms, max ${(all[all.length - 1] ?? 0).toFixed(1)} ms. ` +
      `Baseline: writes outside compaction windows, p50 ${quantile(outside, 0.5).toFixed(1)} ms, p99 ${outsideP99.toFixed(1)} ms, max ${(outside[outside.length - 1] ?? 0).toFixed(1)} ms. ` +
      `A window runs from the first node's image file appearing to the last node's image completing, +${TRUNCATION_MARGIN_MS} ms.`,
    table: {
      header: ['compaction at index', 'image window ms', 'writes in window', 'max latency ms', 'x p99 outside'],
      rows: rows.map((r) => [r.index, Math.round(r.ms), r.writes, r.max, r.ratio]),
    },
    chart: {
      title: 'Max write latency during each compaction vs p99 outside them (same run)',
      unit: 'ms',
      groups: [
        ...rows.map((r) => ({ label: `compaction at index ${r.index.toLocaleString('en-US')}`, bars: [{ label: 'max latency in window', value: r.max }] })),
        { label: 'outside compactions', bars: [{ label: 'p99', value: outsideP99 }, { label: 'max', value: outside[outside.length - 1] ?? 0 }] },
      ],
    },
    data: { threshold, connections, durationS, writes: samples.length, errors, windows: rows, outside: { p50: quantile(outside, 0.5), p99: outsideP99 } },
  });
  if (errors > 0 || rows.length === 0) {
    if (rows.length === 0) process.stderr.write('bench/compaction: no compaction happened; lower --threshold or raise --duration\n');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench/compaction failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
