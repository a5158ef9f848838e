// Runs every compiled test file under dist/ with node's own test runner, one process per file, in order.
// Usage: node scripts/test.mjs [substring-filter ...]
//
// Why not one `node --test` over all files: a file whose tests have all finished but whose process never
// exits (a leaked timer, socket or child process) makes `node --test` wait forever, silently; CI then dies
// at its time limit with no word about which file or why. Here each file has a time limit
// (COFFER_TEST_FILE_LIMIT_MIN, default 15) and the suite a budget (COFFER_TEST_SUITE_LIMIT_MIN, default 70;
// files not started by then count as failures). A file over its limit gets a Node diagnostic report
// (SIGUSR2: its JavaScript stack and libuv handles, taken even while it is busy in synchronous code) and
// the list of its live child processes printed, then it and every process under it are killed.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const FILE_LIMIT_MS = Number(process.env.COFFER_TEST_FILE_LIMIT_MIN ?? 15) * 60_000;
const SUITE_LIMIT_MS = Number(process.env.COFFER_TEST_SUITE_LIMIT_MIN ?? 70) * 60_000;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** pid -> { ppid, args } for every process we can see, from /proc. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      table.set(Number(name), { ppid, args });
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/** Every live process started (directly or not) by `root`, deepest last. */
function descendants(root) {
  const table = processTable();
  const out = [];
  const visit = (pid) => {
    for (const [child, info] of table) {
      if (info.ppid !== pid) continue;
      out.push({ pid: child, args: info.args });
      visit(child);
    }
  };
  visit(root);
  return out;
}

/** The parts of a Node diagnostic report that say what keeps a process alive or busy. */
function summarizeReport(path) {
  const r = JSON.parse(readFileSync(path, 'utf8'));
  const lines = ['JavaScript stack:', ...(r.javascriptStack?.stack ?? ['(none: idle in the event loop)']).slice(0, 20).map((l) => `  ${l}`)];
  lines.push('referenced libuv handles (these keep the process alive):');
  for (const h of r.libuv ?? []) {
    if (!h.is_referenced || !h.is_active) continue;
    const { type, is_active, is_referenced, address, ...detail } = h;
    lines.push(`  ${type} ${JSON.stringify(detail)}`);
  }
  return lines.join('\n');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a file over its limit is doing, then kill it and everything under it (all ours, by PID). */
async function diagnoseAndKill(child, file, reportDir) {
  const lines = [`✖ ${file}: still running after ${FILE_LIMIT_MS / 60_000} min; killing it and its processes`];
  for (const d of descendants(child.pid)) lines.push(`  live child process ${d.pid}: ${d.args.slice(0, 300)}`);
  try {
    process.kill(child.pid, 'SIGUSR2');
    let summary = 'no diagnostic report within 10 s';
    for (let i = 0; i < 100; i++, await sleep(100)) {
      const report = readdirSync(reportDir)[0];
      if (report === undefined) continue;
      try {
        summary = summarizeReport(join(reportDir, report));
        break;
      } catch {
        // still being written
      }
    }
    lines.push(summary);
  } catch (err) {
    lines.push(`diagnostic report failed: ${err.message}`);
  }
  for (const d of descendants(child.pid).reverse()) {
    try {
      process.kill(d.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  child.kill('SIGKILL');
  return lines.join('\n');
}

// Every process a test file starts inherits this variable (value: the file's mark). A child that outlives
// its file (orphaned: its parent died, so it is no longer found by ancestry) is found by it, reported, and
// killed; a later file must not meet it (its ports, its peers' dials, its CPU).
const MARK = 'COFFER_TEST_FILE_MARK';
const runId = `${process.pid}-${Date.now()}`;
const markOf = (file) => `${runId}:${file}`;

/** Kills the processes still carrying `file`'s mark after it exited; returns what it found, or null. */
function killLeftovers(file) {
  const needle = `${MARK}=${markOf(file)}\0`;
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!`${readFileSync(`/proc/${name}/environ`, 'latin1')}\0`.includes(needle)) continue;
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push(`  left running: ${name} ${args.slice(0, 300)}`);
      process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found.length === 0 ? null : [`✖ ${file}: ${found.length} process(es) outlived the file; killed`, ...found].join('\n');
}

const SUMMARY = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/;
// A failing file's assertion and stack are repeated at the very end of the run: a CI log is often seen
// only by its tail.
const FAILURE_TEXT_MAX = 4000;

/** Runs one file; resolves with its counts, its time and, if it was killed, why. */
function runFile(file) {
  const reportDir = mkdtempSync(join(tmpdir(), 'coffer-test-report-'));
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, '--test-reporter=spec', file],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [MARK]: markOf(file) } },
  );
  const counts = {};
  let failures = null; // the spec reporter's closing "failing tests" section, once it starts
  let failureChars = 0;
  let pending = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const m = SUMMARY.exec(line);
      if (m) counts[m[1]] = Number(m[2]); // the last summary of the file wins
      if (line.startsWith('✖ failing tests:')) failures = [];
      else if (failures !== null && failureChars < FAILURE_TEXT_MAX) {
        failures.push(line);
        failureChars += line.length + 1;
      }
    }
  });
  return new Promise((resolve) => {
    let diagnosis = null; // a promise of the text, once the file is over its limit
    const timer = setTimeout(() => (diagnosis = diagnoseAndKill(child, file, reportDir)), FILE_LIMIT_MS);
    child.once('close', async (code, signal) => {
      clearTimeout(timer);
      let killedWith = diagnosis === null ? null : await diagnosis;
      if (killedWith !== null) process.stdout.write(`\n${killedWith}\n`);
      const leftovers = killLeftovers(file);
      if (leftovers !== null) {
        process.stdout.write(`\n${leftovers}\n`);
        killedWith ??= leftovers;
      }
      rmSync(reportDir, { recursive: true, force: true });
      resolve({ file, counts, code, signal, ms: Date.now() - started, killedWith, failures: failures?.join('\n').slice(0, FAILURE_TEXT_MAX) ?? null });
    });
  });
}

const filters = process.argv.slice(2);
const files = walk('dist', []).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/');
  process.exit(1);
}

const suiteStart = Date.now();
const results = [];
for (const file of files) {
  if (Date.now() - suiteStart > SUITE_LIMIT_MS) {
    results.push({ file, counts: {}, code: null, signal: null, ms: 0, killedWith: `not started: the suite's ${SUITE_LIMIT_MS / 60_000} min budget was spent` });
    continue;
  }
  results.push(await runFile(file));
}

const total = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
for (const r of results) for (const k of Object.keys(total)) total[k] += r.counts[k] ?? 0;
const bad = results.filter((r) => r.code !== 0 || r.killedWith !== null);
const minutes = (ms) => (ms / 60_000).toFixed(1);

console.log(`\n══ ${files.length} files in ${minutes(Date.now() - suiteStart)} min: tests ${total.tests}, pass ${total.pass}, fail ${total.fail}, cancelled ${total.cancelled}, skipped ${total.skipped}, todo ${total.todo}`);
console.log('slowest files:');
for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 8)) console.log(`  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.file}`);
if (bad.length > 0) {
  console.log('files that failed:');
  for (const r of bad) {
    const why = r.killedWith !== null ? r.killedWith.split('\n')[0].replace(/^✖ [^:]*: /, '') : `exit ${r.code ?? r.signal}, fail ${r.counts.fail ?? '?'}`;
    console.log(`  ✖ ${r.file}: ${why}`);
  }
  for (const r of bad) if (r.failures) console.log(`\nwhy ${r.file} failed (its reporter's words):\n${r.failures}`);
}
process.exit(bad.length > 0 || total.tests === 0 ? 1 : 0);
