// Namespaces at scale, through the public API of real server processes (docs/namespaces.md "Many
// namespaces"): each namespace is loaded when a request first reaches it, the handler keeps a bounded
// number of them decoded, and a data directory written before namespaces were stored one entry each is
// served as it was and moved to that layout by its first change.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStorageEnv } from '../actors/storage/env.js';
import { http, spawnCoffer, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string; namespace?: string }) => any;

const ROOT = 'scale-root';
/** Enough namespaces that every lookup would show a list scan; ~3 writes each. */
const TENANTS = 320;

describe('many namespaces', () => {
  let dev: ServerProcess;
  const ok = async (method: string, path: string, body?: unknown, ns?: string) => {
    const r = await http(dev.url, method, path, { token: ROOT, ...(body !== undefined ? { body } : {}), headers: ns ? { 'X-Vault-Namespace': ns } : {} });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} (ns ${ns ?? '-'}): ${r.status} ${r.text}`);
    return r.body;
  };

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
  });
  after(async () => {
    await dev?.kill();
  });

  it(`${TENANTS} namespaces each serve their own mount and secret, in any order`, async () => {
    for (let i = 0; i < TENANTS; i++) {
      await ok('POST', `sys/namespaces/tenant${i}`);
      await ok('POST', 'sys/mounts/kv', { type: 'kv', options: { version: '2' } }, `tenant${i}`);
      await ok('POST', `tenant${i}/kv/data/app`, { data: { owner: `tenant${i}` } });
    }
    // Twice over, in two orders, by path prefix and by header.
    const order = [...Array(TENANTS).keys()];
    for (const round of [order, order.map((i) => (i * 7919) % TENANTS)]) {
      for (const i of round) {
        const byPath = await http(dev.url, 'GET', `tenant${i}/kv/data/app`, { token: ROOT });
        assert.equal(byPath.body?.data?.data?.owner, `tenant${i}`, `tenant${i} by path: ${byPath.status} ${byPath.text}`);
      }
    }
    for (const i of [0, 17, TENANTS - 1]) {
      const client = nodeVault({ apiVersion: 'v1', endpoint: dev.url, token: ROOT, namespace: `tenant${i}` });
      assert.equal((await client.read('kv/data/app')).data.data.owner, `tenant${i}`);
    }
    const listed = (await ok('LIST', 'sys/namespaces')).data.keys as string[];
    assert.equal(listed.length, TENANTS);
    assert.ok(listed.includes('tenant0/') && listed.includes(`tenant${TENANTS - 1}/`));
  });

  it('a nested namespace and a deleted one among the many: each path reaches exactly its own', async () => {
    await ok('POST', 'sys/namespaces/inner', undefined, 'tenant5');
    await ok('POST', 'sys/mounts/kv', { type: 'kv', options: { version: '2' } }, 'tenant5/inner');
    await ok('POST', 'tenant5/inner/kv/data/app', { data: { owner: 'tenant5/inner' } });
    assert.equal((await ok('GET', 'tenant5/inner/kv/data/app')).data.data.owner, 'tenant5/inner');
    assert.equal((await ok('GET', 'kv/data/app', undefined, 'tenant5')).data.data.owner, 'tenant5');
    // A parent with a child is not deleted; the child is, and then the parent.
    assert.equal((await http(dev.url, 'DELETE', 'sys/namespaces/tenant5', { token: ROOT })).status, 400);
    await ok('DELETE', 'sys/namespaces/inner', undefined, 'tenant5');
    await ok('DELETE', 'sys/namespaces/tenant5');
    assert.equal((await http(dev.url, 'GET', 'kv/data/app', { token: ROOT, headers: { 'X-Vault-Namespace': 'tenant5' } })).status, 404);
    assert.equal((await http(dev.url, 'GET', 'tenant5/kv/data/app', { token: ROOT })).status, 404);
    assert.equal((await ok('GET', 'tenant6/kv/data/app')).data.data.owner, 'tenant6');
    // Made again under the same name: a new, empty namespace (its old data does not come back).
    await ok('POST', 'sys/namespaces/tenant5');
    assert.equal((await http(dev.url, 'GET', 'tenant5/kv/data/app', { token: ROOT })).status, 404);
  });
});

describe('namespaces written as one list value by an earlier build', () => {
  const fixture = fileURLToPath(new URL('../../fixtures/namespace-list-v1/', import.meta.url));
  const keys = JSON.parse(readFileSync(join(fixture, 'keys.json'), 'utf8')) as { unseal_key: string; root_token: string };
  const dir = tempDir('ns-upgrade');
  let node: ServerProcess | undefined;
  const start = async () => {
    node = await startServerProcess(dir.path);
    const r = await http(node.url, 'PUT', 'sys/unseal', { body: { key: keys.unseal_key } });
    assert.equal(r.body?.sealed, false, `unseal: ${r.status} ${r.text}`);
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.url, token: keys.root_token });
    // The first requests after unseal may race the node becoming active.
    for (let i = 0; i < 50 && (await http(node.url, 'GET', 'sys/namespaces?list=true', { token: keys.root_token })).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    return vault;
  };
  /** Which layout the data file holds, read straight from LMDB (the values stay encrypted: only their keys matter). */
  const storedKeys = async () => {
    const env = openStorageEnv(join(dir.path, 'data'), { readOnly: true });
    try {
      return { legacy: env.fsm.get('core/namespaces') !== undefined, alpha: env.fsm.get('core/namespace/alpha') !== undefined, inner: env.fsm.get('core/namespace/alpha/inner') !== undefined };
    } finally {
      await env.close();
    }
  };

  before(() => {
    mkdirSync(join(dir.path, 'data'));
    copyFileSync(join(fixture, 'coffer.mdb'), join(dir.path, 'data', 'coffer.mdb'));
  });
  after(async () => {
    await node?.kill();
    dir.remove();
  });

  it('serves them as stored, moves them to one entry each with the first change, and keeps them after a restart', async () => {
    assert.deepEqual(await storedKeys(), { legacy: true, alpha: false, inner: false }, 'the fixture holds the old layout');
    let vault = await start();
    const check = async () => {
      assert.deepEqual((await vault.list('sys/namespaces')).data.keys.sort(), ['alpha/', 'beta/']);
      assert.deepEqual((await vault.read('sys/namespaces/alpha')).data.custom_metadata, { owner: 'ops' });
      assert.equal((await vault.read('alpha/kv/data/app')).data.data.pw, 'alpha-secret');
      assert.equal((await vault.read('alpha/inner/kv/data/app')).data.data.pw, 'inner-secret');
      const inAlpha = nodeVault({ apiVersion: 'v1', endpoint: (node as ServerProcess).url, token: keys.root_token, namespace: 'alpha' });
      assert.ok((await inAlpha.read('sys/policies/acl/reader')).data.policy.includes('kv/data/*'));
    };
    await check();
    assert.deepEqual(await storedKeys(), { legacy: true, alpha: false, inner: false }, 'reads change nothing');
    // The first change: every entry moves in its write-set.
    await vault.write('sys/namespaces/gamma', {});
    const after = (await vault.list('sys/namespaces')).data.keys.sort();
    assert.deepEqual(after, ['alpha/', 'beta/', 'gamma/']);
    await vault.delete('sys/namespaces/gamma');
    await check();
    await (node as ServerProcess).kill();
    node = undefined;
    assert.deepEqual(await storedKeys(), { legacy: false, alpha: true, inner: true }, 'moved to one entry per namespace');
    vault = await start();
    await check();
  });
});
