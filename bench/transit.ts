// bench/transit: transit encrypt requests/s with 1 KiB plaintexts, crypto on the piscina CPU pool vs
// inline on the handler thread, in one run. Two dev nodes run side by side, one started with
// COFFER_TRANSIT_POOL=never (inline), one with COFFER_TRANSIT_POOL=always (pool); the runs alternate
// between them so machine drift hits both alike. Scenarios: single encrypt, and batch_input of 100 items.
// Usage: node dist/bench/transit.js [--duration S] [--connections N] [--warmup S] [--json]
import { randomBytes } from 'node:crypto';
import { cpuSecondsOf, memoryOf, startDevServer, type BenchServer } from './lib/dev-server.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { machineSummary, writeReport } from './lib/report.js';
import { benchFlags } from './lib/args.js';

const flags = benchFlags();
const flag = flags.value;
const durationS = Number(flag('duration') ?? 0) || 5;
const connections = Number(flag('connections') ?? 0) || 50;
const warmupS = Number(flag('warmup') ?? 0) || 1;
const json = flags.has('json');

const PLAINTEXT = randomBytes(1024).toString('base64');
const BATCH_ITEMS = 100;
const SINGLE_BODY = JSON.stringify({ plaintext: PLAINTEXT });
const BATCH_BODY = JSON.stringify({ batch_input: Array.from({ length: BATCH_ITEMS }, () => ({ plaintext: PLAINTEXT })) });

async function api(s: BenchServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${s.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': s.token, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function startWithMode(mode: 'never' | 'always'): Promise<BenchServer> {
  const s = await startDevServer('bench-root', { env: { COFFER_TRANSIT_POOL: mode } });
  for (let i = 0; i < 50; i++) {
    try {
      await api(s, 'POST', 'sys/mounts/transit', { type: 'transit' });
      break;
    } catch (err) {
      if (i === 49) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await api(s, 'POST', 'transit/keys/bench', { type: 'aes256-gcm96' });
  // Probe both shapes once so a broken setup fails before the timed runs.
  await api(s, 'POST', 'transit/encrypt/bench', { plaintext: PLAINTEXT });
  const b = (await api(s, 'POST', 'transit/encrypt/bench', JSON.parse(BATCH_BODY))) as { data: { batch_results: unknown[] } };
  if (b.data.batch_results.length !== BATCH_ITEMS) throw new Error(`batch answered ${b.data.batch_results.length} results`);
  return s;
}

interface Row {
  scenario: string;
  mode: 'inline' | 'pool';
  r: LoadResult;
  items: number;
  cores: number;
}

async function main(): Promise<void> {
  process.stderr.write(`bench/transit: ${machineSummary()}; ${connections} connections, ${durationS} s per run after ${warmupS} s of warm-up\n`);
  const inline = await startWithMode('never');
  let pool: BenchServer | null = null;
  const rows: Row[] = [];
  const peak = { inline: 0, pool: 0 };
  try {
    pool = await startWithMode('always');
    const measure = async (scenario: string, mode: 'inline' | 'pool', s: BenchServer, body: string, items: number) => {
      const cpu0 = cpuSecondsOf(s.pid);
      const t0 = Date.now();
      const r = await runLoad({
        label: `${scenario}, ${mode}`,
        url: s.url,
        connections,
        durationS,
        warmupS,
        method: 'POST',
        headers: { 'X-Vault-Token': s.token, 'Content-Type': 'application/json' },
        body,
        path: () => '/v1/transit/encrypt/bench',
      });
      rows.push({ scenario, mode, r, items, cores: (cpuSecondsOf(s.pid) - cpu0) / ((Date.now() - t0) / 1000) });
    };
    await measure('encrypt 1 KiB', 'inline', inline, SINGLE_BODY, 1);
    await measure('encrypt 1 KiB', 'pool', pool, SINGLE_BODY, 1);
    await measure(`batch encrypt ${BATCH_ITEMS} x 1 KiB`, 'inline', inline, BATCH_BODY, BATCH_ITEMS);
    await measure(`batch encrypt ${BATCH_ITEMS} x 1 KiB`, 'pool', pool, BATCH_BODY, BATCH_ITEMS);
  } finally {
    peak.inline = memoryOf(inline.pid).peakRssMiB;
    if (pool) peak.pool = memoryOf(pool.pid).peakRssMiB;
    await pool?.stop();
    await inline.stop();
  }

  const errors = rows.reduce((a, r) => a + r.r.errors + r.r.non2xx, 0);
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const ratios = scenarios.map((sc) => {
    const i = rows.find((r) => r.scenario === sc && r.mode === 'inline') as Row;
    const p = rows.find((r) => r.scenario === sc && r.mode === 'pool') as Row;
    const ratio = p.r.requestsPerSec / i.r.requestsPerSec;
    return { scenario: sc, ratio, faster: ratio > 1 ? 'pool' : 'inline' };
  });
  const table = rows.map((row) => {
    const inl = rows.find((r) => r.scenario === row.scenario && r.mode === 'inline') as Row;
    return [row.scenario, row.mode, row.r.requestsPerSec, row.r.requestsPerSec * row.items, row.r.p50Ms, row.r.p99Ms, `${((row.r.requestsPerSec / inl.r.requestsPerSec) * 100).toFixed(0)}%`, row.cores];
  });
  const summary = ratios.map((x) => [x.scenario, x.ratio, x.faster]);
  writeReport({
    name: 'transit',
    title: 'Transit encrypt: CPU pool vs inline on the handler thread',
    json,
    intro: [
      'Two dev nodes (`coffer server -dev`) run side by side in one run: one with `COFFER_TRANSIT_POOL=never` (every encrypt inline on the handler thread), one with `COFFER_TRANSIT_POOL=always` (every encrypt on the piscina CPU pool, `runtime/pool.ts`). The runs alternate between them.',
      `Key \`aes256-gcm96\`; \`POST transit/encrypt/bench\` with a 1 KiB random plaintext (base64), and with \`batch_input\` of ${BATCH_ITEMS} such items. autocannon in the bench process, ${connections} connections, ${durationS} s per run after a ${warmupS} s warm-up.`,
      `"items/s" is req/s x items per request; "of inline" compares with the inline node on the same scenario; "server cores" is the node's CPU time (all threads) per second of the run. The load generator shares the machine. Errors or non-2xx responses: ${errors}. Peak RSS: inline node ${peak.inline.toFixed(0)} MiB, pool node ${peak.pool.toFixed(0)} MiB.`,
    ].join('\n\n'),
    table: { header: ['scenario', 'crypto on', 'req/s', 'items/s', 'p50 ms', 'p99 ms', 'of inline', 'server cores'], rows: table },
    extraTables: [{ title: 'Pool / inline throughput ratio', header: ['scenario', 'pool / inline', 'faster'], rows: summary }],
    chart: {
      title: 'Transit encrypt req/s: CPU pool vs inline (same run)',
      unit: 'req/s',
      groups: scenarios.map((sc) => ({ label: sc, bars: rows.filter((r) => r.scenario === sc).map((r) => ({ label: r.mode, value: r.r.requestsPerSec })) })),
    },
    data: { connections, durationS, warmupS, batchItems: BATCH_ITEMS, rows: rows.map((r) => ({ scenario: r.scenario, mode: r.mode, ...r.r, serverCores: r.cores })), ratios, peak, errors },
  });
  if (errors > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/transit failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
