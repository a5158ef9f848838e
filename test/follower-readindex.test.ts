// FOLLOWER-READINDEX (RELIABILITY.md §7.2, S3 in §1.6): linearizable reads served by standbys through Raft
// ReadIndex (`X-Coffer-Consistency: linearizable`, docs/ha-standby-reads.md), under the faults that break
// naive implementations: the leader paused (SIGSTOP) so a new one is elected while reads are in flight,
// a standby paused, ReadIndex replies delayed on the wire, and a leadership transfer (sys/step-down) in
// the middle of reads. Three Coffer processes with a nemesis proxy on every peer link (test/harness); the
// recorded history (reads, writes, CAS through every node) is checked with test/lin, after the etcd-style
// patch of indeterminate writes whose value never reached storage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkLinearizable,
  clientAgent,
  cofferKvOp,
  describeOp,
  finalWrite,
  patchIndeterminateWrites,
  readAllVersions,
  Recorder,
  startCofferCluster,
  waitAllApplied,
  Workload,
  type CofferCluster,
  type WorkloadClient,
} from './harness/index.js';
import { sleep } from './helpers/cluster.js';

describe('FOLLOWER-READINDEX: linearizable reads on standbys under pauses, delays and leader changes (3 processes)', { timeout: 180_000 }, () => {
  let cluster: CofferCluster;

  before(async () => {
    cluster = await startCofferCluster({ name: 'frix' });
  });

  after(async () => {
    await cluster?.close();
  });

  it('every operation checks linearizable; standbys served linearizable reads', async (t) => {
    const rec = new Recorder();
    const token = cluster.rootToken;
    const clients: WorkloadClient[] = [];
    // Two clients on each node, reads linearizable (ReadIndex on whichever node they reach), and one roaming.
    for (let i = 0; i < 7; i++) {
      const agent = clientAgent();
      const nodes = i < 6 ? [cluster.nodes[i % 3]!] : cluster.nodes;
      clients.push({
        name: `c${i + 1}`,
        endpoints: nodes.map((n) => ({ node: n.id, op: (key, input) => cofferKvOp({ url: n.url, node: n.id, token, timeoutMs: 6_000, now: () => rec.now(), agent, readMode: 'linearizable' }, key, input) })),
      });
    }
    const workload = new Workload({ recorder: rec, clients, liveKeys: 6, opsPerKey: 120, keyPrefix: 'fr-', readFraction: 0.6, writeFraction: 0.2, seed: 11 });
    const events: string[] = [];
    const started = performance.now();
    const mark = (what: string) => events.push(`${Math.round(performance.now() - started)} ms ${what}`);
    workload.start();
    try {
      await sleep(2_000);
      let leader = await cluster.activeNode();
      mark(`SIGSTOP leader n${leader + 1}`);
      cluster.pause(leader);
      await sleep(3_000); // a new leader is elected meanwhile; reads in flight at the old one hang or fail
      cluster.resume(leader);
      mark(`SIGCONT n${leader + 1}`);
      await sleep(1_500);
      leader = await cluster.activeNode();
      const standby = (leader + 1) % 3;
      // ReadIndex replies (and heartbeats) from the leader to one standby arrive 100-200 ms late.
      mark(`delay n${leader + 1}->n${standby + 1}`);
      cluster.raft[leader]![standby]!.set({ delayMs: 150, jitterMs: 50 }, 'tx');
      await sleep(3_000);
      cluster.healAll();
      mark(`SIGSTOP standby n${standby + 1}`);
      cluster.pause(standby);
      await sleep(2_000);
      cluster.resume(standby);
      mark(`SIGCONT n${standby + 1}`);
      await sleep(1_000);
      // Leadership moves while reads are in flight (a transfer, no pause).
      leader = await cluster.activeNode();
      const sd = await fetch(`${cluster.nodes[leader]!.url}/v1/sys/step-down`, { method: 'PUT', headers: { 'X-Vault-Token': token } });
      mark(`step-down n${leader + 1}: ${sd.status}`);
      await sleep(3_000);
    } finally {
      cluster.healAll();
      for (let i = 0; i < 3; i++) cluster.resume(i);
      await workload.stop();
    }
    mark('stopped');

    const active = await cluster.waitHealthy(30_000);
    const recorded = rec.history();
    const finalIndex = await finalWrite(cluster, 'fr-final');
    await waitAllApplied(cluster, finalIndex);
    const stored = await readAllVersions(cluster, active, workload.allKeys);
    const appliedValues = new Map([...stored].map(([k, vs]) => [k, new Set(vs.filter((v): v is string => v !== null))]));
    const { history, patched } = patchIndeterminateWrites(recorded, (k) => appliedValues.get(k));
    const lin = checkLinearizable(history);
    const reads = history.filter((o) => o.input.kind === 'read' && o.outcome === 'ok');
    const byStandby = reads.filter((o) => o.servedBy === 'standby').length;
    const refused = history.filter((o) => o.input.kind === 'read' && o.outcome !== 'ok').length;
    const lines = [
      `ops checked linearizable: ${lin.verdict === 'ok' ? lin.ops : 0} of ${lin.ops} (keys ${lin.keys}, indeterminate ${lin.indeterminate}, patched ${patched}); linearizable reads ok: ${reads.length}, served by a standby: ${byStandby}; reads refused or timed out: ${refused}`,
      `faults: ${events.join('; ')}`,
    ];
    for (const l of lines) {
      t.diagnostic(l);
      console.log(l);
    }
    assert.equal(lin.verdict, 'ok', `${lin.violationClass ?? ''} on ${lin.violationKey ?? ''}: ${lin.explanation ?? ''}\n${recorded.filter((o) => o.key === lin.violationKey).slice(-12).map(describeOp).join('\n')}`);
    assert.ok(byStandby > 50, `standbys served too few linearizable reads to mean anything: ${byStandby}`);
  });
  it('control: plain (non-linearizable) reads from a standby that hears nothing are caught as stale', async (t) => {
    // The same recorder and checker must see the anomaly ReadIndex prevents, or the green result above
    // proves nothing (RELIABILITY.md §7.3). Within the 2 s staleness bound a deaf standby still serves.
    const rec = new Recorder();
    const token = cluster.rootToken;
    const leader = await cluster.waitHealthy(30_000);
    const standby = (leader + 1) % 3;
    const on = (i: number, name: string, readMode: 'local' | 'linearizable'): WorkloadClient => {
      const agent = clientAgent();
      const n = cluster.nodes[i]!;
      return { name, endpoints: [{ node: n.id, op: (key, input) => cofferKvOp({ url: n.url, node: n.id, token, timeoutMs: 6_000, now: () => rec.now(), agent, readMode }, key, input) }] };
    };
    const readers = new Workload({ recorder: rec, clients: [on(standby, 'r1', 'local'), on(standby, 'r2', 'local')], liveKeys: 2, opsPerKey: 1_000, keyPrefix: 'ctl-', readFraction: 1, writeFraction: 0, seed: 5 });
    const writers = new Workload({ recorder: rec, clients: [on(leader, 'w1', 'linearizable'), on(leader, 'w2', 'linearizable')], liveKeys: 2, opsPerKey: 1_000, keyPrefix: 'ctl-', readFraction: 0, writeFraction: 1, seed: 5 });
    writers.start();
    await sleep(500);
    for (let i = 0; i < 3; i++) if (i !== standby) cluster.raft[i]![standby]!.set({ blackhole: true }, 'tx');
    readers.start();
    await sleep(1_500);
    await readers.stop();
    await writers.stop();
    cluster.healAll();
    const lin = checkLinearizable(rec.history());
    const line = `control: plain reads from a deaf standby: verdict ${lin.verdict}${lin.violationClass ? ` (${lin.violationClass})` : ''} over ${lin.ops} ops — expected a violation`;
    t.diagnostic(line);
    console.log(line);
    assert.equal(lin.verdict, 'illegal', 'the checker must flag stale standby reads');
  });
});
