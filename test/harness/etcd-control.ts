// The etcd control cluster of HARNESS-CONTROL (RELIABILITY.md §7.3): a 3-member etcd 3.4
// (bench/lib/etcd-cluster.ts) whose peer traffic passes one nemesis proxy in front of each member's peer
// port. etcd advertises peer URLs cluster-wide, so every member reaches member i through proxies[i]; a
// connection is attributed to the member that opened it by the `X-Server-From` header (hex member id) of
// its first HTTP/1.1 request (stream GETs and pipeline POSTs of etcd's rafthttp both carry it). Stream
// connections carry messages in both directions' sense (the dialer receives on them), so a partition cuts
// the whole connection: isolate(i) blackholes everything reaching i and every connection i opens to others.
// Verified on etcd 3.4.23: each proxy sees two stream connections per other member carrying X-Server-From;
// the only unattributed requests are `GET /raft/probing` (health probes, no Raft messages), which a
// partition of i still cuts on i's own proxy but not on the way out of i.
import { startEtcdCluster, etcdPost, type EtcdCluster, type EtcdMember } from '../../bench/lib/etcd-cluster.js';
import { freePort } from '../helpers/cluster.js';
import { NemesisProxy } from './proxy.js';

export interface ProxiedEtcd {
  readonly cluster: EtcdCluster;
  readonly members: EtcdMember[];
  /** proxies[i]: in front of member i's peer port. */
  readonly proxies: NemesisProxy[];
  /** Member name -> hex member id (as in X-Server-From). */
  readonly ids: Map<string, string>;
  /** Index of the current leader. */
  leaderIndex(): Promise<number>;
  /** Cuts member i off from its peers in both directions (sockets stay open, bytes vanish). */
  isolate(i: number): void;
  /** Removes every fault and resets the proxied connections, so members redial at once. */
  heal(): void;
  /** Connection classes each proxy has seen (sender ids, or 'unknown'): for verifying attribution. */
  classesSeen(): Record<string, Record<string, number>>;
  /** Stops the members (data dirs removed unless keepData) and the proxies. */
  close(keepData?: boolean): Promise<void>;
}

/** The sending member's hex id from the first bytes of an etcd peer request, else 'unknown'. */
export function etcdSenderOf(first: Buffer): string {
  const m = /\r\nX-Server-From:\s*([0-9a-f]+)\r\n/i.exec(first.toString('latin1'));
  return m ? m[1]!.toLowerCase() : 'unknown';
}

export interface ProxiedEtcdOptions {
  dataRoot: string;
  size?: number;
  onProgress?: (line: string) => void;
}

/**
 * Starts the proxied cluster. Ports are picked free and bound a moment later by etcd, so on a busy machine
 * another process can take one in between: a failed start is retried (twice) on fresh ports.
 */
export async function startProxiedEtcd(opts: ProxiedEtcdOptions): Promise<ProxiedEtcd> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3) throw err;
      opts.onProgress?.(`etcd: start attempt ${attempt} failed (${(err as Error).message.split('\n')[0]}); retrying on fresh ports`);
    }
  }
}

async function startOnce(opts: ProxiedEtcdOptions): Promise<ProxiedEtcd> {
  const size = opts.size ?? 3;
  const proxyPorts: number[] = [];
  for (let i = 0; i < size; i++) proxyPorts.push(await freePort());
  const proxies: NemesisProxy[] = [];
  const listening: Promise<number>[] = [];
  let cluster: EtcdCluster;
  try {
    cluster = await startEtcdCluster({
      size,
      dataRoot: opts.dataRoot,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      // Called while the members are laid out, before any is launched: the proxy is listening by then
      // (and etcd redials peers anyway).
      peerAdvertise: (i, peerPort) => {
        const p = new NemesisProxy({ name: `etcd m${i + 1} peer`, port: proxyPorts[i]!, target: { host: '127.0.0.1', port: peerPort }, classify: etcdSenderOf });
        proxies[i] = p;
        const l = p.listen();
        l.catch(() => undefined); // awaited below; a failed bind also fails the members' start
        listening.push(l);
        return `http://127.0.0.1:${proxyPorts[i]}`;
      },
    });
  } catch (err) {
    await Promise.allSettled(proxies.map((p) => p.close()));
    throw err;
  }
  let list: { members: { ID: string; name: string }[] };
  try {
    await Promise.all(listening);
    list = await etcdPost(cluster.members[0]!.clientUrl, '/v3/cluster/member/list', {});
  } catch (err) {
    await cluster.stop();
    await Promise.allSettled(proxies.map((p) => p.close()));
    throw err;
  }
  const ids = new Map<string, string>();
  for (const m of list.members) ids.set(m.name, BigInt(m.ID).toString(16));
  const idOf = (i: number) => ids.get(cluster.members[i]!.name)!;

  return {
    cluster,
    members: cluster.members,
    proxies,
    ids,
    async leaderIndex() {
      const url = await cluster.leaderClientUrl();
      return cluster.members.findIndex((m) => m.clientUrl === url);
    },
    isolate(i) {
      proxies[i]!.set({ blackhole: true });
      for (let j = 0; j < proxies.length; j++) if (j !== i) proxies[j]!.set({ blackhole: true }, 'both', idOf(i));
    },
    heal() {
      for (const p of proxies) {
        p.heal();
        p.resetConnections();
      }
    },
    classesSeen() {
      const out: Record<string, Record<string, number>> = {};
      proxies.forEach((p, i) => (out[cluster.members[i]!.name] = Object.fromEntries(p.classesSeen)));
      return out;
    },
    async close(keepData = false) {
      await cluster.stop({ keepData });
      await Promise.allSettled(proxies.map((p) => p.close()));
    },
  };
}
