// A/B of two builds: server CPU seconds per policy-token KV v2 read, rounds alternated A, B, A, B, ...
// On a shared 2-core machine saturated req/s moves +-15% from one minute to the next; CPU per request at
// a fixed request count moves much less, so this is the measure for "is this change faster".
// Each round starts a dev node from that build, writes one secret, creates a token with a read policy,
// warms up with 3,000 reads, then counts the node's CPU (/proc) over `reads` reads at 16 connections.
// Usage: node dist/bench/ab-read-cpu.js DIST_A DIST_B [rounds=3] [reads=20000]
//   e.g. git worktree add /tmp/before HEAD~1 && (cd /tmp/before && npm ci && npx tsc -p tsconfig.json)
//        node dist/bench/ab-read-cpu.js /tmp/before/dist dist 4
import autocannon from 'autocannon';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Round {
  usPerRead: number;
  reqPerSec: number;
}

async function oneRound(dist: string, reads: number): Promise<Round> {
  const lib = await import(pathToFileURL(resolve(dist, 'bench/lib/dev-server.js')).href);
  const server = await lib.startDevServer('ab-root');
  try {
    const call = async (method: string, path: string, token: string, body: unknown) => {
      const r = await fetch(`${server.url}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, body: JSON.stringify(body) });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.status === 204 ? null : r.json();
    };
    await call('PUT', 'secret/data/bench/read', server.token, { data: { v: 'x'.repeat(100) } });
    await call('PUT', 'sys/policies/acl/r', server.token, { policy: 'path "secret/data/bench/*" {\n  capabilities = ["read"]\n}\n' });
    const token = ((await call('POST', 'auth/token/create', server.token, { policies: ['r'], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
    const load = (amount: number) =>
      new Promise<autocannon.Result>((ok, fail) => autocannon({ url: `${server.url}/v1/secret/data/bench/read`, headers: { 'X-Vault-Token': token }, connections: 16, amount }, (e, r) => (e ? fail(e) : ok(r))));
    await load(3_000);
    const before = lib.cpuSecondsOf(server.pid) as number;
    const r = await load(reads);
    const cpu = (lib.cpuSecondsOf(server.pid) as number) - before;
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} errors`);
    return { usPerRead: (cpu / reads) * 1e6, reqPerSec: r.requests.average };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const [distA, distB, roundsArg = '3', readsArg = '20000'] = process.argv.slice(2);
  if (distA === undefined || distB === undefined) {
    console.error('usage: node dist/bench/ab-read-cpu.js DIST_A DIST_B [rounds=3] [reads=20000]');
    process.exit(2);
  }
  const rounds = Number(roundsArg);
  const reads = Number(readsArg);
  const seen: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let i = 1; i <= rounds; i++) {
    for (const [name, dist] of [['A', distA], ['B', distB]] as const) {
      const r = await oneRound(dist, reads);
      seen[name].push(r.usPerRead);
      console.log(`round ${i}/${rounds} ${name}: ${r.usPerRead.toFixed(0)} us CPU per read (${Math.round(r.reqPerSec)} req/s)`);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const a = mean(seen.A);
  const b = mean(seen.B);
  console.log(`mean CPU per read: A ${a.toFixed(0)} us, B ${b.toFixed(0)} us; B/A = ${(b / a).toFixed(2)}`);
}

await main();
