// A Coffer HA cluster whose every DIRECTED peer link goes through a nemesis proxy (test/harness/proxy.ts),
// for the consistency tests of standbys: n1 is initialised and active, the others join it. Each node
// dials its peers' Raft ports and the active node's forwarding listener through its own proxies
// (COFFER_TEST_PEER_DIAL, actors/raft/test-peer-dial.ts), so a test can cut what a node HEARS (lag), cut
// a node off entirely (partition), pause it (SIGSTOP) or restart it. Everything is on 127.0.0.1, bounded,
// and killed by PID in close().
import { startProxy, type NemesisProxy } from '../harness/proxy.js';
import { apiUrl, freePort, healthStatus, nodeSpec, startClusterNode, until, untilVoters, unsealWith, writeNoRedirect, type ClusterNodeSpec } from './cluster.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, tempDir, type ServerProcess } from './server-process.js';

/** Lines of each node's log printed after a failure. */
const LOG_LINES = 300;

export interface ProxiedCluster {
  size: number;
  specs: ClusterNodeSpec[];
  procs: (ServerProcess | null)[];
  url(i: number): string;
  keys: string[];
  root: string;
  /** Raft proxy for messages from node `from` to node `to` (0-based). */
  raftLink(from: number, to: number): NemesisProxy;
  /** Forwarding proxy from node `from` to node `to`'s forwarding listener. */
  forwardLink(from: number, to: number): NemesisProxy;
  /** Node `i` hears nothing from its peers (Raft messages into it are dropped); what it sends still arrives. */
  deafen(i: number): void;
  /** Node `i` is cut from every peer in both directions, Raft and forwarding. */
  isolate(i: number): void;
  /** Removes every fault and drops the proxied connections, so peers redial at once. */
  heal(): void;
  pause(i: number): void;
  resume(i: number): void;
  /** SIGKILL node i, start it again on the same data dir and unseal it. */
  restart(i: number): Promise<void>;
  /** Index of the node answering sys/health 200. */
  activeNode(): Promise<number>;
  /** Last lines of every node's stderr, for assertion messages. */
  dump(): string;
  /**
   * Call from `afterEach`: after a failed test, prints every node's log (info level: raft role changes,
   * transport and forwarding warnings) once, and keeps the data dirs with the logs in them after close().
   */
  reportIfFailed(t: { name: string; passed?: boolean }): void;
  close(): Promise<void>;
}

export interface ProxiedClusterOptions {
  name: string;
  size?: number;
  /** Extra top-level HCL for node i (e.g. `disable_standby_reads = true`). */
  extraConfig?: (i: number) => string;
  /** Extra lines in node i's `storage "raft"` block (e.g. `snapshot_threshold = 50`). */
  storageExtra?: (i: number) => string;
}

export async function startProxiedCluster(opts: ProxiedClusterOptions): Promise<ProxiedCluster> {
  const size = opts.size ?? 3;
  const dirs = Array.from({ length: size }, (_, i) => tempDir(`${opts.name}-n${i + 1}`));
  const specs: ClusterNodeSpec[] = [];
  for (let i = 0; i < size; i++) specs.push(await nodeSpec(`n${i + 1}`, dirs[i]!.path));
  const forwardPorts: number[] = [];
  for (let i = 0; i < size; i++) forwardPorts.push(await freePort());
  const raft = new Map<string, NemesisProxy>();
  const fwd = new Map<string, NemesisProxy>();
  const procs: (ServerProcess | null)[] = specs.map(() => null);
  const all = () => [...raft.values(), ...fwd.values()];
  const failed: string[] = [];

  const cluster: ProxiedCluster = {
    size,
    specs,
    procs,
    url: (i) => apiUrl(specs[i]!),
    keys: [],
    root: '',
    raftLink: (from, to) => raft.get(`${from}>${to}`)!,
    forwardLink: (from, to) => fwd.get(`${from}>${to}`)!,
    deafen(i) {
      for (let j = 0; j < size; j++) if (j !== i) cluster.raftLink(j, i).set({ blackhole: true }, 'tx');
    },
    isolate(i) {
      for (let j = 0; j < size; j++) {
        if (j === i) continue;
        for (const p of [cluster.raftLink(j, i), cluster.raftLink(i, j), cluster.forwardLink(j, i), cluster.forwardLink(i, j)]) p.set({ blackhole: true }, 'both');
      }
    },
    heal() {
      for (const p of all()) {
        p.heal();
        // A blackholed TLS stream has lost records: drop it so both ends redial cleanly.
        p.resetConnections();
      }
    },
    pause(i) {
      procs[i]?.child.kill('SIGSTOP');
    },
    resume(i) {
      procs[i]?.child.kill('SIGCONT');
    },
    async restart(i) {
      await procs[i]?.kill('SIGKILL');
      procs[i] = await startClusterNode(specs[i]!);
      await unsealWith(cluster.url(i), cluster.keys);
      await until(`n${i + 1} unsealed again`, 30_000, async () => (await http(cluster.url(i), 'GET', 'sys/seal-status')).body?.sealed === false);
    },
    async activeNode() {
      return (
        (await until('an active node', 15_000, async () => {
          for (let i = 0; i < size; i++) {
            // Bounded: a paused node never answers.
            const status = await fetch(`${cluster.url(i)}/v1/sys/health`, { signal: AbortSignal.timeout(1_500) }).then(async (r) => (await r.arrayBuffer(), r.status)).catch(() => 0);
            if (status === 200) return i + 1;
          }
          return null;
        })) - 1
      );
    },
    dump: () => procs.map((p, i) => `--- n${i + 1}\n${p?.stderr().slice(-2000) ?? '(not running)'}`).join('\n'),
    reportIfFailed(t) {
      if (t.passed !== false) return;
      const first = failed.length === 0;
      failed.push(t.name);
      if (!first) return;
      const lines = [`=== ${opts.name}: "${t.name}" failed; node logs (data dirs kept: ${dirs.map((d) => d.path).join(' ')})`];
      for (let i = 0; i < size; i++) {
        const log = (procs[i]?.stderr() ?? '(not running)').split('\n');
        lines.push(`--- n${i + 1} (${log.length} lines${log.length > LOG_LINES ? `, last ${LOG_LINES}` : ''})`, ...log.slice(-LOG_LINES));
      }
      lines.push(`--- proxies: ${all().map((p) => `${p.name} ${JSON.stringify(p.stats)}`).join('; ')}`);
      console.log(lines.join('\n'));
    },
    async close() {
      for (const p of procs) if (p && p.child.exitCode === null) p.child.kill('SIGCONT');
      await Promise.allSettled(procs.map((p) => p?.kill('SIGKILL')));
      await Promise.allSettled(all().map((p) => p.close()));
      if (failed.length > 0) {
        // What happened after the first failure matters too (it was printed then): the logs' last lines now.
        for (let i = 0; i < size; i++) console.log(`--- n${i + 1} at close (last ${LOG_LINES / 3} lines)\n${(procs[i]?.stderr() ?? '').split('\n').slice(-LOG_LINES / 3).join('\n')}`);
        procs.forEach((p, i) => p && writeFileSync(join(dirs[i]!.path, 'stderr.log'), p.stderr()));
        console.log(`${opts.name}: ${failed.length} test(s) failed; data dirs and logs kept in ${dirs.map((d) => d.path).join(' ')}`);
      } else for (const d of dirs) d.remove();
    },
  };

  try {
    for (let from = 0; from < size; from++) {
      for (let to = 0; to < size; to++) {
        if (from === to) continue;
        raft.set(`${from}>${to}`, await startProxy({ name: `n${from + 1}->n${to + 1}`, target: { host: '127.0.0.1', port: specs[to]!.clusterPort } }));
        fwd.set(`${from}>${to}`, await startProxy({ name: `n${from + 1}->n${to + 1}/forward`, target: { host: '127.0.0.1', port: forwardPorts[to]! } }));
      }
    }
    for (let i = 0; i < size; i++) {
      const dial: string[] = [];
      for (let j = 0; j < size; j++) {
        if (j === i) continue;
        dial.push(`n${j + 1}=127.0.0.1:${cluster.raftLink(i, j).port}`, `n${j + 1}/forward=127.0.0.1:${cluster.forwardLink(i, j).port}`);
      }
      // info: raft role changes and peer/forwarding warnings reach the log printed on a failure.
      specs[i]!.env = { COFFER_LOG_LEVEL: 'info', COFFER_TEST_PEER_DIAL: dial.join(','), COFFER_TEST_FORWARD_LISTEN_PORT: String(forwardPorts[i]) };
      const extra = opts.extraConfig?.(i);
      if (extra) specs[i]!.extraConfig = extra;
      const storage = opts.storageExtra?.(i);
      if (storage) specs[i]!.storageExtra = storage;
    }
    // One at a time: each start has its own 20 s budget, which a loaded 2-core machine needs.
    for (let i = 0; i < size; i++) procs[i] = await startClusterNode(specs[i]!);
    const init = await http(cluster.url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    if (init.status !== 200) throw new Error(`init: ${init.status} ${JSON.stringify(init.body)}`);
    cluster.keys = init.body.keys_base64;
    cluster.root = init.body.root_token;
    await unsealWith(cluster.url(0), cluster.keys);
    await until('n1 active', 15_000, async () => (await healthStatus(cluster.url(0))) === 200);
    for (let i = 1; i < size; i++) {
      const r = await http(cluster.url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: cluster.url(0) } });
      if (r.status !== 200 || r.body?.joined !== true) throw new Error(`n${i + 1} join: ${r.status} ${JSON.stringify(r.body)}\n${cluster.dump()}`);
      await unsealWith(cluster.url(i), cluster.keys);
      await until(`n${i + 1} unsealed standby`, 30_000, async () => (await healthStatus(cluster.url(i))) === 429);
    }
    // All voters first: HA-CONSISTENCY's lagging-standby test once deafened n2 while n3 was still a
    // learner, so every write hung and no leader could be elected.
    await untilVoters(cluster.url(0), cluster.root, size);
    const mount = await http(cluster.url(0), 'POST', 'sys/mounts/secret', { token: cluster.root, body: { type: 'kv', options: { version: '2' } } });
    if (mount.status >= 300) throw new Error(`mount: ${mount.status} ${JSON.stringify(mount.body)}`);
    // Every standby knows the advertisement (forwarding address) and the index key once these replicated;
    // checked without following redirects (a followed 307 once passed for a forwarded answer).
    await until('forwarding ready on every standby', 30_000, async () => {
      for (let i = 1; i < size; i++) {
        const r = await writeNoRedirect(cluster.url(i), cluster.root, `warmup-${i}`);
        if (r.status !== 200 || r.headers?.get('x-vault-index') == null || r.headers.get('x-coffer-served-by') !== 'active') return null;
      }
      return true;
    });
    return cluster;
  } catch (err) {
    // A bring-up that fails is reported like a failed test: every node's log, data dirs kept.
    cluster.reportIfFailed({ name: `bring-up: ${(err as Error).message.split('\n')[0]}`, passed: false });
    await cluster.close();
    throw err;
  }
}
