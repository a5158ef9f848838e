// The benchmark suite end to end with tiny durations: it starts its systems, measures, and writes a
// report with the table rows, the targets' verdicts and an SVG chart. No speed is asserted here
// (speed targets live in the report as ratios); only that every piece of the report is there and fits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { tempDir } from './helpers/server-process.js';

const RUNNER = fileURLToPath(new URL('../bench/suite/runner.js', import.meta.url));

function runSuite(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [RUNNER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    // The runner bounds itself (--budget); this only stops a hung one (SIGTERM: it then stops its servers).
    const timer = setTimeout(() => child.kill('SIGTERM'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench suite (tiny run)', () => {
  const out = tempDir('bench-suite');
  after(() => out.remove());

  it('runs token lookup-self and the idle-memory scenario and writes table rows, verdicts, JSON and an SVG', async () => {
    const r = await runSuite(['token', 'memory', '--quick', '--duration', '1', '--warmup', '0', '--read-keys', '10', '--secrets', '300', '--budget', '60', '--out', out.path, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // Progress lines while it runs, on stderr.
    assert.match(r.stderr, /\[1\/2 \d+s\] coffer: token lookup-self on one node, 50 conn: .* req\/s/);

    const json = JSON.parse(r.stdout);
    assert.equal(json.bench, 'latest');
    const points = new Map<string, any>(json.data.points.map((p: any) => [p.id, p]));
    for (const id of ['coffer1.lookup-self', 'ceiling.lookup.c50']) {
      const p = points.get(id);
      assert.ok(p, `point ${id} measured`);
      assert.ok(p.total > 0 && p.requestsPerSec > 0, `${id} got 2xx answers`);
      assert.equal(p.non2xx + p.errors, 0, `${id} had no failed requests`);
      assert.ok(p.p99Ms >= p.p50Ms && p.p50Ms > 0, `${id} latencies ordered`);
      assert.ok(p.peakRssMiB.length === 1 && p.peakRssMiB[0] > 0, `${id} peak RSS sampled`);
    }
    const row = json.data.rows.find((x: any) => x.coffer === 'coffer1.lookup-self');
    assert.ok(Math.abs(row.ofCeiling - points.get('coffer1.lookup-self').requestsPerSec / points.get('ceiling.lookup.c50').requestsPerSec) < 1e-9);
    assert.equal(json.data.memory.secrets, 300);
    assert.ok(json.data.memory.afterFill.rssMiB > 0 && json.data.memory.afterRestart.rssMiB > 0);
    assert.deepEqual(json.data.skipped, []);
    // 300 is not the target's 100,000: the verdict must say so rather than PASS.
    assert.deepEqual(json.data.targets.map((t: any) => t.verdict), ['n/a']);

    const md = readFileSync(`${out.path}/latest.md`, 'utf8');
    assert.match(md, /\| Coffer, 1 node \| one node, policy token \| 50 \| [\d,.]+ \| [\d.]+ \| [\d.]+ \| \d+% \| no equivalent \| \d+ \| 0 \/ 0 \|/);
    assert.match(md, /\| ceiling \| bare node:http GET, lookup-self body \| 50 \| [\d,.]+ \|/);
    assert.match(md, /\| idle node holding 100,000 KV v2 secrets < 300 MiB RSS \| .* \| n\/a \|/);
    assert.match(md, /\| after a restart on the same data, idle \| \d+ \(anon \d+, file \d+\) \|/);
    assert.match(md, /\d+ cores \(.*\), [\d.]+ GiB/);
    const svgPath = `${out.path}/latest.svg`;
    assert.ok(existsSync(svgPath));
    const svg = readFileSync(svgPath, 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 2, 'one bar for Coffer and one for the ceiling');
    console.log(`bench suite tiny run: ${points.size} of 2 points measured, report rows 2 of 2, memory scenario ${json.data.memory.secrets} secrets filled in ${json.data.memory.fillSeconds.toFixed(1)} s`);
  });
});
