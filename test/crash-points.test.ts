// CRASH-POINTS (RELIABILITY.md §7.2): a real single-node server under a write load of unique values dies
// (SIGKILL from inside, runtime/failpoints.ts) exactly at a named point of the write path: log append
// before/after fsync, before/after commit, FSM apply before/after the applied-index write, snapshot
// save/truncation, keyring rotation. It must boot again, unseal, and still hold every acknowledged write.
// Which points run is drawn from a seed (printed; COFFER_FAULT_SEED=N repeats it, COFFER_CRASH_POINTS=all
// runs every point) so CI rotates through the list commit by commit. The snapshot-install points need a
// follower receiving InstallSnapshot and run in the soak (docs/faults.md).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FAILPOINTS, type FailpointName } from '../runtime/failpoints.js';
import { exited, faultSeed, lostWrites, seededRandom, sleepMs, startFaultNode, WriteLoad } from './helpers/fault-load.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

/** Entries between snapshots: low, so the snapshot points are reached within a second of load. */
const SNAPSHOT_THRESHOLD = 64;
const EXTRA_CONFIG = `  snapshot_threshold = ${SNAPSHOT_THRESHOLD}\n`;

/** The points a single node reaches under the load, and the hit range to arm them at (after boot and unseal). */
const POOL: { name: FailpointName; hits: [number, number] }[] = [
  { name: 'raft-log-before-append', hits: [10, 80] },
  { name: 'raft-log-before-fsync', hits: [10, 80] },
  { name: 'raft-log-after-fsync', hits: [10, 80] },
  { name: 'raft-before-commit', hits: [10, 80] },
  { name: 'raft-after-commit', hits: [10, 80] },
  { name: 'fsm-apply-before-index', hits: [10, 80] },
  { name: 'fsm-apply-after-index', hits: [10, 80] },
  { name: 'snapshot-before-save', hits: [1, 3] },
  { name: 'snapshot-after-save', hits: [1, 3] },
  { name: 'snapshot-before-truncate', hits: [1, 3] },
  { name: 'snapshot-after-truncate', hits: [1, 3] },
  { name: 'keyring-rotate-before-commit', hits: [1, 3] },
  { name: 'keyring-rotate-after-commit', hits: [1, 3] },
];
const CI_POINTS = 8;
/** A point not reached within this much load is a test failure (the load reaches every pool point in ~1 s). */
const REACH_MS = 20_000;

describe('CRASH-POINTS: exit at named failpoints under write load (single node)', { timeout: 240_000 }, () => {
  const dir = tempDir('crash-points');
  let live: ServerProcess | null = null;
  after(async () => {
    await live?.kill('SIGKILL');
    dir.remove();
  });

  it('boots after every crash point and loses no acknowledged write', async () => {
    const { seed, from } = await faultSeed();
    const rnd = seededRandom(seed);
    const all = process.env.COFFER_CRASH_POINTS === 'all';
    const order = POOL.map((p) => ({ p, k: rnd() })).sort((a, b) => a.k - b.k).map((x) => x.p);
    const chosen = (all ? POOL : order.slice(0, CI_POINTS)).map((p) => ({ name: p.name, at: p.hits[0] + Math.floor(rnd() * (p.hits[1] - p.hits[0] + 1)) }));
    console.log(`# crash-points seed ${seed} (${from}; COFFER_FAULT_SEED=${seed} repeats): ${chosen.map((c) => `${c.name}@${c.at}`).join(', ')}`);

    live = await startFaultNode(dir.path, { extraConfig: EXTRA_CONFIG });
    const init = await http(live.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const key: string = init.body.keys_base64[0];
    const root: string = init.body.root_token;
    await live.kill('SIGTERM');
    live = null;

    const acked = new Map<string, string>();
    let exercised = 0;
    let boots = 0;
    let checks = 0;
    let lost = 0;
    const notes: string[] = [];
    // Each boot after a crash is checked (unseal, then the writes acked since the previous check plus a
    // sample of older ones; everything at the end) and then armed with the next point: one start per crash.
    let unchecked = new Map<string, string>();
    const check = async (url: string, after: string, everything: boolean): Promise<void> => {
      checks++;
      const u = await http(url, 'PUT', 'sys/unseal', { body: { key } });
      if (u.status !== 200 || u.body.sealed !== false) return void notes.push(`after ${after}: unseal: ${u.status} ${JSON.stringify(u.body)}`);
      boots++;
      const older = [...acked].filter(([k]) => !unchecked.has(k));
      const sample = everything ? older : older.filter(() => rnd() < 100 / Math.max(100, older.length));
      const missing = await lostWrites(url, root, new Map([...unchecked, ...sample]));
      lost += missing.length;
      if (missing.length > 0) notes.push(`after ${after}: lost ${missing.length}, e.g. ${missing.slice(0, 3).join(' ')}`);
      unchecked = new Map();
    };
    let previous = 'init';
    for (const [round, point] of chosen.entries()) {
      let armed: ServerProcess | null = null;
      try {
        armed = await startFaultNode(dir.path, { extraConfig: EXTRA_CONFIG, env: { COFFER_FAILPOINTS: `${point.name}=exit@${point.at}` } });
      } catch (err) {
        // Reached while booting (recovery counts hits too): a crash at the point all the same.
        if (String(err).includes(`failpoint ${point.name}: exit`)) exercised++;
        else notes.push(`${point.name}: armed start failed: ${String(err).slice(0, 600)}`);
      }
      if (armed === null) {
        // Check the previous crash with a clean boot instead.
        live = await startFaultNode(dir.path, { extraConfig: EXTRA_CONFIG });
        if (round > 0) await check(live.url, previous, false);
        await live.kill('SIGTERM');
        live = null;
        previous = point.name;
        continue;
      }
      live = armed;
      const url = armed.url;
      let dead = false;
      void exited(armed).then(() => (dead = true));
      if (round > 0) await check(url, previous, false);
      else await http(url, 'PUT', 'sys/unseal', { body: { key } });
      const load = new WriteLoad({
        target: () => (dead ? null : url),
        token: root,
        writers: 8,
        prefix: `r${round}`,
        sideOp: { everyOps: 15, run: (u) => http(u, 'PUT', 'sys/rotate', { token: root }) },
      });
      await Promise.race([exited(armed), sleepMs(REACH_MS)]);
      await load.stop();
      if (armed.stderr().includes(`failpoint ${point.name}: exit`)) exercised++;
      else notes.push(`${point.name}@${point.at}: not reached in ${REACH_MS} ms (${load.acked.size} writes acked)`);
      await armed.kill('SIGKILL');
      live = null;
      for (const [k, v] of load.acked) {
        acked.set(k, v);
        unchecked.set(k, v);
      }
      previous = point.name;
    }
    // The last crash: a clean boot, and every write acknowledged over the whole run.
    try {
      live = await startFaultNode(dir.path, { extraConfig: EXTRA_CONFIG });
      await check(live.url, previous, true);
      await live.kill('SIGTERM');
      live = null;
    } catch (err) {
      checks++;
      notes.push(`after ${previous}: restart failed: ${String(err).slice(0, 600)}`);
    }
    console.log(`# failpoints exercised: ${exercised} of ${FAILPOINTS.length} (this run ${chosen.length}); boots OK: ${boots} of ${checks}; acked writes lost: ${lost} of ${acked.size}`);
    assert.deepEqual(notes, []);
    assert.equal(exercised, chosen.length);
    assert.equal(boots, checks);
    assert.ok(checks >= chosen.length, `${checks} restarts checked for ${chosen.length} crashes`);
    assert.equal(lost, 0);
    assert.ok(acked.size > chosen.length * 20, `only ${acked.size} writes acked over ${chosen.length} rounds`);
  });
});
