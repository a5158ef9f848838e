// Observability against a dev node: GET sys/metrics (Prometheus text and JSON) with request counters by
// mount/operation/status/served_by that grow with traffic, latency histograms, raft and actor gauges;
// GET sys/in-flight-req (sudo) showing a request held open; and the debug request log of a real server
// process, which must never contain a token or a secret value.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { sample } from './helpers/prometheus.js';
import { COFFER_BIN } from './helpers/server-process.js';

describe('sys/metrics and sys/in-flight-req', () => {
  let node: EmbeddedNode;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  const call = async (method: string, path: string, body?: unknown, token: string | null = node.rootToken) => {
    const res = await fetch(`${node.address}/v1/${path}`, {
      method,
      headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers };
  };
  const prometheus = async () => {
    const r = await call('GET', 'sys/metrics?format=prometheus');
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text;
  };

  it("a namespace's mounts carry their full path as the mount label at once, and lose it with the namespace", async () => {
    // Each write below refreshes only the part of the front's view it changed (a namespace's tables, a subtree).
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    };
    await ok('POST', 'sys/namespaces/mtenant');
    await ok('POST', 'mtenant/sys/namespaces/inner');
    await ok('POST', 'mtenant/sys/mounts/kv', { type: 'kv', options: { version: '2' } });
    await ok('POST', 'mtenant/inner/sys/mounts/kv', { type: 'kv', options: { version: '2' } });
    await ok('POST', 'mtenant/kv/data/a', { data: { v: 1 } });
    await ok('POST', 'mtenant/inner/kv/data/a', { data: { v: 1 } });
    await ok('GET', 'mtenant/kv/data/a');
    await ok('GET', 'mtenant/inner/kv/data/a');
    let text = await prometheus();
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'mtenant/kv/', operation: 'read', status: '200' }), 1);
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'mtenant/inner/kv/', operation: 'read', status: '200' }), 1);
    // Deleted with its subtree: its paths match no mount any more (the parent's label is not borrowed either).
    await ok('DELETE', 'mtenant/sys/namespaces/inner');
    assert.equal((await call('GET', 'mtenant/inner/kv/data/a')).status, 404);
    text = await prometheus();
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'mtenant/inner/kv/', operation: 'read', status: '404' }), null);
    assert.equal(sample(text, 'coffer_requests_total', { mount: '', operation: 'read', status: '404' }) !== null, true);
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'mtenant/kv/', operation: 'read', status: '200' }), 1);
  });

  it('needs a token; unknown formats are a 400', async () => {
    assert.equal((await call('GET', 'sys/metrics?format=prometheus', undefined, null)).status, 403);
    const bad = await call('GET', 'sys/metrics?format=xml');
    assert.equal(bad.status, 400);
    assert.equal(bad.text, 'metric response format "xml" unknown');
  });

  it('request counters grow with requests and carry mount, operation, status and served_by', async () => {
    await call('POST', 'secret/data/m', { data: { v: 1 } });
    const labels = { mount: 'secret/', operation: 'read', status: '200', served_by: 'active' };
    const before = (await prometheus()).valueOf();
    const b = sample(before, 'coffer_requests_total', labels) ?? 0;
    const b404 = sample(before, 'coffer_requests_total', { mount: 'secret/', operation: 'read', status: '404' }) ?? 0;
    const bHist = sample(before, 'coffer_request_duration_seconds_count', { mount: 'secret/', operation: 'read' }) ?? 0;
    for (let i = 0; i < 3; i++) assert.equal((await call('GET', 'secret/data/m')).status, 200);
    assert.equal((await call('GET', 'secret/data/missing')).status, 404);
    const text = await prometheus();
    assert.equal(sample(text, 'coffer_requests_total', labels), b + 3);
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'secret/', operation: 'read', status: '404', served_by: 'active' }), b404 + 1);
    assert.equal(sample(text, 'coffer_requests_total', { mount: 'secret/', operation: 'update', status: '200', served_by: 'active' }) !== null, true);
    assert.equal(sample(text, 'coffer_request_duration_seconds_count', { mount: 'secret/', operation: 'read' }), bHist + 4);
    assert.equal(sample(text, 'coffer_request_duration_seconds_bucket', { mount: 'secret/', operation: 'read', le: '+Inf' }), bHist + 4);
    assert.match(text, /# TYPE coffer_request_duration_seconds histogram/);
    assert.match(text, /# TYPE coffer_requests_total counter/);
  });

  it('raft indexes, actor figures, process metrics', async () => {
    const text = await prometheus();
    const commit = sample(text, 'coffer_raft_commit_index');
    const applied = sample(text, 'coffer_raft_applied_index');
    assert.ok(commit !== null && commit > 0, 'commit index');
    assert.ok(applied !== null && applied > 0 && applied <= commit);
    assert.equal(sample(text, 'coffer_raft_apply_lag'), commit - applied);
    assert.equal(sample(text, 'coffer_raft_is_leader'), 1);
    // Every write so far was made durable by a log flush (several entries may share one: group commit).
    const flushes = sample(text, 'coffer_raft_log_flushes_total');
    const persisted = sample(text, 'coffer_raft_entries_persisted_total');
    assert.ok(flushes !== null && flushes > 0, 'log flushes');
    assert.ok(persisted !== null && persisted > 0 && persisted <= commit, `entries persisted ${persisted}, commit ${commit}`);
    for (const name of ['coffer_raft_compactions_total', 'coffer_raft_applied_during_snapshot_total', 'coffer_raft_snapshots_installed_total', 'coffer_raft_fenced_messages_dropped_total']) assert.equal(sample(text, name), 0, name); // a fresh dev node
    assert.equal(sample(text, 'coffer_node_served_by', { role: 'active' }), 1);
    for (const actor of ['core', 'raft', 'handler-0']) {
      assert.equal(sample(text, 'coffer_actor_up', { actor }), 1, actor);
      assert.notEqual(sample(text, 'coffer_actor_pending_asks', { actor }), null);
      assert.notEqual(sample(text, 'coffer_actor_request_ring_bytes', { actor }), null);
      assert.ok((sample(text, 'coffer_actor_event_loop_active_seconds_total', { actor }) ?? 0) > 0);
      const elu = sample(text, 'coffer_actor_event_loop_utilization', { actor });
      assert.ok(elu !== null && elu >= 0 && elu <= 1);
    }
    assert.ok((sample(text, 'coffer_process_resident_memory_bytes') ?? 0) > 0);
    assert.notEqual(sample(text, 'coffer_nodejs_eventloop_lag_seconds'), null);
  });

  it('a lone voter applies each write in the transaction that makes it durable', async () => {
    const ownFlush = 'coffer_raft_applied_with_own_flush_total';
    const persisted = 'coffer_raft_entries_persisted_total';
    const b = await prometheus();
    const alone = 'coffer_raft_fsm_applies_alone_total';
    const [ownBefore, persistedBefore, aloneBefore] = [sample(b, ownFlush), sample(b, persisted), sample(b, alone)];
    assert.ok(ownBefore !== null && persistedBefore !== null, `${ownFlush} and ${persisted} are exported`);
    // One at a time (a Ready per write), then 32 at once (several writes per Ready).
    for (let i = 0; i < 5; i++) assert.equal((await call('POST', `secret/data/own-${i}`, { data: { i } })).status, 200);
    const statuses = await Promise.all(Array.from({ length: 32 }, (_, i) => call('POST', `secret/data/own-c${i}`, { data: { i } }).then((r) => r.status)));
    assert.deepEqual(new Set(statuses), new Set([200]));
    const a = await prometheus();
    const grew = (sample(a, persisted) as number) - persistedBefore;
    assert.ok(grew >= 37, `entries persisted grew by ${grew}`);
    // No configuration change meanwhile, so every entry made durable was applied in that same transaction.
    assert.equal((sample(a, ownFlush) as number) - ownBefore, grew);
    assert.equal(sample(a, alone), aloneBefore, 'no FSM transaction of its own: one LMDB commit per write');
    assert.equal(sample(a, 'coffer_raft_applied_index'), sample(a, 'coffer_raft_commit_index'));
    for (const i of [0, 4]) assert.equal(JSON.parse((await call('GET', `secret/data/own-${i}`)).text).data.data.i, i);
    assert.equal(JSON.parse((await call('GET', 'secret/data/own-c31')).text).data.data.i, 31);
  });

  it('JSON format (no ?format) in the shape of Vault\'s in-memory sink', async () => {
    const r = await call('GET', 'sys/metrics');
    assert.equal(r.status, 200);
    const j = JSON.parse(r.text);
    assert.deepEqual(Object.keys(j).sort(), ['Counters', 'Gauges', 'Points', 'Samples', 'Timestamp']);
    assert.ok(j.Counters.some((c: any) => c.Name === 'coffer_requests_total' && c.Labels.mount === 'secret/'));
    assert.ok(j.Samples.some((s: any) => s.Name === 'coffer_request_duration_seconds' && s.Count > 0));
    assert.ok(j.Gauges.some((g: any) => g.Name === 'coffer_raft_applied_index'));
  });

  it('in-flight-req lists a request held open (no token, no body, no query) and needs sudo', async () => {
    // A POST whose body never completes stays in flight in the front.
    const url = new URL(`${node.address}/v1/secret/data/slow?version=1`);
    const held = httpRequest({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', headers: { 'X-Vault-Token': node.rootToken, 'Content-Type': 'application/json', 'Content-Length': 100 } });
    held.on('error', () => {});
    held.write('{"data":{"pw":"hunter2');
    await new Promise((r) => setTimeout(r, 100));
    const r = await call('GET', 'sys/in-flight-req');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const entries = JSON.parse(r.text) as Record<string, Record<string, string>>;
    const slow = Object.entries(entries).find(([, e]) => e.request_path === '/v1/secret/data/slow');
    assert.ok(slow, r.text);
    const [id, e] = slow;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(Object.keys(e).sort(), ['client_id', 'client_remote_address', 'request_method', 'request_path', 'start_time']);
    assert.equal(e.request_method, 'POST');
    assert.match(e.client_remote_address as string, /127\.0\.0\.1/);
    assert.ok(Date.now() - Date.parse(e.start_time as string) >= 50);
    assert.ok(!r.text.includes(node.rootToken) && !r.text.includes('hunter2') && !r.text.includes('version=1'));
    // the scrape itself is in flight too
    assert.ok(Object.values(entries).some((x) => x.request_path === '/v1/sys/in-flight-req'));
    held.destroy();

    // sudo: a policy with read but no sudo on the path is refused; with sudo it is allowed.
    await call('POST', 'sys/policies/acl/inflight-read', { policy: 'path "sys/in-flight-req" { capabilities = ["read"] }' });
    await call('POST', 'sys/policies/acl/inflight-sudo', { policy: 'path "sys/in-flight-req" { capabilities = ["read", "sudo"] }' });
    const mk = async (policy: string) => JSON.parse((await call('POST', 'auth/token/create', { policies: [policy] })).text).auth.client_token as string;
    assert.equal((await call('GET', 'sys/in-flight-req', undefined, await mk('inflight-read'))).status, 403);
    assert.equal((await call('GET', 'sys/in-flight-req', undefined, await mk('inflight-sudo'))).status, 200);
    assert.equal((await call('GET', 'sys/in-flight-req', undefined, null)).status, 403);
  });
});

describe('request log at debug level', () => {
  it('one line per request with method, path, status, duration, mount type, served_by; never a token or a secret', async () => {
    const child = spawn(process.execPath, [COFFER_BIN, 'server', '--dev', '--dev-listen-address=127.0.0.1:0', '--log-level=debug'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COFFER_LOG_LEVEL: 'debug' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 20_000;
      while (!/Root Token: (\S+)/.test(out)) {
        assert.ok(Date.now() < deadline, `dev server did not start:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = (/VAULT_ADDR='(\S+?)'/.exec(out) as RegExpExecArray)[1] as string;
      const root = (/Root Token: (\S+)/.exec(out) as RegExpExecArray)[1] as string;
      const bannerEnd = out.length; // the dev banner prints the root token by design; the logs start here
      const errStart = err.indexOf('Root Token') >= 0 ? err.length : 0;
      const h = (t: string) => ({ 'X-Vault-Token': t, 'Content-Type': 'application/json' });
      const created = await (await fetch(`${url}/v1/auth/token/create`, { method: 'POST', headers: h(root), body: '{"policies":["default"]}' })).json();
      const token = created.auth.client_token as string;
      const secret = 'ultra-secret-value-8f3b2c';
      assert.equal((await fetch(`${url}/v1/secret/data/app?x=${secret}`, { method: 'POST', headers: h(root), body: JSON.stringify({ data: { password: secret } }) })).status, 200);
      assert.equal((await fetch(`${url}/v1/secret/data/app`, { headers: h(root) })).status, 200);
      assert.equal((await fetch(`${url}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } })).status, 200);
      assert.equal((await fetch(`${url}/v1/auth/token/lookup`, { method: 'POST', headers: h(root), body: JSON.stringify({ token }) })).status, 200);
      assert.equal((await fetch(`${url}/v1/secret/data/app`, { headers: { Authorization: `Bearer ${token}` } })).status, 403);
      await new Promise((r) => setTimeout(r, 300));
      const logs = out.slice(bannerEnd) + err.slice(errStart);
      assert.ok(!logs.includes(token), 'a token appeared in the log');
      assert.ok(!logs.includes(root), 'the root token appeared in the log');
      assert.ok(!logs.includes(secret), 'a secret value appeared in the log');
      const lines = logs
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request');
      const write = lines.find((l) => l.method === 'POST' && l.path === 'secret/data/app');
      assert.ok(write, `no request line for the write in:\n${logs.slice(0, 3000)}`);
      assert.equal(write.status, 200);
      assert.equal(write.mount_type, 'kv');
      assert.equal(write.served_by, 'active');
      assert.equal(typeof write.duration_ms, 'number');
      assert.equal(write.level, 20);
      assert.ok(lines.some((l) => l.path === 'secret/data/app' && l.status === 403));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
