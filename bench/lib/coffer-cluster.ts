// A Coffer cluster of N `coffer server` processes on 127.0.0.1 for benches: node 1 is initialised
// (one Shamir share) and becomes active, the others join it and unseal; a KV v2 engine is mounted at
// secret/ and the bring-up waits until writes through every standby are forwarded. Processes are
// stopped by PID and their directories removed by stop().
import { apiUrl, healthStatus, nodeSpec, startClusterNode, unsealWith, until, untilVoters, writeNoRedirect, type ClusterNodeSpec } from '../../test/helpers/cluster.js';
import { http, tempDir, type ServerProcess } from '../../test/helpers/server-process.js';
import { stopChildren } from './children.js';

export interface CofferCluster {
  /** API URLs; urls[0] is the active node. */
  urls: string[];
  pids: number[];
  /** Each node's directory (its data/ holds the LMDB file and the raft-snapshot/ images). */
  nodeDirs: string[];
  rootToken: string;
  unsealKeys: string[];
  stop(): Promise<void>;
}

export interface CofferClusterOptions {
  size?: number;
  onProgress?: (line: string) => void;
  /** node's own arguments for every node (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** Extra lines in every node's `storage "raft"` block (e.g. `snapshot_threshold = 5000`). */
  storageExtra?: string;
}

export async function startCofferCluster(opts: CofferClusterOptions = {}): Promise<CofferCluster> {
  const size = opts.size ?? 3;
  const progress = opts.onProgress ?? (() => {});
  const dirs = Array.from({ length: size }, (_, i) => tempDir(`bench-n${i + 1}`));
  const procs: ServerProcess[] = [];
  // If the bench exits before stop() (a signal mid-run), the directories still go.
  const removeDirs = () => dirs.forEach((d) => d.remove());
  process.once('exit', removeDirs);
  const stop = async (): Promise<void> => {
    await Promise.allSettled(procs.map((p) => p.kill('SIGTERM')));
    // A node whose start failed or timed out never reached `procs`; its command line names its directory.
    for (const d of dirs) await stopChildren(d.path);
    removeDirs();
    process.removeListener('exit', removeDirs);
  };
  try {
    const specs: ClusterNodeSpec[] = [];
    for (let i = 0; i < size; i++) {
      const spec: ClusterNodeSpec = { ...(await nodeSpec(`n${i + 1}`, dirs[i]!.path)) };
      if (opts.nodeArgs) spec.nodeArgs = opts.nodeArgs;
      if (opts.storageExtra) spec.storageExtra = opts.storageExtra;
      specs.push(spec);
    }
    // One at a time: three cold starts side by side can miss the 20 s start timeout on a busy 2-core box.
    for (const spec of specs) procs.push(await startClusterNode(spec));
    const urls = specs.map(apiUrl);
    progress(`coffer: forming a ${size}-node cluster at ${urls.join(' ')}`);
    const init = await http(urls[0]!, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    const keys: string[] = init.body.keys_base64;
    const root: string = init.body.root_token;
    await unsealWith(urls[0]!, keys);
    await until('n1 active', 20_000, async () => (await healthStatus(urls[0]!)) === 200);
    for (let i = 1; i < size; i++) {
      await http(urls[i]!, 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: urls[0] } });
      await unsealWith(urls[i]!, keys);
      await until(`n${i + 1} unsealed`, 30_000, async () => (await http(urls[i]!, 'GET', 'sys/seal-status')).body.sealed === false);
    }
    await http(urls[0]!, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    // Every node a voter, and forwarding answered by the active node itself (not a followed 307).
    await untilVoters(urls[0]!, root, size);
    await until('forwarding ready', 30_000, async () => {
      for (let i = 1; i < size; i++) if ((await writeNoRedirect(urls[i]!, root, `warm-${i}`)).status !== 200) return null;
      return true;
    });
    progress('coffer: cluster ready');
    return { urls, pids: procs.map((p) => p.child.pid as number), nodeDirs: specs.map((sp) => sp.dir), rootToken: root, unsealKeys: keys, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
