// STANDBY-READS (RELIABILITY.md §7.2, Appendix B): eventually-consistent reads from standbys, validated by
// replay. Three Coffer processes with a nemesis proxy on every peer link (test/helpers/ha-proxied.ts; the
// harness's startCofferCluster has no config hook, and this run needs `snapshot_threshold`). While clients
// read and write KV v2 through every node — plain standby reads without headers, writes forwarded from the
// standbys — the run lags a standby (it hears nothing) long enough that the leader compacts past it, so
// it catches up by InstallSnapshot; partitions the other; pauses one (SIGSTOP); restarts one (SIGKILL,
// start, unseal). Then:
//   - every read is checked against the committed sequence at its served index (test/helpers/standby-
//     replay.ts explains how that sequence is bounded from the writes' acknowledged versions and indexes);
//   - each node's served index never goes back in real time, across the restart too;
//   - read-your-writes clients (write, then read on a standby with the write's X-Vault-Index and each
//     X-Vault-Inconsistent mode) never see an older state: the answer is fresh, or a 412 (fail /
//     await-state), or the active node's (forward-active-node);
//   - the lag of standby reads is reported (entries and ms).
// A second case checks cache coherence on the standbys (S7): a policy change, a token revocation and a new
// mount, each applied at index k on the active node, are in force on every standby for requests carrying
// X-Vault-Index >= k.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { clientAgent, cofferKvOp, decodeVaultIndex, httpCall, Recorder, seededRandom, Workload, type Endpoint, type WorkloadClient } from './harness/index.js';
import { sleep, until } from './helpers/cluster.js';
import { startProxiedCluster, type ProxiedCluster } from './helpers/ha-proxied.js';
import { http } from './helpers/server-process.js';
import { percentile, replayStandbyReads } from './helpers/standby-replay.js';

const MODES = ['fail', 'forward-active-node', 'await-state'] as const;
/** Log entries before a node snapshots and compacts: small, so a standby deaf for a few seconds falls behind the leader's log. */
const SNAPSHOT_THRESHOLD = 50;

interface RywTally {
  reads: number;
  fresh: number;
  violations: string[];
  status412: number;
  forwarded: number;
  refused: number;
  /** 412 answers per mode. */
  by: Record<string, number>;
}

describe('STANDBY-READS: standby reads validated by replay, served index monotonic, read-your-writes (3 processes)', { timeout: 180_000 }, () => {
  let cluster: ProxiedCluster;
  const kills = new Map<string, number[]>();

  before(async () => {
    cluster = await startProxiedCluster({ name: 'sreads', storageExtra: () => `snapshot_threshold = ${SNAPSHOT_THRESHOLD}` });
  });

  afterEach((t) => cluster?.reportIfFailed(t));

  after(async () => {
    await cluster?.close();
  });

  it('validates every standby read; index regressions 0; RYW violations 0', async (t) => {
    assert.equal(await cluster.activeNode(), 0, 'n1 is active');
    const token = cluster.root;
    const rec = new Recorder();
    const nodes = cluster.specs.map((s, i) => ({ id: s.nodeId, url: cluster.url(i) }));
    const endpoint = (i: number): Endpoint => {
      const agent = clientAgent();
      const n = nodes[i]!;
      return { node: n.id, op: (key, input) => cofferKvOp({ url: n.url, node: n.id, token, timeoutMs: 6_000, now: () => rec.now(), agent, readMode: 'local' }, key, input) };
    };
    const appliedOn = async (i: number) => (await http(nodes[i]!.url, 'GET', 'sys/leader')).body.raft_applied_index as number;
    // Two readers on each standby, one client on the active node, one roaming; plain reads (no headers).
    const clients: WorkloadClient[] = [
      { name: 'c1', endpoints: [endpoint(1)] },
      { name: 'c2', endpoints: [endpoint(1)] },
      { name: 'c3', endpoints: [endpoint(2)] },
      { name: 'c4', endpoints: [endpoint(2)] },
      { name: 'c5', endpoints: [endpoint(0)] },
      { name: 'c6', endpoints: [endpoint(0), endpoint(1), endpoint(2)] },
    ];
    const workload = new Workload({ recorder: rec, clients, liveKeys: 8, opsPerKey: 150, keyPrefix: 'sr-', readFraction: 0.7, writeFraction: 0.2, seed: 7, thinkMs: 5 });

    // Read-your-writes: write through any node, read back on one standby with the write's X-Vault-Index.
    const ryw: RywTally = { reads: 0, fresh: 0, violations: [], status412: 0, forwarded: 0, refused: 0, by: {} };
    let stopping = false;
    const rywLoop = async (client: number, standby: number) => {
      const random = seededRandom(100 + client);
      const agent = clientAgent();
      for (let i = 0; !stopping; i++) {
        const key = `ryw-c${client}-${i % 4}`;
        const via = nodes[Math.floor(random() * 3)]!;
        const w = await httpCall({ method: 'PUT', url: `${via.url}/v1/secret/data/${key}`, headers: { 'X-Vault-Token': token }, body: JSON.stringify({ data: { v: `ryw-${client}-${i}` } }), timeoutMs: 6_000, now: () => rec.now(), agent }).catch(() => null);
        const header = w?.headers['x-vault-index'];
        if (w === null || w.status !== 200 || typeof header !== 'string') {
          await sleep(50);
          continue;
        }
        const wrote = JSON.parse(w.text).data.version as number;
        const wantIndex = decodeVaultIndex(header) as number;
        const mode = MODES[i % MODES.length]!;
        const target = nodes[standby]!;
        const r = await httpCall({ method: 'GET', url: `${target.url}/v1/secret/data/${key}`, headers: { 'X-Vault-Token': token, 'X-Vault-Index': header, 'X-Vault-Inconsistent': mode }, timeoutMs: 8_000, now: () => rec.now(), agent }).catch(() => null);
        if (r === null) continue; // the node is down or paused: no answer is not a wrong answer
        ryw.reads++;
        const servedBy = r.headers['x-coffer-served-by'];
        if (r.status === 412) {
          ryw.status412++;
          ryw.by[mode] = (ryw.by[mode] ?? 0) + 1;
          if (mode === 'forward-active-node') ryw.violations.push(`${key}: 412 although forward-active-node was asked`);
        } else if (r.status === 200) {
          const got = JSON.parse(r.text).data.metadata.version as number;
          const servedIndex = decodeVaultIndex(r.headers['x-vault-index']) ?? 0;
          if (got < wrote) ryw.violations.push(`${key}: wrote v${wrote} at index ${wantIndex}, read v${got} on ${target.id} (${mode}, served by ${servedBy})`);
          else if (servedBy === 'standby' && servedIndex < wantIndex) ryw.violations.push(`${key}: served at index ${servedIndex} < ${wantIndex} (${mode})`);
          else if (servedBy === 'active') ryw.forwarded++;
          else ryw.fresh++;
        } else {
          ryw.refused++; // 503: the standby lost contact with the leader (bounded staleness)
        }
      }
    };

    let snapshotGap = 0;
    const started = performance.now();
    workload.start();
    const rywDone = Promise.all([rywLoop(1, 1), rywLoop(2, 2)]);
    const events: string[] = [];
    const mark = (what: string) => events.push(`${Math.round(performance.now() - started)} ms ${what}`);
    try {
      await sleep(3_000);
      // Lag: n2 hears nothing from its peers (its own messages still arrive) while the leader writes on
      // past its own compaction point, so n2 can only catch up from a snapshot.
      mark('n2 deaf');
      cluster.deafen(1);
      const deafAt = await appliedOn(1);
      await until(`the leader ${2 * SNAPSHOT_THRESHOLD} entries ahead of deaf n2`, 20_000, async () => (await appliedOn(0)) > deafAt + 2 * SNAPSHOT_THRESHOLD, 200);
      snapshotGap = (await appliedOn(0)) - deafAt;
      cluster.heal();
      mark(`healed (leader ${snapshotGap} entries ahead)`);
      await sleep(2_000);
      // Partition: n3 cut from both peers, Raft and forwarding, both directions.
      mark('n3 isolated');
      cluster.isolate(2);
      await sleep(3_000);
      cluster.heal();
      mark('healed');
      await sleep(2_000);
      mark('n2 SIGSTOP');
      cluster.pause(1);
      await sleep(2_000);
      cluster.resume(1);
      mark('n2 SIGCONT');
      await sleep(2_000);
      mark('n3 SIGKILL');
      kills.set('n3', [rec.now()]);
      await cluster.restart(2);
      mark('n3 restarted and unsealed');
      await until('n3 serves reads again', 20_000, async () => (await fetch(`${nodes[2]!.url}/v1/secret/data/sr-k0`, { headers: { 'X-Vault-Token': token } })).status !== 503);
      await sleep(3_000);
    } finally {
      stopping = true;
      cluster.resume(1);
      cluster.heal();
      await workload.stop();
      await rywDone;
    }
    mark('stopped');
    assert.equal(await cluster.activeNode(), 0, 'n1 stayed active (the faults hit standbys only)');

    const history = rec.history();
    const replay = replayStandbyReads(history, { activeNode: 'n1', kills });
    const standbyOk = history.filter((o) => o.input.kind === 'read' && o.outcome === 'ok' && o.servedBy === 'standby').length;
    const refused = history.filter((o) => o.input.kind === 'read' && o.status === 503).length;
    const valid = replay.reads - replay.violations.filter((v) => v.kind !== 'index-regression').length;
    const lines = [
      `standby reads validated: ${valid} of ${replay.reads} (served by a standby: ${replay.standbyReads}); index regressions: ${replay.indexRegressions}; RYW violations: ${ryw.violations.length}; 412s: ${ryw.status412}; lag p50/p99/max: ${percentile(replay.lagEntries, 50)}/${percentile(replay.lagEntries, 99)}/${Math.max(0, ...replay.lagEntries)} entries, ${percentile(replay.lagMs, 50).toFixed(0)}/${percentile(replay.lagMs, 99).toFixed(0)}/${Math.max(0, ...replay.lagMs).toFixed(0)} ms`,
      `RYW reads: ${ryw.reads} (fresh on the standby ${ryw.fresh}, answered by the active node ${ryw.forwarded}, 412 ${ryw.status412} by mode ${JSON.stringify(ryw.by)}, refused 503 ${ryw.refused}); standby reads refused after losing the leader (503): ${refused}; ops recorded: ${history.length}`,
      `faults: ${events.join('; ')}; snapshot_threshold ${SNAPSHOT_THRESHOLD}: the leader compacted past deaf n2 (${snapshotGap} entries ahead > ${SNAPSHOT_THRESHOLD}), so n2 caught up by InstallSnapshot`,
    ];
    for (const l of lines) {
      t.diagnostic(l);
      console.log(l);
    }
    const show = replay.violations.slice(0, 5).map((v) => `${v.kind}: ${v.detail}`).join('\n');
    assert.ok(standbyOk > 100, `too few standby reads to mean anything: ${standbyOk}`);
    assert.equal(replay.violations.length, 0, show);
    assert.deepEqual(ryw.violations, []);
    assert.ok((ryw.by.fail ?? 0) > 0, 'the lagging standby answered 412 to fail-fast reads');
    assert.ok(refused > 0, 'the cut standbys refused plain reads once the staleness bound passed');
  });
  it('cache coherence on standbys (S7): a policy update, a token revocation and a new mount are in force at their index', async (t) => {
    const root = cluster.root;
    const active = cluster.url(await cluster.activeNode());
    const standbys = [0, 1, 2].map((i) => cluster.url(i)).filter((u) => u !== active);
    const index = (r: { headers: Headers }) => r.headers.get('x-vault-index') as string;
    const onStandbys = async (what: string, path: string, token: string, at: string, want: number) => {
      for (const u of standbys) {
        const r = await http(u, 'GET', path, { token, headers: { 'X-Vault-Index': at } });
        checks.push(`${what} on ${u}: ${r.status}`);
        assert.equal(r.status, want, `${what} on ${u}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    };
    const checks: string[] = [];
    assert.equal((await http(active, 'PUT', 'secret/data/s7/x', { token: root, body: { data: { v: 's7' } } })).status, 200);
    assert.equal((await http(active, 'PUT', 'sys/policies/acl/s7', { token: root, body: { policy: 'path "secret/data/other/*" { capabilities = ["read"] }' } })).status, 204);
    const tok = await http(active, 'POST', 'auth/token/create', { token: root, body: { policies: ['s7'], ttl: '1h' } });
    const user = tok.body.auth.client_token as string;
    await onStandbys('before the policy grants it', 'secret/data/s7/x', user, index(tok), 403);
    const grant = await http(active, 'PUT', 'sys/policies/acl/s7', { token: root, body: { policy: 'path "secret/data/s7/*" { capabilities = ["read"] }' } });
    assert.equal(grant.status, 204);
    await onStandbys('after the policy update', 'secret/data/s7/x', user, index(grant), 200);
    const revoke = await http(active, 'POST', 'auth/token/revoke', { token: root, body: { token: user } });
    assert.equal(revoke.status, 204);
    await onStandbys('after the token revocation', 'secret/data/s7/x', user, index(revoke), 403);
    const mount = await http(active, 'POST', 'sys/mounts/kv-s7', { token: root, body: { type: 'kv', options: { version: '2' } } });
    assert.ok(mount.status < 300);
    const w = await http(active, 'PUT', 'kv-s7/data/a', { token: root, body: { data: { v: 'mounted' } } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    await onStandbys('on the new mount', 'kv-s7/data/a', root, index(w), 200);
    const line = `cache coherence at the change's index on standbys (policy, token revocation, mount): ${checks.length} of ${checks.length} as expected`;
    t.diagnostic(line);
    console.log(line);
  });

  it('namespaces on standbys: a new namespace, its mounts, policies and tokens are in force at their index; its writes forward', async () => {
    const root = cluster.root;
    const active = cluster.url(await cluster.activeNode());
    const standbys = [0, 1, 2].map((i) => cluster.url(i)).filter((u) => u !== active);
    const index = (r: { headers: Headers }) => r.headers.get('x-vault-index') as string;
    const ok = async (r: Promise<{ status: number; text: string; headers: Headers; body: any }>) => {
      const got = await r;
      assert.ok(got.status < 300, `${got.status} ${got.text}`);
      return got;
    };
    await ok(http(active, 'POST', 'sys/namespaces/s7ns', { token: root }));
    await ok(http(active, 'POST', 's7ns/sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '2' } } }));
    await ok(http(active, 'PUT', 's7ns/sys/policies/acl/reader', { token: root, body: { policy: 'path "kv/data/*" { capabilities = ["read"] }' } }));
    const w = await ok(http(active, 'PUT', 's7ns/kv/data/a', { token: root, body: { data: { v: 'in-namespace' } } }));
    const tok = await ok(http(active, 'POST', 's7ns/auth/token/create', { token: root, body: { policies: ['reader'], ttl: '1h' } }));
    const user = tok.body.auth.client_token as string;
    for (const u of standbys) {
      const byPath = await http(u, 'GET', 's7ns/kv/data/a', { token: user, headers: { 'X-Vault-Index': index(tok) } });
      assert.deepEqual([byPath.status, byPath.body?.data?.data], [200, { v: 'in-namespace' }], `${u}: ${byPath.text}`);
      const byHeader = await http(u, 'GET', 'kv/data/a', { token: root, headers: { 'X-Vault-Index': index(w), 'X-Vault-Namespace': 's7ns' } });
      assert.equal(byHeader.body?.data?.data?.v, 'in-namespace', `${u}: ${byHeader.text}`);
      assert.equal((await http(u, 'GET', 'secret/data/s7/x', { token: user, headers: { 'X-Vault-Index': index(tok) } })).status, 403, 'not valid in the root namespace');
    }
    // A write through a standby is forwarded to the active node and applied once.
    const fw = await ok(http(standbys[0] as string, 'PUT', 's7ns/kv/data/b', { token: root, body: { data: { v: 'via-standby' } } }));
    assert.equal(fw.body.data.version, 1);
    const back = await ok(http(active, 'GET', 's7ns/kv/metadata/b', { token: root }));
    assert.equal(back.body.data.current_version, 1);
  });
});
