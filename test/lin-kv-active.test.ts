// LIN-KV-ACTIVE (RELIABILITY.md §7.2): three Coffer processes, every peer link through a nemesis proxy;
// 8 recording clients (6 pinned to a node each, 2 roaming: etcd robustness's split) run KV v2
// read / write / CAS(version) on ≤ 10 live keys (≤ 200 ops per key, then fresh keys: Jepsen's register),
// reads linearizable (X-Coffer-Consistency: linearizable: ReadIndex on whichever node serves). Each run
// injects ONE fault (kill -9 leader, kill -9 follower, SIGSTOP leader, leader isolated, asymmetric
// partition, peer delay, 50% peer drop, a follower removed by remove-peer, killed, wiped and re-added by
// retry_join), heals, keeps traffic a little longer, then checks (on every node, a re-added one included):
//   the history is linearizable per key (test/lin), unknown verdicts count as failures;
//   every acknowledged write is readable at its version at the end (acked writes lost: 0), and no value is
//   stored at two versions (a write applied twice: duplicate applies 0);
//   every node holds the same data for every key once all applied the final write (divergence 0);
//   no node log shows a crash (fatal line, actor crash, uncaught exception).
// The runs share one cluster; each run uses its own keys. The seed (COFFER_LIN_SEED, printed) fixes the
// fault order, targets, asymmetric directions and the workload's choices. COFFER_LIN_RUNS picks how many
// runs (default: every fault once); COFFER_LIN_FAULTS=a,b,… names them instead. On failure the history, events and node data dirs are kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from './helpers/cluster.js';
import {
  ackedWrites,
  checkLinearizable,
  clientAgent,
  COFFER_FAULTS,
  cofferKvOp,
  definiteStaleReads,
  describeOp,
  divergentKeys,
  duplicateApplies,
  finalWrite,
  injectFault,
  lostAckedWrites,
  patchIndeterminateWrites,
  readAllVersions,
  Recorder,
  RunReport,
  seededRandom,
  startCofferCluster,
  waitAllApplied,
  Workload,
  type CofferCluster,
  type CofferFault,
  type HarnessOp,
  type WorkloadClient,
} from './harness/index.js';

const SEED = Number(process.env.COFFER_LIN_SEED ?? Math.floor(Math.random() * 1_000_000));
const RUNS = Number(process.env.COFFER_LIN_RUNS ?? COFFER_FAULTS.length);
const PRE_FAULT_MS = 1_500;
const HOLD_MS = 3_000;
const POST_HEAL_MS = 2_000;
const CLIENT_TIMEOUT_MS = 2_000;

/** A seeded permutation of the catalogue, repeated if more runs than faults are asked for. */
function faultPlan(seed: number, runs: number): CofferFault[] {
  const rnd = seededRandom(seed ^ 0x5eed);
  const order = [...COFFER_FAULTS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return Array.from({ length: runs }, (_, i) => order[i % order.length]!);
}

const PLAN: CofferFault[] = process.env.COFFER_LIN_FAULTS
  ? process.env.COFFER_LIN_FAULTS.split(',').map((f) => {
      assert.ok((COFFER_FAULTS as readonly string[]).includes(f), `COFFER_LIN_FAULTS: unknown fault ${f} (know ${COFFER_FAULTS.join(', ')})`);
      return f as CofferFault;
    })
  : faultPlan(SEED, RUNS);

describe(`LIN-KV-ACTIVE (3 processes, one fault per run, seed ${SEED})`, { timeout: 60_000 + RUNS * 40_000 }, () => {
  let cluster: CofferCluster;
  const report = new RunReport('lin-kv-active');
  let failed = false;
  const totals = { linOk: 0, ops: 0, recorded: 0, keys: 0, indeterminate: 0, unknown: 0, illegal: 0, acked: 0, lost: 0, divergent: 0, dups: 0 };

  before(async () => {
    console.log(`LIN-KV-ACTIVE seed ${SEED} (COFFER_LIN_SEED=${SEED} reproduces the plan): ${PLAN.join(', ')}`);
    cluster = await startCofferCluster({ name: 'lin-kv', onProgress: (l) => report.event({ progress: l }) });
    for (const n of cluster.nodes) report.addDataDir(n.dir, () => undefined); // removed with the cluster
  });

  after(async () => {
    await cluster?.close(failed);
    const kept = await report.finish(!failed);
    if (kept) console.log(kept);
  });

  PLAN.forEach((fault, run) => {
    it(`run ${run + 1}: ${fault}`, async (t) => {
      let passed = false;
      try {
        await oneRun(t, run, fault);
        passed = true;
      } finally {
        if (!passed) failed = true; // keep the report and data dirs
      }
    });
  });

  async function oneRun(t: { diagnostic(msg: string): void }, run: number, fault: CofferFault): Promise<void> {
    const runSeed = (SEED * 31 + run) >>> 0;
    const rnd = seededRandom(runSeed);
    const rec = new Recorder();
    const crashesBefore = cluster.crashLines().length;
    const clients: WorkloadClient[] = [];
    for (let i = 0; i < 8; i++) {
      const agent = clientAgent();
      const nodes = i < 6 ? [cluster.nodes[i % cluster.nodes.length]!] : cluster.nodes;
      clients.push({
        name: `c${i + 1}`,
        endpoints: nodes.map((n) => ({
          node: n.id,
          op: (key, input) => cofferKvOp({ url: n.url, node: n.id, token: cluster.rootToken, timeoutMs: CLIENT_TIMEOUT_MS, now: () => rec.now(), agent }, key, input),
        })),
      });
    }
    const workload = new Workload({ recorder: rec, clients, liveKeys: 10, opsPerKey: 200, keyPrefix: `r${run + 1}-`, readFraction: 0.5, writeFraction: 0.25, seed: runSeed });
    workload.start();
    await sleep(PRE_FAULT_MS);
    const preFaultOk = rec.history().filter((o) => o.outcome === 'ok').length;
    const f = await injectFault({ cluster, fault, holdMs: HOLD_MS, random: rnd, now: () => rec.now(), log: (l) => t.diagnostic(l) });
    report.event({ run: run + 1, ...f });
    const healStart = performance.now();
    const active = await cluster.waitHealthy(45_000);
    t.diagnostic(`cluster healthy ${(performance.now() - healStart).toFixed(0)} ms after the heal`);
    await sleep(POST_HEAL_MS);
    await workload.stop();

    const recorded = rec.history();
    report.history(`run${run + 1}`, rec.jsonl());
    const finalIndex = await finalWrite(cluster, `r${run + 1}-final`);
    await waitAllApplied(cluster, finalIndex);
    const stored = await readAllVersions(cluster, active, workload.allKeys);
    const appliedValues = new Map([...stored].map(([k, vs]) => [k, new Set(vs.filter((v): v is string => v !== null))]));
    const { history, patched } = patchIndeterminateWrites(recorded, (k) => appliedValues.get(k));
    const lin = checkLinearizable(history);
    const acked = ackedWrites(history);
    const lost = lostAckedWrites(stored, acked);
    const dups = duplicateApplies(stored);
    const divergent = await divergentKeys(cluster, workload.allKeys);
    const crashes = cluster.crashLines().slice(crashesBefore);

    const window = (from: number, to: number) => {
      const ops = history.filter((o) => o.call >= from && o.call < to);
      return ops.length === 0 ? 'no ops' : `${((100 * ops.filter((o) => o.outcome === 'ok').length) / ops.length).toFixed(0)}% of ${ops.length}`;
    };
    const line =
      `run ${run + 1} ${fault}: ops checked linearizable: ${lin.verdict === 'ok' ? lin.ops : 0} of ${lin.ops} ` +
      `(keys ${lin.keys}, indeterminate ${lin.indeterminate}, unknown ${lin.unknownKeys}); acked writes lost: ${lost.length} of ${acked.length}; ` +
      `duplicate applies ${dups.length}; divergence ${divergent.length}; node crash lines ${crashes.length}; indeterminate writes never applied ${patched}; ok before fault ${preFaultOk}; success during fault ${window(f.injectedAt, f.healedAt)}, after ${window(f.healedAt, Infinity)}` +
      (f.newActiveMs !== undefined ? `; new active after ${f.newActiveMs.toFixed(0)} ms` : '');
    // The re-added member must be serving again (its pinned clients' ops succeed), not merely listed.
    const okOnRejoined = fault === 'remove-readd-member' ? history.filter((o) => o.node === f.target && o.call >= f.healedAt && o.outcome === 'ok').length : -1;
    console.log(report.line(okOnRejoined >= 0 ? `${line}; ok on re-added ${f.target} ${okOnRejoined}` : line));
    report.event({ run: run + 1, lin, lost: lost.length, acked: acked.length, duplicates: dups, divergent: divergent.length, patched });

    if (lin.verdict === 'ok') totals.linOk += lin.ops;
    totals.ops += lin.ops;
    totals.recorded += lin.recorded;
    totals.keys += lin.keys;
    totals.indeterminate += lin.indeterminate;
    totals.unknown += lin.unknownKeys;
    totals.illegal += lin.illegalKeys;
    totals.acked += acked.length;
    totals.lost += lost.length;
    totals.divergent += divergent.length;
    totals.dups += dups.length;

    const context = () => `seed ${SEED}, run ${run + 1} (${f.detail}); ${report.dir}\n${cluster.logs()}`;
    // A run that did nothing before the fault proves nothing (etcd robustness's minimum-rate guard).
    assert.ok(preFaultOk >= 10, `only ${preFaultOk} operations succeeded before the fault; ${context()}`);
    if (lin.verdict !== 'ok') {
      const stale = definiteStaleReads(history).slice(0, 5).map(describeOp);
      const key = lin.violationKey;
      const excerpt = history.filter((o: HarnessOp) => o.key === key).slice(-40).map(describeOp);
      assert.fail(`history not linearizable (${lin.verdict}, ${lin.violationClass ?? ''}):\n${lin.explanation ?? ''}\ndefinite stale reads: ${stale.join('\n') || 'none'}\nkey ${key} (last 40 ops):\n${excerpt.join('\n')}\n${context()}`);
    }
    if (okOnRejoined >= 0) assert.ok(okOnRejoined > 0, `no operation succeeded on the re-added ${f.target}; ${context()}`);
    assert.deepEqual(crashes, [], `crashes in node logs; ${context()}`);
    assert.equal(dups.length, 0, `writes applied more than once: ${JSON.stringify(dups.slice(0, 5))}; ${context()}`);
    assert.equal(lost.length, 0, `acknowledged writes lost: ${JSON.stringify(lost.slice(0, 10))}; ${context()}`);
    assert.equal(divergent.length, 0, `nodes disagree: ${JSON.stringify(divergent.slice(0, 3))}; ${context()}`);
  }

  it('prints the LIN-KV-ACTIVE figure', () => {
    const line = `ops checked linearizable: ${totals.linOk} of ${totals.ops} (keys ${totals.keys}, indeterminate ${totals.indeterminate}, unknown ${totals.unknown}); acked writes lost: ${totals.lost} of ${totals.acked}; duplicate applies ${totals.dups}; divergence ${totals.divergent}; runs ${PLAN.length}, seed ${SEED}`;
    console.log(report.line(line));
    assert.ok(totals.ops > 0);
    assert.equal(totals.illegal + totals.unknown + totals.lost + totals.dups + totals.divergent, 0);
  });
});
