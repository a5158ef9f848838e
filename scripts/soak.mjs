// npm run soak -- --minutes N      bounded loops of the fault tests (crashes, kills, partitions) and simulator
//                                  seeds until the time is up
// npm run soak -- --mutations      for each mutation switch (runtime/mutations.ts), run the tests it must
//                                  break with COFFER_MUTATIONS set; exit 1 if a mutation left them all green
// Runs the compiled tests in dist/ (npm run soak builds first), one child process at a time, each with a
// hard time limit; everything it starts is a child killed by PID on timeout. Stops by itself.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const value = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

/** Runs `node --test <file>` (or any node script) with extra env; resolves {ok, ms, tail}. */
function runNode(nodeArgs, env, limitMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, nodeArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d) => {
      out += d.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // A test's figures: its diagnostics (`# ...`) and the lines it prints in the table's form (`... N of M`).
      const figures = out
        .split('\n')
        .filter((l) => (/^#\s/.test(l) || /\b\d[\d,]* of \d[\d,]*\b/.test(l)) && !/^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l) && !/^\s*(✔|✖|ok |not ok )/.test(l))
        .map((l) => (l.startsWith('#') ? l : `# ${l.trim()}`));
      resolve({ ok: code === 0, code: code ?? signal, ms: Date.now() - started, figures, tail: out.slice(-1500) });
    });
  });
}

const test = (file) => {
  const path = `dist/test/${file}`;
  if (!existsSync(path)) throw new Error(`${path} missing: run npm run build first`);
  return ['--test', '--test-reporter=spec', path];
};

/** Mutation -> the tests it must turn red (docs/faults.md). */
const MUTATION_TESTS = {
  'ack-before-fsync': [{ name: 'FSYNC-AUDIT', args: () => test('fsync-audit.test.js') }],
  'standby-reads-no-index': [{ name: 'ha-standby (X-Vault-Index reads)', args: () => test('ha-standby.test.js') }],
  'old-term-commit': [{ name: 'raft fixtures (figure8.txt)', args: () => ['--test', '--test-reporter=spec', 'dist/actors/raft/core/interaction.test.js'] }],
  'early-membership': [{ name: 'raft fixtures (membership.txt)', args: () => ['--test', '--test-reporter=spec', 'dist/actors/raft/core/interaction.test.js'] }],
  'skip-audit': [{ name: 'SEC-AUDIT (audit.test)', args: () => test('audit.test.js') }],
};

async function mutations() {
  const only = value('only', null);
  const rows = [];
  let survivors = 0;
  let tried = 0;
  for (const [mutation, tests] of Object.entries(MUTATION_TESTS)) {
    if (only !== null && only !== mutation) continue;
    tried++;
    let caught = false;
    for (const t of tests) {
      const r = await runNode(t.args(), { COFFER_MUTATIONS: mutation }, 10 * 60_000);
      rows.push([mutation, t.name, r.ok ? 'green' : 'red', `${(r.ms / 1000).toFixed(0)} s`]);
      console.log(`${mutation} -> ${t.name}: ${r.ok ? 'GREEN (not caught)' : 'red (caught)'} in ${(r.ms / 1000).toFixed(0)} s`);
      if (!r.ok) caught = true;
    }
    if (!caught) survivors++;
  }
  const w = [0, 0, 0, 0];
  for (const row of rows) row.forEach((c, i) => (w[i] = Math.max(w[i], c.length)));
  console.log('\nmutation'.padEnd(w[0] + 3) + 'test'.padEnd(w[1] + 3) + 'result');
  for (const row of rows) console.log(`${row[0].padEnd(w[0])} → ${row[1].padEnd(w[1])} → ${row[2]} (${row[3]})`);
  console.log(`\nmutations caught: ${tried - survivors} of ${tried}`);
  process.exit(survivors === 0 ? 0 : 1);
}

/** One soak step: a fault test with a fresh seed, or a batch of simulator seeds. */
const STEPS = [
  { name: 'CRASH-POINTS (all points)', run: (seed) => runNode(test('crash-points.test.js'), { COFFER_FAULT_SEED: String(seed), COFFER_CRASH_POINTS: 'all' }, 15 * 60_000) },
  { name: 'DUR-KILL 3-node (15 kills)', run: (seed) => runNode(test('dur-kill-cluster.test.js'), { COFFER_FAULT_SEED: String(seed), COFFER_DUR_KILLS: '15' }, 15 * 60_000) },
  { name: 'DUR-KILL 1-node', run: () => runNode(test('durability.test.js'), {}, 5 * 60_000) },
  // The network nemesis: partitions (symmetric and one-way), delay, drop, SIGSTOP and kills through the
  // per-link proxies, every fault of the catalogue in a seeded order, each history checked.
  { name: 'LIN-KV-ACTIVE (every fault)', run: (seed) => runNode(test('lin-kv-active.test.js'), { COFFER_LIN_SEED: String(seed) }, 15 * 60_000) },
  { name: 'STANDBY-READS', run: () => runNode(test('standby-reads.test.js'), {}, 10 * 60_000) },
  { name: 'FOLLOWER-READINDEX', run: () => runNode(test('follower-readindex.test.js'), {}, 10 * 60_000) },
  { name: 'FSYNC-AUDIT', run: () => runNode(test('fsync-audit.test.js'), {}, 5 * 60_000) },
  {
    name: 'simulator 500 seeds x 1000 steps',
    run: (seed) => runNode(['dist/bench/sim.js', '--seed', String(100_000 + seed * 500), '--seeds', '500', '--steps', '1000', '--jobs', '2', '--keep-going'], {}, 15 * 60_000),
  },
];

async function soak(minutes) {
  const deadline = Date.now() + minutes * 60_000;
  const base = Number(value('seed', String(Math.floor(Date.now() / 1000) % 1_000_000)));
  const results = new Map(STEPS.map((s) => [s.name, { runs: 0, failures: 0, figures: [] }]));
  console.log(`soak: ${minutes} min, seed base ${base} (--seed ${base} repeats the order of seeds)`);
  let round = 0;
  // Each step starts only while time is left; a started step runs to its own limit.
  outer: for (;;) {
    for (const step of STEPS) {
      if (Date.now() >= deadline) break outer;
      const seed = base + round;
      const r = await step.run(seed);
      const agg = results.get(step.name);
      agg.runs++;
      if (!r.ok) {
        agg.failures++;
        console.log(`FAILED ${step.name} (seed ${seed}, exit ${r.code}):\n${r.tail}`);
      }
      agg.figures.push(...r.figures.map((f) => `seed ${seed}: ${f.replace(/^#\s*/, '')}`));
      console.log(`${new Date().toISOString()} ${step.name} seed ${seed}: ${r.ok ? 'ok' : 'FAILED'} (${(r.ms / 1000).toFixed(0)} s)${r.figures.length ? `\n  ${r.figures.join('\n  ')}` : ''}`);
    }
    round++;
  }
  console.log('\nsoak summary');
  let failed = 0;
  for (const [name, agg] of results) {
    failed += agg.failures;
    console.log(`  ${name}: runs ${agg.runs}, failures ${agg.failures}`);
  }
  process.exit(failed === 0 ? 0 : 1);
}

if (flag('mutations')) await mutations();
else await soak(Number(value('minutes', '10')));
