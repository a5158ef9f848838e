// Sealable namespaces on a 3-node cluster (docs/namespace-seals.md): the seal state and the namespace's
// keyring live in the active node's memory only, so a standby forwards everything about a sealable
// namespace there: its unseal shares, its seal status, and every request into it. Shares given through
// two different standbys add up on the active node; a standby serves the unsealed namespace's data (by
// forwarding) and relays the 503 once it is sealed again. A new active node has not been given the shares:
// after a leadership change the namespace is sealed until it is unsealed again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healthStatus, until } from './helpers/cluster.js';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { http } from './helpers/server-process.js';

describe('sealable namespaces on a cluster (3 processes)', { timeout: 120_000 }, () => {
  let c: HaCluster;
  let shares: string[] = [];
  const call = (i: number, method: string, path: string, body?: unknown) => http(c.url(i), method, path, { token: c.root, ...(body !== undefined ? { body } : {}) });

  before(async () => {
    c = await startHaCluster('ns-seals-ha', 3);
  });
  after(async () => {
    await c?.close();
  });

  it('standbys forward the unseal shares, the status and the requests into the namespace to the active node', async () => {
    const created = await call(0, 'POST', 'sys/namespaces/tenant', { seal: 'seal "shamir" {\n  shares = 3\n  threshold = 2\n}' });
    assert.equal(created.status, 200, created.text);
    shares = created.body.data.key_shares;
    await until('n2 and n3 know the namespace', 10_000, async () => (await call(1, 'GET', 'sys/namespaces/tenant')).status === 200 && (await call(2, 'GET', 'sys/namespaces/tenant')).status === 200);

    const first = await call(1, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[0] });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.data.progress, 1);
    const second = await call(2, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[1] });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.data.sealed, false, 'shares given through two standbys add up on the active node');
    assert.equal((await call(1, 'GET', 'sys/namespaces/tenant/seal-status')).body.data.sealed, false);

    assert.equal((await call(1, 'POST', 'tenant/sys/mounts/kv', { type: 'kv', options: { version: '2' } })).status, 204);
    assert.equal((await call(2, 'PUT', 'tenant/kv/data/app', { data: { v: 'through a standby' } })).status, 200);
    const read = await call(1, 'GET', 'tenant/kv/data/app');
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.data.data.v, 'through a standby');

    assert.equal((await call(2, 'PUT', 'sys/namespaces/tenant/seal')).status, 204);
    for (const i of [0, 1, 2]) {
      const r = await call(i, 'GET', 'tenant/kv/data/app');
      assert.equal(r.status, 503, `n${i + 1}: ${r.text}`);
      assert.deepEqual(r.body, { errors: ['namespace is sealed'] });
    }
  });

  it('a new active node has not been given the shares: the namespace is sealed until unsealed again', async () => {
    assert.equal((await call(0, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[2] })).status, 200);
    assert.equal((await call(0, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[0] })).body.data.sealed, false);
    assert.equal((await call(0, 'GET', 'tenant/kv/data/app')).status, 200);
    assert.equal((await call(0, 'PUT', 'sys/step-down')).status, 204);
    const active = await until('a new active node', 30_000, async () => {
      for (const i of [1, 2]) if ((await healthStatus(c.url(i))) === 200) return i;
      return null;
    });
    const status = await call(active, 'GET', 'sys/namespaces/tenant/seal-status');
    assert.equal(status.body.data.sealed, true, status.text);
    assert.equal((await call(active, 'GET', 'tenant/kv/data/app')).status, 503);
    await call(active, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[1] });
    assert.equal((await call(active, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[2] })).body.data.sealed, false);
    const back = await call(0, 'GET', 'tenant/kv/data/app');
    assert.equal(back.status, 200, `the old active node, now a standby, forwards: ${back.text}`);
    assert.equal(back.body.data.data.v, 'through a standby');
  });
});
