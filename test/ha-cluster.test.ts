// HA with real processes: three `coffer server -config` processes on 127.0.0.1 form a Raft cluster through
// the join workflow (n2 by sys/storage/raft/join, n3 by retry_join in its config), each unsealed with the
// cluster's shares. Then: a KV write through the leader is readable on every node; sys/leader and
// sys/health on the active node and the standbys; a standby's write is a 307 to the active node; the
// configuration lists 3 voters; SIGKILL of the leader -> a standby becomes active and writes resume; the
// old leader, restarted and unsealed, is a standby again; remove-peer shrinks the configuration; a node
// joining with the wrong unseal shares is refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { split } from 'shamir-secret-sharing';
import { apiUrl, healthStatus, nodeSpec, startClusterNode, until, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('HA cluster (3 processes, join + retry_join, failover)', { timeout: 90_000 }, () => {
  const dirs = [tempDir('ha-n1'), tempDir('ha-n2'), tempDir('ha-n3'), tempDir('ha-n4'), tempDir('ha-n5')];
  const specs: ClusterNodeSpec[] = [];
  const procs = new Map<string, ServerProcess>();
  let keys: string[] = [];
  let root = '';
  let kvPath = 'secret/data/x';
  let useKv = true;

  const url = (i: number) => apiUrl(specs[i] as ClusterNodeSpec);
  const dump = () => [...procs.entries()].map(([id, p]) => `--- ${id}\n${p.stderr().slice(-2500)}`).join('\n');

  async function write(u: string, path: string, value: string) {
    return useKv ? http(u, 'PUT', `secret/data/${path}`, { token: root, body: { data: { v: value } } }) : http(u, 'PUT', `sys/raw/app/${path}`, { token: root, body: { value } });
  }
  async function read(u: string, path: string): Promise<string | null> {
    const r = useKv ? await http(u, 'GET', `secret/data/${path}`, { token: root }) : await http(u, 'GET', `sys/raw/app/${path}`, { token: root });
    if (r.status !== 200) return null;
    return useKv ? (r.body.data.data.v as string) : (r.body.data.value as string);
  }
  async function activeIndex(candidates: number[]): Promise<number> {
    return until('an active node', 15_000, async () => {
      for (const i of candidates) if ((await healthStatus(url(i)).catch(() => 0)) === 200) return i + 1; // +1: 0 is falsy
      return null;
    }).then((i) => i - 1);
  }

  before(async () => {
    specs.push(await nodeSpec('n1', dirs[0]!.path));
    specs.push(await nodeSpec('n2', dirs[1]!.path));
    specs.push(await nodeSpec('n3', dirs[2]!.path, `http://127.0.0.1:${specs[0]!.apiPort}`));
    specs.push(await nodeSpec('n4', dirs[3]!.path));
    specs.push(await nodeSpec('n5', dirs[4]!.path));
    const started = await Promise.all(specs.slice(0, 3).map((s) => startClusterNode(s)));
    started.forEach((p, i) => procs.set(specs[i]!.nodeId, p));
  });

  after(async () => {
    await Promise.allSettled([...procs.values()].map((p) => p.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('forms a cluster: init n1, n2 joins by API, n3 by retry_join, all unsealed with the shares', async () => {
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    keys = init.body.keys_base64;
    root = init.body.root_token;
    assert.equal((await unsealWith(url(0), keys.slice(0, 2))).body.sealed, false);
    await until('n1 active', 10_000, async () => (await healthStatus(url(0))) === 200);

    const joined = await http(url(1), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } });
    assert.deepEqual(joined.body, { joined: true }, dump());
    const pending = await http(url(1), 'GET', 'sys/seal-status');
    assert.equal(pending.body.initialized, true);
    assert.equal(pending.body.t, 2);
    const un2 = await unsealWith(url(1), [keys[2]!, keys[0]!]);
    assert.equal(un2.status, 200, JSON.stringify(un2.body) + dump());
    await until('n2 unsealed', 20_000, async () => (await http(url(1), 'GET', 'sys/seal-status')).body.sealed === false);

    // n3 fetched the challenge by itself (retry_join); the operator only submits shares.
    await until('n3 has the challenge', 15_000, async () => (await http(url(2), 'GET', 'sys/seal-status')).body.initialized === true);
    const un3 = await unsealWith(url(2), keys.slice(1, 3));
    assert.equal(un3.status, 200, JSON.stringify(un3.body) + dump());
    await until('n3 unsealed', 20_000, async () => (await http(url(2), 'GET', 'sys/seal-status')).body.sealed === false);

    const cfg = await until('3 voters', 15_000, async () => {
      const r = await http(url(0), 'GET', 'sys/storage/raft/configuration', { token: root });
      return r.body?.data?.config?.servers?.filter((s: { voter: boolean }) => s.voter).length === 3 ? r.body.data.config : null;
    });
    assert.deepEqual(cfg.servers.map((s: { node_id: string }) => s.node_id).sort(), ['n1', 'n2', 'n3']);
    assert.equal(cfg.servers.find((s: { node_id: string }) => s.node_id === 'n1').leader, true);
    assert.equal(cfg.servers.find((s: { node_id: string }) => s.node_id === 'n2').address, `127.0.0.1:${specs[1]!.clusterPort}`);
    // Same cluster identity everywhere.
    const ids = await Promise.all([0, 1, 2].map(async (i) => (await http(url(i), 'GET', 'sys/seal-status')).body.cluster_id));
    assert.equal(new Set(ids).size, 1);
  });

  it('a KV write through the leader is readable on every node', async (t) => {
    const mount = await http(url(0), 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    if (mount.status >= 300) useKv = false; // KV backend not there yet: sys/raw instead
    kvPath = useKv ? 'secret/data/x' : 'sys/raw/app/x';
    t.diagnostic(`writes go to ${useKv ? 'KV v2 at secret/' : 'sys/raw (KV mount refused)'}`);
    const w = await write(url(0), 'x', 'one');
    assert.ok(w.status === 200 || w.status === 204, `${kvPath}: ${w.status} ${JSON.stringify(w.body)}`);
    for (const i of [0, 1, 2]) assert.equal(await until(`x on n${i + 1}`, 10_000, () => read(url(i), 'x')), 'one');
  });

  it('sys/leader, sys/health and sys/ha-status on the active node and the standbys; a standby write is a 307', async () => {
    const l1 = await until('advertisement', 5_000, async () => {
      const r = (await http(url(0), 'GET', 'sys/leader')).body;
      return r.active_time ? r : null;
    });
    assert.equal(l1.ha_enabled, true);
    assert.equal(l1.is_self, true);
    assert.equal(l1.leader_address, url(0));
    assert.equal(l1.leader_cluster_address, `https://127.0.0.1:${specs[0]!.clusterPort}`);
    assert.ok(l1.raft_committed_index > 0 && l1.raft_applied_index > 0);
    for (const i of [1, 2]) {
      const l = (await http(url(i), 'GET', 'sys/leader')).body;
      assert.equal(l.ha_enabled, true);
      assert.equal(l.is_self, undefined);
      assert.equal(l.active_time, undefined);
      assert.equal(l.leader_address, url(0));
      assert.equal(await healthStatus(url(i)), 429);
      assert.equal(await healthStatus(url(i), '?standbyok=true'), 200);
      const h = (await http(url(i), 'GET', 'sys/health?standbyok=true')).body;
      assert.equal(h.standby, true);
    }
    assert.equal(await healthStatus(url(0)), 200);
    const ha = await http(url(0), 'GET', 'sys/ha-status', { token: root });
    assert.equal(ha.status, 200);
    assert.equal(ha.body.data.nodes.length, 3);
    assert.equal(ha.body.data.nodes.filter((n: { active_node: boolean }) => n.active_node).length, 1);

    // Standbys forward writes by default (docs/ha-standby-reads.md); the client asks for Vault's redirect instead.
    const res = await fetch(`${url(1)}/v1/${kvPath.replace(/x$/, 'y')}`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json', 'X-Vault-No-Request-Forwarding': 'true' },
      body: JSON.stringify(useKv ? { data: { v: 'two' } } : { value: 'two' }),
      redirect: 'manual',
    });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('location'), `${url(0)}/v1/${kvPath.replace(/x$/, 'y')}`);
    // A client that follows the redirect (fetch does for 307, keeping method and body) gets the write done.
    const followed = await write(url(1), 'y', 'two');
    assert.ok(followed.status === 200 || followed.status === 204);
    assert.equal(await until('y on n3', 10_000, () => read(url(2), 'y')), 'two');
  });

  it('SIGKILL of the leader: a standby becomes active within seconds and writes resume; the old leader rejoins as a standby', async (t) => {
    const t0 = Date.now();
    await procs.get('n1')!.kill('SIGKILL');
    procs.delete('n1');
    const active = await activeIndex([1, 2]);
    const failoverMs = Date.now() - t0;
    assert.ok(failoverMs < 10_000, `failover took ${failoverMs} ms`);
    t.diagnostic(`n${active + 1} active ${failoverMs} ms after the SIGKILL`);
    const w = await until('a write on the new leader', 10_000, async () => {
      const r = await write(url(active), 'z', 'three');
      return r.status === 200 || r.status === 204 ? r : null;
    });
    assert.ok(w);
    const other = active === 1 ? 2 : 1;
    assert.equal(await until('z on the other standby', 10_000, () => read(url(other), 'z')), 'three');
    await until('standby learns the new leader', 10_000, async () => (await http(url(other), 'GET', 'sys/leader')).body.leader_address === url(active));

    // Restart the old leader on its data dir: sealed; unsealed with the shares, it catches up as a standby.
    procs.set('n1', await startClusterNode(specs[0]!));
    assert.equal((await http(url(0), 'GET', 'sys/seal-status')).body.sealed, true);
    const un = await unsealWith(url(0), keys.slice(0, 2));
    assert.equal(un.body.sealed, false, JSON.stringify(un.body));
    assert.equal(await until('z on the restarted node', 15_000, () => read(url(0), 'z')), 'three');
    assert.equal(await healthStatus(url(0)), 429);
    assert.equal((await http(url(0), 'GET', 'sys/leader')).body.leader_address, url(active));
  });

  it('remove-peer shrinks the configuration', async () => {
    const active = await activeIndex([0, 1, 2]);
    const victim = [1, 2].find((i) => i !== active) ?? 0;
    const victimId = specs[victim]!.nodeId;
    // On a standby the request is redirected to the active node.
    const standby = [0, 1, 2].find((i) => i !== active && i !== victim)!;
    const redirected = await fetch(`${url(standby)}/v1/sys/storage/raft/remove-peer`, {
      method: 'POST',
      headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json', 'X-Vault-No-Request-Forwarding': 'true' },
      body: JSON.stringify({ server_id: victimId }),
      redirect: 'manual',
    });
    assert.equal(redirected.status, 307);
    const r = await http(url(active), 'POST', 'sys/storage/raft/remove-peer', { token: root, body: { server_id: victimId } });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    const cfg = await until('2 servers', 10_000, async () => {
      const c = (await http(url(active), 'GET', 'sys/storage/raft/configuration', { token: root })).body.data.config;
      return c.servers.length === 2 ? c : null;
    });
    assert.ok(!cfg.servers.some((s: { node_id: string }) => s.node_id === victimId));
    assert.equal((await http(url(active), 'POST', 'sys/storage/raft/remove-peer', { token: root, body: {} })).status, 400);
    // Writes still commit with the two remaining voters.
    const w = await write(url(active), 'after-remove', 'four');
    assert.ok(w.status === 200 || w.status === 204);
  });

  it('sys/step-down hands leadership to the other voter; the old leader stays a standby', async () => {
    const active = await activeIndex([0, 1, 2]);
    const cfg = (await http(url(active), 'GET', 'sys/storage/raft/configuration', { token: root })).body.data.config;
    const otherId = cfg.servers.find((s: { node_id: string; voter: boolean }) => s.voter && s.node_id !== specs[active]!.nodeId).node_id as string;
    const other = specs.findIndex((s) => s.nodeId === otherId);
    assert.equal((await http(url(active), 'PUT', 'sys/step-down', {})).status, 403);
    assert.equal((await http(url(active), 'PUT', 'sys/step-down', { token: root })).status, 204);
    await until('the other voter active', 10_000, async () => (await healthStatus(url(other))) === 200);
    assert.equal(await healthStatus(url(active)), 429);
    const w = await write(url(other), 'after-step-down', 'five');
    assert.ok(w.status === 200 || w.status === 204);
  });

  it('a node joining with the wrong unseal shares is refused', async () => {
    const active = await activeIndex([0, 1, 2]);
    const p4 = await startClusterNode(specs[3]!);
    procs.set('n4', p4);
    const u4 = apiUrl(specs[3]!);
    assert.deepEqual((await http(u4, 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(active) } })).body, { joined: true });
    // Two shares of another key: they combine (distinct x-coordinates, unlike two random strings, which
    // share their last byte 1 time in 256 and then fail earlier as duplicate parts) into a key that
    // cannot open the challenge.
    const bogus = (await split(new Uint8Array(randomBytes(32)), 3, 2)).slice(0, 2).map((s) => Buffer.from(s).toString('base64'));
    const r = await unsealWith(u4, bogus);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.errors[0], /invalid key/);
    assert.equal((await http(u4, 'GET', 'sys/seal-status')).body.sealed, true);
    const cfg = (await http(url(active), 'GET', 'sys/storage/raft/configuration', { token: root })).body.data.config;
    assert.ok(!cfg.servers.some((s: { node_id: string }) => s.node_id === 'n4'));
    // A forged answer is refused by the leader.
    const forged = await http(url(active), 'POST', 'sys/storage/raft/bootstrap/answer', {
      body: { server_id: 'n4', answer: randomBytes(24).toString('base64'), cluster_addr: `127.0.0.1:${specs[3]!.clusterPort}` },
    });
    assert.equal(forged.status, 400);
    assert.deepEqual(forged.body.errors, ['invalid answer given']);
  });

  it('a joiner whose cluster port is taken is told so, and joins once the port is free', async () => {
    const active = await activeIndex([0, 1, 2]);
    const spec = specs[4]!;
    // Someone else holds n5's cluster_addr port (the leader's Raft links to n5 connect to it, and are cut on close).
    const held = new Set<Socket>();
    const squatter = createServer((c) => {
      held.add(c);
      c.on('error', () => undefined);
    });
    const release = () => {
      for (const c of held) c.destroy();
      return new Promise<void>((resolve) => squatter.close(() => resolve()));
    };
    await new Promise<void>((resolve) => squatter.listen(spec.clusterPort, '127.0.0.1', () => resolve()));
    let squatting = true;
    try {
      const p5 = await startClusterNode(spec);
      procs.set('n5', p5);
      const u5 = apiUrl(spec);
      assert.deepEqual((await http(u5, 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(active) } })).body, { joined: true });
      const refused = await unsealWith(u5, keys.slice(0, 2));
      assert.equal(refused.status, 500, JSON.stringify(refused.body));
      assert.deepEqual(refused.body.errors, [`cannot listen on the cluster address 127.0.0.1:${spec.clusterPort}: address already in use`]);
      await release();
      squatting = false;
      // The same shares again, now that the port is free: n5 becomes a standby serving what the cluster holds.
      const again = await unsealWith(u5, keys.slice(0, 2));
      assert.equal(again.status, 200, JSON.stringify(again.body) + dump());
      await until('n5 unsealed', 20_000, async () => (await http(u5, 'GET', 'sys/seal-status')).body.sealed === false);
      await until('n5 replicated a write', 20_000, async () => {
        const w = await write(url(active), 'port-free', 'yes');
        return (w.status === 200 || w.status === 204) && (await read(u5, 'port-free')) === 'yes';
      });
    } finally {
      if (squatting) await release();
    }
  });
});
