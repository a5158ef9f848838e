// SEC-SEALED (RELIABILITY.md §7.2): a node that is sealed (or not yet initialised) answers only the
// allow-list (SEALED_OK: init, unseal, seal-status, health, leader, raft join); every other route x
// method is 503 {"errors":["Vault is sealed"]} (API.md §0.4). The routes are derived from the code's
// tables, not listed by hand: the front's own routes (FRONT_ROUTE_PATHS) and every mount backend's path
// patterns (backendFactories), each at the mount path its type gets. Then sys/health's codes on the four
// node states of a real cluster: 501 uninitialised, 503 sealed, 429 standby, 200 active (§1.7).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEALED_OK } from '../actors/front/routes.js';
import { healthStatus } from './helpers/cluster.js';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { routeTable } from './helpers/routes.js';
import { http } from './helpers/server-process.js';

/** Vault's methods (an unknown one is a 405 before the seal is consulted, as in Vault's request builder). */
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'LIST', 'PATCH', 'GET?list=true'] as const;

interface Probe {
  probed: number;
  nonAllowListedNon503: string[];
}

async function probeAll(url: string, token: string | undefined, extraHeaders: Record<string, string> = {}, methods: readonly string[] = METHODS): Promise<Probe> {
  const result: Probe = { probed: 0, nonAllowListedNon503: [] };
  const routes = routeTable();
  for (const path of routes) {
    const allowed = SEALED_OK.has(path);
    for (const m of methods) {
      const [method, query] = m.split('?') as [string, string | undefined];
      const headers: Record<string, string> = { ...extraHeaders, ...(method === 'PATCH' ? { 'Content-Type': 'application/merge-patch+json' } : {}) };
      const hasBody = method === 'PUT' || method === 'POST' || method === 'PATCH';
      const r = await http(url, method, `${path}${query ? `?${query}` : ''}`, { ...(token ? { token } : {}), headers, ...(hasBody ? { rawBody: '{"probe":"x"}' } : {}) });
      result.probed++;
      if (allowed) continue;
      const shapeOk = method === 'HEAD' ? r.text === '' : JSON.stringify(r.body) === JSON.stringify({ errors: ['Vault is sealed'] });
      if (r.status !== 503 || !shapeOk) result.nonAllowListedNon503.push(`${m} ${path} -> ${r.status} ${r.text.slice(0, 120)}`);
    }
  }
  return result;
}

describe('SEC-SEALED: a sealed node answers only the allow-list; health codes per state', { timeout: 120_000 }, () => {
  let c: HaCluster;
  let total: Probe = { probed: 0, nonAllowListedNon503: [] };

  before(async () => {
    // n1 active, n2 standby, n3 started but never initialised or joined.
    c = await startHaCluster('sec-sealed', 3, 2);
  });
  after(async () => {
    await c?.close();
  });

  it('the route table covers the front and every mount type', () => {
    const routes = routeTable();
    for (const p of ['sys/init', 'sys/raw', 'sys/mounts', 'secret/data/probe/deep', 'kv/probe/deep', 'auth/token/lookup-self', 'auth/userpass/login/probe', 'auth/approle/login', 'transit/encrypt/probe', 'cubbyhole/probe/deep', 'sys/metrics', 'sys/quotas/rate-limit/probe/deep']) {
      assert.ok(routes.includes(p), `${p} is in the derived table`);
    }
    for (const p of SEALED_OK) assert.ok(routes.includes(p), `allow-listed ${p} is a real route`);
  });

  it('health: 200 active, 429 standby, 501 uninitialised; query codes and standbyok', async () => {
    const [active, standby, uninit] = [c.url(0), c.url(1), c.url(2)];
    assert.equal(await healthStatus(active), 200);
    assert.equal(await healthStatus(active, '?activecode=299'), 299);
    assert.equal(await healthStatus(standby), 429);
    assert.equal(await healthStatus(standby, '?standbyok=true'), 200);
    assert.equal(await healthStatus(standby, '?standbyok=true&activecode=298'), 298);
    assert.equal(await healthStatus(standby, '?standbycode=297'), 297);
    assert.equal(await healthStatus(standby, '?perfstandbyok=true'), 429, 'OpenBao accepts and ignores perfstandbyok');
    const bad = await http(standby, 'GET', 'sys/health?standbyok=maybe');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errors: [] });
    assert.equal(await healthStatus(uninit), 501);
    assert.equal(await healthStatus(uninit, '?uninitcode=296&standbyok=true'), 296);
    const body = (await http(uninit, 'GET', 'sys/health')).body;
    assert.equal(body.initialized, false);
    assert.equal(body.standby, true, 'standby is true on an uninitialised node');
    const head = await http(uninit, 'HEAD', 'sys/health');
    assert.equal(head.status, 501);
    assert.equal(head.text, '');
  });

  it('an uninitialised node: every non-allow-listed route x method is 503 in Vault error shape', async () => {
    const p = await probeAll(c.url(2), undefined);
    total = { probed: total.probed + p.probed, nonAllowListedNon503: [...total.nonAllowListedNon503, ...p.nonAllowListedNon503] };
    assert.deepEqual(p.nonAllowListedNon503, []);
    // The allow-list itself answers: seal-status and init say what state the node is in.
    assert.equal((await http(c.url(2), 'GET', 'sys/seal-status')).body.initialized, false);
  });

  it('a sealed standby: health 503, and every non-allow-listed route x method is 503 even with the root token', async () => {
    const u = c.url(1);
    assert.equal((await http(u, 'PUT', 'sys/seal', { token: c.root })).status, 204, c.dump());
    assert.equal(await healthStatus(u), 503);
    assert.equal(await healthStatus(u, '?standbyok=true'), 503, 'standbyok does not hide a sealed node');
    assert.equal(await healthStatus(u, '?sealedcode=295'), 295);
    const h = (await http(u, 'GET', 'sys/health')).body;
    assert.equal(h.sealed, true);
    assert.equal(h.standby, true);
    assert.equal(h.cluster_id, undefined, 'no cluster identity while sealed');
    const p = await probeAll(u, c.root);
    total = { probed: total.probed + p.probed, nonAllowListedNon503: [...total.nonAllowListedNon503, ...p.nonAllowListedNon503] };
    assert.deepEqual(p.nonAllowListedNon503, []);
    // Forwarding headers change nothing: a sealed node neither relays (a forwarding target cached before
    // the seal) nor looks for an active node to redirect to (it knows none: that was a 500). Found by
    // SEC-FUZZ-HTTP in CI.
    for (const headers of [{ 'X-Vault-Forward': 'active-node' }, { 'X-Vault-Inconsistent': 'forward-active-node', 'X-Vault-Index': 'bogus' }] as Record<string, string>[]) {
      const f = await probeAll(u, c.root, headers, ['GET', 'PUT', 'LIST']);
      total = { probed: total.probed + f.probed, nonAllowListedNon503: [...total.nonAllowListedNon503, ...f.nonAllowListedNon503] };
      assert.deepEqual(f.nonAllowListedNon503, [], JSON.stringify(headers));
    }
    // The active node is unaffected by its standby being sealed.
    assert.equal(await healthStatus(c.url(0)), 200);
    console.log(`routes probed: ${total.probed}; non-allow-listed answered non-503: ${total.nonAllowListedNon503.length}`);
  });
});
