// A follower may apply an entry before its leader does: the leader sends the new commit index, then
// persists and applies. A client that read the entry on the follower and then asks the leader must not be
// answered from the leader's older state (found by LIN-KV-ACTIVE in a soak, docs/ha-standby-reads.md).
// The leader therefore publishes its commit index before any message can carry it, and the front waits
// for applied >= that index (RaftSharedState.unappliedOwnCommit). Checked here on three RaftHosts in this
// process: every AppendEntries or heartbeat the leader sends carries a commit no higher than the one it
// published, and once the followers applied the last write the leader has nothing left to wait for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import { RaftSharedState } from '../cluster/consistency.js';
import type { RaftMessage } from './core/types.js';
import { RaftHost } from './host.js';
import { tempDir } from '../storage/test-util.js';
import { until as untilProbe } from '../../test/helpers/cluster.js';
import { encodeWriteSet } from '../storage/write-set.js';

const quiet = pino({ level: 'silent' });
const IDS = ['n1', 'n2', 'n3'];
const until = (what: string, cond: () => boolean) => untilProbe(what, 20_000, async () => cond(), 10);

test('raft host: the leader publishes a commit index before a message carries it to a follower', { timeout: 60_000 }, async (t) => {
  const hosts = new Map<string, RaftHost>();
  const shared = new Map(IDS.map((id) => [id, RaftSharedState.create()]));
  let carried = 0;
  const ahead: string[] = [];
  const send = (msg: RaftMessage) => {
    if ((msg.t === 'app' || msg.t === 'heartbeat') && typeof msg.commit === 'number' && msg.commit > 0) {
      carried++;
      const published = shared.get(msg.from)!.ownCommit();
      if (msg.commit > published && ahead.length < 5) ahead.push(`${msg.t} ${msg.from}->${msg.to} commit ${msg.commit}, published ${published}`);
    }
    const bytes = encode(msg);
    setImmediate(() => hosts.get(msg.to)?.step(decode<RaftMessage>(bytes)));
  };
  for (const id of IDS) {
    hosts.set(id, await RaftHost.open({ id, dataDir: tempDir(t, `coffer-own-commit-${id}-`), voters: IDS, send, log: quiet, tickMs: 10, compactAt: 10_000, shared: shared.get(id)! }));
  }
  t.after(() => Promise.all([...hosts.values()].map((h) => h.close())));
  for (const h of hosts.values()) h.start();

  await until('a leader', () => [...hosts.values()].some((h) => h.status().role === 'leader'));
  const leaderId = [...hosts.entries()].find(([, h]) => h.status().role === 'leader')![0];
  const leader = hosts.get(leaderId)!;
  for (let round = 0; round < 8; round++) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => leader.propose(encodeWriteSet({ ops: [{ t: 'put', key: `k/${round}/${j}`, value: Buffer.alloc(32, j) }] }))));
  }
  const last = leader.status().commit;
  await until('every follower applied the last write', () => IDS.every((id) => shared.get(id)!.applied() >= last));

  assert.ok(carried > 20, `the leader sent commit indexes (${carried})`);
  assert.deepEqual(ahead, [], 'no message carried a commit index the leader had not published first');
  const leaderShared = shared.get(leaderId)!;
  assert.ok(leaderShared.ownCommit() >= last, `published ${leaderShared.ownCommit()} >= commit ${last}`);
  assert.equal(await leaderShared.waitApplied(leaderShared.ownCommit(), 5_000), true, 'the leader applies what it published');
  assert.equal(leaderShared.unappliedOwnCommit(), 0, 'nothing left for a request on the leader to wait for');
  console.log(`raft host: ${carried} commit-carrying messages from leader ${leaderId}, none ahead of its published commit (${leaderShared.ownCommit()})`);
});
