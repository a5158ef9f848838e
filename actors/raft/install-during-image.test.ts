// A follower writing a compaction image in the background receives an InstallSnapshot before the image
// is done (RaftHost.installSnapshot bumps snapshotGeneration; the image is abandoned or, if complete,
// dropped by recordImage). Three RaftHosts in this process, wired by a switchboard that encodes every
// message as the TCP transport does; the follower's image is held mid-write by the imagePace hook while
// it is partitioned, the leader compacts past it, and the partition heals.
// Checked: the install lands while the image is still held; the stale image never becomes the
// follower's snapshot; its FSM equals the leader's, also after a restart from its own files.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import type { RaftMessage } from './core/types.js';
import { RaftHost } from './host.js';
import { imageDir } from '../storage/snapshot-image.js';
import { decodeRecord } from '../storage/records.js';
import { openStorageEnv } from '../storage/env.js';
import { fsmPairs, tempDir } from '../storage/test-util.js';
import { until as untilProbe } from '../../test/helpers/cluster.js';
import { encodeWriteSet } from '../storage/write-set.js';

const quiet = pino({ level: 'silent' });
const IDS = ['n1', 'n2', 'n3'];
const COMPACT_AT = 100;

const until = (what: string, cond: () => boolean) => untilProbe(what, 20_000, async () => cond(), 10);

test('raft host: an InstallSnapshot that arrives while a background image is written replaces it', { timeout: 120_000 }, async (t) => {
  const dirs = new Map(IDS.map((id) => [id, tempDir(t, `coffer-install-image-${id}-`)]));
  const hosts = new Map<string, RaftHost>();
  const cut = new Set<string>(); // nodes whose every link is down
  // The image gate: while `holdFor` names a node, its background image stops at its first pace check.
  let holdFor: string | null = null;
  let held = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const send = (msg: RaftMessage) => {
    if (cut.has(msg.from) || cut.has(msg.to)) return;
    const bytes = encode(msg);
    setImmediate(() => hosts.get(msg.to)?.step(decode<RaftMessage>(bytes)));
  };
  for (const id of IDS) {
    const imagePace = () => {
      if (holdFor !== id) return null;
      held = true;
      return gate;
    };
    hosts.set(id, await RaftHost.open({ id, dataDir: dirs.get(id)!, voters: IDS, send, log: quiet, tickMs: 10, compactAt: COMPACT_AT, imagePace }));
  }
  let closed = false;
  const closeAll = async () => {
    if (closed) return;
    closed = true;
    release();
    await Promise.all([...hosts.values()].map((h) => h.close()));
  };
  t.after(closeAll);
  for (const h of hosts.values()) h.start();

  await until('a leader', () => [...hosts.values()].some((h) => h.status().role === 'leader'));
  const leaderId = [...hosts.entries()].find(([, h]) => h.status().role === 'leader')![0];
  const leader = hosts.get(leaderId)!;
  const followerId = IDS.find((id) => id !== leaderId)!;
  const follower = hosts.get(followerId)!;
  holdFor = followerId;

  let written = 0;
  const write = async (n: number) => {
    for (let i = 0; i < n; i += 25) {
      const batch: Promise<number>[] = [];
      for (let j = 0; j < 25; j++, written++) batch.push(leader.propose(encodeWriteSet({ ops: [{ t: 'put', key: `k/${written}`, value: Buffer.alloc(64, written % 251) }] })));
      await Promise.all(batch);
    }
  };

  // 1. Past the threshold: every node compacts; the follower's image stops mid-write.
  await write(150);
  await until('the follower image held mid-write', () => held);
  assert.equal(follower.stats().compactions, 0, 'the held image has not become a snapshot');

  // 2. The follower is cut off while the leader writes on and compacts past the follower's log.
  cut.add(followerId);
  const followerLast = follower.status().lastIndex;
  await write(300);
  await until('the leader compacting past the partitioned follower', () => leader.snapshotAt() > followerLast + 1);

  // 3. The partition heals: the leader sends its snapshot; the follower installs it while its own image is held.
  cut.delete(followerId);
  await until('the follower installing the leader snapshot', () => follower.stats().snapshotsInstalled >= 1);
  const installedAt = follower.snapshotAt();
  assert.ok(installedAt > followerLast, `installed snapshot ${installedAt} is past the follower's old log (${followerLast})`);
  assert.equal(follower.stats().compactions, 0, 'the image was still held when the install landed');

  // 4. The held image resumes and must be dropped; more writes replicate normally.
  release();
  await write(25);
  await until('the follower catching up', () => follower.fsmApplied().index === leader.fsmApplied().index);
  await new Promise((r) => setTimeout(r, 200)); // time for the abandoned image to settle
  assert.equal(follower.stats().compactions, 0, 'the stale image never became the follower snapshot');
  assert.equal(follower.snapshotAt(), installedAt, 'the follower snapshot is the installed one');
  const expected = fsmPairs(leader.env);
  assert.equal(expected.length, written);
  assert.deepEqual(fsmPairs(follower.env), expected, 'the follower FSM equals the leader FSM');

  // 5. Restart the follower from its own files: the recorded image is the installed one and it verifies.
  await closeAll();
  const env = openStorageEnv(dirs.get(followerId)!);
  const rec = decodeRecord<{ meta: { index: number }; file: { file: string } }>(env.hard.get('raft-snapshot')!, 'image record');
  await env.close();
  assert.equal(rec.meta.index, installedAt, 'the snapshot record names the installed image');
  assert.deepEqual(readdirSync(imageDir(dirs.get(followerId)!)).filter((f) => f.endsWith('.img')), [rec.file.file], 'no stale image file is left under a final name');
  const again = await RaftHost.open({ id: followerId, dataDir: dirs.get(followerId)!, voters: IDS, send: () => undefined, log: quiet, tickMs: 10, compactAt: COMPACT_AT });
  try {
    await again.whenRecovered();
    assert.deepEqual(fsmPairs(again.env), expected, 'the FSM after a restart equals the leader FSM');
  } finally {
    await again.close();
  }
  console.log(`raft host: install during a background image: follower ${followerId} held its image at ~${followerLast}, installed the leader snapshot at ${installedAt} meanwhile; stale image dropped (compactions 0), FSM equal to the leader's (${expected.length} pairs), also after a restart (image ${rec.file.file})`);
});
