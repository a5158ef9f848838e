// KV v2's stored metadata record (actors/mounts/kv/v2-store.ts): only the fields that differ from their
// defaults are written, and a record in the earlier form (every field present) still loads the same.
// Checked through the public API on a dev server: KV v2 for the secrets, sys/raw for the records as stored.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const ROOT = 'kv-form-root';

describe('KV v2 stored metadata form', () => {
  let dev: ServerProcess;
  let prefix = '';
  const raw = async (path: string) => http(dev.url, 'GET', `sys/raw/${prefix}${path}`, { token: ROOT });
  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    const mounts = await http(dev.url, 'GET', 'sys/mounts', { token: ROOT });
    prefix = `logical/${String(mounts.body.data['secret/'].uuid)}/`;
  });
  after(() => dev.kill('SIGKILL'));

  it('writes only what differs from the defaults', async () => {
    assert.equal((await http(dev.url, 'PUT', 'secret/data/compact', { token: ROOT, body: { data: { a: 'b' } } })).status, 200);
    const stored = await raw('metadata/compact');
    assert.equal(stored.status, 200);
    const text = String(stored.body.data.value);
    const record = JSON.parse(text) as Record<string, unknown>;
    assert.equal(record.v, 1);
    for (const absent of ['key', 'updated_ms', 'max_versions', 'cas_required', 'delete_version_after_s', 'custom_metadata', 'current_metadata_version', 'metadata_cas_required']) {
      assert.equal(absent in record, false, `${absent} left out (${text})`);
    }
    assert.equal(record.current_version, 1);
    assert.deepEqual(Object.keys((record.versions as Record<string, object>)['1'] ?? {}), ['created_ms'], 'a live version stores its creation time only');
    assert.ok(text.length < 120, `${text.length} bytes: ${text}`);
    const h = createHash('sha256').update('compact|1').digest('hex');
    const version = JSON.parse(String((await raw(`versions/${h.slice(0, 3)}/${h.slice(3)}`)).body.data.value)) as Record<string, unknown>;
    assert.deepEqual(version, { v: 1, data: { a: 'b' } }, 'the version record holds its data only');
    const first = await http(dev.url, 'GET', 'secret/metadata/compact', { token: ROOT });
    assert.equal(first.body.data.updated_time, first.body.data.created_time, 'updated_ms, left out, reads as created_ms');
    assert.equal((await http(dev.url, 'GET', 'secret/data/compact', { token: ROOT })).body.data.metadata.created_time, first.body.data.created_time);

    // Settings that differ are kept, and read back through the API.
    assert.equal((await http(dev.url, 'POST', 'secret/metadata/compact', { token: ROOT, body: { max_versions: 3, custom_metadata: { team: 'x' } } })).status, 204);
    const meta = await http(dev.url, 'GET', 'secret/metadata/compact', { token: ROOT });
    assert.equal(meta.body.data.max_versions, 3);
    assert.deepEqual(meta.body.data.custom_metadata, { team: 'x' });
    assert.equal(meta.body.data.cas_required, false);
    assert.equal(meta.body.data.versions['1'].destroyed, false);
    assert.equal(meta.body.data.versions['1'].deletion_time, '');
  });

  it('loads a record in the earlier, full form and rewrites it compactly on the next write', async () => {
    const created = Date.parse('2026-01-02T03:04:05.678Z');
    const full = {
      v: 1,
      key: 'legacy',
      versions: { '1': { created_ms: created, deletion_ms: null, destroyed: false } },
      current_version: 1,
      oldest_version: 0,
      created_ms: created,
      updated_ms: created,
      max_versions: 4,
      cas_required: false,
      delete_version_after_s: 0,
      custom_metadata: { owner: 'ops' },
      current_metadata_version: 0,
      metadata_cas_required: false,
    };
    const versionHash = createHash('sha256').update('legacy|1').digest('hex');
    const versionPath = `versions/${versionHash.slice(0, 3)}/${versionHash.slice(3)}`;
    assert.equal((await http(dev.url, 'PUT', `sys/raw/${prefix}metadata/legacy`, { token: ROOT, body: { value: JSON.stringify(full) } })).status, 204);
    assert.equal((await http(dev.url, 'PUT', `sys/raw/${prefix}${versionPath}`, { token: ROOT, body: { value: JSON.stringify({ v: 1, data: { old: 'value' }, created_ms: created }) } })).status, 204);

    const read = await http(dev.url, 'GET', 'secret/data/legacy', { token: ROOT });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.data.data, { old: 'value' });
    assert.equal(read.body.data.metadata.version, 1);
    assert.equal(read.body.data.metadata.created_time, '2026-01-02T03:04:05.678Z');
    const meta = await http(dev.url, 'GET', 'secret/metadata/legacy', { token: ROOT });
    assert.equal(meta.body.data.max_versions, 4);
    assert.deepEqual(meta.body.data.custom_metadata, { owner: 'ops' });

    assert.equal((await http(dev.url, 'PUT', 'secret/data/legacy', { token: ROOT, body: { data: { new: 'value' } } })).body.data.version, 2);
    const record = JSON.parse(String((await raw('metadata/legacy')).body.data.value)) as Record<string, unknown>;
    assert.equal('key' in record, false, 'rewritten in the compact form');
    assert.equal(record.max_versions, 4, 'its settings kept');
    assert.deepEqual(record.custom_metadata, { owner: 'ops' });
    assert.deepEqual(Object.keys(record.versions as object), ['1', '2']);
    const v1 = await http(dev.url, 'GET', 'secret/data/legacy?version=1', { token: ROOT });
    assert.deepEqual(v1.body.data.data, { old: 'value' }, 'the old version still reads');
  });
});
