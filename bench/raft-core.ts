// Throughput of the pure Raft core: a 3-node group in one thread, no disk, no network. Messages are
// handed over directly (FIFO), each Ready is "persisted" by pushing onto arrays, committed entries are
// counted. Batching: the leader receives `batch` proposals between Ready cycles.
//   node dist/bench/raft-core.js [--entries N] [--quick]
// Target: 500,000 entries/s committed (on every node) with batching, on one core.
// Writes docs/bench/raft-core.md and docs/bench/raft-core.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { assert } from '../runtime/assert.js';
import type { CreateRaftNode, Entry, HardState, NodeId, RaftMessage, RaftNode, Snapshot } from '../actors/raft/core/types.js';
import { loadCore } from './sim/core.js';
import { barChartSvg, formatNumber, markdownTable } from './lib/chart.js';

const targetEntriesPerSecond = 500_000;
const payloadBytes = 64;
const compactEveryEntries = 50_000;

interface BenchNode {
  id: NodeId;
  raft: RaftNode;
  hardState: HardState;
  log: Entry[];
  applied: number;
}

interface Group {
  nodes: BenchNode[];
  byId: Map<NodeId, BenchNode>;
  queue: RaftMessage[];
}

function createGroup(createNode: CreateRaftNode, maxEntriesPerMsg: number): Group {
  const ids = ['n1', 'n2', 'n3'];
  const nodes = ids.map((id, k): BenchNode => {
    const config = { id, electionTicks: 10, heartbeatTicks: 1, maxInflightMsgs: 256, maxEntriesPerMsg, snapshotChunkBytes: 1 << 20, preVote: true, checkQuorum: true, seed: k + 1 };
    const raft = createNode(config, { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], bootstrap: { voters: ids, learners: [] } });
    return { id, raft, hardState: { term: 0, vote: null, commit: 0 }, log: [], applied: 0 };
  });
  return { nodes, byId: new Map(nodes.map((n) => [n.id, n])), queue: [] };
}

/** One Ready cycle per node with a Ready; returns whether anything happened. */
function cycle(group: Group): boolean {
  let progressed = false;
  for (const node of group.nodes) {
    while (node.raft.hasReady()) {
      progressed = true;
      const ready = node.raft.ready();
      for (const m of ready.messages) group.queue.push(m);
      if (ready.hardState !== null) node.hardState = ready.hardState;
      for (const e of ready.entries) node.log.push(e); // a steady leader never truncates; arrays are the "disk"
      for (const m of ready.messagesAfterPersist) group.queue.push(m);
      if (ready.committed.length > 0) node.applied = ready.committed[ready.committed.length - 1]!.index;
      node.raft.advance();
      if (node.applied - (node.log[0]?.index ?? node.applied) >= compactEveryEntries) compact(node);
    }
  }
  const queue = group.queue;
  group.queue = [];
  for (const m of queue) {
    progressed = true;
    group.byId.get(m.to)!.raft.step(m);
  }
  return progressed;
}

/** Keep the in-memory "disk" bounded the way a host would: snapshot at applied, drop the log. */
function compact(node: BenchNode): void {
  const last = node.log.findIndex((e) => e.index === node.applied);
  assert(last >= 0, 'applied entry not in the log');
  const entry = node.log[last]!;
  const snapshot: Snapshot = { meta: { index: entry.index, term: entry.term, conf: node.raft.status().conf }, data: new Uint8Array(8) };
  node.raft.compact(snapshot);
  node.log = node.log.slice(last + 1);
}

function settle(group: Group, roundsMax: number): void {
  for (let round = 0; round < roundsMax; round++) if (!cycle(group)) return;
  assert(false, `group did not settle within ${roundsMax} rounds`);
}

function electLeader(group: Group): BenchNode {
  const leader = group.nodes[0]!;
  leader.raft.campaign();
  settle(group, 1000);
  assert(leader.raft.status().role === 'leader', 'n1 did not become leader');
  return leader;
}

interface CaseResult {
  batch: number;
  entries: number;
  seconds: number;
  entriesPerSecond: number;
  cyclesPerBatch: number;
}

function runCase(createNode: CreateRaftNode, batch: number, entries: number): CaseResult {
  const group = createGroup(createNode, Math.max(64, Math.min(batch, 4096)));
  const leader = electLeader(group);
  const data = new Uint8Array(payloadBytes).fill(7);
  const startIndex = leader.raft.status().commit;
  let rounds = 0;
  const started = performance.now();
  for (let proposed = 0; proposed < entries; ) {
    const count = Math.min(batch, entries - proposed);
    for (let k = 0; k < count; k++) {
      const result = leader.raft.propose(data);
      assert(result.ok, 'proposal refused');
    }
    proposed += count;
    // Run Ready cycles until the batch is committed and applied everywhere.
    const goal = startIndex + proposed;
    for (let guard = 0; group.nodes.some((n) => n.applied < goal); guard++) {
      assert(guard < 10_000, 'batch did not commit');
      cycle(group);
      rounds++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { batch, entries, seconds, entriesPerSecond: entries / seconds, cyclesPerBatch: rounds / Math.ceil(entries / batch) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const entriesFlag = argv.indexOf('--entries');
  const entries = entriesFlag >= 0 ? Number(argv[entriesFlag + 1]) : quick ? 100_000 : 1_000_000;
  assert(Number.isSafeInteger(entries) && entries > 0, '--entries needs a positive integer');
  const createNode = await loadCore();
  const batches = [1, 16, 256, 4096];
  runCase(createNode, 256, Math.min(entries, 100_000)); // warm-up: JIT
  const results = batches.map((batch) => runCase(createNode, batch, batch === 1 ? Math.min(entries, 100_000) : entries));
  const best = results.reduce((a, b) => (b.entriesPerSecond > a.entriesPerSecond ? b : a));
  const ratio = best.entriesPerSecond / targetEntriesPerSecond;
  const verdict = ratio >= 1 ? 'PASS' : 'MISS';
  for (const r of results) {
    console.log(`batch ${String(r.batch).padStart(5)}: ${formatNumber(r.entriesPerSecond)} entries/s (${r.entries} entries in ${r.seconds.toFixed(2)} s, ${r.cyclesPerBatch.toFixed(1)} ready cycles per batch)`);
  }
  console.log(`best: ${formatNumber(best.entriesPerSecond)} entries/s at batch ${best.batch}; target ${formatNumber(targetEntriesPerSecond)}: ${ratio.toFixed(2)}x ${verdict}`);
  if (!quick) writeReport(results, best, ratio, verdict);
}

function writeReport(results: CaseResult[], best: CaseResult, ratio: number, verdict: string): void {
  mkdirSync('docs/bench', { recursive: true });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const rows = results.map((r) => [String(r.batch), r.entries.toLocaleString('en-US'), r.seconds.toFixed(2), r.entriesPerSecond, r.cyclesPerBatch.toFixed(1), (r.entriesPerSecond / targetEntriesPerSecond).toFixed(2) + 'x']);
  const md = [
    '# Raft core throughput (pure core, 3 nodes, one thread)',
    '',
    `Run ${new Date().toISOString()} by \`node dist/bench/raft-core.js\` on ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${osType()} ${release()}, node ${process.version}.`,
    '',
    `- A 3-voter group of \`createRaftNode\` in one thread: no disk, no network, no clone. Messages are handed to the target's \`step()\` in FIFO order; each Ready is "persisted" by pushing its entries onto an array; committed entries count as applied; the host compacts every ${formatNumber(compactEveryEntries)} applied entries.`,
    `- The leader gets \`batch\` proposals of ${payloadBytes} B between Ready cycles; cycles run until the batch is applied on all three nodes. \`maxEntriesPerMsg\` = max(64, min(batch, 4096)), \`maxInflightMsgs\` = 256. One warm-up case first.`,
    `- Target: ${formatNumber(targetEntriesPerSecond)} entries/s committed on every node, with batching. Best: **${formatNumber(best.entriesPerSecond)} entries/s** at batch ${best.batch}, **${ratio.toFixed(2)}x** of target: **${verdict}**.`,
    '',
    markdownTable(['batch', 'entries', 'seconds', 'entries/s', 'ready cycles per batch', 'of target'], rows),
    '',
    '![chart](raft-core.svg)',
    '',
  ].join('\n');
  writeFileSync('docs/bench/raft-core.md', md);
  const svg = barChartSvg({
    title: `Raft core: entries/s committed on 3 nodes (target ${formatNumber(targetEntriesPerSecond)})`,
    unit: 'entries/s',
    groups: [
      { label: 'proposals per Ready cycle', bars: results.map((r) => ({ label: `batch ${r.batch}`, value: r.entriesPerSecond })) },
      { label: 'target', bars: [{ label: 'target', value: targetEntriesPerSecond }] },
    ],
  });
  writeFileSync('docs/bench/raft-core.svg', svg);
  console.log('wrote docs/bench/raft-core.md and docs/bench/raft-core.svg');
}

await main();
