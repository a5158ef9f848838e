// HARNESS-CONTROL (RELIABILITY.md §7.2, §7.3): the harness that judges Coffer — recorder, workload, nemesis
// proxy, checker — run against a reference system, a 3-member Debian etcd-server cluster. Two phases with
// the same fault (one non-leader member cut off from its peers for 3 s, then healed):
//   1. linearizable reads (etcd's default, ReadIndex): the history must check linearizable;
//   2. serializable reads (served from the member's local state): the partitioned member serves old
//      values while the majority moves on, so the harness MUST report stale reads and the checker MUST
//      call the history not linearizable. A harness that cannot see this would pass Coffer for nothing.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { etcdAvailable } from '../bench/lib/etcd-cluster.js';
import { sleep } from './helpers/cluster.js';
import {
  checkLinearizable,
  clientAgent,
  definiteStaleReads,
  describeOp,
  etcdKvOp,
  Recorder,
  RunReport,
  startProxiedEtcd,
  Workload,
  type HarnessOp,
  type LinSummary,
  type ProxiedEtcd,
  type WorkloadClient,
} from './harness/index.js';

const SEED = Number(process.env.COFFER_LIN_SEED ?? Math.floor(Math.random() * 1_000_000));

describe(`HARNESS-CONTROL: the fault harness against etcd 3.4 (seed ${SEED})`, { timeout: 120_000 }, () => {
  let etcd: ProxiedEtcd;
  const report = new RunReport('harness-control');
  let failed = false;
  const results: { linearizable?: LinSummary; serializable?: LinSummary; stale?: number } = {};

  before(async () => {
    assert.ok(etcdAvailable(), 'etcd not installed (Debian etcd-server; .ci/run installs it)');
    etcd = await startProxiedEtcd({ dataRoot: tmpdir(), onProgress: (l) => report.event({ progress: l }) });
    report.addDataDir(etcd.cluster.root, () => undefined); // removed by etcd.close() unless the test failed
  });

  after(async () => {
    await etcd?.close(failed);
    const kept = await report.finish(!failed);
    if (kept) console.log(kept);
  });

  /** 1.5 s of traffic, one non-leader member isolated for 3 s, healed, 1.5 s more. */
  async function phase(name: string, readMode: 'linearizable' | 'serializable', seed: number): Promise<HarnessOp[]> {
    const rec = new Recorder();
    const clients: WorkloadClient[] = [];
    for (let i = 0; i < 8; i++) {
      const agent = clientAgent();
      const members = i < 6 ? [etcd.members[i % etcd.members.length]!] : etcd.members;
      clients.push({
        name: `c${i + 1}`,
        endpoints: members.map((m) => ({ node: m.name, op: (key, input) => etcdKvOp({ clientUrl: m.clientUrl, node: m.name, timeoutMs: 1_000, now: () => rec.now(), agent, readMode }, key, input) })),
      });
    }
    const w = new Workload({ recorder: rec, clients, liveKeys: 5, opsPerKey: 200, keyPrefix: `${name}/`, readFraction: 0.5, writeFraction: 0.25, seed });
    w.start();
    await sleep(1_500);
    const leader = await etcd.leaderIndex();
    const victim = (leader + 1 + (seed % 2)) % etcd.members.length;
    report.event({ phase: name, isolate: etcd.members[victim]!.name, leader: etcd.members[leader]!.name, at: rec.now() });
    etcd.isolate(victim);
    await sleep(3_000);
    etcd.heal();
    report.event({ phase: name, healed: true, at: rec.now() });
    await sleep(1_500);
    await w.stop();
    report.history(name, rec.jsonl());
    return rec.history();
  }

  it('linearizable reads: the history checks linearizable through a partition', async () => {
    let ok = false;
    try {
      const history = await phase('linearizable', 'linearizable', SEED);
      const lin = checkLinearizable(history);
      results.linearizable = lin;
      report.event({ phase: 'linearizable', lin });
      assert.ok(lin.ops >= 50, `only ${lin.ops} operations checked: the control proves nothing`);
      assert.equal(lin.verdict, 'ok', `etcd with linearizable reads judged ${lin.verdict}:\n${lin.explanation ?? ''}`);
      assert.equal(lin.unknownKeys, 0);
      ok = true;
    } finally {
      if (!ok) failed = true;
    }
  });

  it('serializable reads from the partitioned member are flagged stale and the history is not linearizable', async () => {
    let ok = false;
    try {
      const history = await phase('serializable', 'serializable', SEED + 1);
      const stale = definiteStaleReads(history);
      const lin = checkLinearizable(history);
      results.serializable = lin;
      results.stale = stale.length;
      report.event({ phase: 'serializable', lin, stale: stale.length, examples: stale.slice(0, 5).map(describeOp) });
      assert.ok(stale.length >= 1, 'no stale read detected from a partitioned member serving serializable reads: the harness is blind');
      assert.equal(lin.verdict, 'illegal', `the checker did not reject a history with ${stale.length} stale reads (verdict ${lin.verdict})`);
      ok = true;
    } finally {
      if (!ok) failed = true;
    }
  });

  it('prints the HARNESS-CONTROL figure', () => {
    const l = results.linearizable;
    const n = l?.ops ?? 0;
    console.log(report.line(`etcd linearizable: ${l?.verdict === 'ok' ? n : 0} of ${n} ok; etcd serializable stale reads detected: ${results.stale ?? 0} (expected ≥1)`));
    assert.ok(l?.verdict === 'ok' && (results.stale ?? 0) >= 1 && results.serializable?.verdict === 'illegal');
  });
});
