// Real server processes for end-to-end tests: `coffer server -config` as a child process on 127.0.0.1.
import { request as httpRequest } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const COFFER_BIN = fileURLToPath(new URL('../../cli/coffer.js', import.meta.url));
/** The `coffer` command as installed (package.json "bin"): a shell launcher that execs node on COFFER_BIN. */
export const COFFER_LAUNCHER = fileURLToPath(new URL('../../../bin/coffer', import.meta.url));

/**
 * Command and environment that start the CLI the way a user's `coffer` does: through the launcher (its
 * malloc settings included), on the node running this process, with `nodeArgs` for node itself.
 */
export function launcherSpawn(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return { command: COFFER_LAUNCHER, args, env: { ...env, COFFER_NODE: process.execPath, COFFER_NODE_ARGS: nodeArgs.join(' ') } };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `coffer-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its logs), for failure messages. */
  stderr(): string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Writes a config for `dataDir` and starts `coffer server -config` on an ephemeral port. */
export async function startServerProcess(dataDir: string, extraConfig = '', listenerConfig = '', env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const configPath = join(dataDir, 'coffer.hcl');
  writeFileSync(
    configPath,
    `storage "raft" {\n  path = "${join(dataDir, 'data')}"\n  node_id = "node1"\n}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n${listenerConfig}}\nraw_storage_endpoint = true\n${extraConfig}`,
  );
  return spawnCoffer(['server', `-config=${configPath}`], /Listening on (\S+?);/, env);
}

/** Spawns the CLI and resolves once stdout matches `ready` (group 1 is the URL). */
export function spawnCoffer(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const run = launcherSpawn(args, { ...process.env, COFFER_LOG_LEVEL: 'warn', ...env }, nodeArgs);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'], env: run.env });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody gets a handle on a process that never became ready: kill it here, or it outlives the test.
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s; stderr:\n${err}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready; stderr:\n${err}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1] as string,
          child,
          stderr: () => err,
          stdout: () => out,
          kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    });
  });
}

/** Raw HTTP for asserting exact statuses and bodies. */
export async function http(url: string, method: string, path: string, opts: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['X-Vault-Token'] = opts.token;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${url}/v1/${path}`, { method, headers, ...(body !== undefined ? { body: body as string } : {}) });
  const text = await res.text();
  let json: any = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers, text };
}

/**
 * PUTs `body` with node:http in 1 MiB pieces (Content-Length, or chunked when asked) and resolves with the
 * answer even if the server stops reading early (it answers 413 and closes): fetch would surface that as
 * a socket error instead of the status.
 */
export function sendBody(url: string, path: string, token: string, body: Buffer, opts: { chunked?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string | number> = { 'X-Vault-Token': token, 'Content-Type': 'application/json', ...(opts.headers ?? {}) };
    if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
    else headers['Content-Length'] = body.length;
    const req = httpRequest(`${url}/v1/${path}`, { method: 'PUT', headers }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    // Once the answer is in, the server closing the socket under our upload is expected, not a failure.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    let off = 0;
    const pump = () => {
      while (off < body.length) {
        const piece = body.subarray(off, off + 1024 * 1024);
        off += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Runs the CLI with a clean environment (no inherited VAULT_/COFFER_ variables, a temp HOME). */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAULT_|COFFER_)/.test(k))) as Record<string, string>;
  const child = spawn(process.execPath, [COFFER_BIN, ...args], { env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coffer ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
