// KV v1 (pass-through) and the wire formats, through testMount.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError } from '../../../runtime/errors.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import { kvBackend } from './backend.js';
import { goDuration, mergePatch, rfc3339Nano, sortKeysDeep } from './format.js';

function mount(options: Record<string, string> = {}, defaultLeaseTtlS = 2764800): TestMount {
  return testMount(kvBackend, { type: 'kv', path: 'kv/', options, defaultLeaseTtlS });
}

async function code(p: Promise<unknown>): Promise<[string, string[]]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CofferError);
    return [err.value.code, err.value.messages];
  }
  return ['ok', []];
}

describe('KV v1', () => {
  it('writes 204, reads the object as a secret with the mount default lease, deletes', async () => {
    const m = mount({ version: '1' });
    const w = await m.request('update', 'app/db', { user: 'u', password: 'p' });
    assert.equal(w.operation, 'create');
    assert.equal(w.result, null);
    assert.equal((await m.request('update', 'app/db', { user: 'u2' })).operation, 'update');
    assert.deepEqual((await m.request('read', 'app/db')).result, { data: { user: 'u2' }, lease: { leaseId: '', durationS: 2764800, renewable: false } });
    assert.equal((await m.request('delete', 'app/db')).result, null);
    assert.deepEqual(await code(m.request('read', 'app/db')), ['COFFER_ERR_NOT_FOUND', []]);
  });

  it('ttl (or lease) in the data becomes lease_duration; an unparsable one falls back', async () => {
    const m = mount({}, 3600);
    await m.request('update', 'a', { v: 1, ttl: '30m' });
    await m.request('update', 'b', { v: 1, lease: 90 });
    await m.request('update', 'c', { v: 1, ttl: 'soon' });
    await m.request('update', 'd', { v: 1 });
    const lease = async (k: string) => (await m.request('read', k)).result?.lease?.durationS;
    assert.deepEqual([await lease('a'), await lease('b'), await lease('c'), await lease('d')], [1800, 90, 3600, 3600]);
    assert.deepEqual((await m.request('read', 'a')).result?.data, { ttl: '30m', v: 1 });
  });

  it('refuses empty data; lists direct children with folders; 404 on an empty list', async () => {
    const m = mount();
    assert.deepEqual(await code(m.request('update', 'x', {})), ['COFFER_ERR_INVALID_REQUEST', ['missing data fields']]);
    assert.deepEqual(await code(m.request('list', '')), ['COFFER_ERR_NOT_FOUND', []]);
    for (const k of ['a', 'b/c', 'b/d/e']) await m.request('update', k, { x: 1 });
    assert.deepEqual((await m.request('list', '')).result, { data: { keys: ['a', 'b/'] } });
    assert.deepEqual((await m.request('list', 'b/')).result, { data: { keys: ['c', 'd/'] } });
    assert.deepEqual((await m.request('list', 'b')).result, { data: { keys: ['c', 'd/'] } });
    assert.equal((await m.request('patch', 'a', { x: 2 }).catch((e: CofferError) => e.value.code)), 'COFFER_ERR_METHOD_NOT_ALLOWED');
    assert.deepEqual(await code(m.request('update', 'a/../b', { x: 1 })), ['COFFER_ERR_INVALID_REQUEST', ['invalid key name "a/../b"']]);
  });

  it('has no versions: data/ paths are plain keys', async () => {
    const m = mount();
    await m.request('update', 'data/x', { data: { a: 1 } });
    assert.deepEqual((await m.request('read', 'data/x')).result?.data, { data: { a: 1 } });
  });
});

describe('KV wire formats', () => {
  it('formats RFC3339Nano like Go', () => {
    assert.equal(rfc3339Nano(Date.UTC(2024, 1, 3, 4, 5, 6, 0)), '2024-02-03T04:05:06Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 1, 3, 4, 5, 6, 120)), '2024-02-03T04:05:06.12Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 1, 3, 4, 5, 6, 7)), '2024-02-03T04:05:06.007Z');
    assert.equal(rfc3339Nano(null), '');
  });
  it('formats durations like Go', () => {
    assert.deepEqual([0, 5, 60, 90, 3600, 3661, 86400, -1].map(goDuration), ['0s', '5s', '1m0s', '1m30s', '1h0m0s', '1h1m1s', '24h0m0s', '-1s']);
  });
  it('merge patch and key sorting keep __proto__ as data', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": null}') as Record<string, unknown>;
    const out = mergePatch({ a: 1, b: 2 }, patch) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['b', '__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(sortKeysDeep(patch) as object), ['__proto__', 'a']);
  });
});
