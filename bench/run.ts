// `npm run bench [-- NAME ...] [flags]`: with no name, or with scenario names of the suite (read, write,
// lin-read, token, mixed, memory), runs the benchmark suite (bench/suite/runner.ts; report in
// docs/bench/latest.md). The older single-purpose benches run by their own names, each in its own
// process (no shared heap or JIT warm-up). Flags (and their values) go to every script started.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FAMILIES } from './suite/families.js';

const BENCHES = {
  ring: 'ring vs MessagePort.postMessage: one-way and round trip, 64 B / 1 KiB / 16 KiB',
  'raft-core': 'entries/s committed by a 3-node in-memory group of the pure Raft core',
  write: 'durable writes over HTTP at 1 and 64 clients vs the fsync rate; idle RSS',
  kv: 'KV v2 reads (root and policy token) and durable writes over HTTP vs a bare node:http server',
  transit: 'transit encrypt (1 KiB, single and batch of 100) with crypto on the CPU pool vs inline on the handler thread',
  login: 'userpass logins/s, and KV v2 reads/s alone vs while logins run',
  cluster: 'a 3-node cluster: KV v2 reads spread over standbys vs the active node alone (CPU per node), forwarded vs direct writes',
  compaction: 'a 3-node cluster: max write latency while the Raft log is compacted behind a snapshot vs p99 outside compactions',
  namespaces: "one tenant's KV reads, namespace create latency, idle CPU and RSS with 10 vs 2,000 namespaces on the node",
} as const;

const SUITE = new Set(FAMILIES.map((f) => f.name));
// `write` is both a suite family and an older bench; the suite's wins, the old one answers to `write-raw`.
const LEGACY: Record<string, string> = Object.fromEntries(Object.keys(BENCHES).map((k) => [k === 'write' ? 'write-raw' : k, k]));

const args = process.argv.slice(2);
// Names are the bare words that are not the value of a preceding --flag.
const VALUED = new Set(['--namespaces', '--duration', '--warmup', '--connections', '--write-connections', '--read-keys', '--secrets', '--budget', '--out', '--cpu-prof', '--threshold']);
const names: string[] = [];
const flags: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a.startsWith('--')) {
    flags.push(a);
    if (VALUED.has(a) && i + 1 < args.length) flags.push(args[++i] as string);
  } else names.push(a);
}
const unknown = names.filter((n) => !SUITE.has(n) && !(n in LEGACY));
if (unknown.length > 0 || args.includes('--help')) {
  process.stderr.write(
    `usage: npm run bench [-- NAME ...] [--quick] [--duration S] [--warmup S] [--json] ...\n\nsuite scenarios (default: all of them; report in docs/bench/latest.md):\n` +
      `${FAMILIES.map((f) => `  ${f.name.padEnd(10)} ${f.description}`).join('\n')}\n\nsingle benches:\n` +
      `${Object.entries(LEGACY).map(([name, k]) => `  ${name.padEnd(10)} ${BENCHES[k as keyof typeof BENCHES]}`).join('\n')}\n`,
  );
  process.exit(unknown.length > 0 ? 2 : 0);
}

const run = (script: string, extra: string[]): boolean => spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...extra, ...flags], { stdio: 'inherit' }).status === 0;
let failed = 0;
const suiteNames = names.filter((n) => SUITE.has(n));
if (names.length === 0 || suiteNames.length > 0) {
  process.stderr.write(`\nbench suite${suiteNames.length > 0 ? `: ${suiteNames.join(', ')}` : ''}\n`);
  if (!run('./suite/runner.js', suiteNames)) failed++;
}
const legacy = names.filter((n) => n in LEGACY);
for (const [i, name] of legacy.entries()) {
  const key = LEGACY[name] as keyof typeof BENCHES;
  process.stderr.write(`\n[${i + 1}/${legacy.length}] bench ${name}: ${BENCHES[key]}\n`);
  if (!run(`./${key}.js`, [])) failed++;
}
process.exit(failed > 0 ? 1 : 0);
