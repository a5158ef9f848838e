// Unified standbys with real processes (docs/ha-standby-reads.md): three `coffer server` processes form a
// Raft cluster; every standby serves reads itself, writes through a standby are forwarded over mutual TLS
// to the active node (applied once), X-Vault-Index gives read-your-writes across nodes, linearizable reads
// are served by a standby after a ReadIndex round trip, a forged index is refused, and a keyring rotation
// on the active node reaches the standbys without a re-unseal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, startClusterNode, until, untilVoters, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

/** fetch without following redirects: a 307 stays visible. */
async function call(url: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['X-Vault-Token'] = opts.token;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${url}/v1/${path}`, { method, headers, redirect: 'manual', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  let body: any = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

describe('HA standbys serve reads, forward writes, honour consistency headers (3 processes)', { timeout: 90_000 }, () => {
  const dirs = [tempDir('hs-n1'), tempDir('hs-n2'), tempDir('hs-n3')];
  const specs: ClusterNodeSpec[] = [];
  const procs: ServerProcess[] = [];
  let root = '';
  let keys: string[] = [];
  const url = (i: number) => apiUrl(specs[i] as ClusterNodeSpec);
  const dump = () => procs.map((p, i) => `--- n${i + 1}\n${p.stderr().slice(-2000)}`).join('\n');

  before(async () => {
    for (let i = 0; i < 3; i++) specs.push({ ...(await nodeSpec(`n${i + 1}`, dirs[i]!.path)), listenerExtra: 'disable_unauthed_rekey_endpoints = false' });
    procs.push(...(await Promise.all(specs.map((s) => startClusterNode(s)))));
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    keys = init.body.keys_base64;
    root = init.body.root_token;
    await unsealWith(url(0), keys);
    await until('n1 active', 10_000, async () => (await healthStatus(url(0))) === 200);
    for (const i of [1, 2]) {
      const joined = await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } });
      assert.deepEqual(joined.body, { joined: true }, dump());
      const un = await unsealWith(url(i), keys);
      assert.equal(un.status, 200, JSON.stringify(un.body) + dump());
      await until(`n${i + 1} unsealed`, 20_000, async () => (await http(url(i), 'GET', 'sys/seal-status')).body.sealed === false);
    }
    const mount = await http(url(0), 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    assert.ok(mount.status < 300, JSON.stringify(mount.body));
    // The standbys know the advertisement (forwarding address) and the index key once these replicated.
    await until('forwarding ready on the standbys', 20_000, async () => {
      for (const i of [1, 2]) {
        const r = await call(url(i), 'PUT', `secret/data/warmup-${i}`, { token: root, body: { data: { v: 1 } } });
        if (r.status !== 200 || r.headers.get('x-vault-index') === null) return null;
      }
      return true;
    });
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => p.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('a write through any node is readable through every node; standby reads are served locally; standby writes are forwarded once', async () => {
    for (const i of [0, 1, 2]) {
      const w = await call(url(i), 'PUT', `secret/data/from-n${i + 1}`, { token: root, body: { data: { v: `n${i + 1}` } } });
      assert.equal(w.status, 200, `write through n${i + 1}: ${w.status} ${JSON.stringify(w.body)}`);
      // Executed by the active node (the standbys relay its answer unchanged).
      assert.equal(w.headers.get('x-coffer-served-by'), 'active');
      for (const j of [0, 1, 2]) {
        const v = await until(`from-n${i + 1} on n${j + 1}`, 10_000, async () => {
          const r = await call(url(j), 'GET', `secret/data/from-n${i + 1}`, { token: root });
          return r.status === 200 ? (r.body.data.data.v as string) : null;
        });
        assert.equal(v, `n${i + 1}`);
      }
    }
    for (const i of [1, 2]) {
      const r = await call(url(i), 'GET', 'secret/data/from-n1', { token: root });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-coffer-served-by'), 'standby', `a read on n${i + 1} is executed there`);
    }
    // Applied once: five writes through a standby make versions 1..5, nothing more. The first teaches the
    // standby that secret/ forwards every write; the others are forwarded before dispatch (no handler trip).
    const early = async () => Number(/coffer_ha_requests_total\{kind="forwarded_early"\} (\d+)/.exec((await call(url(1), 'GET', 'sys/metrics?format=prometheus', { token: root })).body as string)?.[1] ?? NaN);
    const earlyBefore = await early();
    for (let v = 1; v <= 5; v++) {
      const w = await call(url(1), 'PUT', 'secret/data/once', { token: root, body: { data: { n: v } } });
      assert.equal(w.status, 200, JSON.stringify(w.body));
      assert.equal(w.body.data.version, v);
    }
    assert.ok((await early()) - earlyBefore >= 4, `writes forwarded before dispatch: ${(await early()) - earlyBefore} of 5`);
    const meta = await call(url(0), 'GET', 'secret/metadata/once', { token: root });
    assert.equal(meta.body.data.current_version, 5);
    assert.equal(Object.keys(meta.body.data.versions).length, 5);
    // Known writes are forwarded before running: a token created through a standby exists once, on the active node.
    const created = await call(url(2), 'POST', 'auth/token/create', { token: root, body: { policies: ['default'], ttl: '1h' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.headers.get('x-coffer-served-by'), 'active');
    const look = await call(url(0), 'GET', 'auth/token/lookup-self', { token: created.body.auth.client_token });
    assert.equal(look.status, 200);
    // A write that writes nothing is still the active node's to answer: a standby's "nothing to delete" may
    // only mean the key has not reached it yet.
    const noop = await call(url(1), 'DELETE', 'secret/data/never-written', { token: root });
    assert.equal(noop.status, 204);
    assert.equal(noop.headers.get('x-coffer-served-by'), 'active');
    // Update-shaped lookups stay local (PathSpec.answersLocally).
    const caps = await call(url(2), 'POST', 'sys/capabilities-self', { token: root, body: { paths: ['secret/data/x'] } });
    assert.equal(caps.status, 200, JSON.stringify(caps.body));
    assert.equal(caps.headers.get('x-coffer-served-by'), 'standby');
    // The client may ask for the redirect instead (Vault's X-Vault-No-Request-Forwarding).
    const redirected = await call(url(1), 'PUT', 'secret/data/redirected', { token: root, body: { data: { v: 1 } }, headers: { 'X-Vault-No-Request-Forwarding': 'true' } });
    assert.equal(redirected.status, 307);
    assert.equal(redirected.headers.get('location'), `${url(0)}/v1/secret/data/redirected`);
    // X-Vault-Forward: active-node forces a read to the active node.
    const forced = await call(url(1), 'GET', 'secret/data/from-n1', { token: root, headers: { 'X-Vault-Forward': 'active-node' } });
    assert.equal(forced.status, 200);
    assert.equal(forced.headers.get('x-coffer-served-by'), 'active');
  });

  it('read-your-writes with X-Vault-Index: 1000 writes on the active node, each read back on a standby, 0 stale', async (t) => {
    let stale = 0;
    let waitedFor = 0;
    const n = 1000;
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      const w = await call(url(0), 'PUT', 'secret/data/ryw', { token: root, body: { data: { i } } });
      assert.equal(w.status, 200, JSON.stringify(w.body));
      const index = w.headers.get('x-vault-index');
      assert.ok(index, 'every response carries X-Vault-Index');
      const standby = url(1 + (i % 2));
      const r = await call(standby, 'GET', 'secret/data/ryw', { token: root, headers: { 'X-Vault-Index': index } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      if (r.headers.get('x-coffer-served-by') !== 'standby') waitedFor++;
      if (r.body.data.data.i !== i) stale++;
    }
    t.diagnostic(`stale reads: ${stale} of ${n} (${Date.now() - started} ms; not served by the standby: ${waitedFor})`);
    console.log(`stale reads: ${stale} of ${n}`);
    assert.equal(stale, 0);
    assert.equal(waitedFor, 0);
  });

  it('linearizable reads on a standby (ReadIndex, no index header): 200 iterations, 0 stale', async (t) => {
    let stale = 0;
    const n = 200;
    // With three voters each standby's ReadIndex is answered on arrival (the asker completes the leader's
    // quorum, docs/raft.md "ReadIndex"); a learner's would still take a heartbeat round.
    await untilVoters(url(0), root, 3);
    const metric = 'coffer_raft_read_index_confirmed_by_asker_total';
    const confirmedByAsker = async () => Number(new RegExp(`^${metric} (\\d+)$`, 'm').exec((await call(url(0), 'GET', 'sys/metrics?format=prometheus', { token: root })).body as string)?.[1] ?? NaN);
    const byAskerBefore = await confirmedByAsker();
    for (let i = 0; i < n; i++) {
      const w = await call(url(0), 'PUT', 'secret/data/lin', { token: root, body: { data: { i } } });
      assert.equal(w.status, 200);
      const r = await call(url(1 + (i % 2)), 'GET', 'secret/data/lin', { token: root, headers: { 'X-Coffer-Consistency': 'linearizable' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.headers.get('x-coffer-served-by'), 'standby');
      if (r.body.data.data.i !== i) stale++;
    }
    const byAsker = (await confirmedByAsker()) - byAskerBefore;
    t.diagnostic(`linearizable stale reads: ${stale} of ${n}; answered by the leader with no heartbeat round: ${byAsker}`);
    console.log(`linearizable stale reads: ${stale} of ${n}; answered by the leader with no heartbeat round: ${byAsker}`);
    assert.equal(stale, 0);
    assert.ok(byAsker >= n, `${metric} grew by ${byAsker} over ${n} sequential standby reads`);
  });

  it('a forged or tampered X-Vault-Index is refused with 400', async () => {
    const w = await call(url(0), 'PUT', 'secret/data/forge', { token: root, body: { data: { v: 1 } } });
    const good = w.headers.get('x-vault-index') as string;
    const bytes = Buffer.from(good, 'base64');
    // Raise the index by one without the key: the MAC no longer matches.
    const tampered = Buffer.from(bytes);
    tampered[8] = (tampered[8]! + 1) & 0xff;
    for (const bad of [tampered.toString('base64'), 'AAAA', 'not base64!', Buffer.alloc(25, 1).toString('base64')]) {
      for (const i of [0, 1]) {
        const r = await call(url(i), 'GET', 'secret/data/forge', { token: root, headers: { 'X-Vault-Index': bad } });
        assert.equal(r.status, 400, `${bad} on n${i + 1}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    const ok = await call(url(2), 'GET', 'secret/data/forge', { token: root, headers: { 'X-Vault-Index': good } });
    assert.equal(ok.status, 200);
  });

  it('sys/rotate on the active node: standbys pick up the new keyring term without a re-unseal', async () => {
    const before = await call(url(0), 'GET', 'sys/key-status', { token: root });
    assert.equal((await call(url(0), 'PUT', 'sys/rotate', { token: root })).status, 204);
    const w = await call(url(0), 'PUT', 'secret/data/after-rotate', { token: root, body: { data: { v: 'new-term' } } });
    assert.equal(w.status, 200);
    for (const i of [1, 2]) {
      const r = await call(url(i), 'GET', 'secret/data/after-rotate', { token: root, headers: { 'X-Vault-Index': w.headers.get('x-vault-index') as string } });
      assert.equal(r.status, 200, `n${i + 1}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.data.data.v, 'new-term');
      assert.equal(r.headers.get('x-coffer-served-by'), 'standby');
      const ks = await call(url(i), 'GET', 'sys/key-status', { token: root });
      assert.equal(ks.body.term, before.body.term + 1, `n${i + 1} key-status`);
    }
  });
  it('sys/rekey (sent to standbys: forwarded) then sys/rotate: standbys follow the new root key; a standby unseals with the new shares', async () => {
    // The attempt lives on the active node: a standby forwards every rekey request to it.
    const started = await call(url(1), 'PUT', 'sys/rekey/init', { body: { secret_shares: 3, secret_threshold: 2 } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const { nonce } = started.body;
    assert.equal((await call(url(2), 'GET', 'sys/rekey/init')).body.nonce, nonce, 'the other standby sees the same attempt');
    const done = await call(url(2), 'PUT', 'sys/rekey/update', { body: { key: keys[0], nonce } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const fresh: string[] = done.body.keys_base64;
    // A rotation right after: a standby that had no reason to reload in between must reach the new root key
    // through core/upgrade (the new term) and core/root-key.
    assert.equal((await call(url(0), 'PUT', 'sys/rotate', { token: root })).status, 204);
    const w = await call(url(0), 'PUT', 'secret/data/after-rekey', { token: root, body: { data: { v: 'rekeyed' } } });
    assert.equal(w.status, 200);
    for (const i of [1, 2]) {
      const r = await call(url(i), 'GET', 'secret/data/after-rekey', { token: root, headers: { 'X-Vault-Index': w.headers.get('x-vault-index') as string } });
      assert.equal(r.status, 200, `n${i + 1}: ${r.status} ${JSON.stringify(r.body)}${dump()}`);
      assert.equal(r.body.data.data.v, 'rekeyed');
    }
    // A rotation after the standbys reloaded still reaches them.
    assert.equal((await call(url(0), 'PUT', 'sys/rotate', { token: root })).status, 204);
    const w2 = await call(url(0), 'PUT', 'secret/data/after-rekey-2', { token: root, body: { data: { v: 'rotated-again' } } });
    const r2 = await call(url(1), 'GET', 'secret/data/after-rekey-2', { token: root, headers: { 'X-Vault-Index': w2.headers.get('x-vault-index') as string } });
    assert.equal(r2.body?.data?.data?.v, 'rotated-again', JSON.stringify(r2.body));
    // n3 seals and comes back with two of the three new shares: the rekeyed seal config and stored-keys blob
    // replicated (the single-node test shows the old shares refused).
    assert.equal((await call(url(2), 'PUT', 'sys/seal', { token: root })).status, 204);
    assert.equal((await http(url(2), 'GET', 'sys/seal-status')).body.t, 2);
    const un = await unsealWith(url(2), fresh.slice(1));
    assert.equal(un.status, 200, JSON.stringify(un.body));
    await until('n3 unsealed with the new shares', 20_000, async () => (await http(url(2), 'GET', 'sys/seal-status')).body.sealed === false);
    await until('n3 serves the data written after the rekey', 20_000, async () => {
      const r = await call(url(2), 'GET', 'secret/data/after-rekey-2', { token: root });
      return r.status === 200 && r.body.data.data.v === 'rotated-again';
    });
    keys = fresh;
    // The automatic-rotation settings written on the active node are what a standby reports (same terms and
    // root key, a rewritten core/keyring: the standby adopts config and counts).
    assert.equal((await call(url(0), 'POST', 'sys/rotate/keyring/config', { token: root, body: { interval: '48h' } })).status, 204);
    await until('the standby reports the new rotation config', 10_000, async () => (await call(url(1), 'GET', 'sys/rotate/keyring/config', { token: root })).body?.data?.interval === '48h0m0s');
  });
  it("a standby's front picks up its role and quotas written on the active node (its view refresh follows the applied index)", async (t) => {
    // The front refreshes its cached view (mounts, quotas) and role on its 1 s timer only when the applied
    // index, the Raft role/term or the seal epoch moved, and at the latest every 30 s. Quota A, once
    // enforced on n2, marks a refresh there; quota B must then be enforced well before the next 30 s
    // recheck: it fails if a change replicated from another node does not trigger the refresh.
    for (const i of [1, 2]) {
      await until(`n${i + 1} reports served_by standby`, 10_000, async () => {
        const m = await call(url(i), 'GET', 'sys/metrics?format=prometheus', { token: root });
        return /^coffer_node_served_by\{role="standby"\} 1$/m.test(String(m.body)) ? true : null;
      });
    }
    const quotaEnforced = async (name: string, path: string, timeoutMs: number) => {
      const w = await call(url(0), 'PUT', path, { token: root, body: { data: { v: 1 } } });
      assert.equal(w.status, 200);
      // With the write's index: a plain standby read right after the write may not have it applied yet (404).
      const index = w.headers.get('x-vault-index') as string;
      assert.equal((await call(url(1), 'GET', path, { token: root, headers: { 'X-Vault-Index': index } })).status, 200, `${name}: no quota yet`);
      const q = await call(url(0), 'POST', `sys/quotas/rate-limit/${name}`, { token: root, body: { path, rate: 1, interval: '1m' } });
      assert.equal(q.status, 204, JSON.stringify(q.body));
      const t0 = Date.now();
      await until(`quota ${name} enforced on n2`, timeoutMs, async () => ((await call(url(1), 'GET', path, { token: root })).status === 429 ? true : null), 200);
      return Date.now() - t0;
    };
    try {
      await quotaEnforced('probe-a', 'secret/data/quota-a', 40_000);
      const ms = await quotaEnforced('probe-b', 'secret/data/quota-b', 10_000);
      t.diagnostic(`quota B enforced on n2 ${ms} ms after it was written on n1`);
    } finally {
      for (const name of ['probe-a', 'probe-b']) await call(url(0), 'DELETE', `sys/quotas/rate-limit/${name}`, { token: root });
    }
  });
});
