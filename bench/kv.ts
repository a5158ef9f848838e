// bench/kv: KV v2 reads and writes over HTTP against a dev node, and in the same run a bare node:http
// server (its own child process) answering a body of the same size, as the baseline.
// Targets (mounts issue): KV v2 read with a non-root policy token >= 50% of the bare server's rate;
// KV v2 durable write >= 25% of the bare server's rate (bare PUT: reads the body, answers the same size).
// Usage: node dist/bench/kv.js [--duration S] [--connections N] [--warmup S] [--json] [--cpu-prof DIR]
// --cpu-prof DIR starts the dev node as `node --cpu-prof --cpu-prof-dir=DIR` (Node 20 refuses --cpu-prof
// in NODE_OPTIONS); its main thread and every worker write a .cpuprofile into DIR when the node exits.
import { mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Client } from '../sdk/client.js';
import { startBareServer } from './lib/bare-server.js';
import { cpuSecondsOf, memoryOf, startDevServer } from './lib/dev-server.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { machineSummary, writeReport } from './lib/report.js';
import { benchFlags } from './lib/args.js';

const flags = benchFlags();
const flag = flags.value;
const durationS = Number(flag('duration') ?? 0) || 10;
const connections = Number(flag('connections') ?? 0) || 50;
const warmupS = Number(flag('warmup') ?? 0) || 2;
const cpuProfDir = flag('cpu-prof');
const json = flags.has('json');

const VALUE = 'v'.repeat(100);
const WRITE_BODY = JSON.stringify({ data: { value: VALUE } });

interface Row {
  scenario: string;
  r: LoadResult;
  cpuCores: number;
  baseline: LoadResult | null;
  target: string;
  min: number | null;
}

async function main(): Promise<void> {
  process.stderr.write(`bench/kv: ${machineSummary()}; ${connections} connections, ${durationS} s per run after ${warmupS} s of warm-up\n`);
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const server = await startDevServer('bench-root', cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolvePath(cpuProfDir)}`] } : {});
  let bare: Awaited<ReturnType<typeof startBareServer>> | null = null;
  const rows: Row[] = [];
  let readBytes = 0;
  let writeBytes = 0;
  let peak = { rssMiB: 0, peakRssMiB: 0 };
  try {
    // Setup through the SDK: the secret, a read policy, a token holding only it.
    const root = new Client({ address: server.url, token: server.token });
    for (let i = 0; i < 30 && (await root.mountForPath('secret').catch(() => null)) === null; i++) await new Promise((r) => setTimeout(r, 200));
    await root.kvWrite('secret', 'bench/read', { value: VALUE });
    await root.policyWrite('bench-read', 'path "secret/data/bench/*" {\n  capabilities = ["read"]\n}\n');
    const reader = await root.tokenCreate({ policies: ['bench-read'], ttl: '1h' });
    const readRes = await fetch(`${server.url}/v1/secret/data/bench/read`, { headers: { 'X-Vault-Token': reader.client_token } });
    const readBody = await readRes.text();
    if (readRes.status !== 200) throw new Error(`policy-token read answered ${readRes.status}: ${readBody}`);
    const writeRes = await fetch(`${server.url}/v1/secret/data/bench/probe`, { method: 'PUT', headers: { 'X-Vault-Token': server.token, 'Content-Type': 'application/json' }, body: WRITE_BODY });
    const writeBody = await writeRes.text();
    readBytes = Buffer.byteLength(readBody);
    writeBytes = Buffer.byteLength(writeBody);
    process.stderr.write(`  KV read response ${readBytes} B, KV write response ${writeBytes} B; the bare server answers the same sizes\n`);
    bare = await startBareServer(readBody, writeBody);

    const measure = async (label: string, pid: number, spec: Omit<Parameters<typeof runLoad>[0], 'connections' | 'durationS' | 'warmupS' | 'label'>) => {
      const cpu0 = cpuSecondsOf(pid);
      const t0 = Date.now();
      const r = await runLoad({ label, connections, durationS, warmupS, ...spec });
      const cores = (cpuSecondsOf(pid) - cpu0) / ((Date.now() - t0) / 1000);
      return { r, cores };
    };
    let n = 0;
    const bareGet = await measure('bare node:http GET', bare.pid, { url: bare.url, path: () => '/v1/secret/data/bench/read' });
    rows.push({ scenario: 'bare node:http GET (baseline)', r: bareGet.r, cpuCores: bareGet.cores, baseline: null, target: '', min: null });
    const rootRead = await measure('KV v2 read, root token', server.pid, { url: server.url, headers: { 'X-Vault-Token': server.token }, path: () => '/v1/secret/data/bench/read' });
    rows.push({ scenario: 'KV v2 read, root token', r: rootRead.r, cpuCores: rootRead.cores, baseline: bareGet.r, target: '', min: null });
    const policyRead = await measure('KV v2 read, policy token', server.pid, { url: server.url, headers: { 'X-Vault-Token': reader.client_token }, path: () => '/v1/secret/data/bench/read' });
    rows.push({ scenario: 'KV v2 read, non-root policy token', r: policyRead.r, cpuCores: policyRead.cores, baseline: bareGet.r, target: '>= 50% of bare GET', min: 0.5 });
    const barePut = await measure('bare node:http PUT', bare.pid, { url: bare.url, method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: WRITE_BODY, path: () => `/v1/secret/data/bench/w${n++}` });
    rows.push({ scenario: 'bare node:http PUT (baseline)', r: barePut.r, cpuCores: barePut.cores, baseline: null, target: '', min: null });
    const write = await measure('KV v2 write, distinct keys', server.pid, {
      url: server.url,
      method: 'PUT',
      headers: { 'X-Vault-Token': server.token, 'Content-Type': 'application/json' },
      body: WRITE_BODY,
      path: () => `/v1/secret/data/bench/w${n++}`,
    });
    rows.push({ scenario: 'KV v2 write (durable), distinct keys', r: write.r, cpuCores: write.cores, baseline: barePut.r, target: '>= 25% of bare PUT', min: 0.25 });
  } finally {
    await bare?.stop();
    peak = memoryOf(server.pid);
    await server.stop();
  }

  const errors = rows.reduce((a, r) => a + r.r.errors + r.r.non2xx, 0);
  const table = rows.map((row) => {
    const ratio = row.baseline ? row.r.requestsPerSec / row.baseline.requestsPerSec : 1;
    const verdict = row.min === null ? '' : ratio >= row.min ? 'PASS' : 'MISS';
    return [row.scenario, row.r.requestsPerSec, row.r.p50Ms, row.r.p99Ms, `${(ratio * 100).toFixed(0)}%`, row.cpuCores, row.target, verdict];
  });
  writeReport({
    name: 'kv',
    title: 'KV v2 reads and writes over HTTP vs a bare node:http server',
    json,
    intro: [
      `Dev node (\`coffer server -dev\`, single-node Raft commit: every write is fsynced) as a child process; the baseline is a bare \`node:http\` server in another child process answering bodies of the same size (read ${readBytes} B, write ${writeBytes} B).`,
      `autocannon in the bench process, ${connections} connections, ${durationS} s per run after a ${warmupS} s warm-up, runs one after another. Reads: \`GET secret/data/bench/read\` (100-byte value) with the root token and with a token holding only a \`read\` policy on \`secret/data/bench/*\`. Writes: \`PUT secret/data/bench/w<n>\`, a new key per request, root token.`,
      `"server cores" is the CPU time (all threads) of the server process per second of the run. The load generator shares the machine, so on few cores the ratios understate both servers alike. Errors or non-2xx responses: ${errors}. Peak RSS of the dev node: ${peak.peakRssMiB.toFixed(0)} MiB.`,
    ].join('\n\n'),
    table: { header: ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'of bare', 'server cores', 'target', 'verdict'], rows: table },
    chart: {
      title: 'KV v2 requests/s vs bare node:http (same run)',
      unit: 'req/s',
      groups: [
        { label: 'reads (GET)', bars: rows.slice(0, 3).map((r) => ({ label: r.scenario, value: r.r.requestsPerSec })) },
        { label: 'writes (PUT)', bars: rows.slice(3).map((r) => ({ label: r.scenario, value: r.r.requestsPerSec })) },
      ],
    },
    data: { connections, durationS, warmupS, readBytes, writeBytes, rows: rows.map((r) => ({ scenario: r.scenario, ...r.r, serverCores: r.cpuCores })), peakRssMiB: peak.peakRssMiB, errors },
  });
  if (errors > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/kv failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
