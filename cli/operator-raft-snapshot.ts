// `coffer operator raft snapshot save|restore` and `coffer operator raft autopilot state|get-config|set-config`.
// save streams the response body to the file (progress in bytes on stderr), via a temp file renamed at
// the end so a failed save never leaves a truncated FILE; restore streams the file as the request body
// (a standby's 307 is followed by hand: a streamed body cannot be replayed by fetch).
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, cliToken } from './common.js';
import { printJson, printTable } from './output.js';

interface Deps {
  addr(): string;
  call(method: string, path: string, body?: unknown): Promise<any>;
}

function headers(): Record<string, string> {
  const h: Record<string, string> = { 'X-Vault-Request': 'true' };
  const token = cliToken();
  if (token) h['X-Vault-Token'] = token;
  return h;
}

async function apiError(method: string, url: string, res: Response): Promise<CliError> {
  const text = await res.text();
  let errors = text;
  try {
    const j = JSON.parse(text) as { errors?: string[] };
    if (Array.isArray(j.errors)) errors = j.errors.join('\n');
  } catch {
    /* not JSON */
  }
  return new CliError(`Error making API request.\n\nURL: ${method} ${url}\nCode: ${res.status}. Errors:\n\n* ${errors}`, 2);
}

function progress(bytes: number, final = false): void {
  if (!process.stderr.isTTY && !final) return;
  process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}${(bytes / 1024).toFixed(1)} KiB${final ? '\n' : ''}`);
}

export async function snapshotSave(base: string, file: string): Promise<number> {
  const url = `${base}/v1/sys/storage/raft/snapshot`;
  let res: Response;
  try {
    res = await fetch(url, { headers: headers() });
  } catch (e) {
    throw new CliError(`Error: GET ${url}: ${(e as Error).message}`, 2);
  }
  if (!res.ok || res.body === null) throw await apiError('GET', url, res);
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  let bytes = 0;
  let lastShown = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (bytes - lastShown >= 256 * 1024) {
        lastShown = bytes;
        progress(bytes);
      }
    }
    out.end();
    await finished(out);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw new CliError(`Error: the snapshot stream broke after ${bytes} bytes: ${(e as Error).message}`, 2);
  }
  renameSync(tmp, file);
  process.stderr.write(`Snapshot saved: ${bytes} bytes\n`);
  return bytes;
}

export async function snapshotRestore(base: string, file: string, force: boolean): Promise<void> {
  const path = `sys/storage/raft/${force ? 'snapshot-force' : 'snapshot'}`;
  const size = statSync(file).size;
  let url = `${base}/v1/${path}`;
  for (let hop = 0; hop < 3; hop++) {
    let sent = 0;
    const stream = createReadStream(file);
    stream.on('data', (c) => {
      sent += c.length;
      progress(sent);
    });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { ...headers(), 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body: Readable.toWeb(stream) as unknown as BodyInit,
        redirect: 'manual',
        duplex: 'half',
      } as RequestInit);
    } catch (e) {
      stream.destroy();
      throw new CliError(`Error: POST ${url}: ${(e as Error).message}`, 2);
    }
    stream.destroy();
    if (res.status === 307 && res.headers.get('location')) {
      await res.arrayBuffer();
      url = res.headers.get('location') as string;
      continue;
    }
    if (!res.ok) throw await apiError('POST', url, res);
    await res.arrayBuffer();
    return;
  }
  throw new CliError(`Error: too many redirects restoring the snapshot`, 2);
}

export function registerSnapshotAutopilot(raft: Command, deps: Deps): void {
  const snapshot = raft.command('snapshot').description('save and restore Raft snapshots');
  snapshot
    .command('save')
    .description('save a snapshot of the cluster (streamed from the active node) to FILE')
    .argument('<file>', 'where to write the snapshot')
    .action(async (file: string) => {
      await snapshotSave(deps.addr(), file);
    });
  snapshot
    .command('restore')
    .description('restore a snapshot FILE into the cluster (the nodes then seal: unseal with the snapshot\'s keys)')
    .argument('<file>', 'the snapshot file')
    .option('--force', "restore even if the snapshot's unseal keys differ from this cluster's")
    .action(async (file: string, opts: { force?: boolean }) => {
      await snapshotRestore(deps.addr(), file, opts.force === true);
      process.stdout.write('Snapshot restored. The cluster is sealed: unseal it with the snapshot\'s unseal keys.\n');
    });

  const autopilot = raft.command('autopilot').description('autopilot state and configuration');
  autopilot
    .command('state')
    .description('health of the servers as the active node sees them')
    .option('--format <format>', 'table or json')
    .action(async (opts: { format?: string }) => {
      const r = await deps.call('GET', 'sys/storage/raft/autopilot/state');
      if ((opts.format ?? process.env.VAULT_FORMAT) === 'json') return printJson(r);
      const d = r.data;
      printTable(['Key', 'Value'], [
        ['Healthy', String(d.healthy)],
        ['Failure Tolerance', String(d.failure_tolerance)],
        ['Leader', d.leader],
        ['Voters', (d.voters as string[]).join(', ')],
        ['Non Voters', ((d.non_voters ?? []) as string[]).join(', ')],
      ]);
      const rows = Object.values(d.servers as Record<string, any>).map((s) => [s.id, s.address, s.status, String(s.healthy), String(s.last_contact ?? ''), String(s.last_index)]);
      printTable(['Server', 'Address', 'Status', 'Healthy', 'Last Contact', 'Last Index'], rows);
    });
  autopilot
    .command('get-config')
    .description('the effective autopilot configuration')
    .option('--format <format>', 'table or json')
    .action(async (opts: { format?: string }) => {
      const r = await deps.call('GET', 'sys/storage/raft/autopilot/configuration');
      if ((opts.format ?? process.env.VAULT_FORMAT) === 'json') return printJson(r);
      printTable(['Key', 'Value'], Object.entries(r.data as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    });
  autopilot
    .command('set-config')
    .description('change autopilot settings (only the given ones)')
    .option('--cleanup-dead-servers <bool>')
    .option('--last-contact-threshold <duration>')
    .option('--dead-server-last-contact-threshold <duration>')
    .option('--max-trailing-logs <n>')
    .option('--min-quorum <n>')
    .option('--server-stabilization-time <duration>')
    .action(async (opts: Record<string, string | undefined>) => {
      const body: Record<string, unknown> = {};
      const map: Record<string, string> = {
        cleanupDeadServers: 'cleanup_dead_servers',
        lastContactThreshold: 'last_contact_threshold',
        deadServerLastContactThreshold: 'dead_server_last_contact_threshold',
        maxTrailingLogs: 'max_trailing_logs',
        minQuorum: 'min_quorum',
        serverStabilizationTime: 'server_stabilization_time',
      };
      for (const [k, f] of Object.entries(map)) if (opts[k] !== undefined) body[f] = opts[k];
      await deps.call('POST', 'sys/storage/raft/autopilot/configuration', body);
      process.stdout.write('Configuration updated\n');
    });
}
