// Disaster recovery with real processes (docs/dr.md): a primary site of three voters (n1-n3) and a DR site
// of two permanent non-voters (n4, n5) that joined with non_voter. The DR nodes serve reads and keep up
// with the log. While the voters are alive, a promotion is refused and changes nothing. Then the primary
// site is killed (SIGKILL); n4 is promoted with the CLI, becomes the active node with every secret written
// before, takes writes, and n5 follows it. Finally two of the lost voters come back with their old logs
// (a quorum of the old configuration): they are fenced off, so the DR site keeps its leader and its data.
// A tenant's sealable namespace, unsealed before the disaster, is served by the DR nodes and stays unsealed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, sleep, startClusterNode, until, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { http, runCli, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

const SECRETS = 25;

describe('disaster recovery: DR non-voters take over a lost primary site (5 processes)', { timeout: 180_000 }, () => {
  const dirs = [1, 2, 3, 4, 5].map((i) => tempDir(`dr-n${i}`));
  const specs: ClusterNodeSpec[] = [];
  const procs: (ServerProcess | null)[] = [];
  let keys: string[] = [];
  let root = '';
  const url = (i: number) => apiUrl(specs[i]!);
  const dump = () => procs.map((p, i) => `--- n${i + 1}\n${p?.stderr().slice(-2500) ?? '(stopped)'}`).join('\n');
  const drStatus = async (i: number) => {
    const r = await http(url(i), 'GET', 'sys/storage/raft/dr/status', { token: root });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  };
  const configuration = async (i: number) => {
    const r = await http(url(i), 'GET', 'sys/storage/raft/configuration', { token: root });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.data.config.servers as { node_id: string; voter: boolean; leader: boolean }[]).map((s) => `${s.node_id}:${s.voter ? 'voter' : 'non-voter'}${s.leader ? ':leader' : ''}`).sort();
  };

  before(async () => {
    for (let i = 0; i < 5; i++) specs.push(await nodeSpec(`n${i + 1}`, dirs[i]!.path));
    for (const s of specs) procs.push(await startClusterNode(s));
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => p?.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('forms a primary site of three voters and a DR site of two non-voters that keep up', async () => {
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    keys = init.body.keys_base64;
    root = init.body.root_token;
    await unsealWith(url(0), keys);
    await until('n1 active', 15_000, async () => (await healthStatus(url(0))) === 200);
    for (const i of [1, 2, 3, 4]) {
      const joined = await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0), non_voter: i >= 3 } });
      assert.deepEqual(joined.body, { joined: true }, dump());
      assert.equal((await unsealWith(url(i), keys)).status, 200, dump());
      await until(`n${i + 1} unsealed standby`, 30_000, async () => (await healthStatus(url(i))) === 429);
    }
    await until('3 voters and 2 non-voters', 30_000, async () => (await configuration(0)).join(',') === 'n1:voter:leader,n2:voter,n3:voter,n4:non-voter,n5:non-voter');

    const primary = nodeVault({ apiVersion: 'v1', endpoint: url(0), token: root });
    await primary.mount({ mount_point: 'secret', type: 'kv', options: { version: '2' } });
    for (let i = 0; i < SECRETS; i++) await primary.write(`secret/data/app/s${i}`, { data: { value: `before-${i}` } });

    // A tenant's sealable namespace (docs/namespace-seals.md), unsealed on the primary site: the DR nodes
    // sync its keyring like any standby and serve it themselves.
    const tenant = await http(url(0), 'POST', 'sys/namespaces/tenant', { token: root, body: { seal: 'seal "shamir" {\n  shares = 1\n  threshold = 1\n}' } });
    assert.equal(tenant.status, 200, tenant.text);
    assert.equal((await http(url(0), 'PUT', 'sys/namespaces/tenant/unseal', { token: root, body: { key: tenant.body.data.key_shares[0] } })).body.data.sealed, false);
    assert.equal((await http(url(0), 'POST', 'tenant/sys/mounts/kv', { token: root, body: { type: 'kv' } })).status, 204);
    assert.equal((await http(url(0), 'PUT', 'tenant/kv/x', { token: root, body: { v: 'tenant data' } })).status, 204);
    for (const i of [3, 4]) {
      await until(`n${i + 1} serves the tenant namespace itself`, 20_000, async () => {
        const r = await fetch(`${url(i)}/v1/tenant/kv/x`, { headers: { 'X-Vault-Token': root } });
        await r.arrayBuffer();
        return r.status === 200 && r.headers.get('x-coffer-served-by') === 'standby';
      });
    }
    for (const i of [3, 4]) {
      const dr = nodeVault({ apiVersion: 'v1', endpoint: url(i), token: root });
      await until(`n${i + 1} serves the last secret`, 20_000, async () => (await dr.read(`secret/data/app/s${SECRETS - 1}`).catch(() => null))?.data?.data?.value === `before-${SECRETS - 1}`);
    }
    const st = await drStatus(3);
    assert.equal(st.node_id, 'n4');
    assert.equal(st.voter, false);
    assert.equal(st.leader_id, 'n1');
    assert.equal(st.promotable, false, 'the voters are alive');
    assert.match(st.reason, /^voter n1 was heard from \d+ ms ago/, 'with the reason the promotion would give');
    assert.deepEqual(st.voters.map((v: { node_id: string }) => v.node_id), ['n1', 'n2', 'n3']);
    assert.deepEqual(st.non_voters, ['n4', 'n5']);
    assert.ok(st.last_index >= st.applied_index && st.applied_index > SECRETS, JSON.stringify(st));
  });

  it('refuses a promotion while the voters are reachable, and without sudo; nothing changes', async () => {
    const refused = await http(url(3), 'POST', 'sys/storage/raft/dr/promote', { token: root, body: {} });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.errors[0], /was heard from \d+ ms ago; recovery is only for a lost quorum/);

    const policy = 'path "sys/storage/raft/dr/*" {\n  capabilities = ["read", "update"]\n}\n';
    assert.equal((await http(url(0), 'PUT', 'sys/policies/acl/dr-no-sudo', { token: root, body: { policy } })).status, 204);
    const created = await http(url(0), 'POST', 'auth/token/create', { token: root, body: { policies: ['dr-no-sudo'] } });
    const operator = created.body.auth.client_token as string;
    await until('n4 knows the new token', 10_000, async () => (await http(url(3), 'GET', 'sys/storage/raft/dr/status', { token: operator })).status === 200);
    const denied = await http(url(3), 'POST', 'sys/storage/raft/dr/promote', { token: operator, body: {} });
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.deepEqual(denied.body, { errors: ['permission denied'] });

    assert.deepEqual(await configuration(0), ['n1:voter:leader', 'n2:voter', 'n3:voter', 'n4:non-voter', 'n5:non-voter']);
    assert.equal(await healthStatus(url(0)), 200, 'n1 is still the active node');
    assert.equal(await healthStatus(url(3)), 429, 'n4 is still a standby');
  });

  it('promotes n4 with the CLI once the primary site is lost; every secret survives and n5 follows', async () => {
    for (const i of [0, 1, 2]) {
      await procs[i]!.kill('SIGKILL');
      procs[i] = null;
    }
    let last: unknown = null;
    const ready = await until('n4 promotable', 20_000, async () => {
      const st = await drStatus(3);
      last = st;
      return st.promotable === true ? st : null;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; last dr/status: ${JSON.stringify(last)}`);
    });
    // -1: a voter this non-voter never heard from (only the leader talks to non-voters).
    assert.ok(ready.voters.every((v: { last_contact_ms: number }) => v.last_contact_ms < 0 || v.last_contact_ms >= ready.required_silence_ms), JSON.stringify(ready));
    assert.ok(ready.voters.some((v: { last_contact_ms: number }) => v.last_contact_ms >= ready.required_silence_ms), JSON.stringify(ready));
    assert.equal(ready.reason, undefined);

    const env = { VAULT_ADDR: url(3), VAULT_TOKEN: root };
    const status = await runCli(['operator', 'raft', 'dr', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Promotable\s+true/);
    const promoted = await runCli(['operator', 'raft', 'dr', 'promote'], env);
    assert.equal(promoted.code, 0, `${promoted.stderr}\n${dump()}`);
    assert.match(promoted.stdout, /Removed And Fenced\s+n1, n2, n3/);
    assert.match(promoted.stdout, /Non-Voters\s+n5/);

    await until('n4 active', 20_000, async () => (await healthStatus(url(3))) === 200);
    assert.deepEqual(await configuration(3), ['n4:voter:leader', 'n5:non-voter']);
    const dr = nodeVault({ apiVersion: 'v1', endpoint: url(3), token: root });
    for (let i = 0; i < SECRETS; i++) assert.equal((await dr.read(`secret/data/app/s${i}`)).data.data.value, `before-${i}`);
    // The tenant's namespace stays unsealed through the failover: the promoted node held its keyring.
    const tenantRead = await http(url(3), 'GET', 'tenant/kv/x', { token: root });
    assert.equal(tenantRead.status, 200, tenantRead.text);
    assert.equal(tenantRead.body.data.v, 'tenant data');
    await dr.write('secret/data/app/after', { data: { value: 'written on the DR site' } });

    const n5 = nodeVault({ apiVersion: 'v1', endpoint: url(4), token: root });
    await until('n5 serves the write made after the failover', 20_000, async () => (await n5.read('secret/data/app/after').catch(() => null))?.data?.data?.value === 'written on the DR site');
    const n5Status = await drStatus(4);
    assert.equal(n5Status.leader_id, 'n4');
    assert.deepEqual(n5Status.fenced, ['n1', 'n2', 'n3']);
    assert.deepEqual(n5Status.voters.map((v: { node_id: string }) => v.node_id), ['n4']);

    // A second promotion on the new leader is refused: its quorum (itself) is reachable.
    const again = await http(url(3), 'POST', 'sys/storage/raft/dr/promote', { token: root, body: {} });
    assert.equal(again.status, 400);
    assert.match(again.body.errors[0], /this node is the raft leader/);
  });

  it('keeps the DR site whole when a quorum of the lost voters comes back with its old log', async () => {
    const before = await drStatus(4);
    for (const i of [0, 1]) {
      procs[i] = await startClusterNode(specs[i]!);
      assert.equal((await unsealWith(url(i), keys)).status, 200, dump());
    }
    // Time for the old pair to elect each other and reach for the DR nodes (their old non-voters).
    await sleep(8_000);
    assert.equal(await healthStatus(url(3)), 200, `n4 is still the active node\n${dump()}`);
    const n5Status = await drStatus(4);
    assert.equal(n5Status.leader_id, 'n4', `n5 still follows n4\n${dump()}`);
    assert.ok(n5Status.applied_index >= before.applied_index);
    const dr = nodeVault({ apiVersion: 'v1', endpoint: url(3), token: root });
    await dr.write('secret/data/app/fenced', { data: { value: 'after the old site came back' } });
    const n5 = nodeVault({ apiVersion: 'v1', endpoint: url(4), token: root });
    await until('n5 serves the write made after the old site came back', 20_000, async () => (await n5.read('secret/data/app/fenced').catch(() => null))?.data?.data?.value === 'after the old site came back');
    assert.equal((await n5.read('secret/data/app/s0')).data.data.value, 'before-0');
    assert.deepEqual(await configuration(3), ['n4:voter:leader', 'n5:non-voter']);
  });
});
