// A 3-node (or N-node) Coffer cluster of child processes on 127.0.0.1 with a nemesis proxy on every
// DIRECTED peer link: node i reaches node j's Raft port through proxy raft[i][j] and j's forwarding
// listener through proxy fwd[i][j] (COFFER_TEST_PEER_DIAL, actors/raft/test-peer-dial.ts). Client traffic
// goes straight to each node's API port. Formed like test/ha-cluster: init + unseal n1, the others join by
// retry_join and are unsealed with the shares; a KV v2 mount `secret/` keeps up to 1000 versions per key.
// Processes are ours: kill/stop/cont by PID; close() kills all of them and every proxy.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, until, untilVoters } from '../helpers/cluster.js';
import { http, spawnCoffer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { startProxy, type LinkFault, type NemesisProxy } from './proxy.js';

export interface CofferNode {
  readonly id: string;
  readonly index: number;
  readonly dir: string;
  readonly apiPort: number;
  readonly clusterPort: number;
  readonly forwardPort: number;
  readonly url: string;
  proc: ServerProcess | null;
  /** stderr of earlier lives (before a kill). */
  pastLogs: string;
  /** Set while SIGSTOPped. */
  paused: boolean;
}

export interface CofferCluster {
  readonly nodes: CofferNode[];
  readonly rootToken: string;
  readonly unsealKeys: string[];
  /** raft[i][j]: the proxy node i dials for node j's Raft port (undefined on the diagonal). */
  readonly raft: (NemesisProxy | undefined)[][];
  /** fwd[i][j]: the proxy node i dials for node j's forwarding listener. */
  readonly fwd: (NemesisProxy | undefined)[][];
  /** Sets a fault on every proxy of the directed link i -> j (Raft and forwarding). */
  setLink(i: number, j: number, fault: LinkFault): void;
  /** Removes every fault from every proxy and resets their connections (peers redial at once). */
  healAll(): void;
  /** Index of the node answering sys/health 200 (the active node), polling up to `timeoutMs`. */
  activeNode(timeoutMs?: number): Promise<number>;
  /** SIGKILL (or another signal) by PID; waits for the exit. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Restarts a killed node on its data dir and unseals it. */
  restart(i: number): Promise<void>;
  /** SIGKILLs node i by PID and deletes its Raft data dir: it can only come back as a new member. */
  wipe(i: number): Promise<void>;
  /**
   * Starts a wiped node on an empty data dir with retry_join to the active node (same node id and ports, so
   * the proxied peer links still apply), submits the cluster's shares, and waits until it serves as a
   * standby (sys/health 429) and the active node's configuration lists all N nodes as voters.
   */
  rejoin(i: number, timeoutMs?: number, log?: (line: string) => void): Promise<void>;
  pause(i: number): void;
  resume(i: number): void;
  /** Waits until every node is up, unsealed, and sees the same active node. */
  waitHealthy(timeoutMs: number): Promise<number>;
  /** The last lines of every node's log (for failure messages). */
  logs(): string;
  /**
   * Log lines, over every life of every node, that show a crash rather than a fault we caused: fatal
   * level, an actor crash (supervision restart), an uncaught exception. Jepsen fails a test on these.
   */
  crashLines(): string[];
  /** Kills every node and proxy; removes the data dirs unless `keepData` (a failed run keeps them). */
  close(keepData?: boolean): Promise<void>;
}

function configFor(n: CofferNode, joinUrl: string | null): string {
  const retry = joinUrl ? `  retry_join {\n    leader_api_addr = "${joinUrl}"\n  }\n` : '';
  return (
    `storage "raft" {\n  path = "${join(n.dir, 'data')}"\n  node_id = "${n.id}"\n${retry}}\n` +
    `listener "tcp" {\n  address = "127.0.0.1:${n.apiPort}"\n  tls_disable = true\n}\n` +
    `api_addr = "${n.url}"\ncluster_addr = "https://127.0.0.1:${n.clusterPort}"\nraw_storage_endpoint = true\n`
  );
}

async function unseal(url: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    const r = await http(url, 'PUT', 'sys/unseal', { body: { key } });
    if (r.status !== 200) throw new Error(`unseal ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    if (r.body.sealed === false) return;
  }
}

async function healthStatus(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/sys/health`, { signal: AbortSignal.timeout(1_500) });
  await res.arrayBuffer();
  return res.status;
}

export interface StartCofferClusterOptions {
  size?: number;
  /** For temp dir names. */
  name: string;
  onProgress?: (line: string) => void;
}

/** Starts the cluster; a failed start (e.g. a picked port taken meanwhile on a busy machine) is retried once. */
export async function startCofferCluster(opts: StartCofferClusterOptions): Promise<CofferCluster> {
  try {
    return await startOnce(opts);
  } catch (err) {
    opts.onProgress?.(`coffer: start failed (${(err as Error).message.split('\n')[0]}); retrying on fresh ports`);
    return startOnce(opts);
  }
}

async function startOnce(opts: StartCofferClusterOptions): Promise<CofferCluster> {
  const size = opts.size ?? 3;
  const progress = opts.onProgress ?? (() => {});
  const dirs = Array.from({ length: size }, (_, i) => tempDir(`${opts.name}-n${i + 1}`));
  const nodes: CofferNode[] = [];
  for (let i = 0; i < size; i++) {
    const apiPort = await freePort();
    nodes.push({ id: `n${i + 1}`, index: i, dir: dirs[i]!.path, apiPort, clusterPort: await freePort(), forwardPort: await freePort(), url: `http://127.0.0.1:${apiPort}`, proc: null, pastLogs: '', paused: false });
  }
  const raft: (NemesisProxy | undefined)[][] = nodes.map(() => []);
  const fwd: (NemesisProxy | undefined)[][] = nodes.map(() => []);
  const proxies: NemesisProxy[] = [];
  let rootToken = '';
  let unsealKeys: string[] = [];

  const close = async () => {
    await Promise.allSettled(
      nodes.map(async (n) => {
        if (n.proc === null) return;
        if (n.paused) n.proc.child.kill('SIGCONT');
        await n.proc.kill('SIGKILL');
        n.proc = null;
      }),
    );
    await Promise.allSettled(proxies.map((p) => p.close()));
  };
  const removeDirs = () => dirs.forEach((d) => d.remove());
  const envFor = (n: CofferNode): NodeJS.ProcessEnv => ({
    COFFER_TEST_PEER_DIAL: nodes
      .filter((o) => o !== n)
      .flatMap((o) => [`${o.id}=${raft[n.index]![o.index]!.address}`, `${o.id}/forward=${fwd[n.index]![o.index]!.address}`])
      .join(','),
    COFFER_TEST_FORWARD_LISTEN_PORT: String(n.forwardPort),
  });

  try {
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        const r = await startProxy({ name: `${a.id}->${b.id} raft`, target: { host: '127.0.0.1', port: b.clusterPort } });
        const f = await startProxy({ name: `${a.id}->${b.id} forward`, target: { host: '127.0.0.1', port: b.forwardPort } });
        raft[a.index]![b.index] = r;
        fwd[a.index]![b.index] = f;
        proxies.push(r, f);
      }
    }
    const launch = async (n: CofferNode) => {
      const configPath = join(n.dir, 'coffer.hcl');
      writeFileSync(configPath, configFor(n, n.index === 0 ? null : nodes[0]!.url));
      n.proc = await spawnCoffer(['server', `-config=${configPath}`], /Listening on (\S+?);/, envFor(n));
      n.paused = false;
    };

    progress(`coffer: starting ${size} nodes`);
    // allSettled, not all: with Promise.all the first node that fails to start sends us to close() while the
    // other spawns are still pending, and a node that becomes ready after close() ran is never killed. It
    // outlives the test, and its pipes keep the test process from ever exiting (a suite that never ends).
    const launched = await Promise.allSettled(nodes.map(launch));
    const failed = launched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const n1 = nodes[0]!;
    const init = await http(n1.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    if (init.status !== 200) throw new Error(`init: ${init.status} ${JSON.stringify(init.body)}`);
    unsealKeys = init.body.keys_base64;
    rootToken = init.body.root_token;
    await unseal(n1.url, unsealKeys);
    await until('n1 active', 15_000, async () => (await healthStatus(n1.url)) === 200);
    for (const n of nodes.slice(1)) {
      await until(`${n.id} has the join challenge`, 20_000, async () => (await http(n.url, 'GET', 'sys/seal-status')).body.initialized === true);
      await unseal(n.url, unsealKeys);
      await until(`${n.id} unsealed`, 20_000, async () => (await http(n.url, 'GET', 'sys/seal-status')).body.sealed === false);
    }
    await untilVoters(n1.url, rootToken, size, 20_000);
    const m = await http(n1.url, 'POST', 'sys/mounts/secret', { token: rootToken, body: { type: 'kv', options: { version: '2' } } });
    if (m.status >= 300) throw new Error(`mount secret/: ${m.status} ${JSON.stringify(m.body)}`);
    const c = await http(n1.url, 'POST', 'secret/config', { token: rootToken, body: { max_versions: 1000 } });
    if (c.status >= 300) throw new Error(`secret/config: ${c.status} ${JSON.stringify(c.body)}`);
    progress(`coffer: ${size} voters, secret/ mounted`);
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.id}\n${n.proc?.stderr().slice(-3000) ?? ''}`).join('\n');
    await close();
    removeDirs();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }

  const cluster: CofferCluster = {
    nodes,
    rootToken,
    unsealKeys,
    raft,
    fwd,
    setLink(i, j, fault) {
      raft[i]![j]!.set(fault);
      fwd[i]![j]!.set(fault);
    },
    healAll() {
      for (const p of proxies) {
        p.heal();
        p.resetConnections();
      }
    },
    async activeNode(timeoutMs = 15_000) {
      return (
        (await until('an active node', timeoutMs, async () => {
          for (const n of nodes) if (n.proc !== null && !n.paused && (await healthStatus(n.url).catch(() => 0)) === 200) return n.index + 1;
          return null;
        })) - 1
      );
    },
    async kill(i, signal = 'SIGKILL') {
      const n = nodes[i]!;
      if (n.proc === null) return;
      if (n.paused) n.proc.child.kill('SIGCONT');
      await n.proc.kill(signal);
      n.pastLogs += n.proc.stderr();
      n.proc = null;
      n.paused = false;
    },
    async restart(i) {
      const n = nodes[i]!;
      if (n.proc !== null) return;
      n.proc = await spawnCoffer(['server', `-config=${join(n.dir, 'coffer.hcl')}`], /Listening on (\S+?);/, envFor(n));
      await unseal(n.url, unsealKeys);
    },
    async wipe(i) {
      await cluster.kill(i);
      rmSync(join(nodes[i]!.dir, 'data'), { recursive: true, force: true });
    },
    async rejoin(i, timeoutMs = 30_000, log = () => {}) {
      const n = nodes[i]!;
      const t0 = performance.now();
      const stage = (what: string) => log(`${n.id} rejoin: ${what} at ${(performance.now() - t0).toFixed(0)} ms`);
      if (n.proc !== null) throw new Error(`rejoin ${n.id}: still running`);
      const leader = nodes[await cluster.activeNode(timeoutMs)]!;
      stage(`active node ${leader.id}`);
      const configPath = join(n.dir, 'coffer.hcl');
      // retry_join rather than a sys/storage/raft/join call: the node fetches the challenge by itself, as at start.
      writeFileSync(configPath, configFor(n, leader.url));
      n.proc = await spawnCoffer(['server', `-config=${configPath}`], /Listening on (\S+?);/, envFor(n));
      n.paused = false;
      stage('listening');
      await until(`${n.id} has the join challenge`, timeoutMs, async () => (await http(n.url, 'GET', 'sys/seal-status')).body.initialized === true);
      stage('has the challenge');
      await unseal(n.url, unsealKeys);
      stage('shares submitted');
      await until(`${n.id} serves as a standby (sys/health 429)`, timeoutMs, async () => (await healthStatus(n.url)) === 429);
      stage('standby (429)');
      await until(`${n.id} a voter again (${size} voters)`, timeoutMs, async () => {
        const r = await http(nodes[await cluster.activeNode(5_000)]!.url, 'GET', 'sys/storage/raft/configuration', { token: rootToken });
        const servers: { node_id: string; voter: boolean }[] = r.body?.data?.config?.servers ?? [];
        return servers.filter((s) => s.voter).length === size && servers.some((s) => s.node_id === n.id && s.voter);
      });
      stage('a voter');
    },
    pause(i) {
      const n = nodes[i]!;
      if (n.proc === null || n.paused) return;
      n.proc.child.kill('SIGSTOP');
      n.paused = true;
    },
    resume(i) {
      const n = nodes[i]!;
      if (n.proc === null || !n.paused) return;
      n.proc.child.kill('SIGCONT');
      n.paused = false;
    },
    async waitHealthy(timeoutMs) {
      return until('a healthy cluster (all unsealed, one active node every node agrees on)', timeoutMs, async () => {
        const seen = await Promise.all(
          nodes.map(async (n) => {
            if (n.proc === null || n.paused) return null;
            const r = await http(n.url, 'GET', 'sys/leader');
            return r.status === 200 && typeof r.body.leader_address === 'string' && r.body.leader_address !== '' ? r.body.leader_address : null;
          }),
        );
        if (seen.some((s) => s === null) || new Set(seen).size !== 1) return null;
        const active = nodes.findIndex((n) => n.url === seen[0]);
        if (active < 0 || (await healthStatus(nodes[active]!.url)) !== 200) return null;
        return active + 1;
      }).then((i) => i - 1);
    },
    crashLines() {
      const crash = /"level":60|actor crashed|uncaught|unhandled rejection|FATAL ERROR/i;
      return nodes.flatMap((n) => (n.pastLogs + (n.proc?.stderr() ?? '')).split('\n').filter((l) => crash.test(l)).map((l) => `${n.id}: ${l.slice(0, 400)}`));
    },
    logs() {
      return nodes.map((n) => `--- ${n.id}\n${n.proc?.stderr().slice(-3000) ?? '(not running)'}`).join('\n');
    },
    async close(keepData = false) {
      await close();
      if (!keepData) removeDirs();
    },
  };
  return cluster;
}

export { sleep };
