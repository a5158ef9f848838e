// The file audit device over HTTP (API.md §4.13, RELIABILITY.md SEC-AUDIT): request and response lines,
// no plaintext secrets or tokens in the file, sys/audit-hash agreeing with the log, disable, fail closed
// on an unwritable device (nothing stored), and the config rule for enabling over the API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { AuditTrail, type AuditBroker } from '../actors/audit/broker.js';
import { hashData, hashString } from '../actors/audit/hash.js';
import { parseFileOptions } from '../actors/audit/file-device.js';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

function lines(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('file audit device over HTTP (dev node)', () => {
  let node: EmbeddedNode;
  const dir = tempDir('audit');
  const call = (method: string, path: string, body?: unknown, token?: string) => http(node.address, method, path, { token: token ?? node.rootToken, ...(body !== undefined ? { body } : {}) });
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
    dir.remove();
  });

  it('logs a request and a response line per request, with every secret and token HMAC\'d', async () => {
    const file = join(dir.path, 'logs', 'audit.log');
    const en = await call('PUT', 'sys/audit/file', { type: 'file', description: 'test device', options: { file_path: file } });
    assert.equal(en.status, 204, JSON.stringify(en.body));
    // The enable-time test probe is the first line.
    assert.equal(lines(file)[0].request.path, 'sys/audit/test');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const list = await call('GET', 'sys/audit');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data['file/'], { path: 'file/', type: 'file', description: 'test device', options: { file_path: file }, local: false });
    assert.deepEqual(list.body['file/'], list.body.data['file/'], 'sys/audit data is injected at the top level');

    const canary = `canary-${randomBytes(16).toString('hex')}`;
    const userPassword = `pw-${randomBytes(16).toString('hex')}`;
    const before = lines(file).length;
    assert.equal((await call('PUT', 'secret/data/app/db', { data: { password: canary, port: 5432 } })).status, 200);
    const read = await call('GET', 'secret/data/app/db');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.data.password, canary);

    const all = lines(file);
    const fresh = all.slice(before);
    assert.deepEqual(fresh.map((l) => `${l.type} ${l.request.operation} ${l.request.path}`), [
      'request create secret/data/app/db',
      'response create secret/data/app/db',
      'request read secret/data/app/db',
      'response read secret/data/app/db',
    ]);
    const [wreq, wresp, rreq, rresp] = fresh;
    assert.equal(wreq.request.id, wresp.request.id);
    assert.equal(rresp.request.id, read.body.request_id, 'the envelope request_id is the audit request id');
    assert.match(wreq.request.data.data.password, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(wreq.request.data.data.port, 5432, 'numbers are not hashed');
    assert.match(wreq.request.client_token, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.match(wreq.auth.client_token, /^hmac-sha256:/);
    assert.match(wreq.auth.accessor, /^hmac-sha256:/);
    assert.deepEqual(wreq.auth.policies, ['root']);
    assert.deepEqual(wreq.auth.policy_results, { allowed: true });
    assert.equal(wreq.request.mount_type, 'kv');
    assert.equal(wreq.request.mount_point, 'secret/');
    assert.deepEqual(wreq.request.namespace, { id: 'root' });
    assert.equal(rresp.response.data.data.password, wreq.request.data.data.password, 'same salt, same hash');
    assert.match(rresp.response.data.metadata.created_time, /^\d{4}-/, 'timestamps stay readable (as Vault)');

    // sys/audit-hash of the secret equals the HMAC in the log.
    const h = await call('PUT', 'sys/audit-hash/file', { input: canary });
    assert.equal(h.status, 200);
    assert.equal(h.body.data.hash, wreq.request.data.data.password);
    assert.equal(h.body.hash, h.body.data.hash, 'injected');
    assert.deepEqual((await call('PUT', 'sys/audit-hash/nope', { input: 'x' })).body.errors, ['unknown audit backend "nope/"']);
    assert.deepEqual((await call('PUT', 'sys/audit-hash/file', { input: '' })).body.errors, ['the "input" parameter is empty']);

    // A login: the password in the request and the issued token in the response are HMAC'd.
    assert.equal((await call('PUT', 'sys/auth/userpass', { type: 'userpass' })).status, 204);
    assert.equal((await call('PUT', 'auth/userpass/users/alice', { password: userPassword, token_policies: 'default' })).status, 204);
    const login = await http(node.address, 'PUT', 'auth/userpass/login/alice', { body: { password: userPassword } });
    assert.equal(login.status, 200);
    const loginToken: string = login.body.auth.client_token;
    const loginResp = lines(file).find((l) => l.type === 'response' && l.request.path === 'auth/userpass/login/alice');
    assert.ok(loginResp);
    assert.equal(loginResp.response.auth.client_token, (await call('PUT', 'sys/audit-hash/file', { input: loginToken })).body.data.hash);
    // A denied request is logged with its error.
    const denied = await http(node.address, 'GET', 'secret/data/app/db', { token: loginToken });
    assert.equal(denied.status, 403);
    const deniedLine = lines(file).filter((l) => l.request.path === 'secret/data/app/db').at(-1);
    assert.equal(deniedLine.type, 'request');
    assert.equal(deniedLine.error, 'permission denied');
    assert.deepEqual(deniedLine.auth.policy_results, { allowed: false });

    // No plaintext anywhere in the file: secret, password, tokens, accessors.
    const bytes = readFileSync(file);
    const lookup = await call('GET', 'auth/token/lookup-self');
    for (const needle of [canary, userPassword, node.rootToken, loginToken, login.body.auth.accessor, lookup.body.data.accessor]) {
      assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `plaintext ${needle.slice(0, 6)}… found in the audit log`);
      assert.equal(bytes.indexOf(Buffer.from(needle).toString('base64')), -1);
    }

    // Disable: no more lines.
    assert.equal((await call('DELETE', 'sys/audit/file')).status, 204);
    const size = statSync(file).size;
    assert.equal((await call('PUT', 'secret/data/app/db', { data: { password: 'after-disable' } })).status, 200);
    assert.equal((await call('GET', 'secret/data/app/db')).status, 200);
    assert.equal(statSync(file).size, size);
    assert.deepEqual((await call('GET', 'sys/audit')).body.data, {});
    assert.equal(readFileSync(file).indexOf('after-disable'), -1);
  });

  it('fails closed: an unwritable device refuses the request and nothing is stored; one healthy device is enough', async () => {
    const file = join(dir.path, 'closed', 'audit.log');
    assert.equal((await call('PUT', 'sys/audit/closed', { type: 'file', options: { file_path: file } })).status, 204);
    assert.equal((await call('PUT', 'secret/data/fc/before', { data: { v: '1' } })).status, 200);

    // The file is replaced by a directory: the device can no longer write.
    rmSync(file);
    mkdirSync(file);
    const refused = await call('PUT', 'secret/data/fc/refused', { data: { v: 'must-not-be-stored' } });
    assert.equal(refused.status, 500);
    assert.deepEqual(refused.body, { errors: ['internal error'] });
    assert.equal((await call('GET', 'secret/data/fc/before')).status, 500, 'reads are refused too');

    // Fixed: the device reopens the path; the refused write was never executed.
    rmSync(file, { recursive: true });
    assert.equal((await call('GET', 'secret/data/fc/refused')).status, 404);
    assert.equal((await call('GET', 'secret/metadata/fc/refused')).status, 404);
    assert.equal((await call('GET', 'secret/data/fc/before')).status, 200);
    assert.ok(lines(file).some((l) => l.request.path === 'secret/data/fc/refused' && l.type === 'request'));

    // Two devices, one broken: requests succeed (Vault needs at least one).
    const second = join(dir.path, 'second.log');
    assert.equal((await call('PUT', 'sys/audit/second', { type: 'file', options: { file_path: second } })).status, 204);
    rmSync(file);
    mkdirSync(file);
    assert.equal((await call('PUT', 'secret/data/fc/one-ok', { data: { v: '2' } })).status, 200);
    assert.ok(lines(second).some((l) => l.type === 'response' && l.request.path === 'secret/data/fc/one-ok'));
    rmSync(file, { recursive: true });
    assert.equal((await call('DELETE', 'sys/audit/closed')).status, 204);
    assert.equal((await call('DELETE', 'sys/audit/second')).status, 204);
  });

  it('validates enable: path in use, type, options, unwritable path, prefix not allowed by default', async () => {
    const file = join(dir.path, 'v.log');
    assert.equal((await call('PUT', 'sys/audit/v', { type: 'file', options: { file_path: file } })).status, 204);
    assert.deepEqual((await call('PUT', 'sys/audit/v', { type: 'file', options: { file_path: file } })).body.errors, ['path already in use']);
    assert.deepEqual((await call('PUT', 'sys/audit/v/sub', { type: 'file', options: { file_path: file } })).body.errors, ['path already in use']);
    assert.deepEqual((await call('PUT', 'sys/audit/sock', { type: 'socket', options: {} })).body.errors, ['unknown backend type: "socket"']);
    assert.deepEqual((await call('PUT', 'sys/audit/nofile', { type: 'file', options: {} })).body.errors, ['file_path is required']);
    assert.deepEqual((await call('PUT', 'sys/audit/jx', { type: 'file', options: { file_path: file, format: 'jsonx' } })).body.errors, [
      'jsonx formatting has been removed, consider switching to json by omitting "format" or setting it to "json"',
    ]);
    const bad = await call('PUT', 'sys/audit/dir', { type: 'file', options: { file_path: dir.path } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /^sanity check failed; unable to open /);
    assert.deepEqual((await call('PUT', 'sys/audit/pre', { type: 'file', options: { file_path: file, prefix: 'x' } })).body.errors, ['audit log prefixing is not allowed']);
    // sys/audit needs sudo: a non-root token is refused.
    const t = await call('PUT', 'auth/token/create', { policies: ['default'] });
    assert.equal((await http(node.address, 'GET', 'sys/audit', { token: t.body.auth.client_token })).status, 403);
    assert.equal((await call('DELETE', 'sys/audit/v')).status, 204);
    assert.equal((await call('DELETE', 'sys/audit/never-enabled')).status, 204);
  });
});

describe('enabling audit devices needs unsafe_allow_api_audit_creation (configured server)', () => {
  const dir = tempDir('audit-cfg');
  let server: ServerProcess | null = null;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  async function initAndUnseal(url: string): Promise<string> {
    const init = (await http(url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    for (let i = 0; i < 100; i++) {
      if ((await http(url, 'GET', 'sys/audit', { token: init.root_token })).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return init.root_token as string;
  }

  it('refuses without the option (OpenBao default)', async () => {
    server = await startServerProcess(dir.path);
    const root = await initAndUnseal(server.url);
    const r = await http(server.url, 'PUT', 'sys/audit/file', { token: root, body: { type: 'file', options: { file_path: join(dir.path, 'a.log') } } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.errors, ['cannot enable audit device via API; use declarative, config-based audit device management instead']);
    assert.equal(existsSync(join(dir.path, 'a.log')), false);
    await server.kill();
    server = null;
  });

  it('allows it with unsafe_allow_api_audit_creation = true; prefix needs allow_audit_log_prefixing', async () => {
    const d2 = join(dir.path, 'two');
    mkdirSync(d2);
    server = await startServerProcess(d2, 'unsafe_allow_api_audit_creation = true\n');
    const root = await initAndUnseal(server.url);
    const file = join(d2, 'a.log');
    assert.deepEqual((await http(server.url, 'PUT', 'sys/audit/p', { token: root, body: { type: 'file', options: { file_path: file, prefix: 'X' } } })).body.errors, ['audit log prefixing is not allowed']);
    assert.equal((await http(server.url, 'PUT', 'sys/audit/file', { token: root, body: { type: 'file', options: { file_path: file, mode: '0755' } } })).status, 204);
    assert.equal(statSync(file).mode & 0o777, 0o644, 'executable bits stripped');
    assert.equal((await http(server.url, 'PUT', 'sys/mounts/kv', { token: root, body: { type: 'kv' } })).status, 204);
    assert.equal((await http(server.url, 'PUT', 'kv/x', { token: root, body: { secret: 'plain-secret-value' } })).status, 204);
    const bytes = readFileSync(file);
    assert.equal(bytes.indexOf('plain-secret-value'), -1);
    assert.equal(bytes.indexOf(root), -1);
    assert.ok(lines(file).some((l) => l.type === 'response' && l.request.path === 'kv/x'));
  });
});

describe('audit units', () => {
  it('hashes every string in nested data except timestamps and kept keys', () => {
    const h = (s: string) => hashString('salt', s);
    assert.deepEqual(hashData({ a: 'x', n: 1, b: true, z: null, l: ['y', 2, { c: 'z' }], t: '2024-01-02T03:04:05.123Z', keep: 'k' }, h, ['keep']), {
      a: h('x'),
      n: 1,
      b: true,
      z: null,
      l: [h('y'), 2, { c: h('z') }],
      t: '2024-01-02T03:04:05.123Z',
      keep: 'k',
    });
    assert.match(h('x'), /^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('parses file options as OpenBao does', () => {
    assert.equal(parseFileOptions({ file_path: 'STDOUT' }).filePath, 'stdout');
    assert.equal(parseFileOptions({ file_path: '/tmp/x', mode: '0777' }).mode, 0o666);
    assert.equal(parseFileOptions({ file_path: '/tmp/x', mode: '0000' }).mode, 0);
    assert.equal(parseFileOptions({ file_path: '/tmp/x' }).hmacAccessor, true);
    assert.throws(() => parseFileOptions({ file_path: '/tmp/x', hmac_accessor: 'yes' }), /strconv.ParseBool: parsing "yes": invalid syntax/);
    assert.throws(() => parseFileOptions({ file_path: '/tmp/x', prefix: 'a\n{"type":"request"}' }), /control characters/);
  });

  it('withholds the reply when the response entry cannot be written', async () => {
    const calls: string[] = [];
    const broker = { log: async (kind: string) => (calls.push(kind), kind === 'request') } as unknown as AuditBroker;
    const trail = new AuditTrail(broker, { operation: 'read', path: 'secret/data/x', data: {}, token: 't', headers: {} });
    await trail.logRequest('read');
    await assert.rejects(trail.respond({ status: 200, body: { request_id: 'r', data: { v: 's' }, wrap_info: null, auth: null } }), /internal error/);
    assert.deepEqual(calls, ['request', 'response']);
    // And a request entry that no device wrote stops the request before it runs.
    const refusing = { log: async () => false } as unknown as AuditBroker;
    await assert.rejects(new AuditTrail(refusing, { operation: 'update', path: 'p', data: {}, token: null, headers: {} }).logRequest('update'), /internal error/);
  });
});
