// Resident memory of an idle node holding many KV v2 secrets: a single `coffer server -config` node
// (Raft storage in a temp directory), filled through the API by many concurrent writes, then left
// idle; measured again after a restart on the same data (what a node holding them costs from boot).
import { readFileSync } from 'node:fs';
import { healthStatus, sleep, unsealWith, until } from '../../test/helpers/cluster.js';
import { http, startServerProcess, tempDir, type ServerProcess } from '../../test/helpers/server-process.js';
import { stopChildren } from '../lib/children.js';
import { fill } from '../lib/fill.js';
import { readMemory } from '../lib/rss.js';
import { WRITE_BODY } from './shapes.js';
import type { Family, MemoryResult, Settings } from './types.js';

const TARGET_SECRETS = 100_000;
const FILL_CONCURRENCY = 256;

export const memoryFamily: Family = {
  name: 'memory',
  title: 'Idle node holding many secrets',
  description: `One node (not dev mode: Raft storage on disk) filled with KV v2 secrets (100-byte values) by ${FILL_CONCURRENCY} concurrent writers, then idle; VmRSS (anonymous + file-backed) once steady (within 2 MiB for 10 s) after the fill and after a restart on the same data.`,
  measureMemory: true,
  points: () => [],
  rows: () => [],
  targets: [
    {
      what: `idle node holding ${TARGET_SECRETS.toLocaleString('en-US')} KV v2 secrets < 300 MiB RSS`,
      evaluate: (r) => {
        const m = r.memory;
        if (!m) return null;
        const worst = Math.max(m.afterFill.rssMiB, m.afterRestart.rssMiB);
        const text = `${m.afterFill.rssMiB.toFixed(0)} MiB after the fill, ${m.afterRestart.rssMiB.toFixed(0)} MiB after a restart`;
        if (m.secrets !== TARGET_SECRETS) return { measured: `${text} (${m.secrets.toLocaleString('en-US')} secrets, not the target's count)`, pass: null };
        return { measured: text, pass: worst < 300 };
      },
    },
  ],
};

async function startUnsealed(dir: string, keys: string[] | null): Promise<{ proc: ServerProcess; keys: string[]; root: string | null }> {
  const proc = await startServerProcess(dir);
  let root: string | null = null;
  if (!keys) {
    const init = await http(proc.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    keys = init.body.keys_base64 as string[];
    root = init.body.root_token as string;
  }
  await unsealWith(proc.url, keys);
  await until('node active', 30_000, async () => (await healthStatus(proc.url)) === 200);
  return { proc, keys, root };
}

/** Resident MiB of the LMDB data file's mappings (file-backed pages of coffer.mdb), for the progress lines. */
function lmdbResidentMiB(pid: number): number {
  let kb = 0;
  let inLmdb = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) inLmdb = (head[1] ?? '').endsWith('coffer.mdb');
    else if (inLmdb && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kb / 1024;
}

const breakdown = (pid: number, m: { rssMiB: number; anonMiB: number; fileMiB: number }) =>
  `${m.rssMiB.toFixed(0)} MiB (anon ${m.anonMiB.toFixed(0)}, file ${m.fileMiB.toFixed(0)} of which LMDB ${lmdbResidentMiB(pid).toFixed(0)})`;

const memOf = (pid: number) => {
  const m = readMemory(pid);
  if (!m) throw new Error(`no /proc entry for ${pid}`);
  return { rssMiB: m.rssMiB, anonMiB: m.anonMiB, fileMiB: m.fileMiB };
};

const STEADY_SAMPLES = 11; // one a second: RSS within STEADY_MIB for 10 s
const STEADY_MIB = 2;
const STEADY_WAIT_MAX_MS = 40_000;

/**
 * RSS of an idle node: read once `settleMs` after the last request, then once a second until it has
 * stayed within 2 MiB for 10 s (at most 40 s more). Right after a burst the node is still settling: V8's
 * memory reducer and the idle heap trim (runtime/heap-trim.ts: a GC 2-4 s after the last request, a
 * second one 6 s later) move RSS for about 10 s, with a flat stretch between the two GCs. The first
 * reading is printed too, so runs from before the trim stay comparable.
 */
async function idleMemory(pid: number, settleMs: number, what: string, progress: (line: string) => void) {
  await sleep(settleMs);
  const first = memOf(pid);
  const recent = [first];
  const start = Date.now();
  while (Date.now() - start < STEADY_WAIT_MAX_MS) {
    const rss = recent.map((m) => m.rssMiB);
    if (recent.length >= STEADY_SAMPLES && Math.max(...rss) - Math.min(...rss) <= STEADY_MIB) break;
    await sleep(1000);
    recent.push(memOf(pid));
    if (recent.length > STEADY_SAMPLES) recent.shift();
  }
  const settled = recent[recent.length - 1] as typeof first;
  const waited = (settleMs + Date.now() - start) / 1000;
  progress(`memory: ${what}: ${first.rssMiB.toFixed(0)} MiB ${settleMs / 1000} s after the last request, ${breakdown(pid, settled)} steady ${waited.toFixed(0)} s after it`);
  return settled;
}

export async function measureIdleMemory(s: Settings, progress: (line: string) => void): Promise<MemoryResult> {
  const dir = tempDir('bench-mem');
  process.once('exit', dir.remove);
  let proc: ServerProcess | null = null;
  const settleMs = s.quick ? 1500 : 5000;
  try {
    const first = await startUnsealed(dir.path, null);
    proc = first.proc;
    const root = first.root as string;
    const idleEmpty = await idleMemory(proc.child.pid as number, settleMs, 'empty node', progress);
    progress(`memory: empty idle node ${idleEmpty.rssMiB.toFixed(0)} MiB; filling ${s.secrets.toLocaleString('en-US')} secrets with ${FILL_CONCURRENCY} concurrent writers`);
    const mount = await http(proc.url, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    if (mount.status !== 204 && mount.status !== 200) throw new Error(`mounting secret/ answered ${mount.status}: ${mount.text}`);
    const filled = await fill({
      url: proc.url,
      count: s.secrets,
      concurrency: FILL_CONCURRENCY,
      method: 'PUT',
      headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json' },
      request: (i) => ({ path: `/v1/secret/data/fill/${i}`, body: WRITE_BODY }),
      label: 'memory fill',
      timeoutMs: Math.max(120_000, s.secrets * 5),
    });
    progress(`memory: filled in ${filled.seconds.toFixed(1)} s (${Math.round(filled.perSec)}/s, ${filled.retries} retries); waiting for idle RSS`);
    const afterFill = await idleMemory(proc.child.pid as number, settleMs, 'after the fill', progress);
    progress('memory: restarting on the same data');
    await proc.kill('SIGTERM');
    proc = null;
    // Two tries: on the shared box a start now and then ends before it is ready (exit 0, nothing logged).
    const second = await startUnsealed(dir.path, first.keys).catch(async (err: Error) => {
      progress(`memory: restart failed (${err.message.split('\n')[0]}); once more`);
      await stopChildren(dir.path);
      return startUnsealed(dir.path, first.keys);
    });
    proc = second.proc;
    const last = await http(proc.url, 'GET', `secret/data/fill/${s.secrets - 1}`, { token: root });
    if (last.status !== 200) throw new Error(`after the restart, the last secret answered ${last.status}`);
    const afterRestart = await idleMemory(proc.child.pid as number, settleMs, 'after the restart', progress);
    return { secrets: s.secrets, fillSeconds: filled.seconds, fillPerSec: filled.perSec, fillConcurrency: FILL_CONCURRENCY, afterFill, afterRestart, idleEmptyRssMiB: idleEmpty.rssMiB };
  } finally {
    await proc?.kill('SIGTERM');
    await stopChildren(dir.path); // a start that timed out left its process to us
    dir.remove();
    process.removeListener('exit', dir.remove);
  }
}
