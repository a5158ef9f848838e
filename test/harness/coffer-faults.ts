// The fault catalogue of LIN-KV-ACTIVE (RELIABILITY.md §7.2): one fault per run, injected on a running
// Coffer cluster, held for `holdMs`, then healed (restart + unseal, SIGCONT, proxies healed). The target is
// chosen when the fault starts (the current active node, or a standby). Asymmetric partitions pick their
// direction from the seeded random source, so a seed reproduces the same fault.
import type { CofferCluster } from './coffer-cluster.js';
import { sleep } from '../helpers/cluster.js';
import { http } from '../helpers/server-process.js';

export const COFFER_FAULTS = ['kill-leader', 'kill-follower', 'pause-leader', 'isolate-leader', 'asymmetric-partition', 'peer-delay', 'peer-drop', 'remove-readd-member'] as const;
export type CofferFault = (typeof COFFER_FAULTS)[number];

export interface FaultRecord {
  fault: CofferFault;
  /** Node id the fault aimed at ('all links' for delay/drop). */
  target: string;
  detail: string;
  /** Recorder times (ns) of injection and heal. */
  injectedAt: number;
  healedAt: number;
  /** For faults on the active node: ms from injection until another node answered as active (if seen). */
  newActiveMs?: number;
}

export interface FaultOptions {
  cluster: CofferCluster;
  fault: CofferFault;
  holdMs: number;
  random: () => number;
  now: () => number;
  log?: (line: string) => void;
}

/** Polls for an active node other than `old` until `stop()` says so; resolves with ms since start, or undefined. */
async function watchNewActive(c: CofferCluster, old: number, stop: () => boolean): Promise<number | undefined> {
  const t0 = performance.now();
  while (!stop()) {
    for (const n of c.nodes) {
      if (n.index === old || n.proc === null || n.paused) continue;
      try {
        const res = await fetch(`${n.url}/v1/sys/health`, { signal: AbortSignal.timeout(500) });
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // down or slow: keep polling
      }
    }
    await sleep(50);
  }
  return undefined;
}

export async function injectFault(o: FaultOptions): Promise<FaultRecord> {
  const c = o.cluster;
  const log = o.log ?? (() => {});
  const leader = await c.activeNode();
  const others = c.nodes.map((n) => n.index).filter((i) => i !== leader);
  const follower = others[Math.floor(o.random() * others.length)]!;
  const id = (i: number) => c.nodes[i]!.id;
  let target = id(leader);
  let detail = '';
  let heal: () => Promise<void>;
  let watching = false;
  let stopWatch = false;
  let watch: Promise<number | undefined> = Promise.resolve(undefined);
  const injectedAt = o.now();

  switch (o.fault) {
    case 'kill-leader':
      detail = `SIGKILL ${id(leader)} (active), restart + unseal after ${o.holdMs} ms`;
      watching = true;
      await c.kill(leader);
      heal = () => c.restart(leader);
      break;
    case 'kill-follower':
      target = id(follower);
      detail = `SIGKILL ${id(follower)} (standby), restart + unseal after ${o.holdMs} ms`;
      await c.kill(follower);
      heal = () => c.restart(follower);
      break;
    case 'pause-leader':
      detail = `SIGSTOP ${id(leader)} (active) for ${o.holdMs} ms, then SIGCONT`;
      watching = true;
      c.pause(leader);
      heal = async () => c.resume(leader);
      break;
    case 'isolate-leader':
      detail = `blackhole every link to and from ${id(leader)} (Raft and forwarding) for ${o.holdMs} ms`;
      watching = true;
      for (const j of others) {
        c.setLink(leader, j, { blackhole: true });
        c.setLink(j, leader, { blackhole: true });
      }
      heal = async () => c.healAll();
      break;
    case 'asymmetric-partition': {
      const outbound = o.random() < 0.5;
      detail = outbound
        ? `${id(leader)} (active) cannot send to its peers (its outbound links blackholed), still receives, for ${o.holdMs} ms`
        : `${id(leader)} (active) cannot receive from its peers (their links to it blackholed), still sends, for ${o.holdMs} ms`;
      watching = true;
      for (const j of others) (outbound ? c.setLink(leader, j, { blackhole: true }) : c.setLink(j, leader, { blackhole: true }));
      heal = async () => c.healAll();
      break;
    }
    case 'peer-delay':
      target = 'all links';
      detail = `every peer link delayed 75 ± 50 ms for ${o.holdMs} ms`;
      for (const a of c.nodes) for (const b of c.nodes) if (a !== b) c.setLink(a.index, b.index, { delayMs: 75, jitterMs: 50 });
      heal = async () => c.healAll();
      break;
    case 'peer-drop':
      target = 'all links';
      detail = `every peer link drops 50% of its chunks for ${o.holdMs} ms`;
      for (const a of c.nodes) for (const b of c.nodes) if (a !== b) c.setLink(a.index, b.index, { dropPct: 50 });
      heal = async () => c.healAll();
      break;
    case 'remove-readd-member': {
      target = id(follower);
      detail = `remove-peer ${id(follower)} on ${id(leader)} (active), SIGKILL it and wipe its data dir; after ${o.holdMs} ms start it empty, retry_join, unseal, wait for standby + voter`;
      const r = await http(c.nodes[leader]!.url, 'POST', 'sys/storage/raft/remove-peer', { token: c.rootToken, body: { server_id: id(follower) } });
      if (r.status !== 204) throw new Error(`remove-peer ${id(follower)} on ${id(leader)}: ${r.status} ${JSON.stringify(r.body)}`);
      await c.wipe(follower);
      heal = () => c.rejoin(follower, 30_000, log);
      break;
    }
  }
  if (watching) watch = watchNewActive(c, leader, () => stopWatch);
  log(`fault ${o.fault}: ${detail}`);
  await sleep(o.holdMs);
  const healedAt = o.now();
  // The watcher may see the new active node only after the heal (e.g. a SIGSTOP shorter than an election).
  const healStart = performance.now();
  const healing = heal();
  setTimeout(() => (stopWatch = true), 10_000).unref();
  await healing;
  const healMs = performance.now() - healStart;
  const newActiveMs = await watch.finally(() => (stopWatch = true));
  log(`healed ${o.fault} (heal took ${healMs.toFixed(0)} ms)${newActiveMs !== undefined ? `; another node active ${newActiveMs.toFixed(0)} ms after injection` : ''}`);
  return { fault: o.fault, target, detail, injectedAt, healedAt, ...(newActiveMs !== undefined ? { newActiveMs } : {}) };
}
