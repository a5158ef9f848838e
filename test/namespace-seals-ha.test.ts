// Sealable namespaces on a 3-node cluster (docs/namespace-seals.md). The unseal progress lives on the active
// node: a standby forwards shares, seal and seal-status there, and shares given through two standbys add
// up. Once the namespace is unsealed, each standby fetches its keyring from the active node over the
// mutual-TLS forwarding link (the key sync) and serves the namespace's reads itself. A seal sets a replicated
// flag: every node stops serving the namespace as it applies it and forgets its copy of the keyring. The
// keyrings outlive a leadership change ("unseal once per cluster"), and a standby that restarts gets them
// back from the active node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healthStatus, startClusterNode, unsealWith, until } from './helpers/cluster.js';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { http } from './helpers/server-process.js';

describe('sealable namespaces on a cluster (3 processes)', { timeout: 150_000 }, () => {
  let c: HaCluster;
  let shares: string[] = [];
  const call = (i: number, method: string, path: string, body?: unknown) => http(c.url(i), method, path, { token: c.root, ...(body !== undefined ? { body } : {}) });
  const servedBy = async (i: number) => {
    const r = await fetch(`${c.url(i)}/v1/tenant/kv/data/app`, { headers: { 'X-Vault-Token': c.root } });
    const body = (await r.json()) as { data?: { data?: { v?: string } }; errors?: string[] };
    return { status: r.status, by: r.headers.get('x-coffer-served-by'), v: body.data?.data?.v, errors: body.errors };
  };

  before(async () => {
    c = await startHaCluster('ns-seals-ha', 3);
  });
  after(async () => {
    await c?.close();
  });

  it('unseals through standbys on the active node; each standby then syncs the keyring and serves reads itself', async () => {
    const created = await call(0, 'POST', 'sys/namespaces/tenant', { seal: 'seal "shamir" {\n  shares = 3\n  threshold = 2\n}' });
    assert.equal(created.status, 200, created.text);
    shares = created.body.data.key_shares;
    await until('n2 and n3 know the namespace', 10_000, async () => (await call(1, 'GET', 'sys/namespaces/tenant')).status === 200 && (await call(2, 'GET', 'sys/namespaces/tenant')).status === 200);
    const sealedRead = await servedBy(1);
    assert.equal(sealedRead.status, 503);
    assert.deepEqual(sealedRead.errors, ['namespace is sealed']);

    const first = await call(1, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[0] });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.data.progress, 1);
    const second = await call(2, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[1] });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.data.sealed, false, 'shares given through two standbys add up on the active node');
    assert.equal((await call(1, 'GET', 'sys/namespaces/tenant/seal-status')).body.data.sealed, false);

    assert.equal((await call(1, 'POST', 'tenant/sys/mounts/kv', { type: 'kv', options: { version: '2' } })).status, 204);
    assert.equal((await call(2, 'PUT', 'tenant/kv/data/app', { data: { v: 'through a standby' } })).status, 200);
    for (const i of [1, 2]) {
      const r = await until(`n${i + 1} serves the namespace itself`, 15_000, async () => {
        const got = await servedBy(i);
        return got.status === 200 && got.by === 'standby' ? got : null;
      });
      assert.equal(r.v, 'through a standby');
    }

    // A rotation of the namespace's keyring (through a standby: forwarded) reaches the standbys' copies.
    assert.equal((await call(1, 'PUT', 'tenant/sys/rotate')).status, 204);
    assert.equal((await call(0, 'GET', 'tenant/sys/key-status')).body.data.term, 2);
    assert.equal((await call(0, 'PUT', 'tenant/kv/data/app', { data: { v: 'under term 2' } })).status, 200);
    for (const i of [1, 2]) {
      await until(`n${i + 1} reads a value of the new term itself`, 15_000, async () => {
        const got = await servedBy(i);
        return got.status === 200 && got.by === 'standby' && got.v === 'under term 2';
      });
    }
    assert.equal((await call(0, 'PUT', 'tenant/kv/data/app', { data: { v: 'through a standby' } })).status, 200);
  });

  it('a seal reaches every node through the log; the keyrings outlive a leadership change and a standby restart', async () => {
    assert.equal((await call(2, 'PUT', 'sys/namespaces/tenant/seal')).status, 204);
    assert.equal((await servedBy(0)).status, 503, 'the active node sealed it');
    for (const i of [1, 2]) await until(`n${i + 1} stops serving it`, 10_000, async () => (await servedBy(i)).status === 503);
    // The keyrings are gone everywhere: a standby fetches nothing while the flag stands.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const i of [0, 1, 2]) assert.equal((await servedBy(i)).status, 503, `n${i + 1} still sealed`);

    await call(0, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[2] });
    assert.equal((await call(0, 'PUT', 'sys/namespaces/tenant/unseal', { key: shares[0] })).body.data.sealed, false);
    for (const i of [1, 2]) await until(`n${i + 1} synced the keyring again`, 15_000, async () => (await servedBy(i)).by === 'standby');

    // Leadership moves: the new active node already holds the keyring.
    assert.equal((await call(0, 'PUT', 'sys/step-down')).status, 204);
    const active = await until('a new active node', 30_000, async () => {
      for (const i of [1, 2]) if ((await healthStatus(c.url(i))) === 200) return i;
      return null;
    });
    assert.equal((await call(active, 'GET', 'sys/namespaces/tenant/seal-status')).body.data.sealed, false, 'unsealed once per cluster');
    const onActive = await servedBy(active);
    assert.equal(onActive.status, 200);
    assert.equal(onActive.by, 'active');

    // A standby restarts: it comes back sealed, is unsealed with the cluster's shares, then syncs the keyring.
    const standby = [0, 1, 2].find((i) => i !== active && i !== 0) ?? 0;
    await c.procs[standby]!.kill('SIGKILL');
    c.procs[standby] = await startClusterNode(c.specs[standby]!);
    assert.equal((await unsealWith(c.url(standby), c.keys)).status, 200);
    const back = await until(`n${standby + 1} serves the namespace after its restart`, 30_000, async () => {
      const got = await servedBy(standby);
      return got.status === 200 && got.by === 'standby' ? got : null;
    });
    assert.equal(back.v, 'through a standby');
  });
});
