// The Raft proof with real processes: 3 nodes (test/helpers/raft-node-main.ts) on 127.0.0.1 over mutual
// TLS elect a leader, replicate 10,000 entries proposed in batches, lose the leader to SIGKILL, elect a
// new one without losing any acknowledged entry (present on every survivor, at the same index), and the
// killed node, restarted on its data dir, catches up by InstallSnapshot (its log is behind the
// survivors' compaction point: compactAt is low). Also: a peer with a certificate from another CA is refused.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './helpers/cluster.js';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClusterCa, issueNodeCert, type NodeCert } from '../actors/raft/tls.js';
import type { RaftActorConfig, RaftActorStatus } from '../actors/raft/protocol.js';
import { tempDir } from './helpers/server-process.js';

const MAIN = fileURLToPath(new URL('./helpers/raft-node-main.js', import.meta.url));
const IDS = ['n1', 'n2', 'n3'];
const TOTAL = 10_000;
const BATCH = 500;
const COMPACT_AT = 1_000;

type ProposeResults = ({ ok: true; index: number } | { ok: false; code: string; message: string })[];

class NodeProcess {
  private buf = '';
  private nextId = 1;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readyResolve!: () => void;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  stderr = '';

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
  ) {
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        let msg: { ctl?: number; ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string };
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.ctl !== 1) continue; // a worker's log line
        if (msg.ready) this.readyResolve();
        const w = msg.id !== undefined ? this.waiting.get(msg.id) : undefined;
        if (w === undefined) continue;
        this.waiting.delete(msg.id!);
        if (msg.ok) w.resolve(msg.result);
        else w.reject(new Error(`${this.id}: ${msg.error}`));
      }
    });
    child.once('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`${this.id} exited`));
      this.waiting.clear();
    });
  }

  call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  status(): Promise<RaftActorStatus> {
    return this.call<RaftActorStatus>('status');
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.alive()) this.child.kill(signal);
    await this.exited;
  }
}

function startNode(config: RaftActorConfig): NodeProcess {
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, RAFT_NODE_CONFIG: JSON.stringify(config), RAFT_NODE_LOG_LEVEL: 'warn' },
  });
  return new NodeProcess(config.id, child);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The leader that all the given live nodes agree on. */
async function agreedLeader(nodes: NodeProcess[], timeoutMs = 10_000): Promise<NodeProcess> {
  return until('a leader', timeoutMs, async () => {
    const st = await Promise.all(nodes.map((n) => n.status()));
    const leaders = st.filter((s) => s.raft.role === 'leader');
    if (leaders.length !== 1) return null;
    const id = leaders[0]!.raft.id;
    if (!st.every((s) => s.raft.leader === id)) return null;
    return nodes.find((n) => n.id === id)!;
  });
}

describe('raft cluster: 3 processes over mutual TLS', () => {
  const dirs = IDS.map((id) => tempDir(`raft-${id}`));
  const nodes = new Map<string, NodeProcess>();
  const configs = new Map<string, RaftActorConfig>();
  let certs: Map<string, NodeCert>;
  let rogue: NodeCert;

  before(async () => {
    const ca = await createClusterCa();
    certs = new Map(await Promise.all(IDS.map(async (id) => [id, await issueNodeCert(ca, id)] as const)));
    // Same node id, valid-looking certificate, but from another CA.
    rogue = await issueNodeCert(await createClusterCa({ name: 'Rogue CA' }), 'n2');
    const ports = new Map<string, number>();
    for (const id of IDS) ports.set(id, await freePort());
    IDS.forEach((id, i) => {
      const peers: Record<string, { host: string; port: number }> = {};
      for (const other of IDS) if (other !== id) peers[other] = { host: '127.0.0.1', port: ports.get(other)! };
      const cert = certs.get(id)!;
      configs.set(id, {
        id,
        dataDir: dirs[i]!.path,
        voters: IDS,
        transport: { listen: { host: '127.0.0.1', port: ports.get(id)! }, peers, tls: { caPem: cert.caPem, certPem: cert.certPem, keyPem: cert.keyPem } },
        tickMs: 50,
        electionTicks: 10,
        compactAt: COMPACT_AT,
        snapshotChunkBytes: 64 * 1024,
        digestApplied: true,
      });
    });
    for (const id of IDS) nodes.set(id, startNode(configs.get(id)!));
    await Promise.all([...nodes.values()].map((n) => n.ready));
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('replicates, survives a SIGKILLed leader without losing acked entries, and catches a restarted node up by snapshot', { timeout: 55_000 }, async () => {
    const t0 = Date.now();
    const live = () => [...nodes.values()].filter((n) => n.alive());
    let leader = await agreedLeader(live());
    process.stdout.write(`# leader ${leader.id} elected after ${Date.now() - t0} ms\n`);

    /** key -> index of every acknowledged proposal. */
    const acked = new Map<string, number>();
    const propose = async (keys: string[]) => {
      let todo = keys;
      for (let attempt = 0; todo.length > 0; attempt++) {
        assert.ok(attempt < 20, `could not get ${todo.length} entries acknowledged`);
        const results = await leader.call<ProposeResults>('propose', { keys: todo });
        const retry: string[] = [];
        results.forEach((r, i) => (r.ok ? acked.set(todo[i]!, r.index) : retry.push(todo[i]!)));
        todo = retry;
        if (todo.length > 0) leader = await agreedLeader(live());
      }
    };

    // Same order, checked as we go: after each batch, every live node's log (where compaction has not
    // already dropped it) holds each acked key at exactly the index it was acknowledged with.
    let indexChecks = 0;
    const checkBatch = async (keys: string[]) => {
      const idx = keys.map((k) => acked.get(k)!);
      const lo = Math.min(...idx);
      const hi = Math.max(...idx);
      await until('batch replicated', 10_000, async () => ((await Promise.all(live().map((n) => n.status()))).every((s) => s.logLastIndex >= hi) ? true : null));
      for (const n of live()) {
        const entries = await n.call<{ index: number; digest: string | null }[]>('log-entries', { lo, hi: hi + 1 });
        const at = new Map(entries.map((e) => [e.index, e.digest]));
        for (const k of keys) {
          const d = at.get(acked.get(k)!);
          if (d === undefined) continue; // compacted on that node already
          assert.ok(d !== null && Buffer.from(d, 'base64').includes(Buffer.from(k)), `${n.id}: entry ${acked.get(k)} is not ${k}`);
          indexChecks++;
        }
      }
    };
    const batch = async (prefix: string, b: number) => {
      const keys = Array.from({ length: BATCH }, (_, i) => `${prefix}/${String(b * BATCH + i).padStart(6, '0')}`);
      await propose(keys);
      await checkBatch(keys);
    };

    const t1 = Date.now();
    for (let b = 0; b < TOTAL / BATCH; b++) await batch('k', b);
    const replicateMs = Date.now() - t1;
    process.stdout.write(`# ${TOTAL} entries acknowledged in ${replicateMs} ms (${Math.round((TOTAL / replicateMs) * 1000)}/s, batches of ${BATCH})\n`);
    assert.equal(acked.size, TOTAL);
    const indexes = [...acked.values()];
    assert.equal(new Set(indexes).size, TOTAL, 'every acknowledged entry has its own index');

    // Every node applies everything.
    const lastAcked = Math.max(...indexes);
    await until('all nodes applied', 15_000, async () => ((await Promise.all(live().map((n) => n.status()))).every((s) => s.fsmApplied.index >= lastAcked) ? true : null));

    // Linearizable read points on a follower: 40 asked at once share a few ReadIndex rounds (the host
    // batches them), and each index covers everything acknowledged before the burst.
    const follower = live().find((n) => n.id !== leader.id)!;
    const roundsBefore = (await follower.status()).host.readRounds;
    const byAskerBefore = (await leader.status()).host.readsConfirmedByAsker;
    const burst = await follower.call<{ indexes: number[] }>('read-index', { n: 40 });
    const rounds = (await follower.status()).host.readRounds - roundsBefore;
    const byAsker = (await leader.status()).host.readsConfirmedByAsker - byAskerBefore;
    process.stdout.write(`# 40 concurrent ReadIndex on ${follower.id}: ${rounds} rounds, ${byAsker} answered by the leader with no heartbeat round\n`);
    assert.equal(burst.indexes.length, 40);
    for (const i of burst.indexes) assert.ok(i >= lastAcked, `read index ${i} is behind the acknowledged ${lastAcked}`);
    assert.ok(rounds >= 1 && rounds <= 10, `40 concurrent reads took ${rounds} ReadIndex rounds`);
    // Three voters: the asking follower and the leader are a quorum, so every round is answered on arrival.
    assert.equal(byAsker, rounds, `the leader answered ${byAsker} of ${rounds} rounds without a heartbeat round`);

    // SIGKILL the leader; the survivors elect a new one.
    const killed = leader;
    const killedLast = (await killed.status()).logLastIndex;
    await killed.kill('SIGKILL');
    const t2 = Date.now();
    leader = await agreedLeader(live());
    assert.notEqual(leader.id, killed.id);
    process.stdout.write(`# killed ${killed.id}; new leader ${leader.id} after ${Date.now() - t2} ms\n`);

    // Enough new entries that the survivors compact past the killed node's log.
    for (let b = 0; b < 3; b++) await batch('m', b);
    const survivors = live();
    const finalIndex = Math.max(...acked.values());
    await until('survivors applied', 15_000, async () => ((await Promise.all(survivors.map((n) => n.status()))).every((s) => s.fsmApplied.index >= finalIndex) ? true : null));

    // Nothing acknowledged is lost: every acked key is in every survivor's FSM; FSMs are identical.
    const dumps = await Promise.all(survivors.map((n) => n.call<[string, string][]>('fsm-dump')));
    for (const dump of dumps) {
      const fsm = new Map(dump);
      for (const key of acked.keys()) assert.equal(fsm.get(key), key, `acked ${key} missing`);
    }
    assert.deepEqual(dumps[0], dumps[1], 'survivors hold the same FSM');
    // Same order: the survivors' logs agree entry by entry where both still hold them, and each acked
    // entry still in a log sits at the index it was acknowledged with.
    const byIndex = new Map<number, string>();
    for (const [key, index] of acked) byIndex.set(index, key);
    const logs = await Promise.all(survivors.map((n) => n.call<{ index: number; term: number; digest: string | null }[]>('log-entries', { lo: 1, hi: finalIndex + 1 })));
    const maps = logs.map((l) => new Map(l.map((e) => [e.index, e])));
    let compared = 0;
    for (const [index, e] of maps[0]!) {
      const other = maps[1]!.get(index);
      if (other !== undefined) {
        assert.deepEqual(other, e, `survivors differ at ${index}`);
        compared++;
      }
    }
    let checkedAcked = 0;
    for (const m of maps) {
      for (const [index, e] of m) {
        const key = byIndex.get(index);
        if (key === undefined) continue;
        assert.ok(e.digest !== null && Buffer.from(e.digest, 'base64').includes(Buffer.from(key)), `entry ${index} is not ${key}`);
        checkedAcked++;
      }
    }
    const st = await Promise.all(survivors.map((n) => n.status()));
    // Both survivors applied the identical sequence of entries (SHA-256 chain over index/term/payload).
    const digests = st.map((s) => s.host.appliedDigest!);
    assert.equal(digests[0]!.index, digests[1]!.index);
    assert.equal(digests[0]!.from, 0);
    assert.equal(digests[0]!.hex, digests[1]!.hex, 'survivors applied different sequences');
    process.stdout.write(`# order: ${indexChecks} (node, acked entry) index checks during replication; applied digests equal through ${digests[0]!.index}\n`);
    process.stdout.write(`# survivors: compared ${compared} log entries, ${checkedAcked} acked entries at their index; snapshot at ${st.map((s) => s.snapshotIndex).join('/')}, killed node's log ended at ${killedLast}\n`);
    assert.ok(st.every((s) => s.snapshotIndex > killedLast), 'the survivors compacted past the killed node\'s log');

    // Restart the killed node on its data dir: it must catch up by InstallSnapshot.
    const t3 = Date.now();
    const restarted = startNode(configs.get(killed.id)!);
    nodes.set(killed.id, restarted);
    await restarted.ready;
    await propose(['after/restart']);
    const target = acked.get('after/restart')!;
    const caught = await until('restarted node catches up', 20_000, async () => {
      const s = await restarted.status();
      return s.fsmApplied.index >= target ? s : null;
    });
    process.stdout.write(`# ${killed.id} restarted and caught up in ${Date.now() - t3} ms (snapshots installed: ${caught.host.snapshotsInstalled})\n`);
    assert.ok(caught.host.snapshotsInstalled >= 1, 'caught up by InstallSnapshot');
    const [mine, theirs] = await Promise.all([restarted.call<[string, string][]>('fsm-dump'), leader.call<[string, string][]>('fsm-dump')]);
    assert.deepEqual(mine, theirs, 'the restarted node holds the same FSM as the leader');
    // Every frame the peers sent passed the transport's checks (envelope and message shape): a check that
    // refused real traffic would show here before it cut a node off.
    const bad = (await Promise.all(live().map((n) => n.status()))).map((s) => s.transport!.badFrames);
    process.stdout.write(`# bad frames dropped by the transports: ${bad.join(' / ')}\n`);
    assert.ok(bad.every((b) => b === 0), `bad frames: ${bad.join(' / ')}`);
    process.stdout.write(`# total ${Date.now() - t0} ms\n`);
  });

  it('refuses a peer whose certificate comes from another CA', { timeout: 15_000 }, async () => {
    const target = [...nodes.values()].find((n) => n.alive())!;
    const before = (await target.status()).transport!.tlsRejected;
    const port = configs.get(target.id)!.transport!.listen.port;
    // Dial the node as "n2" with the rogue CA's certificate (trusting the real CA for the server side).
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, key: rogue.keyPem, cert: rogue.certPem, ca: certs.get('n1')!.caPem, servername: target.id, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
      socket.on('secureConnect', () => {
        // TLS 1.3: the server verifies the client certificate after the client's handshake completes,
        // so the refusal shows up as the connection being closed on us.
        socket.write(Buffer.from([0, 0, 0, 1, 0xc0]));
      });
      socket.on('error', (err) => resolve(`error: ${err.message}`));
      socket.on('close', () => resolve('closed'));
      setTimeout(() => resolve('still open'), 5_000);
    });
    assert.notEqual(outcome, 'still open');
    const after = await until('the refusal is counted', 5_000, async () => {
      const s = await target.status();
      return s.transport!.tlsRejected > before ? s : null;
    });
    process.stdout.write(`# rogue peer: ${outcome}; tlsRejected ${before} -> ${after.transport!.tlsRejected}\n`);
    assert.equal(after.transport!.received >= 0, true);
  });
});
