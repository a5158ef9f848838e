// End-of-run checks on a Coffer cluster after the faults are healed (etcd robustness step 4, RELIABILITY.md
// §7.2 LIN-KV-ACTIVE): one write that must succeed; every node applies up to it; then
//   acked writes present: every acknowledged write/CAS is readable at its version with its value;
//   convergence: every node holds the same metadata and latest value for every key of the run.
//   no duplicate applies: no value is stored at two versions (each workload value is written once);
// and it patches the history (etcd robustness): an indeterminate write whose value was never stored did not
// happen. The workload has stopped, so once a node's applied index passes the final write its data is final.
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

/**
 * A GET for the end-of-run checks: retried while the node answers 5xx or not at all (right after a heal a
 * standby may still refuse reads until it hears from the leader again); 200/404 and other 4xx are final.
 */
async function settledGet(url: string, path: string, token: string, timeoutMs = 20_000): Promise<Awaited<ReturnType<typeof http>>> {
  return until(`GET ${path} on ${url}`, timeoutMs, async () => {
    const r = await http(url, 'GET', path, { token });
    return r.status < 500 ? r : null;
  });
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

/** Every version of every key as stored on one node: values[version] (index 0 unused; null = unreadable). */
export type KeyVersions = Map<string, (string | null)[]>;

/**
 * Reads all versions of `keys` on `nodeIndex` (the mount keeps 1000 versions and the workload never deletes,
 * so this is every write the cluster applied): the "final committed log" of etcd's history patching.
 */
export async function readAllVersions(c: CofferCluster, nodeIndex: number, keys: readonly string[]): Promise<KeyVersions> {
  const url = c.nodes[nodeIndex]!.url;
  const current = await pool(keys, 8, async (key) => {
    const m = await settledGet(url, `secret/metadata/${key}`, c.rootToken);
    return m.status === 200 ? (m.body?.data?.current_version as number) : 0;
  });
  const reads: { key: string; version: number }[] = [];
  keys.forEach((key, i) => {
    for (let v = 1; v <= current[i]!; v++) reads.push({ key, version: v });
  });
  const values = await pool(reads, 8, async ({ key, version }) => {
    const r = await settledGet(url, `secret/data/${key}?version=${version}`, c.rootToken);
    const v = r.status === 200 ? r.body?.data?.data?.v : undefined;
    return typeof v === 'string' ? v : null;
  });
  const out: KeyVersions = new Map(keys.map((k, i) => [k, new Array<string | null>(current[i]! + 1).fill(null)]));
  reads.forEach((r, i) => (out.get(r.key)![r.version] = values[i]!));
  return out;
}

/** Acknowledged writes whose value is not stored at their version. */
export function lostAckedWrites(stored: KeyVersions, acked: readonly { key: string; version: number; value: string }[]): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const w of acked) {
    const got = stored.get(w.key)?.[w.version];
    if (got !== w.value) lost.push({ ...w, found: got === undefined ? 'no such version' : JSON.stringify(got) });
  }
  return lost;
}

/** Values stored at more than one version: a write applied twice (every workload value is unique). */
export function duplicateApplies(stored: KeyVersions): { key: string; value: string; versions: number[] }[] {
  const dups: { key: string; value: string; versions: number[] }[] = [];
  for (const [key, versions] of stored) {
    const at = new Map<string, number[]>();
    versions.forEach((v, i) => {
      if (v !== null) at.set(v, [...(at.get(v) ?? []), i]);
    });
    for (const [value, vs] of at) if (vs.length > 1) dups.push({ key, value, versions: vs });
  }
  return dups;
}

/** Compares each key's metadata (versions, times) and latest value across all nodes; returns the keys that differ. */
export async function divergentKeys(c: CofferCluster, keys: readonly string[]): Promise<{ key: string; views: string[] }[]> {
  const views = await pool(keys, 4, async (key) => {
    const perNode = await Promise.all(
      c.nodes.map(async (n) => {
        const meta = await settledGet(n.url, `secret/metadata/${key}`, c.rootToken);
        const data = await settledGet(n.url, `secret/data/${key}`, c.rootToken);
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
