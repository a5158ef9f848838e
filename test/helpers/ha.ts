// A small HA cluster of `coffer server -config` processes for the security tests: n1 is initialised and
// unsealed, the others join it through sys/storage/raft/join and are unsealed with the same shares, so
// n1 is active and the rest are standbys. Nodes can also be left out (started but not joined) to probe
// an uninitialised node. Everything runs on 127.0.0.1 and is killed by PID in close().
import { apiUrl, healthStatus, nodeSpec, startClusterNode, until, unsealWith, type ClusterNodeSpec } from './cluster.js';
import { http, tempDir, type ServerProcess } from './server-process.js';

export interface HaCluster {
  specs: ClusterNodeSpec[];
  procs: ServerProcess[];
  url(i: number): string;
  /** Unseal shares (base64) and the root token from n1's init. */
  keys: string[];
  root: string;
  /** Last lines of every node's stderr, for assertion messages. */
  dump(): string;
  /** Joins node i to n1 and unseals it; resolves once it is an unsealed standby. */
  join(i: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts `size` nodes, initialises and unseals n1, and joins nodes 1..joined-1 (all of them by default). */
export async function startHaCluster(name: string, size: number, joined = size): Promise<HaCluster> {
  const dirs = Array.from({ length: size }, (_, i) => tempDir(`${name}-n${i + 1}`));
  const specs: ClusterNodeSpec[] = [];
  for (let i = 0; i < size; i++) specs.push(await nodeSpec(`n${i + 1}`, dirs[i]!.path));
  const procs: ServerProcess[] = [];
  const cluster: HaCluster = {
    specs,
    procs,
    url: (i) => apiUrl(specs[i]!),
    keys: [],
    root: '',
    dump: () => procs.map((p, i) => `--- n${i + 1}\n${p.stderr().slice(-2000)}`).join('\n'),
    async join(i) {
      const u = cluster.url(i);
      const r = await http(u, 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: cluster.url(0) } });
      if (r.status !== 200 || r.body?.joined !== true) throw new Error(`n${i + 1} join: ${r.status} ${JSON.stringify(r.body)}\n${cluster.dump()}`);
      await unsealWith(u, cluster.keys);
      await until(`n${i + 1} unsealed standby`, 30_000, async () => (await healthStatus(u)) === 429);
    },
    async close() {
      await Promise.allSettled(procs.map((p) => p.kill('SIGKILL')));
      for (const d of dirs) d.remove();
    },
  };
  try {
    // One at a time: on a loaded 2-core machine three cold starts in parallel can each exceed the
    // start timeout. Every node that started is in procs, so close() kills it if a later one fails.
    for (const s of specs) procs.push(await startClusterNode(s));
    const init = await http(cluster.url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    if (init.status !== 200) throw new Error(`init: ${init.status} ${JSON.stringify(init.body)}`);
    cluster.keys = init.body.keys_base64;
    cluster.root = init.body.root_token;
    await unsealWith(cluster.url(0), cluster.keys);
    await until('n1 active', 15_000, async () => (await healthStatus(cluster.url(0))) === 200);
    for (let i = 1; i < joined; i++) await cluster.join(i);
    return cluster;
  } catch (err) {
    await cluster.close();
    throw err;
  }
}
