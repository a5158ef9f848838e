// HARNESS-CONTROL (RELIABILITY.md §7.2, §7.3): the harness that judges Coffer — recorder, workload, nemesis
// proxy, checker — run against a reference system, a 3-member Debian etcd-server cluster. Two phases with
// the same fault (one non-leader member cut off from its peers for 3 s, then healed):
//   0. the nemesis proxy itself, on a loopback echo server: blackholed bytes never arrive, delayed bytes
//      keep their order, a drop rate drops some chunks, faults aimed at one connection class spare others;
//   1. linearizable reads (etcd's default, ReadIndex): the history must check linearizable;
//   2. serializable reads (served from the member's local state): the partitioned member serves old
//      values while the majority moves on, so the harness MUST report stale reads and the checker MUST
//      call the history not linearizable. A harness that cannot see this would pass Coffer for nothing.
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
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
  seededRandom,
  startProxiedEtcd,
  startProxy,
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

describe('HARNESS-CONTROL: the nemesis proxy on a loopback server', { timeout: 30_000 }, () => {
  /** A server that records what each connection sent, in order. */
  async function sink() {
    const received: string[] = [];
    const server = createServer((s) => {
      const i = received.push('') - 1;
      s.on('data', (d: Buffer) => (received[i] += d.toString('latin1')));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { received, port: (server.address() as { port: number }).port, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  const write = (s: Socket, text: string) => new Promise<void>((r) => s.write(text, () => r()));

  it('blackhole drops silently with the socket open; delay keeps order; drop % drops some; a class fault spares other classes', async () => {
    const srv = await sink();
    const proxy = await startProxy({ name: 'echo', target: { host: '127.0.0.1', port: srv.port }, random: seededRandom(7), classify: (b) => b.toString('latin1', 0, 1) });
    try {
      // Blackhole, then heal on the same connection: only what was sent after the heal arrives.
      const a = await open(proxy.port);
      await write(a, 'A-first|');
      await until(() => srv.received[0] === 'A-first|');
      proxy.set({ blackhole: true }, 'tx');
      await write(a, 'lost-1|lost-2|');
      await until(() => proxy.stats.dropped.tx >= 'lost-1|lost-2|'.length);
      proxy.heal();
      await write(a, 'after|');
      await until(() => srv.received[0]!.endsWith('after|'));
      assert.equal(srv.received[0], 'A-first|after|');
      assert.equal(a.destroyed, false, 'a blackhole keeps the socket open');

      // Delay with jitter larger than the gap between writes: order is kept.
      proxy.set({ delayMs: 20, jitterMs: 15 }, 'tx');
      const expected = Array.from({ length: 40 }, (_, i) => `d${i}|`).join('');
      for (let i = 0; i < 40; i++) await write(a, `d${i}|`);
      await until(() => srv.received[0]!.length >= 'A-first|after|'.length + expected.length);
      assert.equal(srv.received[0], 'A-first|after|' + expected);
      proxy.heal();

      // Faults for class "B" (connections whose first byte is B) leave class "C" alone.
      proxy.set({ blackhole: true }, 'both', 'B');
      const b = await open(proxy.port);
      const c = await open(proxy.port);
      await write(b, 'B-hello|');
      await write(c, 'C-hello|');
      await until(() => srv.received.includes('C-hello|') && proxy.classesSeen.get('B') === 1);
      await write(c, 'C-more|');
      await until(() => srv.received.includes('C-hello|C-more|'));
      assert.ok(!srv.received.some((r) => r.includes('B-hello')), 'class B was blackholed');
      proxy.heal();

      // 50 % drop over 60 separate writes: some chunks arrive, some vanish.
      proxy.set({ dropPct: 50 }, 'tx');
      const d = await open(proxy.port);
      for (let i = 0; i < 60; i++) {
        await write(d, `x${i}|`);
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => proxy.stats.dropped.tx > 0 && srv.received.some((r) => r.startsWith('x') || r.includes('|x')));
      const got = srv.received.find((r) => /x\d+\|/.test(r) && !r.startsWith('A') && !r.startsWith('C')) ?? '';
      const arrived = got.split('|').filter(Boolean).length;
      assert.ok(arrived > 0 && arrived < 60, `50% drop delivered ${arrived} of 60 writes`);
      for (const s of [a, b, c, d]) s.destroy();
      console.log(`nemesis proxy: blackhole dropped ${'lost-1|lost-2|'.length} bytes silently; 40 delayed writes in order; 50% drop delivered ${arrived} of 60 writes`);
    } finally {
      await proxy.close();
      await srv.close();
    }
  });

  /** Polls a condition (bounded; the failure is the assertion that follows, not a time limit). */
  async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
    const end = Date.now() + limitMs;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  }
});
