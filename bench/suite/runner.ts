// The benchmark suite (issue #8): Coffer scenarios and, in the same run, the anchors they are judged
// against (the ceiling, a 3-member etcd cluster, the disk's fsync rate). The systems come up first; the
// points then run in the families' order, each a warm-up then a fixed-duration autocannon run, with the
// anchors a Coffer point is divided by next to it in time; the whole run is bounded by --budget.
// Usage: node dist/bench/suite/runner.js [FAMILY ...] [--quick] [--duration S] [--warmup S]
//        [--connections N] [--write-connections 1,64,256] [--read-keys N] [--secrets N]
//        [--budget S] [--out DIR] [--json]
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBareServer } from '../lib/bare-server.js';
import { stopChildren } from '../lib/children.js';
import { ETCD_BIN } from '../lib/etcd-cluster.js';
import { measureFsyncRate } from '../lib/fsync-rate.js';
import { runLoad } from '../lib/load.js';
import { machineSummary } from '../lib/report.js';
import { watchPeakRss } from '../lib/rss.js';
import { FAMILIES } from './families.js';
import { measureIdleMemory } from './memory.js';
import { cofferLookupSelf, cofferRead, tokenHeaders } from './shapes.js';
import { writeSuiteReport } from './report.js';
import { startCofferOne, startCofferThree, startEtcd, type Running } from './systems.js';
import type { BodyKind, CeilingTarget, CofferTarget, EtcdTarget, LoadPlan, Point, PointResult, Results, Settings, Shape, SystemId } from './types.js';

/** Systems come up in this order before the load phase. */
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

/** A failure's message for the report: one line, short (the full stack went to stderr). */
const firstLine = (err: unknown): string => {
  const line = String((err as Error)?.message ?? err).split('\n')[0] as string;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
};

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** Stops for whatever is up right now: an interrupted run must not leave servers or etcd behind. */
const upNow = new Set<() => Promise<void>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    process.stderr.write(`\nbench suite: ${sig}, stopping ${upNow.size} running system(s)\n`);
    // A system still coming up has no stop function yet: its processes are stopped by PID here.
    void Promise.allSettled([stopChildren(), ...[...upNow].map((stop) => stop())]).then(() => process.exit(130));
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
  let failed = false;
  /**
   * One point: probe, then warm-up + `durationS` under load. `leg.part` ("1/2", "2/2") marks one of a
   * point's two legs in an interleaved pair; its result is returned for merging instead of stored.
   */
  const runPoint = async (p: Point, plan: LoadPlan, pids: number[], leg?: { part: string; durationS: number; warmupS: number }): Promise<PointResult | null> => {
    if (leg === undefined || leg.part.startsWith('1/')) done++;
    if (overBudget()) {
      results.skipped.push({ what: p.id, why: `time budget (${s.budgetS} s) spent` });
      return null;
    }
    if (p.system !== 'ceiling')
      try {
        await probe(plan, bodies);
      } catch (err) {
        // This point only: the next ones on the same system may still be fine.
        failed = true;
        process.stderr.write(`  [${done}/${points.length}] ${p.label}: ${(err as Error).message}\n`);
        results.skipped.push({ what: p.id, why: firstLine(err) });
        return null;
      }
    const watch = watchPeakRss(pids);
    const elapsed = Math.round((Date.now() - t0) / 1000);
    try {
      const r = await runLoad({ url: plan.url, connections: p.connections, durationS: leg?.durationS ?? s.durationS, warmupS: leg?.warmupS ?? s.warmupS, path: () => '/', requests: plan.requests, ...(plan.headers ? { headers: plan.headers } : {}), label: `[${done}/${points.length} ${elapsed}s] ${p.label}, ${p.connections} conn${leg ? ` (leg ${leg.part})` : ''}` });
      const result: PointResult = { id: p.id, system: p.system, label: p.label, connections: p.connections, ...r, peakRssMiB: watch.stop() };
      if (leg === undefined) results.points.set(p.id, result);
      return result;
    } catch (err) {
      watch.stop();
      failed = true;
      process.stderr.write(`failed: ${(err as Error).message}\n`);
      results.skipped.push({ what: p.id, why: `load failed: ${firstLine(err)}` });
      return null;
    }
  };

  /**
   * A family's ratio pair measured A B B A, each leg half the duration (warm-up before the first leg of
   * each): a linear drift of the shared machine's speed then weighs on both sides equally, where A then B
   * hands all of it to one side. Each point's figures are the mean of its two legs.
   */
  const runInterleaved = async (a: Point, b: Point, planA: LoadPlan, planB: LoadPlan, pids: number[]) => {
    const half = Math.max(1, s.durationS / 2);
    const legs: [Point, LoadPlan, string, number][] = [[a, planA, '1/2', s.warmupS], [b, planB, '1/2', s.warmupS], [b, planB, '2/2', 0], [a, planA, '2/2', 0]];
    const got = new Map<string, PointResult[]>();
    for (const [p, plan, part, warmupS] of legs) {
      const r = await runPoint(p, plan, pids, { part, durationS: half, warmupS });
      if (r !== null) got.set(p.id, [...(got.get(p.id) ?? []), r]);
    }
    for (const p of [a, b]) {
      const rs = got.get(p.id) ?? [];
      if (rs.length === 2) results.points.set(p.id, mergeLegs(rs[0]!, rs[1]!));
      else if (!results.skipped.some((x) => x.what === p.id)) results.skipped.push({ what: p.id, why: 'a leg of its interleaved pair failed' });
    }
  };

  // All systems stay up for the whole load phase and the points run in the families' order, so a
  // Coffer point and the anchor points it is divided by run minutes apart at most: on a shared machine
  // the background load drifts, and pairing in time keeps it out of the ratios. (Idle systems cost
  // little CPU: heartbeats.) The ceiling starts per point: it needs Coffer's answer captured by the probe.
  const up = new Map<SystemId, Running<CofferTarget | EtcdTarget>>();
  const downWhy = new Map<SystemId, string>();
  for (const system of SYSTEM_ORDER) {
    if (system === 'ceiling' || !points.some((p) => p.system === system)) continue;
    process.stderr.write(`\n${system}: starting\n`);
    // Two tries: on a busy machine a start can miss its timeout (each try cleans up after itself).
    for (let attempt = 1; attempt <= 2 && !up.has(system); attempt++)
      try {
        const running: Running<CofferTarget | EtcdTarget> = system === 'etcd' ? await startEtcd(s, progress) : system === 'coffer-1' ? await startCofferOne(s, progress) : await startCofferThree(s, progress);
        up.set(system, running);
        upNow.add(running.stop);
      } catch (err) {
        process.stderr.write(`  ${system} failed to start (try ${attempt} of 2): ${(err as Error).stack}\n`);
        if (attempt === 2) {
          failed = true;
          downWhy.set(system, `${system} failed to start: ${firstLine(err)}`);
        }
      }
  }
  // A fresh node's first seconds are slower (JIT, the preload's garbage); the first point measured on
  // it would pay for that alone. A discarded read load on every Coffer system first.
  // (Skipped with --warmup 0, as the test does.)
  for (const [system, running] of up)
    if (system !== 'etcd' && s.warmupS > 0) {
      const t = running.target as CofferTarget;
      await runLoad({ url: t.urls, connections: s.readConnections, durationS: Math.max(3, 2 * s.warmupS), warmupS: 0, path: () => '/', requests: [cofferRead(s.readKeys), cofferLookupSelf], headers: tokenHeaders(t.policyToken), label: `${system}: warm-up reads (discarded)` });
    }
  process.stderr.write('\nload\n');
  try {
    const seen = new Set<string>();
    for (const f of families) {
      if (f.needsFsync && !results.fsync) {
        results.fsync = await measureFsyncRate(tmpdir(), s.quick ? 1000 : 3000);
        progress(`disk: 4 KiB write + fdatasync in a loop: ${results.fsync.fsyncsPerSec} fsyncs/s, p50 ${results.fsync.p50Ms.toFixed(3)} ms`);
      }
      for (const p of f.points(s)) {
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        if (p.system === 'ceiling') {
          const missing = p.needs.filter((k) => !bodies.has(k));
          if (missing.length > 0) {
            done++;
            results.skipped.push({ what: p.id, why: `no Coffer ${missing.join(' and ')} answer to copy (its Coffer points did not run)` });
            continue;
          }
          const bare = await startBareServer(bodies.get(p.get) ?? '{}', bodies.get(p.put) ?? '{}');
          upNow.add(bare.stop);
          try {
            await runPoint(p, p.plan({ url: bare.url, pids: [bare.pid] } satisfies CeilingTarget), [bare.pid]);
          } finally {
            upNow.delete(bare.stop);
            await bare.stop();
          }
          continue;
        }
        const running = up.get(p.system);
        if (!running) {
          done++;
          results.skipped.push({ what: p.id, why: downWhy.get(p.system) ?? `${p.system} not up` });
          continue;
        }
        const plan = p.system === 'etcd' ? p.plan(running.target as EtcdTarget) : p.plan(running.target as CofferTarget);
        const pair = f.interleave;
        const other = pair !== undefined && pair[0] === p.id ? f.points(s).find((q) => q.id === pair[1]) : undefined;
        if (other !== undefined && (other.system === 'coffer-1' || other.system === 'coffer-3') && other.system === p.system) {
          seen.add(other.id);
          await runInterleaved(p, other, plan, other.plan(running.target as CofferTarget), running.target.pids);
          continue;
        }
        await runPoint(p, plan, running.target.pids);
      }
    }
  } finally {
    for (const running of up.values()) {
      upNow.delete(running.stop);
      await running.stop();
    }
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
        results.skipped.push({ what: 'memory', why: firstLine(err) });
      }
  }

  const etcdVersion = /etcd Version: (\S+)/.exec(spawnSync(ETCD_BIN, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
  writeSuiteReport({ families, settings: s, results, etcdVersion, seconds: (Date.now() - t0) / 1000 });
  process.stderr.write(`\nbench suite: done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  if (failed) process.exitCode = 1;
}

/** One point's two legs as one result: rates and latencies averaged, counts summed, the higher peak RSS. */
function mergeLegs(x: PointResult, y: PointResult): PointResult {
  const mean = (a: number, b: number) => (a + b) / 2;
  return {
    ...x,
    requestsPerSec: mean(x.requestsPerSec, y.requestsPerSec),
    p50Ms: mean(x.p50Ms, y.p50Ms),
    p99Ms: mean(x.p99Ms, y.p99Ms),
    meanMs: mean(x.meanMs, y.meanMs),
    non2xx: x.non2xx + y.non2xx,
    errors: x.errors + y.errors,
    total: x.total + y.total,
    peakRssMiB: x.peakRssMiB.map((v, i) => Math.max(v, y.peakRssMiB[i] ?? 0)),
  };
}

main().catch((err) => {
  process.stderr.write(`bench suite failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
