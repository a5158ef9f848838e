// A Coffer dev server as a child process for benches, with its PID for CPU and memory readings.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { launcherSpawn } from '../../test/helpers/server-process.js';

export interface BenchServer {
  url: string;
  token: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** Arguments for node itself, before the script (e.g. --cpu-prof; Node 20 refuses it in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** Extra environment for the server process. */
  env?: Record<string, string>;
}

export async function startDevServer(token = 'bench-root', opts: DevServerOptions = {}): Promise<BenchServer> {
  // Through the `coffer` launcher, as a user starts it (bin/coffer: its malloc settings count in the figures).
  const run = launcherSpawn(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${token}`], { ...process.env, COFFER_LOG_LEVEL: 'warn', ...(opts.env ?? {}) }, opts.nodeArgs ?? []);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'], env: run.env });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // nobody else holds its PID
      reject(new Error(`dev server did not start: ${err}`));
    }, 20_000);
    child.once('exit', (code) => reject(new Error(`dev server exited ${code}: ${err}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /export VAULT_ADDR='(\S+)'/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  });
  return {
    url,
    token,
    pid: child.pid as number,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident and peak resident memory of a process, from /proc (Linux). */
export function memoryOf(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN');
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/** CPU seconds (user + system, all threads) a process has used, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

export function machineLine(): string {
  const os = (globalThis as { process: NodeJS.Process }).process;
  return `${os.platform} ${os.arch}, node ${os.version}`;
}
