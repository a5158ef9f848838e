// KV v2 through the real router, field validation, existence checks and guarded commits (testMount).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError } from '../../../runtime/errors.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import { testCrypto } from '../framework/storage-view.js';
import type { LogicalResponse } from '../framework/types.js';
import { kvBackend } from './backend.js';
import { versionKey } from './v2-store.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const T0_STR = '2025-01-02T03:04:05.678Z';
const PREFIX = 'logical/mount-uuid/';

function mount(): TestMount {
  return testMount(kvBackend, { type: 'kv', path: 'secret/', options: { version: '2' } });
}

async function ok(m: TestMount, op: Parameters<TestMount['request']>[0], path: string, data: Record<string, unknown> = {}, nowMs = T0): Promise<LogicalResponse | null> {
  return (await m.request(op, path, data, { nowMs })).result;
}

async function fails(m: TestMount, op: Parameters<TestMount['request']>[0], path: string, data: Record<string, unknown>, code: string, message?: string, nowMs = T0): Promise<void> {
  await assert.rejects(m.request(op, path, data, { nowMs }), (err: unknown) => {
    assert.ok(err instanceof CofferError, String(err));
    assert.equal(err.value.code, code);
    if (message !== undefined) assert.deepEqual(err.value.messages, [message]);
    return true;
  });
}

function stored(m: TestMount, key: string): unknown {
  const blob = m.physical.data.get(PREFIX + key);
  return blob === undefined ? undefined : JSON.parse(testCrypto.decrypt(PREFIX + key, blob).toString('utf8'));
}

function snapshot(m: TestMount): string {
  return JSON.stringify([...m.physical.data.keys()].sort().map((k) => [k, stored(m, k.slice(PREFIX.length))]));
}

const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
const CAS_REQUIRED = 'check-and-set parameter required for this call';

describe('KV v2 data', () => {
  it('writes return version metadata; reads return data and metadata; create vs update by existence', async () => {
    const m = mount();
    const first = await m.request('update', 'data/app/db', { data: { password: 's3cr3t', user: 'u' } }, { nowMs: T0 });
    assert.equal(first.operation, 'create');
    assert.deepEqual(first.result, { data: { created_time: T0_STR, custom_metadata: null, deletion_time: '', destroyed: false, version: 1 } });
    const second = await m.request('update', 'data/app/db', { data: { password: 'p2' } }, { nowMs: T0 + 1000 });
    assert.equal(second.operation, 'update');
    assert.equal((second.result?.data as { version: number }).version, 2);
    assert.deepEqual(await ok(m, 'read', 'data/app/db', {}, T0 + 2000), {
      data: { data: { password: 'p2' }, metadata: { created_time: '2025-01-02T03:04:06.678Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 2 } },
    });
    const v1 = await ok(m, 'read', 'data/app/db', { version: '1' });
    assert.deepEqual((v1?.data as { data: unknown }).data, { password: 's3cr3t', user: 'u' });
  });

  it('never-existed keys and versions are 404 {"errors":[]}', async () => {
    const m = mount();
    await fails(m, 'read', 'data/nope', {}, 'COFFER_ERR_NOT_FOUND');
    await ok(m, 'update', 'data/k', { data: { a: 1 } });
    await fails(m, 'read', 'data/k', { version: 7 }, 'COFFER_ERR_NOT_FOUND');
  });

  it('refuses a write without data, and keeps data keys sorted as Go re-encodes them', async () => {
    const m = mount();
    await fails(m, 'update', 'data/k', {}, 'COFFER_ERR_INVALID_REQUEST', 'no data provided');
    await fails(m, 'update', 'data/k', { data: null }, 'COFFER_ERR_INVALID_REQUEST', 'no data provided');
    await ok(m, 'update', 'data/k', { data: { b: { z: 1, y: 2 }, a: [3] } });
    const r = await ok(m, 'read', 'data/k');
    assert.equal(JSON.stringify((r?.data as { data: unknown }).data), '{"a":[3],"b":{"y":2,"z":1}}');
  });

  it('cas: 0 creates only, N must equal current_version, a mismatch stores nothing', async () => {
    const m = mount();
    await ok(m, 'update', 'data/k', { data: { v: 1 }, options: { cas: 0 } });
    const before = snapshot(m);
    await fails(m, 'update', 'data/k', { data: { v: 2 }, options: { cas: 0 } }, 'COFFER_ERR_INVALID_REQUEST', CAS_MISMATCH);
    await fails(m, 'update', 'data/k', { data: { v: 2 }, options: { cas: 2 } }, 'COFFER_ERR_INVALID_REQUEST', CAS_MISMATCH);
    await fails(m, 'update', 'data/k', { data: { v: 2 }, options: { cas: 'x' } }, 'COFFER_ERR_INVALID_REQUEST', 'error parsing check-and-set parameter');
    assert.equal(snapshot(m), before);
    const r = await ok(m, 'update', 'data/k', { data: { v: 2 }, options: { cas: '1' } });
    assert.equal((r?.data as { version: number }).version, 2);
  });

  it('cas_required on the mount or the key demands cas', async () => {
    const m = mount();
    await ok(m, 'update', 'config', { cas_required: true });
    await fails(m, 'update', 'data/k', { data: { a: 1 } }, 'COFFER_ERR_INVALID_REQUEST', CAS_REQUIRED);
    await ok(m, 'update', 'data/k', { data: { a: 1 }, options: { cas: 0 } });
    await ok(m, 'update', 'config', { cas_required: false });
    await ok(m, 'update', 'data/k', { data: { a: 2 } });
    await ok(m, 'update', 'metadata/k2', { cas_required: true });
    await fails(m, 'update', 'data/k2', { data: { a: 1 } }, 'COFFER_ERR_INVALID_REQUEST', CAS_REQUIRED);
    await ok(m, 'update', 'data/k2', { data: { a: 1 }, options: { cas: 0 } });
  });

  it('200 sequential cas writes give dense versions 1..200; the default keeps the last 10', async () => {
    const m = mount();
    for (let v = 1; v <= 200; v++) {
      const r = await ok(m, 'update', 'data/seq', { data: { n: v }, options: { cas: v - 1 } }, T0 + v);
      assert.equal((r?.data as { version: number }).version, v);
    }
    const meta = (await ok(m, 'read', 'metadata/seq'))?.data as Record<string, unknown>;
    assert.equal(meta.current_version, 200);
    assert.equal(meta.oldest_version, 191);
    assert.deepEqual(Object.keys(meta.versions as object), ['191', '192', '193', '194', '195', '196', '197', '198', '199', '200']);
    const versionKeys = [...m.physical.data.keys()].filter((k) => k.startsWith(`${PREFIX}versions/`));
    assert.equal(versionKeys.length, 10);
    assert.ok(m.physical.data.has(PREFIX + versionKey('seq', 200)));
    assert.ok(!m.physical.data.has(PREFIX + versionKey('seq', 190)));
  });

  it('DELETE soft-deletes the latest: the read is 404 with the envelope, undelete restores it', async () => {
    const m = mount();
    await ok(m, 'update', 'data/k', { data: { a: 1 } });
    assert.equal(await ok(m, 'delete', 'data/k', {}, T0 + 5), null);
    const r = await ok(m, 'read', 'data/k', {}, T0 + 6);
    assert.deepEqual(r, {
      data: { data: null, metadata: { created_time: T0_STR, custom_metadata: null, deletion_time: '2025-01-02T03:04:05.683Z', destroyed: false, version: 1 } },
      statusCode: 404,
    });
    assert.equal(await ok(m, 'delete', 'data/missing'), null);
    assert.equal(await ok(m, 'update', 'undelete/k', { versions: [1] }), null);
    assert.deepEqual(((await ok(m, 'read', 'data/k'))?.data as { data: unknown }).data, { a: 1 });
    await fails(m, 'update', 'undelete/k', {}, 'COFFER_ERR_INVALID_REQUEST', 'No version number provided');
  });

  it('delete/ and destroy/ take versions (array or comma string); destroyed data is wiped', async () => {
    const m = mount();
    for (let i = 1; i <= 3; i++) await ok(m, 'update', 'data/k', { data: { i } });
    await ok(m, 'update', 'delete/k', { versions: '1,2' }, T0 + 1);
    const r1 = await ok(m, 'read', 'data/k', { version: 1 }, T0 + 2);
    assert.equal(r1?.statusCode, 404);
    assert.equal(((r1?.data as { metadata: { deletion_time: string } }).metadata).deletion_time, '2025-01-02T03:04:05.679Z');
    assert.equal(((await ok(m, 'read', 'data/k', {}, T0 + 2))?.data as { data: unknown }).data !== null, true);
    await fails(m, 'update', 'delete/k', { versions: [] }, 'COFFER_ERR_INVALID_REQUEST', 'No version number provided');
    await fails(m, 'update', 'destroy/k', {}, 'COFFER_ERR_INVALID_REQUEST', 'no version number provided');
    assert.ok(m.physical.data.has(PREFIX + versionKey('k', 2)));
    assert.equal(await ok(m, 'update', 'destroy/k', { versions: [2, 3] }, T0 + 3), null);
    assert.ok(!m.physical.data.has(PREFIX + versionKey('k', 2)));
    assert.ok(!m.physical.data.has(PREFIX + versionKey('k', 3)));
    const r3 = await ok(m, 'read', 'data/k', {}, T0 + 4);
    assert.deepEqual(r3, { data: { data: null, metadata: { created_time: T0_STR, custom_metadata: null, deletion_time: '', destroyed: true, version: 3 } }, statusCode: 404 });
    // undelete cannot bring back a destroyed version
    await ok(m, 'update', 'undelete/k', { versions: [2, 3, 1] }, T0 + 5);
    assert.equal((await ok(m, 'read', 'data/k', { version: 3 }, T0 + 6))?.statusCode, 404);
    assert.equal((await ok(m, 'read', 'data/k', { version: 1 }, T0 + 6))?.statusCode, undefined);
    assert.equal(await ok(m, 'update', 'destroy/none', { versions: [1] }), null);
  });

  it('max_versions (key or mount, the larger wins) prunes the oldest versions and their data', async () => {
    const m = mount();
    await ok(m, 'update', 'metadata/k', { max_versions: 3 });
    for (let i = 1; i <= 5; i++) await ok(m, 'update', 'data/k', { data: { i } });
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta.versions as object), ['3', '4', '5']);
    assert.equal(meta.oldest_version, 3);
    assert.equal(meta.max_versions, 3);
    await fails(m, 'read', 'data/k', { version: 2 }, 'COFFER_ERR_NOT_FOUND');
    assert.ok(!m.physical.data.has(PREFIX + versionKey('k', 2)));
    await ok(m, 'update', 'config', { max_versions: 4 });
    await ok(m, 'update', 'data/k', { data: { i: 6 } });
    const meta2 = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta2.versions as object), ['3', '4', '5', '6']);
  });

  it('lowering max_versions prunes several versions on the next write', async () => {
    const m = mount();
    for (let i = 1; i <= 6; i++) await ok(m, 'update', 'data/k', { data: { i } });
    await ok(m, 'update', 'metadata/k', { max_versions: 2 });
    await ok(m, 'update', 'data/k', { data: { i: 7 } });
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta.versions as object), ['6', '7']);
    assert.equal(meta.oldest_version, 6);
    assert.equal([...m.physical.data.keys()].filter((k) => k.startsWith(`${PREFIX}versions/`)).length, 2);
  });

  it('delete_version_after: the smaller non-zero of mount and key; reads 404 once the time has come', async () => {
    const m = mount();
    await ok(m, 'update', 'config', { delete_version_after: '1h' });
    assert.equal(((await ok(m, 'read', 'config'))?.data as { delete_version_after: string }).delete_version_after, '1h0m0s');
    const w = await ok(m, 'update', 'data/k', { data: { a: 1 } });
    assert.equal((w?.data as { deletion_time: string }).deletion_time, '2025-01-02T04:04:05.678Z');
    assert.equal((await ok(m, 'read', 'data/k', {}, T0 + 3_599_000))?.statusCode, undefined);
    assert.equal((await ok(m, 'read', 'data/k', {}, T0 + 3_600_000))?.statusCode, 404);
    await ok(m, 'update', 'metadata/k', { delete_version_after: '30s' });
    const w2 = await ok(m, 'update', 'data/k', { data: { a: 2 } });
    assert.equal((w2?.data as { deletion_time: string }).deletion_time, '2025-01-02T03:04:35.678Z');
    assert.equal(((await ok(m, 'read', 'metadata/k'))?.data as { delete_version_after: string }).delete_version_after, '30s');
    // undelete restarts the clock from now
    await ok(m, 'update', 'undelete/k', { versions: [1] }, T0 + 4_000_000);
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as { versions: Record<string, { deletion_time: string }> };
    assert.equal(meta.versions['1']?.deletion_time, '2025-01-02T04:11:15.678Z');
    // a negative mount value disables it everywhere
    await ok(m, 'update', 'config', { delete_version_after: '-1s' });
    assert.equal(((await ok(m, 'read', 'config'))?.data as { delete_version_after: string }).delete_version_after, '-1s');
    const w3 = await ok(m, 'update', 'data/k', { data: { a: 3 } });
    assert.equal((w3?.data as { deletion_time: string }).deletion_time, '');
    await fails(m, 'update', 'metadata/k', { delete_version_after: -5 }, 'COFFER_ERR_INVALID_REQUEST');
  });

  it('PATCH merges into the latest version (RFC 7386); missing key 404 empty, deleted 404 with metadata', async () => {
    const m = mount();
    const none = await ok(m, 'patch', 'data/k', { data: { a: 1 } });
    assert.deepEqual(none, { raw: { status: 404, body: null } });
    await ok(m, 'update', 'data/k', { data: { a: 1, b: { c: 2, d: 3 }, e: 'x' } });
    const p = await ok(m, 'patch', 'data/k', { data: { a: null, b: { c: 20, d: null }, f: [1] } }, T0 + 10);
    assert.equal((p?.data as { version: number }).version, 2);
    assert.deepEqual(((await ok(m, 'read', 'data/k'))?.data as { data: unknown }).data, { b: { c: 20 }, e: 'x', f: [1] });
    await fails(m, 'patch', 'data/k', { data: { a: 1 }, options: { cas: 1 } }, 'COFFER_ERR_INVALID_REQUEST', CAS_MISMATCH);
    await fails(m, 'patch', 'data/k', {}, 'COFFER_ERR_INVALID_REQUEST', 'no data provided');
    await ok(m, 'patch', 'data/k', { data: { g: true }, options: { cas: 2 } });
    await ok(m, 'delete', 'data/k', {}, T0 + 20);
    const gone = await ok(m, 'patch', 'data/k', { data: { a: 1 } }, T0 + 21);
    assert.deepEqual(gone, {
      data: { created_time: T0_STR, custom_metadata: null, deletion_time: '2025-01-02T03:04:05.698Z', destroyed: false, version: 3 },
      statusCode: 404,
    });
  });

  it('subkeys returns the structure with null leaves, limited by depth', async () => {
    const m = mount();
    await ok(m, 'update', 'data/k', { data: { a: { b: { c: 1 }, d: {} }, e: 2 } });
    const r = await ok(m, 'read', 'subkeys/k');
    assert.deepEqual((r?.data as { subkeys: unknown }).subkeys, { a: { b: { c: null }, d: null }, e: null });
    const r1 = await ok(m, 'read', 'subkeys/k', { depth: '1' });
    assert.deepEqual((r1?.data as { subkeys: unknown }).subkeys, { a: null, e: null });
    await fails(m, 'read', 'subkeys/none', {}, 'COFFER_ERR_NOT_FOUND');
  });

  it('LIST on data/ is unsupported (405); bare roots and unknown paths are 404 with a warning', async () => {
    const m = mount();
    await fails(m, 'list', 'data/', {}, 'COFFER_ERR_METHOD_NOT_ALLOWED');
    const root = await ok(m, 'read', 'data');
    assert.deepEqual(root, { data: null, warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'], statusCode: 404 });
    const bad = await ok(m, 'update', 'foo/bar', { a: 1 });
    assert.equal(bad?.statusCode, 404);
    assert.match(bad?.warnings?.[0] ?? '', /Invalid path for a versioned K\/V secrets engine.*'bao kv put'/);
    await fails(m, 'update', 'data/', { data: { a: 1 } }, 'COFFER_ERR_INVALID_REQUEST', 'missing path');
  });
});

describe('KV v2 metadata and config', () => {
  it('metadata read has every field, sorted as Vault encodes it', async () => {
    const m = mount();
    await ok(m, 'update', 'data/k', { data: { a: 1 } }, T0);
    await ok(m, 'update', 'data/k', { data: { a: 2 } }, T0 + 1000);
    const r = await ok(m, 'read', 'metadata/k');
    assert.equal(
      JSON.stringify(r?.data),
      JSON.stringify({
        cas_required: false,
        created_time: T0_STR,
        current_metadata_version: 0,
        current_version: 2,
        custom_metadata: null,
        delete_version_after: '0s',
        max_versions: 0,
        metadata_cas_required: false,
        oldest_version: 0,
        updated_time: '2025-01-02T03:04:06.678Z',
        versions: {
          '1': { created_time: T0_STR, deletion_time: '', destroyed: false },
          '2': { created_time: '2025-01-02T03:04:06.678Z', deletion_time: '', destroyed: false },
        },
      }),
    );
    await fails(m, 'read', 'metadata/none', {}, 'COFFER_ERR_NOT_FOUND');
  });

  it('metadata write sets settings and custom_metadata (shown on data responses); empty writes do nothing', async () => {
    const m = mount();
    assert.equal(await ok(m, 'update', 'metadata/k', {}), null);
    await fails(m, 'read', 'metadata/k', {}, 'COFFER_ERR_NOT_FOUND');
    const w = await m.request('update', 'metadata/k', { custom_metadata: { owner: 'ops', n: 5 }, max_versions: 5, cas_required: true }, { nowMs: T0 });
    assert.equal(w.operation, 'create');
    assert.equal(w.result, null);
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.deepEqual(meta.custom_metadata, { n: '5', owner: 'ops' });
    assert.equal(meta.current_version, 0);
    assert.equal(meta.current_metadata_version, 1);
    assert.equal(meta.created_time, T0_STR);
    const d = await ok(m, 'update', 'data/k', { data: { a: 1 }, options: { cas: 0 } });
    assert.deepEqual((d?.data as { custom_metadata: unknown }).custom_metadata, { n: '5', owner: 'ops' });
    await fails(m, 'update', 'metadata/k', { custom_metadata: { '': 'x' } }, 'COFFER_ERR_INVALID_REQUEST',
      '1 error occurred:\n\t* custom_metadata validation failed: length of key "" is 0 but must be 0 < len(key) <= 128\n\n');
  });

  it('metadata warnings when the mount mandates cas', async () => {
    const m = mount();
    await ok(m, 'update', 'config', { cas_required: true });
    const r = await ok(m, 'update', 'metadata/k', { cas_required: false });
    assert.deepEqual(r, { data: null, warnings: ['"cas_required" set to false, but is mandated by backend config. This value will be ignored.'] });
  });

  it('metadata patch merges custom_metadata and replaces settings; missing key 404 empty', async () => {
    const m = mount();
    assert.deepEqual(await ok(m, 'patch', 'metadata/k', { max_versions: 2 }), { raw: { status: 404, body: null } });
    await ok(m, 'update', 'metadata/k', { custom_metadata: { a: '1', b: '2' }, max_versions: 7 });
    assert.equal(await ok(m, 'patch', 'metadata/k', { custom_metadata: { a: null, c: '3' }, cas_required: true }, T0 + 9), null);
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.deepEqual(meta.custom_metadata, { b: '2', c: '3' });
    assert.equal(meta.max_versions, 7);
    assert.equal(meta.cas_required, true);
    assert.equal(meta.current_metadata_version, 2);
    assert.equal(meta.updated_time, '2025-01-02T03:04:05.687Z');
  });

  it('metadata_cas (OpenBao): required by the key, must match the metadata version', async () => {
    const m = mount();
    await fails(m, 'update', 'metadata/k', { max_versions: 1, metadata_cas: 3 }, 'COFFER_ERR_INVALID_REQUEST', 'metadata_cas must be 0 when creating new metadata');
    await ok(m, 'update', 'metadata/k', { metadata_cas_required: true, metadata_cas: 0 });
    await fails(m, 'update', 'metadata/k', { max_versions: 1 }, 'COFFER_ERR_INVALID_REQUEST', 'metadata check-and-set parameter required for this call');
    await fails(m, 'update', 'metadata/k', { max_versions: 1, metadata_cas: 2 }, 'COFFER_ERR_INVALID_REQUEST', 'metadata check-and-set parameter does not match the current version');
    await ok(m, 'update', 'metadata/k', { max_versions: 1, metadata_cas: 1 });
  });

  it('LIST metadata/ gives direct children with folders; empty is 404; after and limit page', async () => {
    const m = mount();
    await fails(m, 'list', 'metadata/', {}, 'COFFER_ERR_NOT_FOUND');
    for (const k of ['a', 'b/c', 'b/d/e', 'c']) await ok(m, 'update', `data/${k}`, { data: { x: 1 } });
    assert.deepEqual(await ok(m, 'list', 'metadata/'), { data: { keys: ['a', 'b/', 'c'] } });
    assert.deepEqual(await ok(m, 'list', 'metadata'), { data: { keys: ['a', 'b/', 'c'] } });
    assert.deepEqual(await ok(m, 'list', 'metadata/b/'), { data: { keys: ['c', 'd/'] } });
    assert.deepEqual(await ok(m, 'list', 'metadata/b'), { data: { keys: ['c', 'd/'] } });
    assert.deepEqual(await ok(m, 'list', 'metadata/', { after: 'a', limit: '1' }), { data: { keys: ['b/'] } });
    await fails(m, 'list', 'metadata/zzz/', {}, 'COFFER_ERR_NOT_FOUND');
  });

  it('DELETE metadata removes every version and the metadata; the next write is version 1', async () => {
    const m = mount();
    for (let i = 1; i <= 3; i++) await ok(m, 'update', 'data/k', { data: { i } });
    await ok(m, 'update', 'data/other', { data: { i: 0 } });
    assert.equal(await ok(m, 'delete', 'metadata/k'), null);
    await fails(m, 'read', 'data/k', {}, 'COFFER_ERR_NOT_FOUND');
    await fails(m, 'read', 'metadata/k', {}, 'COFFER_ERR_NOT_FOUND');
    const left = [...m.physical.data.keys()].map((k) => k.slice(PREFIX.length)).sort();
    assert.deepEqual(left, ['metadata/other', versionKey('other', 1)].sort());
    const w = await ok(m, 'update', 'data/k', { data: { i: 9 }, options: { cas: 0 } });
    assert.equal((w?.data as { version: number }).version, 1);
    assert.equal(await ok(m, 'delete', 'metadata/missing'), null);
  });

  it('config reads defaults and takes writes', async () => {
    const m = mount();
    assert.deepEqual(await ok(m, 'read', 'config'), { data: { cas_required: false, delete_version_after: '0s', max_versions: 0, metadata_cas_required: false } });
    await ok(m, 'update', 'config', { max_versions: 12, cas_required: 'true', delete_version_after: 90 });
    assert.deepEqual(await ok(m, 'read', 'config'), { data: { cas_required: true, delete_version_after: '1m30s', max_versions: 12, metadata_cas_required: false } });
    await ok(m, 'update', 'config', { delete_version_after: 0 });
    assert.equal(((await ok(m, 'read', 'config'))?.data as { delete_version_after: string }).delete_version_after, '0s');
  });
});

describe('KV v2 concurrency (guards)', () => {
  it('two unawaited writers to one key get distinct versions; the loser re-executes', async () => {
    const m = mount();
    const [a, b] = await Promise.all([
      m.request('update', 'data/k', { data: { who: 'a' } }, { nowMs: T0 }),
      m.request('update', 'data/k', { data: { who: 'b' } }, { nowMs: T0 }),
    ]);
    const versions = [a, b].map((r) => (r.result?.data as { version: number }).version).sort();
    assert.deepEqual(versions, [1, 2]);
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as Record<string, unknown>;
    assert.equal(meta.current_version, 2);
    assert.deepEqual(Object.keys(meta.versions as object), ['1', '2']);
    const latest = ((await ok(m, 'read', 'data/k'))?.data as { data: { who: string } }).data.who;
    const v1 = ((await ok(m, 'read', 'data/k', { version: 1 }))?.data as { data: { who: string } }).data.who;
    assert.notEqual(latest, v1);
  });

  it('unawaited cas=0 writers: exactly one wins, the others see its version and are refused', async () => {
    const m = mount();
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => m.request('update', 'data/k', { data: { i }, options: { cas: 0 } }, { nowMs: T0 })),
    );
    const won = settled.filter((s) => s.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const s of settled) {
      if (s.status === 'rejected') assert.deepEqual((s.reason as CofferError).value.messages, [CAS_MISMATCH]);
    }
    assert.equal(((await ok(m, 'read', 'metadata/k'))?.data as { current_version: number }).current_version, 1);
  });

  it('20 clients looping read-then-cas-write: dense versions, each written exactly once', async () => {
    const m = mount();
    await ok(m, 'update', 'metadata/k', { max_versions: 1000 });
    const target = 200;
    const successes: number[] = [];
    let losers = 0;
    let nowMs = T0;
    const client = async (id: number) => {
      while (successes.length < target) {
        // a client's read: the latest version (404 before the first write)
        const latest = await m.request('read', 'data/k', {}, { nowMs: ++nowMs }).catch(() => null);
        const current = latest ? (latest.result?.data as { metadata: { version: number } }).metadata.version : 0;
        if (current >= target) return;
        try {
          const r = await m.request('update', 'data/k', { data: { id, current }, options: { cas: current } }, { nowMs: ++nowMs });
          successes.push((r.result?.data as { version: number }).version);
        } catch (err) {
          assert.deepEqual((err as CofferError).value.messages, [CAS_MISMATCH]);
          losers++;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => client(i)));
    assert.equal(successes.length, target);
    assert.deepEqual([...successes].sort((a, b) => a - b), Array.from({ length: target }, (_, i) => i + 1));
    assert.ok(losers > 0, 'expected some cas losers');
    const meta = (await ok(m, 'read', 'metadata/k'))?.data as { current_version: number; versions: object };
    assert.equal(meta.current_version, target);
    assert.equal(Object.keys(meta.versions).length, target);
    for (let v = 1; v <= target; v++) {
      const r = await ok(m, 'read', 'data/k', { version: v });
      assert.equal((r?.data as { data: { current: number } }).data.current, v - 1);
    }
  });
});
