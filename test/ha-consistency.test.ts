// Standby consistency options with real processes and a nemesis proxy on every peer link
// (docs/ha-standby-reads.md, API.md §3.4, RELIABILITY.md §7.4):
//  1. `disable_standby_reads = true`: that standby forwards every read; the answer is the active node's
//     and a read of a key just written on the active node is never stale.
//  2. A lagging standby (it hears nothing from the leader: deterministic lag) and X-Vault-Index:
//     `X-Vault-Inconsistent: fail` → 412 at once; `await-state` → waits, then 412; `forward-active-node`
//     → the active node answers; healed during an await → the standby serves the fresh value itself.
//  3. A partitioned standby (cut from every peer, Raft and forwarding): after ~2 election timeouts without
//     leader contact it refuses local reads with 503 (bounded staleness), and refuses linearizable reads
//     with 503 in bounded time instead of answering stale or hanging; after the heal it serves again.
// n1 is active; n2 is a reads-enabled standby (best_effort_wal_wait_duration = 4s); n3 has
// disable_standby_reads = true.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { sleep, until } from './helpers/cluster.js';
import { startProxiedCluster, type ProxiedCluster } from './helpers/ha-proxied.js';

interface Res {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

/** A request that must finish: an answer that takes longer than `limitMs` is a hang and fails the test. */
async function call(url: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; limitMs?: number } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['X-Vault-Token'] = opts.token;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const started = performance.now();
  const res = await fetch(`${url}/v1/${path}`, {
    method,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(opts.limitMs ?? 15_000),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: any = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers, ms: Math.round(performance.now() - started) };
}

const WAIT_MS = 4_000;
/** n2's max_standby_staleness (the default is 2 s): the partitioned-standby case checks the configured bound. */
const STALE_MS = 1_000;

describe('standby consistency: disable_standby_reads, lagging standby + X-Vault-Index, partitioned standby (3 processes, proxied links)', { timeout: 150_000 }, () => {
  let c: ProxiedCluster;
  let root = '';
  const url = (i: number) => c.url(i);

  before(async () => {
    c = await startProxiedCluster({
      name: 'hcons',
      extraConfig: (i) => (i === 1 ? `max_standby_staleness = "${STALE_MS}ms"\nreplication {\n  best_effort_wal_wait_duration = "${WAIT_MS / 1000}s"\n}\n` : i === 2 ? 'disable_standby_reads = true\n' : ''),
    });
    root = c.root;
  });

  afterEach((t) => c?.reportIfFailed(t));

  after(async () => {
    await c?.close();
  });

  const write = async (path: string, v: string) => {
    const w = await call(url(0), 'PUT', `secret/data/${path}`, { token: root, body: { data: { v } } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    return { index: w.headers.get('x-vault-index') as string, version: w.body.data.version as number };
  };

  it('disable_standby_reads: the standby forwards reads; a key just written on the active node is never stale there', async (t) => {
    const n = 100;
    let stale = 0;
    let notActive = 0;
    for (let i = 0; i < n; i++) {
      await write('dsr', `v${i}`);
      const r = await call(url(2), 'GET', 'secret/data/dsr', { token: root });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      if (r.headers.get('x-coffer-served-by') !== 'active') notActive++;
      if (r.body.data.data.v !== `v${i}`) stale++;
    }
    const line = `disable_standby_reads: reads through the standby answered by the active node: ${n - notActive} of ${n}; stale: ${stale}`;
    t.diagnostic(line);
    console.log(line);
    assert.equal(notActive, 0);
    assert.equal(stale, 0);
    // The contrast: the reads-enabled standby serves the same read itself.
    const local = await call(url(1), 'GET', 'secret/data/dsr', { token: root });
    assert.equal(local.status, 200);
    assert.equal(local.headers.get('x-coffer-served-by'), 'standby');
    // Lifecycle routes stay local on the reads-disabled standby.
    const health = await call(url(2), 'GET', 'sys/health');
    assert.equal(health.status, 429);
    assert.equal(health.body.standby, true);
  });

  it('lagging standby: X-Vault-Index with fail → 412 at once, await-state → 412 after the wait, forward-active-node → the active node; healed during an await → served fresh by the standby', async (t) => {
    c.deafen(1); // n2 hears nothing from n1 (or n3): everything written from now on is missing there
    try {
      const { index } = await write('lag', 'fresh');
      const fail = await call(url(1), 'GET', 'secret/data/lag', { token: root, headers: { 'X-Vault-Index': index, 'X-Vault-Inconsistent': 'fail' } });
      assert.equal(fail.status, 412, JSON.stringify(fail.body));
      assert.deepEqual(fail.body, { errors: ['required index state not present'] });
      assert.ok(fail.ms < WAIT_MS, `fail must not wait for the index (took ${fail.ms} ms)`);

      const fwd = await call(url(1), 'GET', 'secret/data/lag', { token: root, headers: { 'X-Vault-Index': index, 'X-Vault-Inconsistent': 'forward-active-node' } });
      assert.equal(fwd.status, 200, JSON.stringify(fwd.body));
      assert.equal(fwd.headers.get('x-coffer-served-by'), 'active');
      assert.equal(fwd.body.data.data.v, 'fresh');

      const awaited = await call(url(1), 'GET', 'secret/data/lag', { token: root, headers: { 'X-Vault-Index': index } });
      assert.equal(awaited.status, 412, JSON.stringify(awaited.body));
      assert.ok(awaited.ms >= WAIT_MS - 200, `await-state (the default) waits best_effort_wal_wait_duration first (took ${awaited.ms} ms)`);
      const line = `lagging standby: fail → ${fail.status} in ${fail.ms} ms; await-state → ${awaited.status} after ${awaited.ms} ms; forward-active-node → ${fwd.status} (${fwd.headers.get('x-coffer-served-by')})`;
      t.diagnostic(line);
      console.log(line);

      // Heal while a request waits for the index: the standby catches up and serves it itself.
      const pending = call(url(1), 'GET', 'secret/data/lag', { token: root, headers: { 'X-Vault-Index': index, 'X-Vault-Inconsistent': 'await-state' } });
      await sleep(300);
      c.heal();
      const healed = await pending;
      assert.equal(healed.status, 200, JSON.stringify(healed.body));
      assert.equal(healed.headers.get('x-coffer-served-by'), 'standby');
      assert.equal(healed.body.data.data.v, 'fresh');
    } finally {
      c.heal();
    }
  });

  it('partitioned standby: local reads refused (503) after the staleness bound, linearizable reads refused in bounded time, served again after the heal', async (t) => {
    // The standby is current and in contact before the cut.
    await write('part', 'before');
    await until('n2 caught up', 10_000, async () => (await call(url(1), 'GET', 'secret/data/part', { token: root })).body?.data?.data?.v === 'before');
    const cutAt = performance.now();
    c.isolate(1);
    let refusal: Res | null = null;
    let servedAfterRefusal = 0;
    try {
      await write('part', 'after'); // n1 + n3 are a quorum
      refusal = await until('n2 refuses local reads', 10_000, async () => {
        const r = await call(url(1), 'GET', 'secret/data/part', { token: root });
        if (r.status === 200) {
          // Within the bound the standby may answer from its (old) state, never from the future.
          assert.equal(r.body.data.data.v, 'before');
          return null;
        }
        return r;
      });
      const refusedAfterMs = Math.round(performance.now() - cutAt);
      assert.equal(refusal.status, 503, JSON.stringify(refusal.body));
      assert.match(refusal.body.errors[0], new RegExp(`standby has not heard from the active node for \\d+ ms \\(limit ${STALE_MS} ms\\): refusing to serve possibly stale data`));
      assert.ok(refusedAfterMs >= STALE_MS - 100, `refused ${refusedAfterMs} ms after the cut, before the configured bound ${STALE_MS} ms`);
      // Once refused, it stays refused while the partition lasts.
      for (let i = 0; i < 10; i++) {
        const r = await call(url(1), 'GET', 'secret/data/part', { token: root });
        if (r.status !== 503) servedAfterRefusal++;
        await sleep(50);
      }
      const lin = await call(url(1), 'GET', 'secret/data/part', { token: root, headers: { 'X-Coffer-Consistency': 'linearizable' } });
      assert.equal(lin.status, 503, JSON.stringify(lin.body));
      assert.match(lin.body.errors[0], /standby has not heard from the active node|linearizable read not possible/);
      const line = `partitioned standby: local reads refused ${refusedAfterMs} ms after the cut (max_standby_staleness ${STALE_MS} ms); answers after the refusal: ${servedAfterRefusal} of 10; linearizable read → ${lin.status} in ${lin.ms} ms`;
      t.diagnostic(line);
      console.log(line);
      assert.equal(servedAfterRefusal, 0);
    } finally {
      c.heal();
    }
    const back = await until('n2 serves again after the heal', 20_000, async () => {
      const r = await call(url(1), 'GET', 'secret/data/part', { token: root, headers: { 'X-Coffer-Consistency': 'linearizable' } });
      return r.status === 200 ? r : null;
    });
    assert.equal(back.body.data.data.v, 'after');
    assert.equal(back.headers.get('x-coffer-served-by'), 'standby');
  });
});
