// Autopilot with real processes: a 3-voter cluster (joiners are promoted at once while there are fewer
// than 3 voters), the configuration endpoint (defaults, validation, persisted override), then a fourth
// node joins while writes run: it is a non-voter (staging) until it has been healthy for
// server_stabilization_time, then autopilot promotes it; remove-peer takes it out again. The autopilot
// state's failure_tolerance is checked at each step (3 voters -> 1, 4 -> 1, 3 -> 1).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, sleep, startClusterNode, until, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('raft autopilot (4 processes)', { timeout: 90_000 }, () => {
  const dirs = [tempDir('ap-n1'), tempDir('ap-n2'), tempDir('ap-n3'), tempDir('ap-n4')];
  const specs: ClusterNodeSpec[] = [];
  const procs: ServerProcess[] = [];
  let keys: string[] = [];
  let root = '';
  const url = (i: number) => apiUrl(specs[i] as ClusterNodeSpec);
  const dump = () => procs.map((p, i) => `--- ${specs[i]?.nodeId}\n${p.stderr().slice(-2000)}`).join('\n');
  const state = async () => {
    const r = await http(url(0), 'GET', 'sys/storage/raft/autopilot/state', { token: root });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  };

  before(async () => {
    for (let i = 0; i < 4; i++) specs.push(await nodeSpec(`n${i + 1}`, dirs[i]!.path));
    procs.push(...(await Promise.all(specs.map((s) => startClusterNode(s)))));
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => p.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('three voters; state: healthy, failure_tolerance 1; configuration defaults, validation, override', async () => {
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    keys = init.body.keys_base64;
    root = init.body.root_token;
    await unsealWith(url(0), keys);
    await until('n1 active', 10_000, async () => (await healthStatus(url(0))) === 200);
    for (const i of [1, 2]) {
      assert.deepEqual((await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } })).body, { joined: true });
      assert.equal((await unsealWith(url(i), keys)).status, 200, dump());
    }
    const s = await until('3 healthy voters', 20_000, async () => {
      const st = await state();
      return st.voters.length === 3 && st.healthy ? st : null;
    });
    assert.equal(s.failure_tolerance, 1);
    assert.equal(s.leader, 'n1');
    assert.deepEqual(s.voters, ['n1', 'n2', 'n3']);
    assert.equal(s.non_voters, undefined);
    assert.equal(s.servers.n1.status, 'leader');
    assert.equal(s.servers.n2.status, 'voter');
    assert.equal(s.servers.n2.node_status, 'alive');
    assert.match(s.servers.n2.last_contact, /^\d+(\.\d+)?(ms|s)$/);
    assert.ok(s.servers.n2.last_index > 0);
    assert.ok(!Number.isNaN(Date.parse(s.servers.n2.stable_since)));

    const defaults = await http(url(0), 'GET', 'sys/storage/raft/autopilot/configuration', { token: root });
    assert.deepEqual(defaults.body.data, {
      cleanup_dead_servers: false,
      last_contact_threshold: '10s',
      dead_server_last_contact_threshold: '24h0m0s',
      max_trailing_logs: 1000,
      min_quorum: 0,
      server_stabilization_time: '10s',
    });
    const bad = await http(url(0), 'POST', 'sys/storage/raft/autopilot/configuration', { token: root, body: { cleanup_dead_servers: true } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /min_quorum must be set when cleanup_dead_servers is set and it should at least be 3/);
    const bad2 = await http(url(0), 'POST', 'sys/storage/raft/autopilot/configuration', { token: root, body: { cleanup_dead_servers: true, min_quorum: 3, dead_server_last_contact_threshold: '10s' } });
    assert.equal(bad2.status, 400);
    assert.match(bad2.body.errors[0], /dead_server_last_contact_threshold should not be set to less than 1m/);
    assert.equal((await http(url(0), 'GET', 'sys/storage/raft/autopilot/state')).status, 403);
    const ok = await http(url(0), 'POST', 'sys/storage/raft/autopilot/configuration', { token: root, body: { server_stabilization_time: '4s' } });
    assert.equal(ok.status, 204, JSON.stringify(ok.body));
    const now = await http(url(0), 'GET', 'sys/storage/raft/autopilot/configuration', { token: root });
    assert.equal(now.body.data.server_stabilization_time, '4s');
    assert.equal(now.body.data.max_trailing_logs, 1000);
  });

  it('a fourth node joins while writes run: non-voter until stable, then a voter; remove-peer; failure_tolerance at each step', async () => {
    const m = await http(url(0), 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    assert.ok(m.status < 300, JSON.stringify(m.body));
    let stop = false;
    let writes = 0;
    const failures: string[] = [];
    const writer = (async () => {
      while (!stop) {
        const r = await http(url(0), 'PUT', `secret/data/w${writes % 50}`, { token: root, body: { data: { n: writes } } }).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        writes++;
      }
    })();

    assert.deepEqual((await http(url(3), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } })).body, { joined: true });
    assert.equal((await unsealWith(url(3), keys)).status, 200, dump());
    const joinedAt = Date.now();
    const staged = await state();
    assert.deepEqual(staged.voters, ['n1', 'n2', 'n3'], JSON.stringify(staged));
    assert.deepEqual(staged.non_voters, ['n4']);
    assert.equal(staged.servers.n4.status, 'non-voter');
    assert.equal(staged.servers.n4.node_type, 'staging');
    assert.equal(staged.failure_tolerance, 1);
    const cfg = await http(url(0), 'GET', 'sys/storage/raft/configuration', { token: root });
    assert.equal(cfg.body.data.config.servers.find((s: { node_id: string }) => s.node_id === 'n4').voter, false);

    // Still a non-voter a little later (healthy, but not yet stable for 4 s).
    await sleep(1_500);
    const early = await state();
    assert.equal(early.servers.n4.status, 'non-voter', JSON.stringify(early.servers.n4));
    const promoted = await until('n4 promoted', 20_000, async () => {
      const st = await state();
      return st.voters.includes('n4') ? st : null;
    });
    const tookMs = Date.now() - joinedAt;
    assert.ok(tookMs >= 3_500, `promoted after ${tookMs} ms, before server_stabilization_time (4 s)`);
    assert.deepEqual(promoted.voters, ['n1', 'n2', 'n3', 'n4']);
    assert.equal(promoted.non_voters, undefined);
    assert.equal(promoted.servers.n4.status, 'voter');
    const four = await until('4 healthy voters', 10_000, async () => {
      const st = await state();
      return st.healthy && st.voters.length === 4 ? st : null;
    });
    assert.equal(four.failure_tolerance, 1); // 4 voters: quorum 3

    // Demote and promote through the API: a demoted server stays a non-voter (autopilot leaves a
    // permanent non-voter alone), the leader refuses to demote itself, and promote makes it a voter.
    const demote = await http(url(0), 'POST', 'sys/storage/raft/demote', { token: root, body: { server_id: 'n4' } });
    assert.equal(demote.status, 204, JSON.stringify(demote.body));
    const demoted = await until('n4 demoted', 10_000, async () => {
      const st = await state();
      return st.non_voters?.includes('n4') ? st : null;
    });
    assert.deepEqual(demoted.voters, ['n1', 'n2', 'n3']);
    const again = await http(url(0), 'POST', 'sys/storage/raft/demote', { token: root, body: { server_id: 'n4' } });
    assert.notEqual(again.status, 204, 'demoting a non-voter again is refused');
    const promote = await http(url(0), 'POST', 'sys/storage/raft/promote', { token: root, body: { server_id: 'n4' } });
    assert.equal(promote.status, 204, JSON.stringify(promote.body));
    await until('n4 a voter again', 10_000, async () => ((await state()).voters.includes('n4') ? true : null));

    const rm = await http(url(0), 'POST', 'sys/storage/raft/remove-peer', { token: root, body: { server_id: 'n4' } });
    assert.equal(rm.status, 204, JSON.stringify(rm.body));
    const three = await until('3 voters again', 10_000, async () => {
      const st = await state();
      return st.voters.length === 3 && st.servers.n4 === undefined ? st : null;
    });
    assert.equal(three.failure_tolerance, 1);
    assert.deepEqual(three.voters, ['n1', 'n2', 'n3']);

    stop = true;
    await writer;
    assert.ok(writes > 20, `only ${writes} writes ran`);
    assert.deepEqual(failures, []);
  });
});
