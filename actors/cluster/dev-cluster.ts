// `coffer server -dev-three-node`: a three-node Raft cluster on 127.0.0.1 in one process (three in-process
// nodes, each with its own actor system, data dir, API listener and cluster port), initialised with one
// unseal share, node2 and node3 joined through the real join workflow (challenge/answer over HTTP), all
// unsealed. Ports: API base, base+2, base+4; cluster ports one above each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startNode, type RunningNode } from '../node/node.js';

export interface DevClusterOptions {
  /** Address of node1's listener; the others use port+2 and port+4. */
  listenAddress?: string;
  rootTokenId?: string | null;
  progress?: (line: string) => void;
}

export interface RunningDevCluster {
  nodes: { id: string; url: string; clusterAddr: string; dataDir: string }[];
  rootToken: string;
  unsealKey: string;
  baseDir: string;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`dev cluster: timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function startDevCluster(opts: DevClusterOptions, log: Logger): Promise<RunningDevCluster> {
  const progress = opts.progress ?? (() => {});
  const listen = opts.listenAddress ?? '127.0.0.1:8200';
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const basePort = Number(listen.slice(i + 1));
  if (!Number.isInteger(basePort) || basePort <= 0) throw new Error(`-dev-three-node needs a fixed port in the listen address, got "${listen}"`);
  const baseDir = mkdtempSync(join(tmpdir(), 'coffer-dev-cluster-'));
  const running: RunningNode[] = [];
  const nodes: RunningDevCluster['nodes'] = [];
  // Dev mode keeps nothing (Vault's dev server is in memory): the storage goes with the cluster.
  const close = async () => {
    for (const n of running.reverse()) await n.close().catch(() => undefined);
    rmSync(baseDir, { recursive: true, force: true });
  };
  try {
    for (let k = 0; k < 3; k++) {
      const id = `node${k + 1}`;
      const apiPort = basePort + 2 * k;
      const clusterAddr = `${host}:${apiPort + 1}`;
      const dataDir = join(baseDir, id);
      progress(`==> starting ${id}: API http://${host}:${apiPort}, cluster ${clusterAddr}, storage ${dataDir}`);
      const node = await startNode(
        {
          dataDir,
          listener: { address: `${host}:${apiPort}`, tlsDisable: true },
          rawStorageEndpoint: true,
          apiAddr: `http://${host}:${apiPort}`,
          clusterAddr,
          nodeId: id,
        },
        log.child({ node: id }),
      );
      running.push(node);
      nodes.push({ id, url: node.url, clusterAddr, dataDir });
    }
    const [n1, n2, n3] = running as [RunningNode, RunningNode, RunningNode];
    progress('==> initialising node1 (one unseal share) and unsealing it');
    const dev = await n1.ask({ t: 'dev-setup', rootTokenId: opts.rootTokenId ?? null });
    await waitFor('node1 to become active', 15_000, async () => (await n1.ask({ t: 'leader' })).is_self === true);
    for (const [node, id] of [
      [n2, 'node2'],
      [n3, 'node3'],
    ] as const) {
      progress(`==> ${id} joins node1 (challenge/answer) and is unsealed with the shared key`);
      await node.ask({ t: 'raft-join', leaderApiAddr: n1.url, retry: false, nonVoter: false, leaderCaCert: null });
      await node.ask({ t: 'unseal', key: dev.unsealKeyB64, reset: false });
      await waitFor(`${id} to unseal`, 30_000, async () => (await node.ask({ t: 'seal-status' })).sealed === false);
    }
    await waitFor('three voters', 15_000, async () => {
      const cfg = await n1.ask({ t: 'raft-configuration', token: dev.rootToken });
      return cfg.config.servers.filter((s) => s.voter).length === 3;
    });
    progress('==> the cluster is up: node1 is active, node2 and node3 are standbys');
    return { nodes, rootToken: dev.rootToken, unsealKey: dev.unsealKeyB64, baseDir, close };
  } catch (err) {
    await close();
    throw err;
  }
}
