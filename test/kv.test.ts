// KV v1 and v2 over HTTP, through a dev node from the SDK (KV v2 at secret/): every behaviour of
// API.md §4.1–§4.2 with Vault's exact shapes, statuses and messages, plus node-vault used unchanged.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

const ENVELOPE_KEYS = ['auth', 'data', 'lease_duration', 'lease_id', 'renewable', 'request_id', 'warnings', 'wrap_info'];
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
/** Until actors/handler/pipeline.ts shapeReply sends LogicalResponse.statusCode (and a raw null body with its status). */

describe('KV over HTTP', () => {
  let node: EmbeddedNode;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(`${node.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': node.rootToken, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: text === '' ? null : JSON.parse(text), headers: res.headers };
  }

  function envelopeOk(r: Reply): any {
    assert.equal(r.status, 200, r.text);
    for (const k of ENVELOPE_KEYS) assert.ok(k in r.body, `envelope key ${k}`);
    return r.body.data;
  }

  describe('v2 data', () => {
    it('writes return version metadata, reads data + metadata, ?version= picks a version', async () => {
      const w1 = await call('POST', 'secret/data/app/db', { data: { password: 'one', user: 'u' } });
      const m1 = envelopeOk(w1);
      assert.deepEqual(Object.keys(m1), ['created_time', 'custom_metadata', 'deletion_time', 'destroyed', 'version']);
      assert.equal(m1.version, 1);
      assert.match(m1.created_time, TIME);
      assert.equal(m1.deletion_time, '');
      assert.equal(m1.destroyed, false);
      assert.equal(m1.custom_metadata, null);
      assert.equal(envelopeOk(await call('PUT', 'secret/data/app/db', { data: { password: 'two' } })).version, 2);

      const r = await call('GET', 'secret/data/app/db');
      const d = envelopeOk(r);
      assert.equal(r.body.lease_duration, 0);
      assert.equal(r.body.lease_id, '');
      assert.deepEqual(d.data, { password: 'two' });
      assert.equal(d.metadata.version, 2);
      assert.deepEqual(envelopeOk(await call('GET', 'secret/data/app/db?version=1')).data, { password: 'one', user: 'u' });
    });

    it('never-existed keys and versions are 404 {"errors":[]}; a write without data is 400', async () => {
      const r = await call('GET', 'secret/data/never');
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { errors: [] });
      await call('POST', 'secret/data/once', { data: { a: 1 } });
      const v = await call('GET', 'secret/data/once?version=9');
      assert.equal(v.status, 404);
      assert.deepEqual(v.body, { errors: [] });
      const bad = await call('POST', 'secret/data/once', { options: {} });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body, { errors: ['no data provided'] });
    });

    it('cas: 0 creates only, a mismatch is 400 with Vault\'s message; cas_required demands it', async () => {
      assert.equal(envelopeOk(await call('POST', 'secret/data/cas1', { data: { a: 1 }, options: { cas: 0 } })).version, 1);
      const again = await call('POST', 'secret/data/cas1', { data: { a: 2 }, options: { cas: 0 } });
      assert.equal(again.status, 400);
      assert.deepEqual(again.body, { errors: [CAS_MISMATCH] });
      assert.equal(envelopeOk(await call('GET', 'secret/data/cas1')).metadata.version, 1);
      assert.equal(envelopeOk(await call('POST', 'secret/data/cas1', { data: { a: 2 }, options: { cas: 1 } })).version, 2);
      assert.equal((await call('POST', 'secret/metadata/cas2', { cas_required: true })).status, 204);
      const need = await call('POST', 'secret/data/cas2', { data: { a: 1 } });
      assert.equal(need.status, 400);
      assert.deepEqual(need.body, { errors: ['check-and-set parameter required for this call'] });
    });

    it('PATCH needs the merge-patch content type and merges into the latest version', async () => {
      await call('POST', 'secret/data/patchme', { data: { a: 1, b: { c: 2, d: 3 } } });
      const wrongType = await call('PATCH', 'secret/data/patchme', { data: { a: 2 } });
      assert.equal(wrongType.status, 415);
      const p = await call('PATCH', 'secret/data/patchme', { data: { a: null, b: { c: 20 }, e: 'x' } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(envelopeOk(p).version, 2);
      assert.deepEqual(envelopeOk(await call('GET', 'secret/data/patchme')).data, { b: { c: 20, d: 3 }, e: 'x' });
      const mismatch = await call('PATCH', 'secret/data/patchme', { data: { a: 1 }, options: { cas: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(mismatch.status, 400);
      assert.deepEqual(mismatch.body, { errors: [CAS_MISMATCH] });
    });

    it('PATCH of a missing key is 404 with an empty body', async () => {
      const r = await call('PATCH', 'secret/data/patch-missing', { data: { a: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(r.status, 404);
      assert.equal(r.text, '');
    });

    it('DELETE soft-deletes the latest (204); delete/, undelete/, destroy/ take versions (204)', async () => {
      for (let i = 1; i <= 3; i++) await call('POST', 'secret/data/del', { data: { i } });
      assert.equal((await call('DELETE', 'secret/data/del')).status, 204);
      assert.equal((await call('DELETE', 'secret/data/never-was')).status, 204);
      const meta = envelopeOk(await call('GET', 'secret/metadata/del'));
      assert.match(meta.versions['3'].deletion_time, TIME);
      assert.equal((await call('POST', 'secret/undelete/del', { versions: [3] })).status, 204);
      assert.deepEqual(envelopeOk(await call('GET', 'secret/data/del')).data, { i: 3 });
      assert.equal((await call('POST', 'secret/delete/del', { versions: [1, 2] })).status, 204);
      assert.equal((await call('PUT', 'secret/destroy/del', { versions: '2' })).status, 204);
      const after = envelopeOk(await call('GET', 'secret/metadata/del'));
      assert.match(after.versions['1'].deletion_time, TIME);
      assert.equal(after.versions['2'].destroyed, true);
      assert.equal(after.versions['3'].deletion_time, '');
      const none = await call('POST', 'secret/delete/del', {});
      assert.equal(none.status, 400);
      assert.deepEqual(none.body, { errors: ['No version number provided'] });
    });

    it('a soft-deleted or destroyed version reads 404 with the full envelope', async () => {
      await call('POST', 'secret/data/gone', { data: { a: 1 } });
      await call('POST', 'secret/data/gone', { data: { a: 2 } });
      await call('DELETE', 'secret/data/gone');
      const deleted = await call('GET', 'secret/data/gone');
      assert.equal(deleted.status, 404);
      for (const k of ENVELOPE_KEYS) assert.ok(k in deleted.body, `envelope key ${k}`);
      assert.equal(deleted.body.data.data, null);
      assert.match(deleted.body.data.metadata.deletion_time, TIME);
      assert.equal(deleted.body.data.metadata.version, 2);
      await call('PUT', 'secret/destroy/gone', { versions: [1] });
      const destroyed = await call('GET', 'secret/data/gone?version=1');
      assert.equal(destroyed.status, 404);
      assert.equal(destroyed.body.data.data, null);
      assert.equal(destroyed.body.data.metadata.destroyed, true);
    });

    it('subkeys shows the structure with null leaves', async () => {
      await call('POST', 'secret/data/sub', { data: { a: { b: 1 }, c: 2 } });
      const d = envelopeOk(await call('GET', 'secret/subkeys/sub'));
      assert.deepEqual(d.subkeys, { a: { b: null }, c: null });
      assert.deepEqual(envelopeOk(await call('GET', 'secret/subkeys/sub?depth=1')).subkeys, { a: null, c: null });
    });
  });

  describe('v2 metadata, listing, config', () => {
    it('metadata read has Vault\'s fields; write and custom_metadata; delete removes every version', async () => {
      await call('POST', 'secret/data/meta/k', { data: { a: 1 } });
      await call('POST', 'secret/data/meta/k', { data: { a: 2 } });
      const m = envelopeOk(await call('GET', 'secret/metadata/meta/k'));
      for (const k of ['cas_required', 'created_time', 'current_version', 'custom_metadata', 'delete_version_after', 'max_versions', 'oldest_version', 'updated_time', 'versions']) {
        assert.ok(k in m, k);
      }
      assert.equal(m.current_version, 2);
      assert.equal(m.oldest_version, 0);
      assert.equal(m.delete_version_after, '0s');
      assert.deepEqual(Object.keys(m.versions), ['1', '2']);
      assert.equal((await call('POST', 'secret/metadata/meta/k', { custom_metadata: { owner: 'ops' }, max_versions: 5 })).status, 204);
      const w = envelopeOk(await call('POST', 'secret/data/meta/k', { data: { a: 3 } }));
      assert.deepEqual(w.custom_metadata, { owner: 'ops' });
      const patched = await call('PATCH', 'secret/metadata/meta/k', { custom_metadata: { owner: null, team: 'x' } }, { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(patched.status, 204);
      assert.deepEqual(envelopeOk(await call('GET', 'secret/metadata/meta/k')).custom_metadata, { team: 'x' });
      assert.equal((await call('DELETE', 'secret/metadata/meta/k')).status, 204);
      assert.equal((await call('GET', 'secret/metadata/meta/k')).status, 404);
      assert.equal((await call('GET', 'secret/data/meta/k?version=1')).status, 404);
      assert.equal(envelopeOk(await call('POST', 'secret/data/meta/k', { data: { a: 1 }, options: { cas: 0 } })).version, 1);
    });

    it('max_versions prunes the oldest versions', async () => {
      await call('POST', 'secret/metadata/pruned', { max_versions: 2 });
      for (let i = 1; i <= 4; i++) await call('POST', 'secret/data/pruned', { data: { i } });
      const m = envelopeOk(await call('GET', 'secret/metadata/pruned'));
      assert.deepEqual(Object.keys(m.versions), ['3', '4']);
      assert.equal(m.oldest_version, 3);
      assert.equal((await call('GET', 'secret/data/pruned?version=1')).status, 404);
    });

    it('LIST and GET ?list=true on metadata/ give keys with folders; empty is 404; LIST on data/ is 405', async () => {
      for (const k of ['list/a', 'list/b/c', 'list/b/d']) await call('POST', `secret/data/${k}`, { data: { x: 1 } });
      assert.deepEqual(envelopeOk(await call('LIST', 'secret/metadata/list')).keys, ['a', 'b/']);
      assert.deepEqual(envelopeOk(await call('LIST', 'secret/metadata/list/')).keys, ['a', 'b/']);
      assert.deepEqual(envelopeOk(await call('GET', 'secret/metadata/list/b?list=true')).keys, ['c', 'd']);
      assert.ok(envelopeOk(await call('LIST', 'secret/metadata')).keys.includes('list/'));
      const empty = await call('LIST', 'secret/metadata/nothing-here');
      assert.equal(empty.status, 404);
      assert.deepEqual(empty.body, { errors: [] });
      assert.equal((await call('LIST', 'secret/data/list')).status, 405);
    });

    it('config reads and writes max_versions, cas_required, delete_version_after', async () => {
      await call('POST', 'secret/config', { max_versions: 0, cas_required: false, delete_version_after: '0s' });
      assert.deepEqual(envelopeOk(await call('GET', 'secret/config')), { cas_required: false, delete_version_after: '0s', max_versions: 0, metadata_cas_required: false });
      assert.equal((await call('POST', 'secret/config', { max_versions: 7, delete_version_after: '2h' })).status, 204);
      const c = envelopeOk(await call('GET', 'secret/config'));
      assert.equal(c.max_versions, 7);
      assert.equal(c.delete_version_after, '2h0m0s');
      const w = envelopeOk(await call('POST', 'secret/data/dva', { data: { a: 1 } }));
      assert.match(w.deletion_time, TIME);
      await call('POST', 'secret/config', { max_versions: 0, delete_version_after: '0s' });
    });

    it('an invalid path of a v2 mount is 404 with a warning', async () => {
      const r = await call('GET', 'secret/not-a-kv-v2-path');
      assert.equal(r.status, 404);
      assert.match(r.body.warnings[0], /Invalid path for a versioned K\/V secrets engine/);
    });
  });

  describe('v1', () => {
    it('PUT 204, GET is a secret with lease_duration (mount default or ttl), LIST, DELETE', async () => {
      const mount = await call('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
      assert.equal(mount.status, 204, mount.text);
      assert.equal((await call('PUT', 'kv1/app/db', { user: 'u', password: 'p' })).status, 204);
      assert.equal((await call('PUT', 'kv1/app/cache', { url: 'x', ttl: '1h' })).status, 204);
      const r = await call('GET', 'kv1/app/db');
      assert.deepEqual(envelopeOk(r), { password: 'p', user: 'u' });
      assert.equal(r.body.lease_duration, 2764800);
      assert.equal(r.body.lease_id, '');
      assert.equal(r.body.renewable, false);
      assert.equal((await call('GET', 'kv1/app/cache')).body.lease_duration, 3600);
      assert.deepEqual(envelopeOk(await call('LIST', 'kv1/app')).keys, ['cache', 'db']);
      assert.deepEqual(envelopeOk(await call('GET', 'kv1?list=true')).keys, ['app/']);
      const empty = await call('PUT', 'kv1/app/empty', {});
      assert.equal(empty.status, 400);
      assert.deepEqual(empty.body, { errors: ['missing data fields'] });
      assert.equal((await call('DELETE', 'kv1/app/db')).status, 204);
      const gone = await call('GET', 'kv1/app/db');
      assert.equal(gone.status, 404);
      assert.deepEqual(gone.body, { errors: [] });
    });
  });

  describe('node-vault, used unchanged', () => {
    it('writes, reads, lists and deletes KV v2 secrets', async () => {
      const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: node.rootToken });
      const w = await vault.write('secret/data/nv/x', { data: { hello: 'world' } });
      assert.equal(w.data.version, 1);
      await vault.write('secret/data/nv/y', { data: { n: 1 } });
      const r = await vault.read('secret/data/nv/x');
      assert.deepEqual(r.data.data, { hello: 'world' });
      assert.equal(r.data.metadata.version, 1);
      assert.deepEqual((await vault.list('secret/metadata/nv')).data.keys, ['x', 'y']);
      await vault.delete('secret/metadata/nv/x');
      await assert.rejects(vault.read('secret/data/nv/x'), (e: any) => e.response?.statusCode === 404);
      await assert.rejects(
        vault.write('secret/data/nv/y', { data: { n: 2 }, options: { cas: 0 } }),
        (e: any) => e.response?.statusCode === 400 && e.message.includes(CAS_MISMATCH),
      );
    });
  });
});
