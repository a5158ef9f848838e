// An etcd cluster of N members as child processes on 127.0.0.1: the peer system the benches compare
// against, and the reference the fault harness drives. Every process is ours (started here, stopped by
// its PID), every data directory lives under one temp directory that stop() removes.
// Driven over etcd's JSON gateway (HTTP/1.1, like Coffer's API): POST /v3/kv/put, /v3/kv/range, base64 keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/cluster.js';

/** Debian's etcd-server 3.4.23 (installed by .ci/run); ETCD_BIN overrides. */
export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

export interface EtcdMember {
  name: string;
  /** http://127.0.0.1:<port>, where clients and the JSON gateway listen. */
  clientUrl: string;
  /** The peer URL this member advertises (peerAdvertise's answer, or its own listen URL). */
  peerUrl: string;
  /** The port the member itself listens on for peers (what a proxy in front of it forwards to). */
  listenPeerPort: number;
  pid: number;
  dataDir: string;
  /** The member's own log (stdout + stderr), for failure messages. */
  logFile: string;
}

export interface EtcdClusterOptions {
  size: number;
  /** Parent directory; a fresh temp directory is made in it and removed by stop(). */
  dataRoot: string;
  /** The peer URL member i advertises (e.g. a fault-injecting proxy); default its own listen URL. */
  peerAdvertise?: (i: number, peerPort: number) => string;
  onProgress?: (line: string) => void;
  /** Extra etcd flags for every member (e.g. --heartbeat-interval, --election-timeout). */
  extraArgs?: string[];
  /** How long to wait for every member to report healthy (default 30 s). */
  readyTimeoutMs?: number;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** SIGTERM every member still running (SIGKILL after 5 s), then remove the data directories. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** The temp directory holding every member's data dir and log (kept by stop({ keepData: true })). */
  root: string;
  /** The client URL of the member that reports itself leader (polls up to 10 s). */
  leaderClientUrl(): Promise<string>;
  /** Signals one member by PID and waits until it has exited (SIGKILL by default). */
  killMember(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped member again on the same ports and data directory; waits until it is healthy. */
  restartMember(i: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** etcd's /health answers {"health":"true"} only once the member sees a leader. */
export async function etcdHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { health?: string };
    return res.status === 200 && body.health === 'true';
  } catch {
    return false;
  }
}

/** One POST to the JSON gateway; throws with the body on a non-2xx answer. */
export async function etcdPost(clientUrl: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${clientUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status < 200 || res.status >= 300) throw new Error(`etcd ${path} answered ${res.status}: ${text}`);
  return text === '' ? {} : JSON.parse(text);
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Running {
  spec: { name: string; clientPort: number; listenPeerPort: number; dataDir: string; logFile: string };
  child: ChildProcess | null;
  exited: Promise<void>;
}

export async function startEtcdCluster(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  const progress = opts.onProgress ?? (() => {});
  if (!etcdAvailable()) throw new Error(`etcd not found at ${ETCD_BIN} (Debian: apt-get install etcd-server; or set ETCD_BIN)`);
  mkdirSync(opts.dataRoot, { recursive: true });
  const root = mkdtempSync(join(opts.dataRoot, 'etcd-'));
  const token = `coffer-bench-${process.pid}-${Date.now().toString(36)}`;
  const members: EtcdMember[] = [];
  const running: Running[] = [];
  for (let i = 0; i < opts.size; i++) {
    const name = `m${i + 1}`;
    const clientPort = await freePort();
    const listenPeerPort = await freePort();
    const dataDir = join(root, name);
    const peerUrl = opts.peerAdvertise ? opts.peerAdvertise(i, listenPeerPort) : `http://127.0.0.1:${listenPeerPort}`;
    members.push({ name, clientUrl: `http://127.0.0.1:${clientPort}`, peerUrl, listenPeerPort, pid: 0, dataDir, logFile: join(root, `${name}.log`) });
    running.push({ spec: { name, clientPort, listenPeerPort, dataDir, logFile: join(root, `${name}.log`) }, child: null, exited: Promise.resolve() });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');

  const launch = (i: number): void => {
    const m = members[i] as EtcdMember;
    const r = running[i] as Running;
    mkdirSync(m.dataDir, { recursive: true });
    // Appending, so a restarted member's log follows its first life.
    const log = openSync(m.logFile, 'a');
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', `http://127.0.0.1:${m.listenPeerPort}`,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', token,
      // Ignored by etcd once the data directory holds a WAL, so a restart rejoins as before.
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'warn',
      ...(opts.extraArgs ?? []),
    ];
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    r.child = child;
    r.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    m.pid = child.pid as number;
  };

  const alive = (i: number): boolean => {
    const c = running[i]?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  };

  const killMember = async (i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const r = running[i] as Running;
    if (!alive(i)) return;
    process.kill(members[i]!.pid, signal);
    const done = await Promise.race([r.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done && alive(i)) {
      process.kill(members[i]!.pid, 'SIGKILL');
      await r.exited;
    }
  };

  const logTail = (i: number): string => {
    try {
      return readFileSync(members[i]!.logFile, 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };

  const waitHealthy = async (indices: number[], timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = indices.find((i) => !alive(i));
      if (dead !== undefined) throw new Error(`etcd ${members[dead]!.name} exited during start:\n${logTail(dead)}`);
      const health = await Promise.all(indices.map((i) => etcdHealthy(members[i]!.clientUrl)));
      if (health.every(Boolean)) return;
      if (Date.now() > deadline) {
        const sick = indices.filter((_, k) => !health[k]);
        throw new Error(`etcd not healthy after ${timeoutMs} ms: ${sick.map((i) => `${members[i]!.name}:\n${logTail(i)}`).join('\n')}`);
      }
      await sleep(200);
    }
  };

  // If the caller exits before stop() (a signal mid-run), the data directories still go.
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  // keepData: a failed fault test keeps the members' data and logs for its report.
  const stop = async (stopOpts: { keepData?: boolean } = {}): Promise<void> => {
    await Promise.all(members.map((_, i) => killMember(i, 'SIGTERM')));
    if (stopOpts.keepData !== true) removeRoot();
    process.removeListener('exit', removeRoot);
  };

  try {
    progress(`etcd: starting ${opts.size} member${opts.size > 1 ? 's' : ''} (${ETCD_BIN}) under ${root}`);
    for (let i = 0; i < opts.size; i++) launch(i);
    await waitHealthy(members.map((_, i) => i), opts.readyTimeoutMs ?? 30_000);
    progress(`etcd: healthy, clients at ${members.map((m) => m.clientUrl).join(' ')}`);
  } catch (err) {
    await stop();
    throw err;
  }

  const leaderClientUrl = async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const [i, m] of members.entries()) {
        if (!alive(i)) continue;
        // uint64 fields arrive as strings from the gateway; compare them as strings.
        const s = await etcdPost(m.clientUrl, '/v3/maintenance/status', {}).catch(() => null);
        if (s && s.leader && s.header?.member_id === s.leader) return m.clientUrl;
      }
      if (Date.now() > deadline) throw new Error('etcd: no member reports itself leader');
      await sleep(100);
    }
  };

  return {
    members,
    root,
    stop,
    leaderClientUrl,
    killMember,
    restartMember: async (i: number) => {
      if (alive(i)) return;
      launch(i);
      await waitHealthy([i], opts.readyTimeoutMs ?? 30_000);
    },
  };
}
