// Rate-limit quotas (API.md §4.15): sys/quotas/rate-limit CRUD and sys/quotas/config over HTTP against a
// dev node, enforcement in the front (429 with Vault's message, exempt paths, headers, path suffixes,
// block_interval), and the limiter's window semantics with a fake clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { RateLimiter } from '../actors/quotas/limiter.js';
import { QuotaIndex, isExempt, DEFAULT_EXEMPT_PATHS, type StoredRateLimitQuota } from '../actors/quotas/model.js';

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

describe('rate-limit quotas over HTTP', () => {
  let node: EmbeddedNode;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${node.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': node.rootToken, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers };
  }

  it('CRUD: write 204, read shape, list, similar-properties and validation errors, delete', async () => {
    assert.equal((await call('POST', 'sys/quotas/rate-limit/crud', { path: 'secret/', rate: 7.5, interval: '1m', block_interval: 30 })).status, 204);
    const r = await call('GET', 'sys/quotas/rate-limit/crud');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { type: 'rate-limit', name: 'crud', path: 'secret/', role: '', rate: 7.5, interval: 60, block_interval: 30, inheritable: false });
    assert.deepEqual((await call('LIST', 'sys/quotas/rate-limit')).body.data.keys, ['crud']);
    const dup = await call('POST', 'sys/quotas/rate-limit/other', { path: 'secret', rate: 1 });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.body.errors, ['quota rule with similar properties exists under the name "crud"']);
    assert.deepEqual((await call('POST', 'sys/quotas/rate-limit/bad', { rate: 0 })).body.errors, ["'rate' is invalid"]);
    assert.deepEqual((await call('POST', 'sys/quotas/rate-limit/bad', { rate: 1, path: 'nope/' })).body.errors, ['invalid mount path "nope/"']);
    // A global quota is inheritable by default (OpenBao), interval defaults to 1 s.
    assert.equal((await call('POST', 'sys/quotas/rate-limit/global-crud', { rate: 1000 })).status, 204);
    assert.deepEqual((await call('GET', 'sys/quotas/rate-limit/global-crud')).body.data, { type: 'rate-limit', name: 'global-crud', path: '', role: '', rate: 1000, interval: 1, block_interval: 0, inheritable: true });
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/crud')).status, 204);
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/global-crud')).status, 204);
    assert.equal((await call('GET', 'sys/quotas/rate-limit/crud')).status, 404);
    assert.equal((await call('LIST', 'sys/quotas/rate-limit')).status, 404);
  });

  it('config: defaults, then every field replaced by a write', async () => {
    const d = await call('GET', 'sys/quotas/config');
    assert.deepEqual(d.body.data, { enable_rate_limit_audit_logging: false, enable_rate_limit_response_headers: false, rate_limit_exempt_paths: [...DEFAULT_EXEMPT_PATHS] });
    assert.equal((await call('POST', 'sys/quotas/config', { enable_rate_limit_response_headers: true })).status, 204);
    assert.deepEqual((await call('GET', 'sys/quotas/config')).body.data, { enable_rate_limit_audit_logging: false, enable_rate_limit_response_headers: true, rate_limit_exempt_paths: [] });
    assert.equal((await call('POST', 'sys/quotas/config', { rate_limit_exempt_paths: DEFAULT_EXEMPT_PATHS })).status, 204);
  });

  it('5 requests per 10 s on secret/: the 6th is a 429 with Vault\'s message; other mounts and exempt paths pass', async () => {
    await call('POST', 'secret/data/q', { data: { v: 1 } });
    assert.equal((await call('POST', 'sys/mounts/kv1', { type: 'kv' })).status, 204);
    assert.equal((await call('POST', 'sys/quotas/rate-limit/five', { path: 'secret/', rate: 5, interval: '10s' })).status, 204);
    for (let i = 1; i <= 5; i++) assert.equal((await call('GET', 'secret/data/q')).status, 200, `request ${i}`);
    const sixth = await call('GET', 'secret/data/q');
    assert.equal(sixth.status, 429);
    assert.deepEqual(sixth.body, { errors: ['request path "secret/data/q": rate limit quota exceeded'] });
    assert.equal(sixth.headers.get('retry-after'), null, 'headers only when enabled');
    assert.equal((await call('GET', 'secret/metadata/q')).status, 429, 'the whole mount shares the bucket');
    assert.equal((await call('LIST', 'kv1/')).status, 404, 'another mount is not limited');

    // A global quota of 2/min: sys/health (exempt by default) is never limited, sys/mounts is.
    assert.equal((await call('POST', 'sys/quotas/config', { rate_limit_exempt_paths: [...DEFAULT_EXEMPT_PATHS, 'sys/quotas/*'], enable_rate_limit_response_headers: true })).status, 204);
    assert.equal((await call('POST', 'sys/quotas/rate-limit/global', { rate: 2, interval: '1m' })).status, 204);
    for (let i = 0; i < 6; i++) assert.equal((await fetch(`${node.address}/v1/sys/health`)).status, 200, `health ${i}`);
    assert.equal((await call('GET', 'sys/mounts')).status, 200);
    assert.equal((await call('GET', 'sys/mounts')).status, 200);
    const limited = await call('GET', 'sys/mounts');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body.errors, ['request path "sys/mounts": rate limit quota exceeded']);
    assert.equal(limited.headers.get('x-ratelimit-limit'), '2');
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    assert.match(limited.headers.get('x-ratelimit-reset') ?? '', /^\d+$/);
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    // secret/ still answers from its own (more specific) quota.
    assert.equal((await call('GET', 'secret/data/q')).status, 429);
    // sys/quotas/* was made exempt, so the quotas can be removed.
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/global')).status, 204);
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/five')).status, 204);
    assert.equal((await call('GET', 'secret/data/q')).status, 200, 'deleting the quota lifts the limit');
  });

  it('a path-suffix quota limits only that path; block_interval keeps refusing after the window', async () => {
    await call('POST', 'secret/data/hot', { data: { v: 1 } });
    await call('POST', 'secret/data/cold', { data: { v: 1 } });
    assert.equal((await call('POST', 'sys/quotas/rate-limit/hot', { path: 'secret/data/hot', rate: 1, interval: 1, block_interval: 3 })).status, 204);
    assert.equal((await call('GET', 'sys/quotas/rate-limit/hot')).body.data.path, 'secret/data/hot');
    assert.equal((await call('GET', 'secret/data/hot')).status, 200);
    assert.equal((await call('GET', 'secret/data/hot')).status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await call('GET', 'secret/data/cold')).status, 200);
    await new Promise((r) => setTimeout(r, 1_200));
    const blocked = await call('GET', 'secret/data/hot');
    assert.equal(blocked.status, 429, 'still blocked after the 1 s window');
    assert.equal(blocked.headers.get('retry-after'), '1');
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/hot')).status, 204);
  });

  it('SEC-QUOTA: a concurrent burst is served at most up to the bucket; exempt paths are never limited', async () => {
    // sys/quotas/* exempt too, so the quotas can be removed under a global limit of 1/min.
    assert.equal((await call('POST', 'sys/quotas/config', { rate_limit_exempt_paths: [...DEFAULT_EXEMPT_PATHS, 'sys/quotas/*'] })).status, 204);
    await call('POST', 'secret/data/burst', { data: { v: 1 } });
    const allowed = 10;
    assert.equal((await call('POST', 'sys/quotas/rate-limit/burst', { path: 'secret/', rate: allowed, interval: '1m' })).status, 204);
    assert.equal((await call('POST', 'sys/quotas/rate-limit/global-burst', { rate: 1, interval: '1m' })).status, 204);
    // All at once from one client: the limiter must not let a race serve more than the bucket holds.
    const burst = await Promise.all(Array.from({ length: 4 * allowed }, () => call('GET', 'secret/data/burst')));
    const served = burst.filter((r) => r.status === 200).length;
    const refused = burst.filter((r) => r.status === 429);
    assert.equal(served + refused.length, burst.length, `only 200 or 429: ${burst.map((r) => r.status).join(',')}`);
    assert.ok(served <= allowed, `over-quota served ${served} > ${allowed}`);
    assert.equal(served, allowed, 'the bucket is used in full (the window is 1 min)');
    for (const r of refused) assert.deepEqual(r.body, { errors: ['request path "secret/data/burst": rate limit quota exceeded'] });
    // Control: the global quota is live for a non-exempt path ...
    const control = await Promise.all([0, 1, 2].map(() => call('GET', 'sys/mounts')));
    assert.ok(control.some((r) => r.status === 429), 'sys/mounts is limited by the global quota');
    // ... and every default-exempt path is never refused, however often it is called.
    let exemptCalls = 0;
    let exemptLimited = 0;
    for (const path of DEFAULT_EXEMPT_PATHS) {
      const method = path === 'sys/health' || path === 'sys/seal-status' ? 'GET' : 'PUT';
      const replies = await Promise.all(Array.from({ length: 5 }, () => fetch(`${node.address}/v1/${path}`, { method, ...(method === 'PUT' ? { headers: { 'Content-Type': 'application/json' }, body: '{}' } : {}) })));
      for (const r of replies) {
        await r.arrayBuffer();
        exemptCalls++;
        if (r.status === 429) exemptLimited++;
      }
    }
    console.log(`over-quota served: ${served} ≤ ${allowed}; exempt paths limited: ${exemptLimited} (of ${exemptCalls} calls on ${DEFAULT_EXEMPT_PATHS.length} paths)`);
    assert.equal(exemptLimited, 0);
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/global-burst')).status, 204);
    assert.equal((await call('DELETE', 'sys/quotas/rate-limit/burst')).status, 204);
    assert.equal((await call('GET', 'secret/data/burst')).status, 200, 'limits lifted');
  });

  it('needs a token with access to sys/quotas', async () => {
    const res = await fetch(`${node.address}/v1/sys/quotas/rate-limit/x`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ rate: 1 }) });
    assert.equal(res.status, 403);
  });
});

describe('rate limiter and quota matching (units)', () => {
  it('refills in full at interval boundaries counted from the first request (go-limiter memorystore)', () => {
    const l = new RateLimiter(3, 10_000, 0, 0);
    assert.deepEqual([1, 2, 3, 4].map(() => l.take('a', 1_000).allowed), [true, true, true, false]);
    const t = l.take('a', 9_999);
    assert.equal(t.allowed, false);
    assert.equal(t.headers['X-Ratelimit-Reset'], '1', 'the window started at the first request (t=1 s)');
    assert.equal(l.take('a', 1_000 + 10_000).allowed, true, 'next window');
    assert.equal(l.take('b', 9_999).allowed, true, 'buckets are per client');
  });

  it('rate rounds to whole tokens as Vault does', () => {
    assert.equal(new RateLimiter(2.5, 1_000, 0, 0).tokens, 3);
  });

  it('block_interval refuses a client that exceeded the limit until it elapses', () => {
    const l = new RateLimiter(1, 1_000, 5_000, 0);
    assert.equal(l.take('a', 0).allowed, true);
    assert.equal(l.take('a', 10).allowed, false);
    const r = l.take('a', 2_000);
    assert.equal(r.allowed, false);
    assert.equal(r.headers['Retry-After'], '3');
    assert.equal(l.take('a', 5_011).allowed, true);
  });

  it('the most specific quota wins: role, exact suffix, glob, mount, global', () => {
    const q = (name: string, mount_path: string, path_suffix = '', role = ''): StoredRateLimitQuota => ({ id: name, type: 'rate-limit', name, namespace_path: 'root', mount_path, path_suffix, role, rate: 1, interval: 1e9, block_interval: 0, inheritable: false });
    const idx = new QuotaIndex([q('global', ''), q('mount', 'secret/'), q('exact', 'secret/', 'data/a'), q('glob', 'secret/', 'data/b*'), q('role', 'auth/approle/', '', 'r1')]);
    assert.equal(idx.find('secret/data/a', 'secret/', '')?.name, 'exact');
    assert.equal(idx.find('secret/data/a/deeper', 'secret/', '')?.name, 'mount', 'an exact suffix does not cover deeper paths');
    assert.equal(idx.find('secret/data/bee', 'secret/', '')?.name, 'glob');
    assert.equal(idx.find('secret/metadata/x', 'secret/', '')?.name, 'mount');
    assert.equal(idx.find('sys/mounts', 'sys/', '')?.name, 'global');
    assert.equal(idx.find('auth/approle/login', 'auth/approle/', 'r1')?.name, 'role');
    assert.equal(idx.find('auth/approle/login', 'auth/approle/', 'r2')?.name, 'global');
    assert.equal(new QuotaIndex([]).find('x', '', ''), null);
  });

  it('exempt paths: exact entries and "*" prefixes', () => {
    assert.equal(isExempt(DEFAULT_EXEMPT_PATHS, 'sys/health'), true);
    assert.equal(isExempt(DEFAULT_EXEMPT_PATHS, 'sys/health/'), true);
    assert.equal(isExempt(DEFAULT_EXEMPT_PATHS, 'sys/healthz'), false);
    assert.equal(isExempt(['sys/quotas/*'], 'sys/quotas/rate-limit/a'), true);
  });
});
