// Response wrapping over HTTP on an embedded dev node (API.md §0.3, §4.12): X-Vault-Wrap-TTL on a KV
// read, unwrap once (the original body, byte for byte), unwrap again 400, lookup (unauthenticated),
// rewrap, sys/wrapping/wrap, bad headers, policy-limited callers and min/max_wrapping_ttl.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  body: any;
  text: string;
}

const INVALID = 'wrapping token is not valid or does not exist';

describe('response wrapping over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) =>
    http(node.address, method, path, { ...(token !== null ? { token } : {}), body, headers }).then((r) => ({ status: r.status, body: r.body, text: r.text }));
  const root = () => node.rootToken;
  const token = async (policies: string[]): Promise<string> => {
    const r = await call('POST', 'auth/token/create', root(), { policies, ttl: '1h' });
    assert.equal(r.status, 200, r.text);
    return r.body.auth.client_token as string;
  };

  before(async () => {
    node = await startNode();
    assert.equal((await call('POST', 'sys/mounts/kv1', root(), { type: 'kv', options: { version: '1' } })).status, 204);
    assert.equal((await call('PUT', 'kv1/app', root(), { user: 'web', pass: 's3cret' })).status, 204);
    const put = async (name: string, policy: string) => assert.equal((await call('PUT', `sys/policies/acl/${name}`, root(), { policy })).status, 204);
    await put('unwrap-only', 'path "sys/wrapping/unwrap" { capabilities = ["update"] }');
    await put('kv-reader', 'path "kv1/*" { capabilities = ["read"] }');
    await put('wrap-bounded', 'path "kv1/*" {\n capabilities = ["read"]\n min_wrapping_ttl = "1m"\n max_wrapping_ttl = "10m"\n}');
  });
  after(async () => {
    await node?.close();
  });

  it('node-vault, unchanged: a read wrapped through its request options, unwrap() once, refused the second time', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    const wrapped = await vault.read('kv1/app', { headers: { 'X-Vault-Wrap-TTL': '2m' } });
    assert.equal(wrapped.data, null);
    assert.equal(wrapped.wrap_info.ttl, 120);
    const unwrapped = await vault.unwrap({ token: wrapped.wrap_info.token });
    assert.deepEqual(unwrapped.data, { user: 'web', pass: 's3cret' });
    await assert.rejects(vault.unwrap({ token: wrapped.wrap_info.token }), (e: any) => e.response?.statusCode === 400 && e.message.includes(INVALID));
  });

  it('wraps a KV read; unwrap returns the original body once; the second unwrap is 400', async () => {
    const plain = await call('GET', 'kv1/app', root());
    assert.equal(plain.status, 200);
    const w = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '5m' });
    assert.equal(w.status, 200, w.text);
    assert.deepEqual(Object.keys(w.body).sort(), ['auth', 'data', 'lease_duration', 'lease_id', 'mount_type', 'renewable', 'request_id', 'warnings', 'wrap_info']);
    assert.equal(w.body.request_id, '');
    assert.equal(w.body.data, null);
    assert.equal(w.body.auth, null);
    const info = w.body.wrap_info;
    assert.match(info.token, /^s\.[0-9A-Za-z]{24}$/);
    assert.match(info.accessor, /^[0-9A-Za-z]{24}$/);
    assert.equal(info.ttl, 300);
    assert.equal(info.creation_path, 'kv1/app');
    assert.ok(!Number.isNaN(Date.parse(info.creation_time)));
    assert.ok(!('wrapped_accessor' in info));

    // First party: the wrapping token itself as X-Vault-Token, empty body.
    const u = await call('POST', 'sys/wrapping/unwrap', info.token);
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.body.data, { pass: 's3cret', user: 'web' });
    assert.equal(u.body.lease_duration, 2764800);
    assert.match(u.body.request_id, /^[0-9a-f-]{36}$/);
    assert.equal(u.body.wrap_info, null);
    assert.deepEqual({ ...u.body, request_id: '' }, { ...plain.body, request_id: '' });

    const again = await call('POST', 'sys/wrapping/unwrap', info.token);
    assert.ok(again.status === 400 || again.status === 403, again.text); // the token is gone: 403 at the door, as Vault
    const third = await call('POST', 'sys/wrapping/unwrap', root(), { token: info.token });
    assert.equal(third.status, 400);
    assert.deepEqual(third.body, { errors: [INVALID] });
  });

  it('third-party unwrap with {token}; the stored body comes back exactly; second use 400', async () => {
    const w = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '60' });
    assert.equal(w.body.wrap_info.ttl, 60);
    const u = await call('POST', 'sys/wrapping/unwrap', root(), { token: w.body.wrap_info.token });
    assert.equal(u.status, 200);
    assert.equal(u.text, JSON.stringify(u.body), 'the body is the stored JSON text');
    const again = await call('POST', 'sys/wrapping/unwrap', root(), { token: w.body.wrap_info.token });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body.errors, [INVALID]);
    assert.deepEqual((await call('POST', 'sys/wrapping/unwrap', root(), { token: 's.nope00000000000000000000' })).body.errors, [INVALID]);
    // The root token is not a wrapping token.
    assert.equal((await call('POST', 'sys/wrapping/unwrap', root())).status, 400);
  });

  it('lookup is unauthenticated and does not spend the token; rewrap keeps TTL and creation path', async () => {
    const w = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '10m' });
    const t = w.body.wrap_info.token as string;
    for (let i = 0; i < 2; i++) {
      const l = await call('POST', 'sys/wrapping/lookup', null, { token: t });
      assert.equal(l.status, 200, l.text);
      assert.deepEqual(l.body.data, { creation_path: 'kv1/app', creation_time: w.body.wrap_info.creation_time, creation_ttl: 600 });
    }
    assert.deepEqual((await call('POST', 'sys/wrapping/lookup', null, { token: 's.nope00000000000000000000' })).body, { errors: [INVALID] });
    const r = await call('POST', 'sys/wrapping/rewrap', root(), { token: t });
    assert.equal(r.status, 200, r.text);
    const t2 = r.body.wrap_info.token as string;
    assert.notEqual(t2, t);
    assert.equal(r.body.wrap_info.ttl, 600);
    assert.equal(r.body.wrap_info.creation_path, 'kv1/app');
    assert.equal((await call('POST', 'sys/wrapping/unwrap', root(), { token: t })).status, 400, 'the old token is spent');
    const u = await call('POST', 'sys/wrapping/unwrap', root(), { token: t2 });
    assert.deepEqual(u.body.data, { pass: 's3cret', user: 'web' });
  });

  it('sys/wrapping/wrap wraps the body and requires the header; bad headers are 400', async () => {
    const no = await call('POST', 'sys/wrapping/wrap', root(), { a: 1 });
    assert.equal(no.status, 400);
    assert.deepEqual(no.body.errors, ['endpoint requires response wrapping to be used']);
    const w = await call('POST', 'sys/wrapping/wrap', root(), { a: 1, b: { c: 'd' } }, { 'x-vault-wrap-ttl': '2m' });
    assert.equal(w.status, 200, w.text);
    assert.equal(w.body.wrap_info.creation_path, 'sys/wrapping/wrap');
    const u = await call('POST', 'sys/wrapping/unwrap', w.body.wrap_info.token);
    assert.deepEqual(u.body.data, { a: 1, b: { c: 'd' } });
    assert.equal((await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '-5' })).status, 400);
    const bad = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': 'soon' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /^error parsing X-Vault-Wrap-TTL header/);
  });

  it('a token wraps a token creation: wrapped_accessor, and the unwrapped auth works', async () => {
    const w = await call('POST', 'auth/token/create', root(), { policies: ['kv-reader'], ttl: '1h' }, { 'x-vault-wrap-ttl': '5m' });
    assert.equal(w.status, 200, w.text);
    assert.match(w.body.wrap_info.wrapped_accessor, /^[0-9A-Za-z]{24}$/);
    const u = await call('POST', 'sys/wrapping/unwrap', w.body.wrap_info.token);
    assert.equal(u.body.auth.accessor, w.body.wrap_info.wrapped_accessor);
    assert.equal((await call('GET', 'kv1/app', u.body.auth.client_token)).status, 200);
  });

  it('policy-limited callers: unwrap-only can unwrap a token handed over; reads obey min/max_wrapping_ttl', async () => {
    const unwrapper = await token(['unwrap-only']);
    const w = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '5m' });
    const u = await call('POST', 'sys/wrapping/unwrap', unwrapper, { token: w.body.wrap_info.token });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.body.data, { pass: 's3cret', user: 'web' });
    assert.equal((await call('GET', 'kv1/app', unwrapper)).status, 403);
    // The wrapping token itself may do nothing but unwrap.
    const w2 = await call('GET', 'kv1/app', root(), undefined, { 'x-vault-wrap-ttl': '5m' });
    assert.equal((await call('GET', 'kv1/app', w2.body.wrap_info.token)).status, 403);

    const bounded = await token(['wrap-bounded']);
    assert.equal((await call('GET', 'kv1/app', bounded)).status, 403, 'no wrapping requested');
    assert.equal((await call('GET', 'kv1/app', bounded, undefined, { 'x-vault-wrap-ttl': '30s' })).status, 403, 'below min');
    assert.equal((await call('GET', 'kv1/app', bounded, undefined, { 'x-vault-wrap-ttl': '1h' })).status, 403, 'above max');
    assert.equal((await call('GET', 'kv1/app', bounded, undefined, { 'x-vault-wrap-ttl': '5m' })).status, 200);
  });

  it('errors are not wrapped: a read of nothing stays 404', async () => {
    const r = await call('GET', 'kv1/none', root(), undefined, { 'x-vault-wrap-ttl': '5m' });
    assert.equal(r.status, 404);
  });
});
