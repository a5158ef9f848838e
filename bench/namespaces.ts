// bench/namespaces: what a tenant pays for the other tenants. One dev node; the same figures are taken
// with 10 namespaces and again with many (default 2,000), each namespace holding a KV v2 mount and one
// secret: a namespace's KV read rate, the latency of creating one more namespace, the node's idle CPU and
// its resident memory. The 10-namespace run is the baseline of the same invocation.
// Targets: one namespace's reads at N >= 90% of the same at 10; reads spread over every namespace at N >= 80% of
// the same at 10; a create at N <= 2x a create at 10 (p50).
// Usage: node dist/bench/namespaces.js [--namespaces N] [--duration S] [--warmup S] [--quick] [--json]
import { cpuSecondsOf, memoryOf, startDevServer, type BenchServer } from './lib/dev-server.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { machineSummary, writeReport } from './lib/report.js';
import { benchFlags } from './lib/args.js';

const flags = benchFlags();
const flag = flags.value;
const quick = flags.has('quick');
const many = Number(flag('namespaces') ?? 0) || (quick ? 500 : 2000);
const durationS = Number(flag('duration') ?? 0) || (quick ? 3 : 5);
const warmupS = Number(flag('warmup') ?? 0) || 1;
const json = flags.has('json');
const FEW = 10;
const CONNECTIONS = 32;
const CREATES = 50;
/** CPU ticks are 10 ms: a longer window keeps one timer's burst from deciding the figure. */
const IDLE_S = 8;
const READ_TARGET = 0.9;
/** Every tenant at once touches more entries than any cache keeps at some N; at 2,000 they still fit. */
const SPREAD_TARGET = 0.8;
const CREATE_TARGET = 2;

interface Point {
  namespaces: number;
  read: LoadResult;
  /** Reads cycling over every namespace's secret (by path prefix): every tenant at once. */
  spread: LoadResult;
  createP50Ms: number;
  createP99Ms: number;
  idleCores: number;
  rssMiB: number;
}

async function api(s: BenchServer, method: string, path: string, body?: unknown, ns?: string): Promise<void> {
  const res = await fetch(`${s.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': s.token, 'Content-Type': 'application/json', ...(ns ? { 'X-Vault-Namespace': ns } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

async function main(): Promise<void> {
  process.stderr.write(`bench/namespaces: ${machineSummary()}; ${FEW} vs ${many} namespaces, reads at ${CONNECTIONS} connections, ${durationS} s after ${warmupS} s of warm-up\n`);
  const server = await startDevServer();
  const points: Point[] = [];
  let made = 0;
  try {
    const grow = async (to: number) => {
      const t0 = Date.now();
      for (; made < to; made++) {
        await api(server, 'POST', `sys/namespaces/t${made}`);
        await api(server, 'POST', 'sys/mounts/kv', { type: 'kv', options: { version: '2' } }, `t${made}`);
        await api(server, 'POST', 'kv/data/app', { data: { owner: `t${made}`, pad: 'x'.repeat(64) } }, `t${made}`);
        if (made % 250 === 249) process.stderr.write(`  ${made + 1}/${to} namespaces (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    };
    // Warm-up, so the baseline is not the cold run: namespaces made and used, then deleted.
    process.stderr.write('  warming up\n');
    for (let i = 0; i < 100; i++) {
      await api(server, 'POST', `sys/namespaces/warm${i}`);
      await api(server, 'POST', 'sys/mounts/kv', { type: 'kv', options: { version: '2' } }, `warm${i}`);
      await api(server, 'POST', 'kv/data/app', { data: { owner: `warm${i}` } }, `warm${i}`);
      await api(server, 'GET', 'kv/data/app', undefined, `warm${i}`);
    }
    for (let i = 0; i < 100; i++) await api(server, 'DELETE', `sys/namespaces/warm${i}`);
    for (const n of [FEW, many]) {
      await grow(n);
      await new Promise((r) => setTimeout(r, 3_000)); // what the writes left behind (compaction, the view) settles first
      process.stderr.write(`  measuring with ${n} namespaces\n`);
      const times: number[] = [];
      for (let i = 0; i < CREATES; i++) {
        const t0 = performance.now();
        await api(server, 'POST', `sys/namespaces/probe${i}`);
        times.push(performance.now() - t0);
      }
      for (let i = 0; i < CREATES; i++) await api(server, 'DELETE', `sys/namespaces/probe${i}`);
      times.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 1_500)); // let the front's view settle
      const cpu0 = cpuSecondsOf(server.pid);
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const idleCores = (cpuSecondsOf(server.pid) - cpu0) / IDLE_S;
      const read = await runLoad({
        label: `KV v2 read in namespace t0 of ${n}`,
        url: server.url,
        connections: CONNECTIONS,
        durationS,
        warmupS,
        headers: { 'X-Vault-Token': server.token, 'X-Vault-Namespace': 't0' },
        path: () => '/v1/kv/data/app',
      });
      let k = 0;
      const spread = await runLoad({
        label: `KV v2 reads spread over all ${n} namespaces`,
        url: server.url,
        connections: CONNECTIONS,
        durationS,
        warmupS,
        headers: { 'X-Vault-Token': server.token },
        path: () => `/v1/t${(k++ * 7919) % n}/kv/data/app`,
      });
      points.push({ namespaces: n, read, spread, createP50Ms: percentile(times, 0.5), createP99Ms: percentile(times, 0.99), idleCores, rssMiB: memoryOf(server.pid).rssMiB });
    }
  } finally {
    await server.stop();
  }

  const [few, lots] = points as [Point, Point];
  const readRatio = lots.read.requestsPerSec / few.read.requestsPerSec;
  const createRatio = lots.createP50Ms / few.createP50Ms;
  const spreadRatio = lots.spread.requestsPerSec / few.spread.requestsPerSec;
  const readVerdict = readRatio >= READ_TARGET ? 'PASS' : 'MISS';
  const spreadVerdict = spreadRatio >= SPREAD_TARGET ? 'PASS' : 'MISS';
  const createVerdict = createRatio <= CREATE_TARGET ? 'PASS' : 'MISS';
  const errors = points.reduce((a, p) => a + p.read.errors + p.read.non2xx + p.spread.errors + p.spread.non2xx, 0);
  const rows: (string | number)[][] = [
    ['KV v2 read req/s (a namespace\'s secret)', few.read.requestsPerSec, lots.read.requestsPerSec, `${(readRatio * 100).toFixed(0)}%`, `>= ${READ_TARGET * 100}%`, readVerdict],
    ['KV v2 read req/s spread over every namespace', few.spread.requestsPerSec, lots.spread.requestsPerSec, `${(spreadRatio * 100).toFixed(0)}%`, `>= ${SPREAD_TARGET * 100}%`, spreadVerdict],
    ['KV v2 read p99 ms', few.read.p99Ms, lots.read.p99Ms, `${((lots.read.p99Ms / few.read.p99Ms) * 100).toFixed(0)}%`, '', ''],
    ['namespace create p50 ms', few.createP50Ms, lots.createP50Ms, `${(createRatio * 100).toFixed(0)}%`, `<= ${CREATE_TARGET * 100}%`, createVerdict],
    ['namespace create p99 ms', few.createP99Ms, lots.createP99Ms, `${((lots.createP99Ms / few.createP99Ms) * 100).toFixed(0)}%`, '', ''],
    ['idle node cores', few.idleCores, lots.idleCores, '', '', ''],
    ['node RSS MiB', few.rssMiB, lots.rssMiB, `+${((lots.rssMiB - few.rssMiB) / (lots.namespaces - few.namespaces)).toFixed(3)} MiB per namespace`, '', ''],
  ];
  writeReport({
    name: 'namespaces',
    title: `${FEW} vs ${many} namespaces on one node`,
    json,
    intro: [
      `Dev node (\`coffer server -dev\`) as a child process. Each namespace \`tN/\` has a KV v2 mount at \`kv/\` and one secret. With ${FEW} and then ${many} namespaces on the same node: reads of \`t0\`'s secret (\`GET kv/data/app\` with \`X-Vault-Namespace: t0\`, root token, ${CONNECTIONS} connections, autocannon in the bench process, ${durationS} s after ${warmupS} s of warm-up), and reads cycling over every namespace's secret by path (\`GET tN/kv/data/app\`); ${CREATES} more namespaces created one after another (then deleted); the node's CPU (all threads) over ${IDLE_S} s with no requests; its RSS. Errors or non-2xx: ${errors}.`,
      `**Reads with ${many} namespaces: ${(readRatio * 100).toFixed(0)}% of reads with ${FEW} — target ≥ ${READ_TARGET * 100}%: ${readVerdict}. Reads over every namespace: ${(spreadRatio * 100).toFixed(0)}% — target ≥ ${SPREAD_TARGET * 100}%: ${spreadVerdict}. A create with ${many}: ${(createRatio * 100).toFixed(0)}% of one with ${FEW} (p50) — target ≤ ${CREATE_TARGET * 100}%: ${createVerdict}.**`,
    ].join('\n\n'),
    table: { header: ['figure', `${FEW} namespaces`, `${many} namespaces`, `${many} vs ${FEW}`, 'target', 'verdict'], rows },
    chart: {
      title: `One tenant's figures with ${many} namespaces on the node, as % of the same with ${FEW} (same run)`,
      unit: '%',
      groups: [
        ['one namespace\'s reads', readRatio],
        ['reads over every namespace', spreadRatio],
        ['namespace create p50', lots.createP50Ms / few.createP50Ms],
        ['node RSS', lots.rssMiB / few.rssMiB],
        ['idle node CPU', lots.idleCores / Math.max(few.idleCores, 1e-3)],
      ].map(([label, ratio]) => ({ label: label as string, bars: [{ label: `${FEW} namespaces`, value: 100 }, { label: `${many} namespaces`, value: Math.round((ratio as number) * 100) }] })),
    },
    data: { few: FEW, many, durationS, warmupS, points, readRatio, spreadRatio, createRatio, readVerdict, spreadVerdict, createVerdict, errors },
  });
  if (errors > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/namespaces failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
