// bench/write: durable single-node writes over HTTP against the disk's own fsync rate, in one run.
// Targets (issue 2): at 64 clients >= 5x the fsync rate (group commit works); at 1 client, mean write
// latency within 2x of one fsync's latency. Also the idle resident memory of a dev node (< 200 MiB).
// Usage: node dist/bench/write.js [--duration S] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureFsyncRate } from './lib/fsync-rate.js';
import { memoryOf, startDevServer } from './lib/dev-server.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { writeReport } from './lib/report.js';

const args = process.argv.slice(2);
const durationS = Number(args[args.indexOf('--duration') + 1] ?? 0) || 8;
const json = args.includes('--json');

async function main(): Promise<void> {
  process.stderr.write(`bench/write: ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB\n`);
  const fsDir = mkdtempSync(join(tmpdir(), 'coffer-fsync-'));
  process.stderr.write('  disk: measuring 4 KiB write + fdatasync for 3 s ...\n');
  const disk = await measureFsyncRate(fsDir, 3000);
  rmSync(fsDir, { recursive: true, force: true });
  process.stderr.write(`  disk: ${Math.round(disk.fsyncsPerSec)} fsyncs/s, p50 ${disk.p50Ms.toFixed(2)} ms\n`);

  const server = await startDevServer();
  await new Promise((r) => setTimeout(r, 1500));
  const idle = memoryOf(server.pid);
  process.stderr.write(`  idle dev node: ${idle.rssMiB.toFixed(0)} MiB RSS\n`);
  let n = 0;
  const write = (connections: number): Promise<LoadResult> =>
    runLoad({
      label: `PUT sys/raw, ${connections} connection${connections > 1 ? 's' : ''}`,
      url: server.url,
      connections,
      durationS,
      warmupS: 1,
      method: 'PUT',
      headers: { 'X-Vault-Token': server.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ value: 'x'.repeat(100) }),
      path: () => `/v1/sys/raw/bench/k${n++}`,
    });
  let one: LoadResult;
  let many: LoadResult;
  let peak: ReturnType<typeof memoryOf>;
  try {
    one = await write(1);
    many = await write(64);
    peak = memoryOf(server.pid);
  } finally {
    await server.stop();
  }

  const oneLatencyMs = 1000 / one.requestsPerSec; // mean latency of a single client, from its rate
  const fsyncLatencyMs = 1000 / disk.fsyncsPerSec;
  const rows = [
    { scenario: 'disk: 4 KiB write + fdatasync', rps: disk.fsyncsPerSec, p50: disk.p50Ms, p99: disk.p99Ms, ratio: 1, target: '', verdict: '' },
    {
      scenario: 'durable write, 1 client',
      rps: one.requestsPerSec,
      p50: one.p50Ms,
      p99: one.p99Ms,
      ratio: one.requestsPerSec / disk.fsyncsPerSec,
      target: `latency <= 2x one fsync (${(2 * fsyncLatencyMs).toFixed(2)} ms); got ${oneLatencyMs.toFixed(2)} ms`,
      verdict: oneLatencyMs <= 2 * fsyncLatencyMs ? 'PASS' : 'MISS',
    },
    {
      scenario: 'durable write, 64 clients',
      rps: many.requestsPerSec,
      p50: many.p50Ms,
      p99: many.p99Ms,
      ratio: many.requestsPerSec / disk.fsyncsPerSec,
      target: '>= 5x fsync rate',
      verdict: many.requestsPerSec >= 5 * disk.fsyncsPerSec ? 'PASS' : 'MISS',
    },
  ];
  const memoryRows = [
    { what: 'idle dev node RSS', mib: idle.rssMiB, target: '< 200 MiB', verdict: idle.rssMiB < 200 ? 'PASS' : 'MISS' },
    { what: 'peak RSS during the write runs', mib: peak.peakRssMiB, target: '', verdict: '' },
  ];
  const errors = one.errors + one.non2xx + many.errors + many.non2xx;
  writeReport({
    name: 'write',
    title: 'Durable writes over HTTP vs the disk fsync rate',
    json,
    intro: `Dev node (single-node commit rule), PUT sys/raw with a 100-byte value, each request a new key; ${durationS} s per run after a 1 s warm-up; the fsync rate measured in the same run. Errors or non-2xx responses: ${errors}.`,
    table: {
      header: ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'x fsync rate', 'target', 'verdict'],
      rows: rows.map((r) => [r.scenario, r.rps, r.p50, r.p99, r.ratio, r.target, r.verdict]),
    },
    extraTables: [{ title: 'Memory', header: ['what', 'MiB', 'target', 'verdict'], rows: memoryRows.map((m) => [m.what, m.mib, m.target, m.verdict]) }],
    chart: { title: 'Durable writes/s vs fsyncs/s (same run)', unit: '/s', groups: [{ label: 'this machine', bars: rows.map((r) => ({ label: r.scenario, value: r.rps })) }] },
    data: { disk, one, many, idle, peak, errors },
  });
  if (errors > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/write failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
