// X-Vault-Namespace on a server that has only the root namespace (a dev server process): a client that
// targets another namespace (node-vault's `namespace` option, VAULT_NAMESPACE) must reach nothing, never the
// root namespace. The header is put in front of the path as Vault Enterprise and OpenBao do, so such a
// request is a 404 `namespace not found` (Vault's and OpenBao's answer), and the root namespace's data stays untouched.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string; namespace?: string }) => any;

const ROOT = 'namespace-header-root';

describe('X-Vault-Namespace with only the root namespace', () => {
  let dev: ServerProcess;
  const call = (method: string, path: string, ns: string | null, body?: unknown, token = ROOT) =>
    http(dev.url, method, path, { token, body, ...(ns !== null ? { headers: { 'X-Vault-Namespace': ns } } : {}) });

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    assert.equal((await call('POST', 'secret/data/shared', null, { data: { owner: 'root-namespace' } })).status, 200);
  });
  after(async () => {
    await dev?.kill();
  });

  it("a namespace that does not exist: 404 `namespace not found` for any token; root data untouched", async () => {
    const write = await call('POST', 'secret/data/shared', 'team1', { data: { owner: 'team1' } });
    assert.deepEqual([write.status, write.body], [404, { errors: ['namespace not found'] }]);
    assert.equal((await call('GET', 'secret/data/shared', null)).body.data.data.owner, 'root-namespace');
    assert.deepEqual((await call('GET', 'sys/mounts', 'team1/')).body, { errors: ['namespace not found'] });
    const user = (await call('POST', 'auth/token/create', null, { policies: ['default'] })).body.auth.client_token as string;
    assert.equal((await call('GET', 'secret/data/shared', 'team1', undefined, user)).status, 404);
    // Through the path instead of the header it is only a path, which nothing serves.
    const byPath = await call('POST', 'team1/secret/data/shared', null, { data: { owner: 'team1' } });
    assert.deepEqual([byPath.status, byPath.body], [404, { errors: ['no handler for route "team1/secret/data/shared". route entry not found.'] }]);
    assert.equal((await call('GET', 'team1/secret/data/shared', null, undefined, user)).status, 403);
    // The lifecycle endpoints live outside namespaces (OpenBao).
    assert.deepEqual((await call('GET', 'sys/seal-status', 'team1')).body, { errors: ['operation unavailable in namespaces'] });

    const tenant = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: ROOT, namespace: 'team1' });
    await assert.rejects(tenant.write('secret/data/shared', { data: { owner: 'team1-via-node-vault' } }), (e: any) => e.response?.statusCode === 404);
    assert.equal((await call('GET', 'secret/data/shared', null)).body.data.data.owner, 'root-namespace');
  });

  it('the root namespace by name: "", "/" and "root" are the root namespace', async () => {
    for (const ns of ['', '/', 'root', 'root/']) {
      const r = await call('GET', 'secret/data/shared', ns);
      assert.equal(r.status, 200, `X-Vault-Namespace: "${ns}"`);
      assert.equal(r.body.data.data.owner, 'root-namespace');
    }
  });
});
