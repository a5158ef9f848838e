// The cubbyhole mount: unit tests through testMount (per-token key space, KV v1-like operations, no
// leases) and HTTP tests on a dev node (isolation between two tokens, destruction on revoke).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cubbyholeBackend } from '../actors/mounts/cubbyhole/backend.js';
import { testMount } from '../actors/mounts/framework/test-harness.js';
import type { CallerInfo } from '../actors/mounts/framework/types.js';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const callerOf = (salted: string): CallerInfo => ({ tokenKey: `sys/token/id/${salted}`, accessor: `acc-${salted}`, policies: ['default'], isRoot: false, displayName: 'token', entityId: '', entry: null });

describe('cubbyhole backend (testMount)', () => {
  it('each token sees only its own space, stored under sys/cubbyhole/<salted id>/', async () => {
    const t = testMount(cubbyholeBackend, { type: 'cubbyhole', path: 'cubbyhole/' });
    const a = { caller: callerOf('haaa') };
    const b = { caller: callerOf('hbbb') };
    const w = await t.request('update', 'app/db', { password: 'x' }, a);
    assert.equal(w.result, null);
    assert.equal(w.operation, 'create');
    assert.deepEqual([...t.physical.data.keys()], ['sys/cubbyhole/haaa/app/db']);
    assert.deepEqual((await t.request('read', 'app/db', {}, a)).result?.data, { password: 'x' });
    assert.equal((await t.request('read', 'app/db', {}, a)).result?.lease ?? null, null, 'no lease');
    await assert.rejects(t.request('read', 'app/db', {}, b), /COFFER_ERR_NOT_FOUND/);
    assert.equal((await t.request('update', 'app/db', { password: 'y' }, a)).operation, 'update');
    await t.request('update', 'app/other', { v: 1 }, b);
    assert.deepEqual((await t.request('list', '', {}, a)).result?.data, { keys: ['app/'] });
    assert.deepEqual((await t.request('list', 'app/', {}, a)).result?.data, { keys: ['db'] });
    assert.deepEqual((await t.request('list', 'app', {}, b)).result?.data, { keys: ['other'] });
    await t.request('delete', 'app/db', {}, a);
    await assert.rejects(t.request('list', 'app/', {}, a), /COFFER_ERR_NOT_FOUND/);
    assert.deepEqual([...t.physical.data.keys()], ['sys/cubbyhole/hbbb/app/other']);
  });

  it('refuses requests without a token, empty writes and escaping paths', async () => {
    const t = testMount(cubbyholeBackend, { type: 'cubbyhole', path: 'cubbyhole/' });
    const anon = { caller: { ...callerOf('x'), tokenKey: null } };
    await assert.rejects(t.request('update', 'k', { a: 1 }, anon), /client token empty/);
    await assert.rejects(t.request('update', 'k', {}, { caller: callerOf('haaa') }), /missing data fields/);
    await assert.rejects(t.request('read', '../hbbb/k', {}, { caller: callerOf('haaa') }));
    assert.equal(t.physical.data.size, 0);
  });
});

describe('cubbyhole over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const create = async (body: Record<string, unknown> = {}) => {
    const r = await call('POST', 'auth/token/create', node.rootToken, { ttl: '1h', ...body });
    assert.equal(r.status, 200);
    return r.body.auth.client_token as string;
  };

  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node?.close();
  });

  it('is mounted at init as type cubbyhole and cannot be mounted again', async () => {
    const m = await call('GET', 'sys/mounts', node.rootToken);
    assert.equal(m.body.data['cubbyhole/'].type, 'cubbyhole');
    assert.equal((await call('POST', 'sys/mounts/cubbyhole', node.rootToken, { type: 'kv' })).status, 400);
  });

  it('two tokens with the default policy are isolated; revoking one destroys its cubbyhole', async () => {
    const a = await create();
    const b = await create();
    assert.equal((await call('PUT', 'cubbyhole/secret', a, { v: 'a' })).status, 204);
    assert.equal((await call('PUT', 'cubbyhole/secret', b, { v: 'b' })).status, 204);
    assert.deepEqual((await call('GET', 'cubbyhole/secret', a)).body.data, { v: 'a' });
    assert.deepEqual((await call('GET', 'cubbyhole/secret', b)).body.data, { v: 'b' });
    const read = await call('GET', 'cubbyhole/secret', a);
    assert.equal(read.body.lease_id, '');
    assert.equal(read.body.lease_duration, 0);
    assert.deepEqual((await call('LIST', 'cubbyhole/', a)).body.data, { keys: ['secret'] });

    const before = (await call('LIST', 'sys/raw/sys/cubbyhole/', node.rootToken)).body.data.keys as string[];
    assert.equal(before.length, 2, 'two spaces, named by salted ids');
    for (const k of before) assert.match(k, /^h[0-9a-f]{64}\/$/);
    assert.equal((await call('POST', 'auth/token/revoke', node.rootToken, { token: a })).status, 204);
    const left = (await call('LIST', 'sys/raw/sys/cubbyhole/', node.rootToken)).body.data.keys as string[];
    assert.equal(left.length, 1);
    assert.deepEqual((await call('GET', 'cubbyhole/secret', b)).body.data, { v: 'b' });
    // A child revoked with its parent loses its cubbyhole too.
    const child = (await call('POST', 'auth/token/create', b, { ttl: '10m' })).body.auth.client_token as string;
    assert.equal((await call('PUT', 'cubbyhole/c', child, { v: 'child' })).status, 204);
    assert.equal((await call('POST', 'auth/token/revoke-self', b)).status, 204);
    assert.equal((await call('LIST', 'sys/raw/sys/cubbyhole/', node.rootToken)).status, 404, 'nothing left');
  });
});
