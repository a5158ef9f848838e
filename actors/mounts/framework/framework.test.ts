// The mount framework on a toy backend: routing and its conflict detection, field conversion,
// existence checks, guarded commits that re-execute the loser, and help generated from the table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError } from '../../../runtime/errors.js';
import { helpResponse } from './help.js';
import { compileBackend, parseDurationSeconds, route, validateFields } from './router.js';
import { MemoryPhysical, ScopedStorage, testCrypto, versionHash } from './storage-view.js';
import { testMount } from './test-harness.js';
import type { Backend, BackendFactory, PathSpec } from './types.js';

const noop = async () => null;
const spec = (pattern: string, extra: Partial<PathSpec> = {}): PathSpec => ({ pattern, operations: { read: noop }, help: { synopsis: pattern, description: '' }, ...extra });
const backend = (...paths: PathSpec[]): Backend => ({ type: 'toy', help: '', paths });

describe('router', () => {
  it('prefers literal segments over parameters over rest segments', () => {
    const c = compileBackend(backend(spec('data/:path+'), spec('data/config'), spec('keys/:name'), spec('keys/:name/rotate'), spec(':rest*')));
    assert.equal(route(c, 'data/config')?.spec.pattern, 'data/config');
    assert.deepEqual(route(c, 'data/a/b/c')?.params, { path: 'a/b/c' });
    assert.equal(route(c, 'keys/k1')?.spec.pattern, 'keys/:name');
    assert.deepEqual(route(c, 'keys/k1/rotate')?.params, { name: 'k1' });
    assert.deepEqual(route(c, 'other/thing')?.params, { rest: 'other/thing' });
    assert.equal(route(compileBackend(backend(spec('data/:path+'))), 'data/'), null, ':x+ needs a non-empty rest');
    assert.deepEqual(route(compileBackend(backend(spec('metadata/:path*'))), 'metadata/')?.params, { path: '' });
  });

  it('refuses conflicting patterns at registration', () => {
    assert.throws(() => compileBackend(backend(spec('keys/:name'), spec('keys/:id'))), /conflict/);
    assert.throws(() => compileBackend(backend(spec('a/:x+'), spec('a/:y*'))), /conflict/);
    assert.doesNotThrow(() => compileBackend(backend(spec('keys/:name'), spec('keys/list'))));
  });

  it('converts fields as Vault does and refuses wrong types', () => {
    const { fields, unknown } = validateFields(
      { ttl: { type: 'duration', description: '' }, n: { type: 'int', description: '' }, on: { type: 'bool', description: '' }, p: { type: 'comma-string-slice', description: '' }, d: { type: 'string', description: '', default: 'x' } },
      { ttl: '1h30m', n: '42', on: 'true', p: 'a, b,c', extra: 1 },
    );
    assert.deepEqual(fields, { ttl: 5400, n: 42, on: true, p: ['a', 'b', 'c'], d: 'x' });
    assert.deepEqual(unknown, ['extra']);
    assert.throws(() => validateFields({ n: { type: 'int', description: '' } }, { n: 'abc' }), (e: unknown) => e instanceof CofferError && /error converting input for field "n"/.test(e.message));
    assert.throws(() => validateFields({ r: { type: 'string', description: '', required: true } }, {}), /missing required field "r"/);
    assert.equal(parseDurationSeconds('768h', 'x'), 2764800);
    assert.equal(parseDurationSeconds(30, 'x'), 30);
    assert.throws(() => parseDurationSeconds('10 parsecs', 'x'), /invalid duration/);
  });
});

describe('storage view and guarded commits', () => {
  it('scopes keys, sees its own writes, and records what it read', async () => {
    const physical = new MemoryPhysical();
    physical.data.set('logical/u/a', testCrypto.encrypt('logical/u/a', Buffer.from('1')));
    const view = new ScopedStorage('logical/u/', physical, testCrypto);
    assert.equal((await view.get('a'))?.toString(), '1');
    assert.equal(await view.get('b'), undefined);
    view.put('b', Buffer.from('2'));
    view.delete('a');
    assert.equal((await view.get('b'))?.toString(), '2');
    assert.equal(await view.get('a'), undefined);
    view.put('dir/c', Buffer.from('3'));
    assert.deepEqual(await view.list(''), ['b', 'dir/']);
    await assert.rejects(view.get('../escape'), /escapes its mount/);
    const ws = view.writeSet();
    assert.deepEqual(ws.guards, [
      { key: 'logical/u/a', hash: versionHash(physical.data.get('logical/u/a')) },
      { key: 'logical/u/b', hash: null },
    ]);
    assert.deepEqual(ws.ops.map((o) => `${o.t} ${o.key}`).sort(), ['delete logical/u/a', 'put logical/u/b', 'put logical/u/dir/c']);
  });

  it('re-executes a request whose guards fail, so no increment is lost', async () => {
    let executions = 0;
    const counter: BackendFactory = () =>
      backend({
        pattern: 'counter',
        operations: {
          update: async (_req, storage) => {
            executions++;
            const n = Number((await storage.get('n'))?.toString() ?? '0');
            // Yield so that concurrent requests interleave between their read and their commit.
            await new Promise((r) => setImmediate(r));
            storage.put('n', Buffer.from(String(n + 1)));
            return { data: { n: n + 1 } };
          },
          read: async (_req, storage) => ({ data: { n: Number((await storage.get('n'))?.toString() ?? '0') } }),
        },
        help: { synopsis: 'a counter', description: '' },
      });
    const mount = testMount(counter, { type: 'toy', path: 'toy/' });
    const results = await Promise.all(Array.from({ length: 25 }, () => mount.request('update', 'counter')));
    const seen = results.map((r) => r.result?.data?.n as number).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1), 'every increment got its own value');
    assert.equal((await mount.request('read', 'counter')).result?.data?.n, 25);
    assert.ok(executions > 25, `conflicting requests were executed again (${executions} executions)`);
  });

  it('decides create vs update with the existence check', async () => {
    const seen: string[] = [];
    const kvish: BackendFactory = () =>
      backend({
        pattern: 'item/:name',
        existenceCheck: async (_req, storage) => (await storage.get('item')) !== undefined,
        operations: {
          create: async (req, storage) => (seen.push(req.operation), storage.put('item', Buffer.from('x')), null),
          update: async (req) => (seen.push(req.operation), null),
        },
        help: { synopsis: '', description: '' },
      });
    const mount = testMount(kvish, { type: 'toy', path: 'toy/' });
    assert.equal((await mount.request('update', 'item/a')).operation, 'create');
    assert.equal((await mount.request('update', 'item/a')).operation, 'update');
    assert.deepEqual(seen, ['create', 'update']);
  });
});

describe('help', () => {
  it('is generated from the path table', () => {
    const s = spec('keys/:name', { fields: { ttl: { type: 'duration', description: 'how long it lives' } }, operations: { read: noop, update: noop }, help: { synopsis: 'Manage keys', description: 'Keys are kept here.' } });
    const mount = { path: 'transit/', type: 'toy', uuid: 'u', accessor: 'a', options: {}, defaultLeaseTtlS: 1, maxLeaseTtlS: 1 };
    const h = helpResponse(mount, s);
    assert.match(h.help, /Manage keys/);
    assert.match(h.help, /ttl \(duration\)\n\s+how long it lives/);
    const paths = h.openapi.paths as Record<string, Record<string, unknown>>;
    assert.ok(paths['/transit/keys/{name}']);
    assert.deepEqual(Object.keys(paths['/transit/keys/{name}'] as object).sort(), ['description', 'get', 'post']);
  });
});
