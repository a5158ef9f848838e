// The benchmark suite (issue #8): Coffer scenarios and, in the same run, the anchors they are judged
// against (the ceiling, a 3-member etcd cluster, the disk's fsync rate). One system is up at a time;
// each point is a warm-up then a fixed-duration autocannon run; the whole run is bounded by --budget.
// Usage: node dist/bench/suite/runner.js [FAMILY ...] [--quick] [--duration S] [--warmup S]
//        [--connections N] [--write-connections 1,64,256] [--read-keys N] [--secrets N]
//        [--budget S] [--out DIR] [--json]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBareServer } from '../lib/bare-server.js';
import { ETCD_BIN } from '../lib/etcd-cluster.js';
import { measureFsyncRate } from '../lib/fsync-rate.js';
import { runLoad } from '../lib/load.js';
import { machineSummary } from '../lib/report.js';
import { watchPeakRss } from '../lib/rss.js';
import { FAMILIES } from './families.js';
import { measureIdleMemory } from './memory.js';
import { writeSuiteReport } from './report.js';
import { startCofferOne, startCofferThree, startEtcd, type Running } from './systems.js';
import type { BodyKind, CeilingTarget, CofferTarget, EtcdTarget, Family, LoadPlan, Point, Results, Settings, Shape, SystemId } from './types.js';

/** Systems come up in this order, one at a time (Coffer first: the ceiling copies its answers' sizes). */
const SYSTEM_ORDER: SystemId[] = ['coffer-1', 'coffer-3', 'ceiling', 'etcd'];

export function parseSettings(argv: string[]): { settings: Settings; names: string[] } {
  const valued = new Set(['duration', 'warmup', 'connections', 'write-connections', 'read-keys', 'secrets', 'budget', 'out']);
  const opts = new Map<string, string>();
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) names.push(a);
    else if (valued.has(a.slice(2))) opts.set(a.slice(2), argv[++i] ?? '');
    else opts.set(a.slice(2), 'true');
  }
  const num = (k: string, d: number) => (opts.has(k) ? Number(opts.get(k)) : d);
  const quick = opts.has('quick');
  const settings: Settings = {
    quick,
    durationS: num('duration', quick ? 2 : 10),
    warmupS: num('warmup', quick ? 1 : 2),
    readConnections: num('connections', 50),
    writeConnections: (opts.get('write-connections') ?? '1,64,256').split(',').map(Number),
    readKeys: num('read-keys', 1000),
    secrets: num('secrets', 100_000),
    budgetS: num('budget', quick ? 600 : 1200),
    outDir: resolvePath(opts.get('out') ?? fileURLToPath(new URL('../../../docs/bench/', import.meta.url))),
    json: opts.has('json'),
  };
  for (const [k, v] of Object.entries(settings)) if (typeof v === 'number' && !(v >= 0)) throw new Error(`--${k}: not a number`);
  if (settings.writeConnections.some((c) => !(c >= 1))) throw new Error('--write-connections: a comma-separated list of counts >= 1');
  return { settings, names };
}

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** Our direct children (servers, etcd members), from /proc: all of them are processes this run started. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Stops for whatever is up right now: an interrupted run must not leave servers or etcd behind. */
const upNow = new Set<() => Promise<void>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    process.stderr.write(`\nbench suite: ${sig}, stopping ${upNow.size} running system(s)\n`);
    // A system still coming up has no stop function yet: its processes are stopped by PID here.
    const force = setTimeout(() => {
      for (const pid of childPids()) process.kill(pid, 'SIGKILL');
      process.exit(130);
    }, 8000);
    for (const pid of childPids()) process.kill(pid, 'SIGTERM');
    void Promise.allSettled([...upNow].map((stop) => stop())).then(() => {
      clearTimeout(force);
      process.exit(130);
    });
  });

/** One request per distinct shape: fails fast on a wrong setup; keeps Coffer's answers for the ceiling. */
async function probe(plan: LoadPlan, bodies: Map<BodyKind, string>): Promise<void> {
  const url = Array.isArray(plan.url) ? (plan.url[0] as string) : plan.url;
  for (const shape of new Set<Shape>(plan.requests)) {
    const body = typeof shape.body === 'function' ? shape.body() : shape.body;
    const res = await fetch(`${url}${shape.path()}`, { method: shape.method, headers: { ...(plan.headers ?? {}), ...(shape.headers ?? {}) }, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) throw new Error(`probe ${shape.method} ${shape.path()} answered ${res.status}: ${text.slice(0, 300)}`);
    if (shape.kind && !bodies.has(shape.kind)) bodies.set(shape.kind, text);
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const { settings: s, names } = parseSettings(process.argv.slice(2));
  const unknown = names.filter((n) => !FAMILIES.some((f) => f.name === n));
  if (unknown.length > 0 || process.argv.includes('--help')) {
    process.stderr.write(`usage: npm run bench [-- SCENARIO ...] [--quick] [--duration S] [--warmup S] [--json] ...\n\n${FAMILIES.map((f) => `  ${f.name.padEnd(9)} ${f.description}`).join('\n')}\n`);
    process.exit(unknown.length > 0 ? 2 : 0);
  }
  const families = names.length > 0 ? FAMILIES.filter((f) => names.includes(f.name)) : FAMILIES;
  const points = [...new Map(families.flatMap((f) => f.points(s)).map((p) => [p.id, p])).values()];
  const results: Results = { points: new Map(), fsync: null, memory: null, skipped: [] };
  const bodies = new Map<BodyKind, string>();
  const perPoint = s.warmupS + s.durationS;
  process.stderr.write(
    `bench suite: ${families.map((f) => f.name).join(', ')}; ${points.length} points x (${s.warmupS} s warm-up + ${s.durationS} s) ≈ ${Math.ceil((points.length * perPoint) / 60)} min of load plus bring-ups; budget ${s.budgetS} s\n` +
      `  machine: ${machineSummary()}\n`,
  );
  const overBudget = () => (Date.now() - t0) / 1000 > s.budgetS;
  let done = 0;
  const runPoint = async (p: Point, plan: LoadPlan, pids: number[]) => {
    done++;
    if (overBudget()) {
      results.skipped.push({ what: p.id, why: `time budget (${s.budgetS} s) spent` });
      return;
    }
    if (p.system !== 'ceiling') await probe(plan, bodies);
    const watch = watchPeakRss(pids);
    const elapsed = Math.round((Date.now() - t0) / 1000);
    const r = await runLoad({ url: plan.url, connections: p.connections, durationS: s.durationS, warmupS: s.warmupS, path: () => '/', requests: plan.requests, ...(plan.headers ? { headers: plan.headers } : {}), label: `[${done}/${points.length} ${elapsed}s] ${p.label}, ${p.connections} conn` });
    results.points.set(p.id, { id: p.id, system: p.system, label: p.label, connections: p.connections, ...r, peakRssMiB: watch.stop() });
  };

  let failed = false;
  for (const system of SYSTEM_ORDER) {
    const mine = points.filter((p) => p.system === system);
    if (mine.length === 0) continue;
    if (overBudget()) {
      done += mine.length;
      results.skipped.push(...mine.map((p) => ({ what: p.id, why: `time budget (${s.budgetS} s) spent` })));
      continue;
    }
    process.stderr.write(`\n${system}: ${mine.length} point${mine.length > 1 ? 's' : ''}\n`);
    try {
      if (system === 'ceiling') {
        for (const p of mine as Extract<Point, { system: 'ceiling' }>[]) {
          const get = bodies.get(p.get);
          const put = bodies.get(p.put) ?? '{}';
          if (get === undefined) {
            done++;
            results.skipped.push({ what: p.id, why: `no Coffer ${p.get} answer to copy (its Coffer points did not run)` });
            continue;
          }
          const bare = await startBareServer(get, put);
          upNow.add(bare.stop);
          try {
            await runPoint(p, p.plan({ url: bare.url, pids: [bare.pid] } satisfies CeilingTarget), [bare.pid]);
          } finally {
            upNow.delete(bare.stop);
            await bare.stop();
          }
        }
        continue;
      }
      const up: Running<CofferTarget | EtcdTarget> = system === 'etcd' ? await startEtcd(s, progress) : system === 'coffer-1' ? await startCofferOne(s, progress) : await startCofferThree(s, progress);
      upNow.add(up.stop);
      try {
        for (const p of mine) {
          const plan = system === 'etcd' ? (p as Extract<Point, { system: 'etcd' }>).plan(up.target as EtcdTarget) : (p as Extract<Point, { system: 'coffer-1' | 'coffer-3' }>).plan(up.target as CofferTarget);
          await runPoint(p, plan, up.target.pids);
        }
      } finally {
        upNow.delete(up.stop);
        await up.stop();
      }
    } catch (err) {
      failed = true;
      process.stderr.write(`  ${system} failed: ${(err as Error).stack}\n`);
      for (const p of mine) if (!results.points.has(p.id) && !results.skipped.some((k) => k.what === p.id)) results.skipped.push({ what: p.id, why: `${system} failed: ${(err as Error).message.split('\n')[0]}` });
    }
  }

  if (families.some((f) => f.needsFsync)) {
    process.stderr.write('\ndisk: 4 KiB write + fdatasync in a loop\n');
    results.fsync = await measureFsyncRate(tmpdir(), s.quick ? 1000 : 3000);
    progress(`disk: ${results.fsync.fsyncsPerSec} fsyncs/s, p50 ${results.fsync.p50Ms.toFixed(3)} ms`);
  }
  if (families.some((f) => f.measureMemory)) {
    process.stderr.write(`\nmemory: an idle node holding ${s.secrets.toLocaleString('en-US')} KV v2 secrets\n`);
    if (overBudget()) results.skipped.push({ what: 'memory', why: `time budget (${s.budgetS} s) spent` });
    else
      try {
        results.memory = await measureIdleMemory(s, progress);
      } catch (err) {
        failed = true;
        process.stderr.write(`  memory failed: ${(err as Error).stack}\n`);
        results.skipped.push({ what: 'memory', why: (err as Error).message.split('\n')[0] as string });
      }
  }

  const etcdVersion = /etcd Version: (\S+)/.exec(spawnSync(ETCD_BIN, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
  writeSuiteReport({ families, settings: s, results, etcdVersion, seconds: (Date.now() - t0) / 1000 });
  process.stderr.write(`\nbench suite: done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench suite failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
