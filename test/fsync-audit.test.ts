// FSYNC-AUDIT (RELIABILITY.md §6, §7.2): a single real node runs under strace; every client ack (the
// "HTTP/1.1 204" response written on the client's socket) must come after a completed
// fdatasync/fsync/msync of the LMDB file that started after the write's data could have been written.
// This catches the lmdb-js overlappingSync trap (a transaction resolves when committed, before its flush),
// which kill -9 tests cannot see: the page cache survives them.
// Each write has a unique key; the first write of that key into the LMDB file (pwrite/writev, strace -s 4096
// shows the page) is the log commit that holds it. Its ack (the n-th 204 on the client's keep-alive
// connection answers the n-th key that client sent) must come after a sync of the LMDB file that STARTED
// after that write: lmdb-js with overlappingSync resolves a commit before that sync (the trap).
// Control (§7.3): the same node under eatmydata (LD_PRELOAD makes the sync calls no-ops) must show acks
// without a sync, else the audit is blind. Needs the Debian packages strace and eatmydata (.ci/run).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sleepMs } from './helpers/fault-load.js';
import { COFFER_BIN, http, tempDir } from './helpers/server-process.js';

const CLIENTS = 4;
const WRITES_PER_CLIENT = 40;

interface Audit {
  /** Acks matched to the commit that wrote their key. */
  acks: number;
  unsynced: number;
  syncs: number;
}

/** Client side: per connection (client port), the storage keys written, in order. */
type Sent = Map<number, string[]>;

/**
 * Parses `strace -f -tt -T -yy -s 4096` output. For the n-th 204 on a connection (the ack of the n-th key
 * that client wrote), the first write of that key into the LMDB file is the commit that made it; a sync of
 * the LMDB file must have started after that write and finished before the ack.
 */
export function audit(trace: string, dbPath: string, sent: Sent): Audit {
  const secs = (hms: string) => {
    const [h, m, s] = hms.split(':');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  const keys = new Set([...sent.values()].flat());
  const firstWrite = new Map<string, number>();
  const syncs: { start: number; end: number }[] = [];
  const acks = new Map<number, number[]>(); // client port -> times of 204s on that connection
  const openSync = new Map<string, number>(); // pid -> start of an unfinished sync of the LMDB file
  const dbFd = `<${dbPath}>`;
  for (const line of trace.split('\n')) {
    const m = /^(\d+)\s+(\d\d:\d\d:\d\d\.\d+) (.*)$/.exec(line);
    if (m === null) continue;
    const [, pid, hms, rest] = m as unknown as [string, string, string, string];
    const t = secs(hms);
    if (rest.startsWith('<... ')) {
      const resumed = /^<\.\.\. (\w+) resumed>/.exec(rest)?.[1];
      const start = openSync.get(pid);
      if (resumed !== undefined && /^(fdatasync|fsync|msync)$/.test(resumed) && start !== undefined && / = 0/.test(rest)) syncs.push({ start, end: t });
      openSync.delete(pid);
      continue;
    }
    const call = /^(\w+)\(/.exec(rest)?.[1];
    if (call === undefined) continue;
    if (/^(fdatasync|fsync|msync)$/.test(call) && rest.includes(dbFd)) {
      if (rest.includes('<unfinished ...>')) openSync.set(pid, t);
      else if (/ = 0 <([\d.]+)>/.test(rest)) syncs.push({ start: t, end: t + Number(/ = 0 <([\d.]+)>/.exec(rest)![1]) });
    } else if (/^(pwrite64|pwritev|writev|write)$/.test(call) && rest.includes(dbFd)) {
      for (const k of rest.match(/audit\/c\d+\/k\d{4}/g) ?? []) if (keys.has(k) && !firstWrite.has(k)) firstWrite.set(k, t);
    } else if (/^writev?$/.test(call) && rest.includes('"HTTP/1.1 204 ')) {
      const port = /^\w+\(\d+<TCP:\[[\d.]+:\d+->[\d.]+:(\d+)\]>/.exec(rest)?.[1];
      if (port !== undefined) (acks.get(Number(port)) ?? acks.set(Number(port), []).get(Number(port))!).push(t);
    }
  }
  let checked = 0;
  let unsynced = 0;
  for (const [port, list] of sent) {
    const times = acks.get(port) ?? [];
    list.forEach((key, i) => {
      const ack = times[i];
      const written = firstWrite.get(key);
      if (ack === undefined || written === undefined) return;
      checked++;
      if (!syncs.some((s) => s.start > written && s.end <= ack)) unsynced++;
    });
  }
  return { acks: checked, unsynced, syncs: syncs.length };
}

/** Runs one node under strace (optionally through eatmydata), drives CLIENTS sequential writers, returns the audit. */
async function tracedRun(name: string, wrapper: string[]): Promise<Audit> {
  const dir = tempDir(`fsync-audit-${name}`);
  let strace: ChildProcess | null = null;
  let nodePid: number | null = null;
  try {
    const dataDir = join(dir.path, 'data');
    const configPath = join(dir.path, 'coffer.hcl');
    writeFileSync(configPath, `storage "raft" {\n  path = "${dataDir}"\n  node_id = "node1"\n}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nraw_storage_endpoint = true\n`);
    const traceFile = join(dir.path, 'strace.out');
    const args = ['-f', '-tt', '-T', '-yy', '-s', '4096', '-e', 'trace=pwrite64,pwritev,write,writev,fdatasync,fsync,msync', '-o', traceFile, ...wrapper, process.execPath, COFFER_BIN, 'server', `-config=${configPath}`];
    const child = spawn('strace', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COFFER_LOG_LEVEL: 'warn' } });
    strace = child;
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Listening on (\S+?);/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`traced node did not start: ${err.slice(-2000)}`);
      await sleepMs(100);
    }
    // The traced process is strace's child (eatmydata execs into node under the same PID).
    nodePid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    const url = /Listening on (\S+?);/.exec(out)![1]!;
    const init = await http(url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200);
    await http(url, 'PUT', 'sys/unseal', { body: { key: init.body.keys_base64[0] } });
    const token: string = init.body.root_token;
    let acked = 0;
    const sent: Sent = new Map();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        // One keep-alive connection per client, one request at a time: the audit's ordering argument.
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; i < WRITES_PER_CLIENT; i++) {
          const key = `audit/c${c}/k${String(i).padStart(4, '0')}`;
          const { status, port } = await put(agent, `${url}/v1/sys/raw/${key}`, token, JSON.stringify({ value: `v-${c}-${i}` }));
          if (status === 204) acked++;
          (sent.get(port) ?? sent.set(port, []).get(port)!).push(key);
        }
        agent.destroy();
      }),
    );
    assert.equal(acked, CLIENTS * WRITES_PER_CLIENT);
    process.kill(nodePid, 'SIGKILL');
    nodePid = null;
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    strace = null;
    return audit(readFileSync(traceFile, 'utf8'), join(dataDir, 'coffer.mdb'), sent);
  } finally {
    if (nodePid !== null) process.kill(nodePid, 'SIGKILL');
    if (strace !== null && strace.exitCode === null) strace.kill('SIGKILL');
    dir.remove();
  }
}

/** One PUT on the agent's single keep-alive socket; also returns that socket's local port (the connection). */
function put(agent: Agent, url: string, token: string, body: string): Promise<{ status: number; port: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', agent, headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const port = res.socket.localPort ?? 0;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, port }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('FSYNC-AUDIT: every ack follows a completed sync of the LMDB file (strace)', { timeout: 240_000 }, () => {

  it('acks only after a completed sync; the eatmydata control is caught', async () => {
    const real = await tracedRun('real', []);
    console.log(`# acks without a preceding completed sync: ${real.unsynced} of ${real.acks} (${real.syncs} syncs of the LMDB file)`);
    const control = await tracedRun('eatmydata', ['eatmydata']);
    console.log(`# control under eatmydata: acks without a preceding completed sync: ${control.unsynced} of ${control.acks} (${control.syncs} syncs; > 0 expected, else the audit is blind)`);
    assert.ok(real.acks >= CLIENTS * (WRITES_PER_CLIENT - 1), `only ${real.acks} acks seen in the trace`);
    assert.equal(real.unsynced, 0);
    assert.ok(control.acks >= CLIENTS * (WRITES_PER_CLIENT - 1), `only ${control.acks} acks seen in the control trace`);
    assert.ok(control.unsynced > 0, 'the audit did not notice a node whose syncs are no-ops');
  });
});
