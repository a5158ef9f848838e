// Bringing each system up for its points and down afterwards. Every process is a child of this one,
// on 127.0.0.1, stopped by PID; data directories are temporary and removed.
import { tmpdir } from 'node:os';
import { until } from '../../test/helpers/cluster.js';
import { http } from '../../test/helpers/server-process.js';
import { startCofferCluster } from '../lib/coffer-cluster.js';
import { startDevServer } from '../lib/dev-server.js';
import { startEtcdCluster } from '../lib/etcd-cluster.js';
import { fill } from '../lib/fill.js';
import { BENCH_POLICY, etcdPutAt, readKey, WRITE_BODY } from './shapes.js';
import type { CofferTarget, EtcdTarget, Settings } from './types.js';

export interface Running<T> {
  target: T;
  stop(): Promise<void>;
}

type Progress = (line: string) => void;

/** The bench policy, a token holding it, and the keys reads pick from (written with the root token). */
async function prepareCoffer(url: string, root: string, s: Settings, progress: Progress): Promise<string> {
  const policy = await http(url, 'PUT', 'sys/policies/acl/bench', { token: root, body: { policy: BENCH_POLICY } });
  if (policy.status !== 204 && policy.status !== 200) throw new Error(`writing the bench policy answered ${policy.status}: ${policy.text}`);
  const created = await http(url, 'POST', 'auth/token/create', { token: root, body: { policies: ['bench'], ttl: '4h' } });
  if (created.status !== 200) throw new Error(`creating the bench token answered ${created.status}: ${created.text}`);
  const f = await fill({
    url,
    count: s.readKeys,
    concurrency: 32,
    method: 'PUT',
    headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json' },
    request: (i) => ({ path: `/v1/secret/data/bench/${readKey(i)}`, body: WRITE_BODY }),
    label: 'coffer read keys',
    timeoutMs: 120_000,
  });
  progress(`coffer: ${f.written} read keys written in ${f.seconds.toFixed(1)} s`);
  return created.body.auth.client_token as string;
}

export async function startCofferOne(s: Settings, progress: Progress): Promise<Running<CofferTarget>> {
  const server = await startDevServer('bench-root');
  try {
    progress(`coffer: dev node at ${server.url} (pid ${server.pid})`);
    await until('secret/ mounted', 20_000, async () => {
      const m = await http(server.url, 'GET', 'sys/mounts', { token: server.token });
      return m.status === 200 && (m.body.data?.['secret/'] ?? m.body['secret/']) ? true : null;
    });
    const policyToken = await prepareCoffer(server.url, server.token, s, progress);
    return { target: { urls: [server.url], pids: [server.pid], rootToken: server.token, policyToken }, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

export async function startCofferThree(s: Settings, progress: Progress): Promise<Running<CofferTarget>> {
  const cluster = await startCofferCluster({ size: 3, onProgress: progress });
  try {
    const policyToken = await prepareCoffer(cluster.urls[0] as string, cluster.rootToken, s, progress);
    // Standbys serve reads once the token and the keys are in their FSM; until then they forward.
    const last = `secret/data/bench/${readKey(s.readKeys - 1)}`;
    await until('standbys serving the bench keys', 30_000, async () => {
      for (const url of cluster.urls.slice(1)) {
        const r = await http(url, 'GET', last, { token: policyToken });
        if (r.status !== 200 || r.headers.get('x-coffer-served-by') !== 'standby') return null;
      }
      return true;
    });
    return { target: { urls: cluster.urls, pids: cluster.pids, rootToken: cluster.rootToken, policyToken }, stop: () => cluster.stop() };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

export async function startEtcd(s: Settings, progress: Progress): Promise<Running<EtcdTarget>> {
  const etcd = await startEtcdCluster({ size: 3, dataRoot: tmpdir(), onProgress: progress });
  try {
    const leader = await etcd.leaderClientUrl();
    const followers = etcd.members.map((m) => m.clientUrl).filter((u) => u !== leader);
    const f = await fill({
      url: leader,
      count: s.readKeys,
      concurrency: 32,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      request: etcdPutAt,
      label: 'etcd read keys',
      timeoutMs: 120_000,
    });
    progress(`etcd: leader ${leader}; ${f.written} read keys written in ${f.seconds.toFixed(1)} s`);
    // Leader first, like Coffer's active node first, so the RSS columns line up.
    const byUrl = new Map(etcd.members.map((m) => [m.clientUrl, m.pid]));
    const urls = [leader, ...followers];
    return { target: { urls, pids: urls.map((u) => byUrl.get(u) as number), leader, followers }, stop: () => etcd.stop() };
  } catch (err) {
    await etcd.stop();
    throw err;
  }
}
