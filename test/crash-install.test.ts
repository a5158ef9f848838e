// CRASH-POINTS, InstallSnapshot (RELIABILITY.md §7.2; the points runtime/failpoints.ts places in
// RaftHost.installSnapshot, which the single-node CRASH-POINTS cannot reach): a follower that fell behind
// the leader's compacted log catches up from a snapshot and dies (SIGKILL from inside) right after the
// image is saved, after the log is replaced, or after the FSM is restored. Started again without the
// failpoint, it must finish (or redo) the install, rejoin, and hold every write the cluster acknowledged,
// served from its own FSM; the cluster keeps taking writes throughout.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FailpointName } from '../runtime/failpoints.js';
import { raftLimits } from '../runtime/limits.js';
import { apiUrl, healthStatus, nodeSpec, startClusterNode, unsealWith, until, type ClusterNodeSpec } from './helpers/cluster.js';
import { exited, lostWrites, sleepMs, WriteLoad } from './helpers/fault-load.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

/** Log entries between snapshots: small, so a follower down for a second is behind the leader's log. */
const SNAPSHOT_THRESHOLD = 32;
const POINTS: FailpointName[] = ['snapshot-install-after-save', 'snapshot-install-after-truncate', 'snapshot-install-after-restore'];
/** Writes acknowledged while the follower is down: several compactions' worth. */
const WRITES_WHILE_DOWN = 6 * SNAPSHOT_THRESHOLD;

describe('CRASH-POINTS (InstallSnapshot): a follower dies mid-install and recovers (3 processes)', { timeout: 240_000 }, () => {
  const dirs = [tempDir('crash-install-n1'), tempDir('crash-install-n2'), tempDir('crash-install-n3')];
  const procs: (ServerProcess | null)[] = [null, null, null];
  after(async () => {
    await Promise.allSettled(procs.map((p) => p?.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('every install crash point: the restarted follower holds every acknowledged write', async (t) => {
    const specs: ClusterNodeSpec[] = [];
    for (let i = 0; i < 3; i++) specs.push({ ...(await nodeSpec(`n${i + 1}`, dirs[i]!.path)), storageExtra: `snapshot_threshold = ${SNAPSHOT_THRESHOLD}` });
    for (let i = 0; i < 3; i++) procs[i] = await startClusterNode(specs[i]!);
    const url = (i: number) => apiUrl(specs[i]!);
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const keys: string[] = init.body.keys_base64;
    const root: string = init.body.root_token;
    await unsealWith(url(0), keys);
    await until('n1 active', 20_000, async () => (await healthStatus(url(0))) === 200);
    for (const i of [1, 2]) {
      const j = await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } });
      assert.equal(j.status, 200, JSON.stringify(j.body));
      await unsealWith(url(i), keys);
      await until(`n${i + 1} standby`, 30_000, async () => (await healthStatus(url(i))) === 429);
    }

    const acked = new Map<string, string>();
    const lines: string[] = [];
    for (const [round, point] of POINTS.entries()) {
      // n3 goes down; the leader takes writes and compacts past n3's last entry.
      await procs[2]!.kill('SIGKILL');
      procs[2] = null;
      const load = new WriteLoad({ target: () => url(0), token: root, writers: 8, prefix: `i${round}` });
      await until(`${WRITES_WHILE_DOWN} writes acknowledged`, 60_000, async () => load.acked.size >= WRITES_WHILE_DOWN);
      await load.stop();
      for (const [k, v] of load.acked) acked.set(k, v);
      // Down longer than peerStaleQueueMs: the leader drops what it queued for n3 instead of replaying it
      // (actors/raft/transport.ts), so n3 must catch up from the leader's current log: by snapshot.
      await sleepMs(raftLimits.peerStaleQueueMs + 500);

      // Back with the failpoint armed: the leader sends a snapshot and n3 dies inside installSnapshot.
      // (Raft opens before unseal, so the install may begin before or after the start is reported.)
      const armedSpec: ClusterNodeSpec = { ...specs[2]!, env: { COFFER_FAILPOINTS: `${point}=exit` } };
      let stderr = '';
      try {
        const armed = await startClusterNode(armedSpec);
        procs[2] = armed;
        await unsealWith(url(2), keys).catch(() => undefined);
        await Promise.race([exited(armed), sleepMs(30_000)]);
        stderr = armed.stderr();
        await armed.kill('SIGKILL');
        procs[2] = null;
      } catch (err) {
        stderr = String(err); // died before it reported ready: its stderr is in the message
      }
      assert.match(stderr, new RegExp(`failpoint ${point}: exit`), `n3 did not die at ${point}; stderr:\n${stderr.slice(-3000)}`);

      // Started clean: it recovers, rejoins and catches up. Every acknowledged write is read on n3, from
      // its own FSM, at once (linearizable: each read waits until n3 applied the leader's commit index).
      const started = performance.now();
      procs[2] = await startClusterNode(specs[2]!);
      await unsealWith(url(2), keys);
      await until('n3 unsealed standby again', 30_000, async () => (await healthStatus(url(2))) === 429);
      // Right after the restart: each linearizable read waits for n3 to catch up instead of answering from the
      // state it restarted with (a 503 while it has no leader contact yet is asked again).
      const missing = await lostWrites(url(2), root, acked, { local: true });
      const line = `${point}: n3 died in the install, restarted, caught up in ${Math.round(performance.now() - started)} ms; acked writes missing on n3: ${missing.length} of ${acked.size}`;
      lines.push(line);
      t.diagnostic(line);
      console.log(line);
      assert.deepEqual(missing.slice(0, 8), [], `${point}: acknowledged writes missing on the recovered follower`);
    }
    // The cluster as a whole lost nothing either (read through the active node).
    assert.deepEqual((await lostWrites(url(0), root, acked)).slice(0, 5), []);
    // The leader compacted past n3 in every round, as its metrics say.
    const metrics = await fetch(`${url(0)}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': root } }).then((r) => r.text());
    const compactions = Number(/^coffer_raft_compactions_total (\d+)$/m.exec(metrics)?.[1] ?? -1);
    assert.ok(compactions >= POINTS.length, `coffer_raft_compactions_total on the leader: ${compactions}`);
    console.log(`CRASH-POINTS (install): ${POINTS.length} of ${POINTS.length} points exercised; acked writes lost: 0 of ${acked.size}`);
  });
});
