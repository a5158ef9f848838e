// Shared pieces of the crash/kill fault tests (CRASH-POINTS, DUR-KILL, FSYNC-AUDIT): a node started from
// its own HCL config with extra environment (failpoints), a write load of unique values that records
// which writes were acknowledged, and the check that every acknowledged write is readable.
// Writes go to sys/raw (raw_storage_endpoint = true): one storage write per request, nothing else.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiUrl, type ClusterNodeSpec } from './cluster.js';
import { COFFER_BIN, http, type ServerProcess } from './server-process.js';

/** A restart on a busy 2-core machine (three nodes booting at once) may take longer than the usual 20 s. */
const READY_MS = 60_000;

/**
 * `coffer server -config=<path>`; resolves once it listens. Unlike spawnCoffer, a process that is not ready
 * in time is killed (by PID) rather than left running, and the wait is READY_MS.
 */
export function spawnServer(configPath: string, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [COFFER_BIN, 'server', `-config=${configPath}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COFFER_LOG_LEVEL: process.env.COFFER_FAULT_LOG_LEVEL ?? 'warn', ...env } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill('SIGKILL');
      reject(new Error(`server not listening after ${READY_MS} ms; stderr:\n${err}`));
    }, READY_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it was ready; stderr:\n${err}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Listening on (\S+?);/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1] as string, child, stderr: () => err, stdout: () => out, kill });
      }
    });
  });
}

/** Same config as test/helpers/cluster.ts startClusterNode, started with spawnServer. */
export function startFaultClusterNode(spec: ClusterNodeSpec, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const configPath = join(spec.dir, 'coffer.hcl');
  writeFileSync(
    configPath,
    `storage "raft" {\n  path = "${join(spec.dir, 'data')}"\n  node_id = "${spec.nodeId}"\n}\n` +
      `listener "tcp" {\n  address = "127.0.0.1:${spec.apiPort}"\n  tls_disable = true\n}\n` +
      `api_addr = "${apiUrl(spec)}"\ncluster_addr = "https://127.0.0.1:${spec.clusterPort}"\nraw_storage_endpoint = true\n`,
  );
  return spawnServer(configPath, env);
}

/** Starts `coffer server` on 127.0.0.1 for `dir` with `env` added to the environment. */
export function startFaultNode(dir: string, opts: { env?: NodeJS.ProcessEnv; extraConfig?: string; nodeId?: string } = {}): Promise<ServerProcess> {
  const configPath = join(dir, 'coffer.hcl');
  writeFileSync(
    configPath,
    `storage "raft" {\n  path = "${join(dir, 'data')}"\n  node_id = "${opts.nodeId ?? 'node1'}"\n${opts.extraConfig ?? ''}}\n` +
      `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nraw_storage_endpoint = true\n`,
  );
  return spawnServer(configPath, opts.env ?? {});
}

/** Resolves when the child process has exited (at once if it already has). */
export function exited(p: ServerProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.child.once('exit', () => resolve()));
}

export interface LoadOptions {
  /** Current target URL for writer w (it may change between requests, e.g. after a failover). */
  target(w: number): string | null;
  token: string;
  writers: number;
  /** Key prefix; keys are `${prefix}/w${w}/k${i}`, values unique per key and write. */
  prefix: string;
  /** Called by writer 0 every `everyOps` writes (e.g. a keyring rotation), errors ignored. */
  sideOp?: { everyOps: number; run(url: string): Promise<unknown> };
  /** Pause after a failed request (connection refused while a node restarts). */
  retryMs?: number;
}

/** Concurrent writers of unique values; `acked` holds exactly the writes answered 204. */
export class WriteLoad {
  readonly acked = new Map<string, string>();
  attempted = 0;
  failed = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly o: LoadOptions) {
    this.done = Promise.all(Array.from({ length: o.writers }, (_, w) => this.writer(w))).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async writer(w: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const url = this.o.target(w);
      if (url === null) {
        await sleepMs(this.o.retryMs ?? 50);
        continue;
      }
      if (w === 0 && this.o.sideOp !== undefined && i > 0 && i % this.o.sideOp.everyOps === 0) await this.o.sideOp.run(url).catch(() => undefined);
      const key = `${this.o.prefix}/w${w}/k${i}`;
      const value = `${this.o.prefix}-${w}-${i}-${Math.random().toString(36).slice(2)}`;
      this.attempted++;
      try {
        const r = await http(url, 'PUT', `sys/raw/${key}`, { token: this.o.token, body: { value } });
        if (r.status === 204) this.acked.set(key, value);
        else this.failed++;
      } catch {
        this.failed++; // refused or reset: the node is gone or restarting
        await sleepMs(this.o.retryMs ?? 50);
      }
    }
  }
}

/**
 * Reads every acknowledged write back on `url` (linearizable); returns the keys missing or holding another
 * value, each with the status it got. `local`: the node must answer itself (X-Vault-No-Request-Forwarding;
 * a node that could not would answer 307, counted as missing), so what is checked is that node's own FSM.
 */
export async function lostWrites(url: string, token: string, acked: Map<string, string>, opts: { parallel?: number; local?: boolean } = {}): Promise<string[]> {
  const entries = [...acked];
  const lost: string[] = [];
  const headers: Record<string, string> = { 'X-Coffer-Consistency': 'linearizable', ...(opts.local ? { 'X-Vault-No-Request-Forwarding': 'true' } : {}) };
  let next = 0;
  const reader = async () => {
    while (next < entries.length) {
      const [key, value] = entries[next++]!;
      let r = await http(url, 'GET', `sys/raw/${key}`, { token, headers });
      // A 5xx (no leader confirmed yet; on a standby, also a 503 while it has no fresh leader contact,
      // since sys/raw follows the standby consistency rules) is not an answer about the key: ask again, for
      // up to ~10 s.
      for (let retry = 0; retry < 50 && r.status >= 500; retry++) {
        await sleepMs(200);
        r = await http(url, 'GET', `sys/raw/${key}`, { token, headers });
      }
      if (r.status !== 200 || r.body?.data?.value !== value) lost.push(`${key} (${r.status})`);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 8 }, reader));
  return lost;
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32) for choosing failpoints and kill instants reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fault tests' seed: COFFER_FAULT_SEED, else the first 8 hex digits of the checked-out commit, else today. */
export async function faultSeed(): Promise<{ seed: number; from: string }> {
  const env = process.env.COFFER_FAULT_SEED;
  if (env !== undefined && /^\d+$/.test(env)) return { seed: Number(env), from: 'COFFER_FAULT_SEED' };
  try {
    const { execFileSync } = await import('node:child_process');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (/^[0-9a-f]{8}/.test(head)) return { seed: parseInt(head.slice(0, 8), 16), from: `commit ${head.slice(0, 8)}` };
  } catch {
    // not a git checkout: fall through
  }
  return { seed: Math.floor(Date.now() / 86_400_000), from: 'day number' };
}
