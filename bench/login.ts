// bench/login: userpass logins/s (scrypt N=2^15 on the CPU pool) against a dev node, and KV v2 reads/s on
// the same node alone vs while logins run at the same time (two autocannon instances at once).
// Target: reads keep >= 80% of their alone throughput while logins run (scrypt must not starve the
// handler thread).
// Usage: node dist/bench/login.js [--duration S] [--warmup S] [--login-connections N] [--read-connections N] [--json]
import { Client } from '../sdk/client.js';
import { cpuSecondsOf, memoryOf, startDevServer, type BenchServer } from './lib/dev-server.js';
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js';
import { machineSummary, writeReport } from './lib/report.js';
import { benchFlags } from './lib/args.js';

const flags = benchFlags();
const flag = flags.value;
const durationS = Number(flag('duration') ?? 0) || 5;
const warmupS = Number(flag('warmup') ?? 0) || 1;
const loginConnections = Number(flag('login-connections') ?? 0) || 16;
const readConnections = Number(flag('read-connections') ?? 0) || 50;
const json = flags.has('json');

const USER = 'bench';
const PASSWORD = 'bench-password-0123456789';
const TARGET = 0.8;

async function api(s: BenchServer, method: string, path: string, body?: unknown, token = s.token): Promise<unknown> {
  const res = await fetch(`${s.url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function main(): Promise<void> {
  process.stderr.write(
    `bench/login: ${machineSummary()}; logins at ${loginConnections} connections, reads at ${readConnections}, ${durationS} s per run after ${warmupS} s of warm-up\n`,
  );
  const server = await startDevServer();
  let loginsAlone: LoadResult;
  let readsAlone: LoadResult;
  let readsMixed: LoadResult;
  let loginsMixed: LoadResult;
  const cores: Record<string, number> = {};
  let peakRssMiB = 0;
  try {
    const root = new Client({ address: server.url, token: server.token });
    for (let i = 0; i < 30 && (await root.mountForPath('secret').catch(() => null)) === null; i++) await new Promise((r) => setTimeout(r, 200));
    await root.kvWrite('secret', 'bench/read', { value: 'v'.repeat(100) });
    await api(server, 'POST', 'sys/auth/userpass', { type: 'userpass' });
    await api(server, 'POST', `auth/userpass/users/${USER}`, { password: PASSWORD, token_policies: ['default'], token_ttl: '1h' });
    const probe = (await api(server, 'POST', `auth/userpass/login/${USER}`, { password: PASSWORD }, '')) as { auth?: { client_token?: string } };
    if (!probe.auth?.client_token) throw new Error(`login probe returned no token: ${JSON.stringify(probe)}`);

    const login: LoadSpec = {
      label: `userpass login, ${loginConnections} connections`,
      url: server.url,
      connections: loginConnections,
      durationS,
      warmupS,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
      path: () => `/v1/auth/userpass/login/${USER}`,
    };
    const read: LoadSpec = {
      label: `KV v2 read, ${readConnections} connections`,
      url: server.url,
      connections: readConnections,
      durationS,
      warmupS,
      headers: { 'X-Vault-Token': server.token },
      path: () => '/v1/secret/data/bench/read',
    };
    const timed = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
      const cpu0 = cpuSecondsOf(server.pid);
      const t0 = Date.now();
      const r = await f();
      cores[key] = (cpuSecondsOf(server.pid) - cpu0) / ((Date.now() - t0) / 1000);
      return r;
    };
    loginsAlone = await timed('loginsAlone', () => runLoad(login));
    readsAlone = await timed('readsAlone', () => runLoad(read));
    process.stderr.write('  reads while logins run (two autocannon instances at once; their progress lines interleave):\n  ');
    [readsMixed, loginsMixed] = await timed('mixed', () => Promise.all([runLoad({ ...read, label: 'KV v2 read (with logins)' }), runLoad({ ...login, label: 'login (with reads)' })]));
    process.stderr.write('\n');
    peakRssMiB = memoryOf(server.pid).peakRssMiB;
  } finally {
    await server.stop();
  }

  const ratio = readsMixed.requestsPerSec / readsAlone.requestsPerSec;
  const loginRatio = loginsMixed.requestsPerSec / loginsAlone.requestsPerSec;
  const verdict = ratio >= TARGET ? 'PASS' : 'MISS';
  const all = [loginsAlone, readsAlone, readsMixed, loginsMixed];
  const errors = all.reduce((a, r) => a + r.errors + r.non2xx, 0);
  const rows: (string | number)[][] = [
    ['userpass login, alone', String(loginConnections), loginsAlone.requestsPerSec, loginsAlone.p50Ms, loginsAlone.p99Ms, '100%', cores.loginsAlone ?? 0, '', ''],
    ['KV v2 read, alone', String(readConnections), readsAlone.requestsPerSec, readsAlone.p50Ms, readsAlone.p99Ms, '100%', cores.readsAlone ?? 0, '', ''],
    ['KV v2 read, while logins run', String(readConnections), readsMixed.requestsPerSec, readsMixed.p50Ms, readsMixed.p99Ms, `${(ratio * 100).toFixed(0)}%`, cores.mixed ?? 0, '>= 80% of reads alone', verdict],
    ['userpass login, while reads run', String(loginConnections), loginsMixed.requestsPerSec, loginsMixed.p50Ms, loginsMixed.p99Ms, `${(loginRatio * 100).toFixed(0)}%`, '(same run)', '', ''],
  ];
  writeReport({
    name: 'login',
    title: 'Userpass logins and KV v2 reads while logins run',
    json,
    intro: [
      `Dev node (\`coffer server -dev\`) as a child process. \`auth/userpass\` enabled, one user; logins are \`POST auth/userpass/login/${USER}\` (scrypt N=2^15, r=8, p=1 on the userpass CPU pool, ≤ 4 threads per handler worker; each login also writes its token). Reads are \`GET secret/data/bench/read\` (100-byte value), root token.`,
      `autocannon in the bench process, ${durationS} s per run after a ${warmupS} s warm-up: logins alone, reads alone, then both at once (two autocannon instances started together, each with its own warm-up). "of alone" compares with the same load alone; "server cores" is the node's CPU time (all threads) per second of the run (the mixed row covers both loads). The load generator shares the machine. Errors or non-2xx responses: ${errors}. Peak RSS of the dev node: ${peakRssMiB.toFixed(0)} MiB.`,
      `**Reads while logins run: ${(ratio * 100).toFixed(0)}% of reads alone — target ≥ 80%: ${verdict}.**`,
    ].join('\n\n'),
    table: { header: ['scenario', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'of alone', 'server cores', 'target', 'verdict'], rows },
    chart: {
      title: 'Userpass logins/s and KV v2 reads/s, alone vs together (same run)',
      unit: 'req/s',
      groups: [
        { label: 'KV v2 reads', bars: [{ label: 'alone', value: readsAlone.requestsPerSec }, { label: 'while logins run', value: readsMixed.requestsPerSec }] },
        { label: 'userpass logins', bars: [{ label: 'alone', value: loginsAlone.requestsPerSec }, { label: 'while reads run', value: loginsMixed.requestsPerSec }] },
      ],
    },
    data: { durationS, warmupS, loginConnections, readConnections, loginsAlone, readsAlone, readsMixed, loginsMixed, readRatio: ratio, loginRatio, verdict, cores, peakRssMiB, errors },
  });
  if (errors > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/login failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
