// Helpers for HA tests: Coffer server processes forming a Raft cluster on 127.0.0.1 (fixed free ports,
// because api_addr and cluster_addr must be known before the process starts).
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { http, spawnCoffer, type ServerProcess } from './server-process.js';

/**
 * A loopback port that was free a moment ago, for a server started later (a node's api and cluster
 * ports go into its config before it starts). Picked below the kernel's ephemeral range: a port from
 * listen(0) comes from that range, and between the pick and the node's bind any outgoing connection
 * of any process may take it as its local port (it happened: a node's cluster listener failed with
 * EADDRINUSE and the cluster bring-up timed out). Below the range only servers that pick explicitly
 * can collide; the start is random since test files run side by side, and a process never hands out a
 * port twice.
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = explicitPortRange();
  for (let tries = 0; tries < 500 && hi > lo; tries++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (handedOut.has(port)) continue;
    const bound = await listenOn(port).catch(() => null);
    if (bound === null) continue;
    handedOut.add(port);
    return bound;
  }
  return listenOn(0); // no room below the ephemeral range on this machine
}

const handedOut = new Set<number>();

/** Ports outside the ephemeral range: [10000, its first port - 1000), capped at 20000 ports. */
function explicitPortRange(): [number, number] {
  let first = 32768;
  try {
    first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || first;
  } catch {
    // not Linux: the usual default
  }
  const hi = first - 1000;
  return [Math.max(10_000, hi - 20_000), hi];
}

/** Binds 127.0.0.1:port (0: any), closes, and returns the port. */
async function listenOn(port: number): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return bound;
}

export interface ClusterNodeSpec {
  nodeId: string;
  dir: string;
  apiPort: number;
  clusterPort: number;
  /** leader_api_addr for a retry_join stanza */
  retryJoin?: string;
  /** Extra top-level HCL (e.g. `disable_standby_reads = true`). */
  extraConfig?: string;
  /** Extra lines inside the `storage "raft"` block (e.g. `snapshot_threshold = 50`). */
  storageExtra?: string;
  /** Extra lines inside the `listener "tcp"` block (e.g. `disable_unauthed_rekey_endpoints = false`). */
  listenerExtra?: string;
  /** Extra environment for the process (e.g. COFFER_TEST_PEER_DIAL). */
  env?: Record<string, string>;
  /** Arguments for node itself, before the script (e.g. --cpu-prof; Node 20 refuses it in NODE_OPTIONS). */
  nodeArgs?: string[];
}

export async function nodeSpec(nodeId: string, dir: string, retryJoin?: string): Promise<ClusterNodeSpec> {
  return { nodeId, dir, apiPort: await freePort(), clusterPort: await freePort(), ...(retryJoin ? { retryJoin } : {}) };
}

export function apiUrl(spec: ClusterNodeSpec): string {
  return `http://127.0.0.1:${spec.apiPort}`;
}

/** Writes the node's HCL config and starts `coffer server -config` (storage survives restarts). */
export function startClusterNode(spec: ClusterNodeSpec): Promise<ServerProcess> {
  const configPath = join(spec.dir, 'coffer.hcl');
  const retry = spec.retryJoin ? `  retry_join {\n    leader_api_addr = "${spec.retryJoin}"\n  }\n` : '';
  writeFileSync(
    configPath,
    `storage "raft" {\n  path = "${join(spec.dir, 'data')}"\n  node_id = "${spec.nodeId}"\n${retry}${spec.storageExtra ? `  ${spec.storageExtra}\n` : ''}}\n` +
      `listener "tcp" {\n  address = "127.0.0.1:${spec.apiPort}"\n  tls_disable = true\n${spec.listenerExtra ? `  ${spec.listenerExtra}\n` : ''}}\n` +
      `api_addr = "${apiUrl(spec)}"\ncluster_addr = "https://127.0.0.1:${spec.clusterPort}"\nraw_storage_endpoint = true\n${spec.extraConfig ?? ''}`,
  );
  return spawnCoffer(['server', `-config=${configPath}`], /Listening on (\S+?);/, spec.env ?? {}, spec.nodeArgs ?? []);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns non-null (errors count as "not yet"). */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Submits shares to sys/unseal until the node reports unsealed (a joiner may need the keyring to replicate). */
export async function unsealWith(url: string, shares: string[]): Promise<any> {
  let last: any = null;
  for (const key of shares) {
    last = await http(url, 'PUT', 'sys/unseal', { body: { key } });
    if (last.status !== 200) return last;
  }
  return last;
}

/**
 * Waits until the configuration on `url` lists `size` voters. Joiners start as learners and autopilot
 * promotes them: until it has, cutting off one promoted standby can leave the leader without a quorum.
 */
export async function untilVoters(url: string, token: string, size: number, timeoutMs = 30_000): Promise<void> {
  await until(`${size} voters`, timeoutMs, async () => {
    const r = await http(url, 'GET', 'sys/storage/raft/configuration', { token });
    return r.body?.data?.config?.servers?.filter((x: { voter: boolean }) => x.voter).length === size;
  });
}

/**
 * A KV v2 write through `url` without following redirects: a standby whose forwarding is not ready answers
 * 307, and a client that followed it would reach the active node directly, which looks like a forwarded
 * answer (fetch follows redirects by default). Resolves with the status and headers (status 0: no answer).
 */
export async function writeNoRedirect(url: string, token: string, path: string): Promise<{ status: number; headers: Headers | null }> {
  const r = await fetch(`${url}/v1/secret/data/${path}`, {
    method: 'PUT',
    headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ data: { v: 1 } }),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  }).catch(() => null);
  if (r === null) return { status: 0, headers: null };
  await r.arrayBuffer();
  return { status: r.status, headers: r.headers };
}

export async function healthStatus(url: string, query = ''): Promise<number> {
  const res = await fetch(`${url}/v1/sys/health${query}`);
  await res.arrayBuffer();
  return res.status;
}

/** Until `url`'s node answers sys/health 200 (unsealed and active; a lone voter elects itself first). */
export async function untilActive(url: string, timeoutMs = 10_000): Promise<void> {
  await until(`${url} active`, timeoutMs, async () => (await healthStatus(url)) === 200);
}

/** Listener lines that open sys/generate-root/* and sys/rekey/* (off by default, as OpenBao 2.5+). */
export const UNAUTHED_SHARE_ENDPOINTS = '  disable_unauthed_generate_root_endpoints = false\n  disable_unauthed_rekey_endpoints = false\n';
