// DUR-KILL, 3-node form (RELIABILITY.md §7.2): three real server processes under a write load of unique
// values; at seeded random instants SIGKILL the leader, a follower, or all three at once, restart them,
// unseal, and go on. At the end every acknowledged write must be readable (linearizable reads on the
// active node, a sample on each standby). kill -9 keeps the OS page cache, so this checks ordering and
// atomicity across restarts, not fsync (FSYNC-AUDIT and the simulator's power-loss model do that).
// The single-node form is test/durability.test.ts. COFFER_DUR_KILLS=N changes the number of kills (soak).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, until, type ClusterNodeSpec } from './helpers/cluster.js';
import { compareApplyJournals } from './helpers/apply-journals.js';
import { faultSeed, lostWrites, seededRandom, sleepMs, startFaultClusterNode, WriteLoad } from './helpers/fault-load.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

const KILLS = Number(process.env.COFFER_DUR_KILLS ?? 9);
const KINDS = ['leader', 'follower', 'all'] as const;

describe('DUR-KILL: kill -9 leader, follower and all three under write load (3 nodes)', { timeout: 300_000 }, () => {
  const dirs = [tempDir('durkill-n1'), tempDir('durkill-n2'), tempDir('durkill-n3')];
  const specs: ClusterNodeSpec[] = [];
  const procs: (ServerProcess | null)[] = [null, null, null];
  /** Node i is up and unsealed: the load may use it. */
  const serving = [false, false, false];
  let load: WriteLoad | null = null;
  after(async () => {
    await load?.stop();
    await Promise.allSettled(procs.map((p) => p?.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });
  const url = (i: number) => apiUrl(specs[i]!);
  const dump = () => procs.map((p, i) => `--- n${i + 1}\n${p?.stderr().slice(-4000) ?? '(down)'}`).join('\n');

  async function activeNode(): Promise<number> {
    const i = await until('an active node', 60_000, async () => {
      for (let k = 0; k < 3; k++) if (serving[k] && (await healthStatus(url(k)).catch(() => 0)) === 200) return k + 1; // +1: 0 is falsy
      return null;
    });
    return i - 1;
  }

  it('the apply-journal comparison sees a divergence (a check that cannot fail proves nothing)', () => {
    const dir = tempDir('journal-control');
    try {
      const [a, b] = [join(dir.path, 'a'), join(dir.path, 'b')];
      writeFileSync(a, '1 1 aa\n2 1 bb\n3 2 cc\n');
      writeFileSync(b, '1 1 aa\n3 2 cd\n');
      const r = compareApplyJournals({ a, b });
      assert.equal(r.compared, 2);
      assert.deepEqual(r.conflicts, ['index 3: a applied 2 cc, b applied 2 cd']);
    } finally {
      dir.remove();
    }
  });

  it('loses no acknowledged write and every node restarts', async () => {
    const { seed, from } = await faultSeed();
    const rnd = seededRandom(seed);
    for (let i = 0; i < 3; i++) specs.push(await nodeSpec(`n${i + 1}`, dirs[i]!.path));
    // Every life of a node appends to its apply journal (test/helpers/apply-journals.ts compares them).
    const journals = Object.fromEntries(specs.map((s) => [s.nodeId, join(s.dir, 'apply.journal')]));
    const startNode = (i: number) => startFaultClusterNode(specs[i]!, { COFFER_APPLY_JOURNAL: journals[specs[i]!.nodeId]! });
    for (let i = 0; i < 3; i++) procs[i] = await startNode(i);
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const key: string = init.body.keys_base64[0];
    const root: string = init.body.root_token;
    await http(url(0), 'PUT', 'sys/unseal', { body: { key } });
    await until('n1 active', 20_000, async () => (await healthStatus(url(0))) === 200);
    serving[0] = true;
    for (const i of [1, 2]) {
      const j = await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(0) } });
      assert.equal(j.status, 200, `n${i + 1} join: ${JSON.stringify(j.body)}`);
      await until(`n${i + 1} unsealed`, 30_000, async () => (await http(url(i), 'PUT', 'sys/unseal', { body: { key } })).body?.sealed === false);
      await until(`n${i + 1} standby`, 30_000, async () => (await healthStatus(url(i))) === 429);
      serving[i] = true;
    }

    // Writer w sends to node w mod 3 when it serves, else to any node that does (standbys forward writes).
    load = new WriteLoad({
      target: (w) => {
        const up = [0, 1, 2].filter((k) => serving[k]);
        if (up.length === 0) return null;
        return url(serving[w % 3] ? w % 3 : up[w % up.length]!);
      },
      token: root,
      writers: 9,
      prefix: 'dk',
    });

    let kills = 0;
    let processesKilled = 0;
    let failedRestarts = 0;
    const plan: string[] = [];
    const restart = async (i: number): Promise<void> => {
      try {
        procs[i] = await startNode(i);
        await until(`n${i + 1} unsealed after restart`, 30_000, async () => (await http(url(i), 'PUT', 'sys/unseal', { body: { key } })).body?.sealed === false);
        serving[i] = true;
      } catch (err) {
        failedRestarts++;
        plan.push(`restart of n${i + 1} failed: ${String(err).slice(0, 400)}`);
      }
    };
    try {
      for (let k = 0; k < KILLS; k++) {
        const kind = KINDS[k % KINDS.length]!;
        await sleepMs(300 + Math.floor(rnd() * 1200)); // a random instant under load
        const leader = await activeNode();
        const victims = kind === 'all' ? [0, 1, 2] : kind === 'leader' ? [leader] : [[0, 1, 2].filter((x) => x !== leader)[Math.floor(rnd() * 2)]!];
        plan.push(`${kind}:${victims.map((v) => `n${v + 1}`).join('+')}`);
        console.log(`# kill ${k + 1}: ${plan[plan.length - 1]} (${load.acked.size} acked so far)`);
        for (const v of victims) serving[v] = false;
        await Promise.all(victims.map((v) => procs[v]!.kill('SIGKILL')));
        kills++;
        processesKilled += victims.length;
        await sleepMs(Math.floor(rnd() * 500)); // down for a while, writes go on elsewhere
        await Promise.all(victims.map((v) => restart(v)));
        await activeNode().catch((err: unknown) => {
          throw new Error(`after kill ${k + 1} (${plan.join(', ')}): ${String(err)}\n${dump()}`);
        });
      }
    } finally {
      await load.stop();
    }
    const acked = load.acked;
    assert.ok(acked.size > (100 * KILLS) / 3, `only ${acked.size} writes acked:\n${dump()}`);

    const active = await activeNode();
    const lost = await lostWrites(url(active), root, acked);
    // Every standby serves the same data once it has caught up (linearizable reads go through ReadIndex).
    const sample = new Map([...acked].filter(() => rnd() < 0.1));
    let standbyLost = 0;
    for (const i of [0, 1, 2].filter((x) => x !== active)) standbyLost += (await lostWrites(url(i), root, sample)).length;
    console.log(`# dur-kill seed ${seed} (${from}): ${plan.join(', ')}`);
    console.log(`# kills: ${kills} (${processesKilled} processes); acked writes lost: ${lost.length} of ${acked.size} (${load.attempted} attempted; standby sample lost ${standbyLost} of ${2 * sample.size}); failed restarts: ${failedRestarts}`);
    const journal = compareApplyJournals(journals);
    console.log(`# apply journals: ${journal.lines} lines, indexes compared across nodes and lives: ${journal.compared}; divergence: ${journal.conflicts.length}`);
    assert.deepEqual(journal.conflicts, []);
    assert.ok(journal.compared > acked.size / 2, `only ${journal.compared} indexes compared`);
    assert.equal(failedRestarts, 0, plan.join('\n'));
    assert.equal(lost.length, 0, `lost e.g. ${lost.slice(0, 5).join(' ')}`);
    assert.equal(standbyLost, 0);
    assert.equal(kills, KILLS);
  });
});
