// End-of-run checks on a Coffer cluster after the faults are healed (etcd robustness step 4, RELIABILITY.md
// §7.2 LIN-KV-ACTIVE): one write that must succeed; every node applies up to it; then
//   acked writes present: every acknowledged write/CAS is readable at its version with its value;
//   convergence: every node holds the same metadata and latest value for every key of the run.
// The workload has stopped, so once a node's applied index passes the final write its KV data is final.
import { http } from '../helpers/server-process.js';
import { until } from '../helpers/cluster.js';
import type { CofferCluster } from './coffer-cluster.js';
import { decodeVaultIndex } from './coffer-kv.js';

/** Runs `fn` over `items` with at most `width` in flight. */
async function pool<T, R>(items: readonly T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Writes `key` on the active node until it is acknowledged; returns its Raft index (from X-Vault-Index). */
export async function finalWrite(c: CofferCluster, key: string, timeoutMs = 30_000): Promise<number> {
  return until(`the final write ${key}`, timeoutMs, async () => {
    const active = await c.activeNode(5_000);
    const r = await http(c.nodes[active]!.url, 'PUT', `secret/data/${key}`, { token: c.rootToken, body: { data: { v: 'final' } } });
    if (r.status !== 200) return null;
    return decodeVaultIndex(r.headers.get('x-vault-index') ?? undefined) ?? null;
  });
}

/** Waits until every running node reports raft_applied_index ≥ `index` (sys/leader). */
export async function waitAllApplied(c: CofferCluster, index: number, timeoutMs = 30_000): Promise<void> {
  await until(`every node applied index ${index}`, timeoutMs, async () => {
    const applied = await Promise.all(c.nodes.map(async (n) => (await http(n.url, 'GET', 'sys/leader')).body?.raft_applied_index ?? 0));
    return applied.every((a: number) => a >= index);
  });
}

export interface LostWrite {
  key: string;
  version: number;
  value: string;
  found: string;
}

/** Reads every acknowledged write at its version on `nodeIndex`; returns those missing or different. */
export async function lostAckedWrites(c: CofferCluster, nodeIndex: number, acked: readonly { key: string; version: number; value: string }[]): Promise<LostWrite[]> {
  const url = c.nodes[nodeIndex]!.url;
  const lost = await pool(acked, 8, async (w) => {
    const r = await http(url, 'GET', `secret/data/${w.key}?version=${w.version}`, { token: c.rootToken });
    const got = r.status === 200 ? r.body?.data?.data?.v : undefined;
    return got === w.value ? null : { ...w, found: r.status === 200 ? JSON.stringify(got) : `HTTP ${r.status}` };
  });
  return lost.filter((l): l is LostWrite => l !== null);
}

/** Compares each key's metadata (versions, times) and latest value across all nodes; returns the keys that differ. */
export async function divergentKeys(c: CofferCluster, keys: readonly string[]): Promise<{ key: string; views: string[] }[]> {
  const views = await pool(keys, 4, async (key) => {
    const perNode = await Promise.all(
      c.nodes.map(async (n) => {
        const meta = await http(n.url, 'GET', `secret/metadata/${key}`, { token: c.rootToken });
        const data = await http(n.url, 'GET', `secret/data/${key}`, { token: c.rootToken });
        const m = meta.body?.data;
        return JSON.stringify({
          meta: meta.status,
          current: m?.current_version,
          oldest: m?.oldest_version,
          versions: m?.versions,
          data: data.status,
          v: data.body?.data?.data?.v,
          version: data.body?.data?.metadata?.version,
        });
      }),
    );
    return { key, views: perNode };
  });
  return views.filter((v) => new Set(v.views).size > 1);
}
