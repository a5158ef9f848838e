// `npm run bench [-- NAME ...] [--json]`: runs the benches one after another (each in its own process,
// so they do not share a heap or a JIT warm-up) and prints where their reports were written.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = {
  ring: 'ring vs MessagePort.postMessage: one-way and round trip, 64 B / 1 KiB / 16 KiB',
  'raft-core': 'entries/s committed by a 3-node in-memory group of the pure Raft core',
  write: 'durable writes over HTTP at 1 and 64 clients vs the fsync rate; idle RSS',
  kv: 'KV v2 reads (root and policy token) and durable writes over HTTP vs a bare node:http server',
  transit: 'transit encrypt (1 KiB, single and batch of 100) with crypto on the CPU pool vs inline on the handler thread',
  login: 'userpass logins/s, and KV v2 reads/s alone vs while logins run',
  cluster: 'a 3-node cluster: KV v2 reads spread over standbys vs the active node alone (CPU per node), forwarded vs direct writes',
} as const;

type BenchName = keyof typeof BENCHES;

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length > 0 || args.includes('--help')) {
  process.stderr.write(`usage: npm run bench [-- NAME ...] [--json]\n\n${Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(10)} ${v}`).join('\n')}\n`);
  process.exit(unknown.length > 0 ? 2 : 0);
}
const selected = (names.length > 0 ? names : Object.keys(BENCHES)) as BenchName[];
let failed = 0;
for (const [i, name] of selected.entries()) {
  process.stderr.write(`\n[${i + 1}/${selected.length}] bench ${name}: ${BENCHES[name]}\n`);
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
