// sys/remount and sys/remount/status over HTTP on a real dev server process: a KV v2 engine moves with
// its data, an auth method moves with its users while the tokens its logins issued are revoked (as
// disabling one revokes them), rate-limit quotas follow the move and go with a disable, Vault's error
// messages, the sudo requirement; node-vault's `remount` and `coffer secrets move` / `auth move`.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { http, runCli, spawnCoffer, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

const ROOT = 'remount-root';

describe('sys/remount over HTTP', () => {
  let dev: ServerProcess;
  const home = tempDir('remount-home');
  const call = (method: string, path: string, body?: unknown, token = ROOT) => http(dev.url, method, path, { token, body });
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    assert.ok(r.status === 200 || r.status === 204, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  const login = async (mount: string, user: string) => {
    const r = await call('POST', `auth/${mount}/login/${user}`, { password: 'pw' }, '');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.auth.client_token as string;
  };
  const tokenLives = async (token: string) => (await call('GET', 'auth/token/lookup-self', undefined, token)).status === 200;

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
  });
  after(async () => {
    await dev?.kill();
    home.remove();
  });

  it('a KV v2 engine moves with its versions and its quota; the status reads success; node-vault remount', async () => {
    await ok('POST', 'sys/mounts/apps', { type: 'kv', options: { version: '2' } });
    await ok('POST', 'apps/data/db', { data: { password: 'v1' } });
    await ok('POST', 'apps/data/db', { data: { password: 'v2' } });
    await ok('POST', 'sys/quotas/rate-limit/apps-limit', { path: 'apps/', rate: 100 });

    const moved = await ok('POST', 'sys/remount', { from: 'apps', to: 'team/apps' });
    const id = moved.body.data.migration_id as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const status = await call('GET', `sys/remount/status/${id}`);
    assert.deepEqual(status.body.data, { migration_id: id, migration_info: { source_mount: 'apps/', target_mount: 'team/apps/', status: 'success' } });

    const v1 = await call('GET', 'team/apps/data/db?version=1');
    assert.equal(v1.body.data.data.password, 'v1');
    assert.equal((await call('GET', 'team/apps/data/db')).body.data.data.password, 'v2');
    assert.equal((await call('GET', 'apps/data/db')).status, 404);
    const mounts = (await call('GET', 'sys/mounts')).body.data;
    assert.ok(mounts['team/apps/'] && !mounts['apps/']);
    assert.equal((await call('GET', 'sys/quotas/rate-limit/apps-limit')).body.data.path, 'team/apps/');
    assert.equal((await call('GET', 'sys/remount/status/00000000-0000-0000-0000-000000000000')).status, 404);

    const vault = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: ROOT });
    await vault.remount({ from: 'team/apps', to: 'apps2' });
    assert.equal((await vault.read('apps2/data/db')).data.data.password, 'v2');

    // Disabling the engine takes its quota with it.
    await ok('DELETE', 'sys/mounts/apps2');
    assert.equal((await call('GET', 'sys/quotas/rate-limit/apps-limit')).status, 404);
  });

  it('an auth method moves with its users; the tokens its logins issued are revoked, children included', async () => {
    await ok('POST', 'sys/auth/people', { type: 'userpass' });
    await ok('PUT', 'sys/policies/acl/child-maker', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    await ok('POST', 'auth/people/users/bob', { password: 'pw', token_policies: 'child-maker' });
    const bob = await login('people', 'bob');
    const child = (await call('POST', 'auth/token/create', {}, bob)).body.auth.client_token as string;
    const unrelated = (await call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token as string;
    assert.ok((await tokenLives(bob)) && (await tokenLives(child)));

    await ok('POST', 'sys/remount', { from: 'auth/people', to: 'auth/staff' });
    assert.equal(await tokenLives(bob), false);
    assert.equal(await tokenLives(child), false);
    assert.equal(await tokenLives(unrelated), true);
    const again = await login('staff', 'bob');
    assert.ok(await tokenLives(again));
    assert.equal((await call('POST', 'auth/people/login/bob', { password: 'pw' })).status, 404); // no route there any more
    // The stored auth table keeps auth paths without "auth/".
    assert.ok((await call('GET', 'sys/auth')).body.data['staff/']);

    // Disabling an auth method logs its users out too.
    await ok('DELETE', 'sys/auth/staff');
    assert.equal(await tokenLives(again), false);
  });

  it('refuses what Vault refuses, with its messages, and needs sudo', async () => {
    await ok('POST', 'sys/mounts/kv-a', { type: 'kv' });
    await ok('POST', 'sys/mounts/kv-b', { type: 'kv' });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ from: 'kv-a' }, "both 'from' and 'to' path must be specified as a string"],
      [{ from: ' kv-a', to: 'x' }, "'from' path cannot contain trailing whitespace"],
      [{ from: 'kv-a', to: 'x ' }, "'to' path cannot contain trailing whitespace"],
      [{ from: 'kv-a', to: 'x\u0001' }, 'invalid destination mount: path cannot contain non-printable characters'],
      [{ from: 'nope', to: 'x' }, 'no matching mount at "nope/"'],
      [{ from: 'kv-a', to: 'kv-b' }, 'path already in use at "kv-b/"'],
      [{ from: 'kv-a', to: 'kv-b/inner' }, 'path already in use at "kv-b/"'],
      [{ from: 'sys', to: 'x' }, 'cannot remount "sys/"'],
      [{ from: 'kv-a', to: 'cubbyhole/x' }, 'cannot remount to destination cubbyhole/x/'],
      [{ from: 'kv-a', to: 'auth/x' }, 'cannot remount to destination auth/x/'],
      [{ from: 'auth/token', to: 'auth/t2' }, 'cannot remount "auth/token/"'],
      [{ from: 'auth/userpass', to: 'up' }, 'cannot remount auth mount to non-auth mount "up/"'],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', 'sys/remount', body);
      assert.deepEqual([r.status, r.body], [400, { errors: [message] }], JSON.stringify(body));
    }
    assert.ok((await call('GET', 'sys/mounts')).body.data['kv-a/'], 'nothing moved by a refused request');

    await ok('PUT', 'sys/policies/acl/mover', { policy: 'path "sys/remount" { capabilities = ["update"] }' });
    const mover = (await call('POST', 'auth/token/create', { policies: ['mover'] })).body.auth.client_token as string;
    assert.equal((await call('POST', 'sys/remount', { from: 'kv-a', to: 'kv-c' }, mover)).status, 403);
    await ok('PUT', 'sys/policies/acl/mover', { policy: 'path "sys/remount" { capabilities = ["update", "sudo"] }' });
    assert.equal((await call('POST', 'sys/remount', { from: 'kv-a', to: 'kv-c' }, mover)).status, 200);
  });

  it('coffer secrets move and coffer auth move', async () => {
    const env = { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT, HOME: home.path };
    await ok('POST', 'sys/mounts/cli-kv', { type: 'kv', options: { version: '2' } });
    await ok('POST', 'cli-kv/data/k', { data: { v: 'cli' } });
    const s = await runCli(['secrets', 'move', 'cli-kv', 'cli-kv2'], env);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /Success! Finished moving secrets engine cli-kv\/ to cli-kv2\/, with migration ID [0-9a-f-]{36}/);
    assert.equal((await call('GET', 'cli-kv2/data/k')).body.data.data.v, 'cli');

    await ok('POST', 'sys/auth/cli-up', { type: 'userpass' });
    const a = await runCli(['auth', 'move', 'cli-up', 'auth/cli-up2'], env);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /Finished moving auth method auth\/cli-up\/ to auth\/cli-up2\//);
    assert.ok((await call('GET', 'sys/auth')).body.data['cli-up2/']);
    const bad = await runCli(['secrets', 'move', 'nope', 'x'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no matching mount at "nope\/"/);
  });
});
