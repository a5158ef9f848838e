// A snapshot restore replaces the FSM under write-sets that were built against the old one. A write-set
// whose guards passed just before the restore began waits at the restore gate (RaftHost.propose); once
// the restore is installed it must be refused, not proposed on top of the restored data: its guards were
// checked against the replaced state and its values were encrypted with the replaced keyring. The fence
// stays up, refusing every proposal, until the node unseals again (RaftHost.unfenceWrites).
// Three RaftHosts in this process (test-hosts.ts); the leader's appends are held back so that an entry
// stays uncommitted and the restore has to wait for the log to quiesce while the guarded write-set arrives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CofferError } from '../../runtime/errors.js';
import { fsmValue as valueOf, putOne as put, threeHostsLedByN1, untilTrue as until } from './test-hosts.js';
import { tempDir } from '../storage/test-util.js';
import { imageDir, imageFileName, writeFsmImage } from '../storage/snapshot-image.js';
import { prepareCommit, versionHash } from '../storage/guarded-commit.js';
import { guardedProposals } from './guarded-proposals.js';

const codeOf = (err: unknown) => (err instanceof CofferError ? err.value.code : String(err));

test('raft: a write-set that waited through a snapshot restore is refused, and proposals stay fenced until unseal', { timeout: 60_000 }, async (t) => {
  let holdAppends = false;
  const cut = new Set<string>();
  const [n1, n2, n3] = await threeHostsLedByN1(t, {
    name: 'restore-fence',
    drop: (msg) => (holdAppends && msg.from === 'n1' && msg.t === 'app') || cut.has(msg.from) || cut.has(msg.to),
    options: (id) => ({ restoreMarkerKey: 'marker', ...(id === 'n2' ? { compactAt: 20 } : {}) }),
  });

  // The image to restore holds k = v1 and restore marker r1; afterwards k becomes v2 and the marker r0
  // (a real marker changes only by a restore; here the FSM's differs from the image's all the same).
  await n1.propose(put('k', 'v1'));
  await n1.propose(put('marker', 'r1'));
  const imageParent = tempDir(t, 'coffer-restore-fence-image-');
  await (await writeFsmImage(n1.env, imageParent, 1, 1)).durable;
  const image = readFileSync(join(imageDir(imageParent), imageFileName(1, 1)));
  await n1.propose(put('marker', 'r0'));
  const i2 = await n1.propose(put('k', 'v2'));
  await until('everyone applied v2', () => [n1, n2, n3].every((h) => h.fsmApplied().index >= i2));

  // An entry that cannot commit yet keeps the restore waiting at its gate.
  holdAppends = true;
  const other = n1.propose(put('other', 'x'));
  const restored = n1.restoreSnapshot(image, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 50));

  // A handler read k = v2 and built a write-set guarded on it: the check passes (the FSM still holds v2),
  // and the proposal waits at the gate.
  const guarded = guardedProposals(n1);
  const outcome = guarded.commit(prepareCommit([{ t: 'put', key: 'k', value: Buffer.from('v3') }], [{ key: 'k', hash: versionHash(Buffer.from('v2')) }])).then(
    (reply) => ({ reply, code: null as string | null }),
    (err: unknown) => ({ reply: null, code: codeOf(err) }),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(n1.status().lastIndex, i2 + 1, 'nothing proposed while the restore waits');

  holdAppends = false;
  await other;
  const { index } = await restored;
  const o = await outcome;
  assert.equal(o.code, 'COFFER_ERR_SEALED', `the waiting write-set is refused (got ${JSON.stringify(o)})`);
  await until('every node installed the restore', () => [n1, n2, n3].every((h) => h.fsmApplied().index >= index));
  for (const h of [n1, n2, n3]) assert.equal(valueOf(h, 'k'), 'v1', `${h.status().id}: k is the restored value, not a write built before the restore`);
  assert.equal(n1.status().lastIndex, index, 'no entry after the restore');

  // Later write-sets too, until the node unseals with the restored data's keys.
  await assert.rejects(n1.propose(put('k', 'v4')), (err) => codeOf(err) === 'COFFER_ERR_SEALED');

  // The followers installed a snapshot that changed the restore marker: fenced as well. n2, made leader
  // before its core would have sealed, refuses too.
  n1.transferLeadership('n2', 2_000);
  await until('n2 leads', () => n2.status().role === 'leader');
  await assert.rejects(n2.propose(put('k', 'v4')), (err) => codeOf(err) === 'COFFER_ERR_SEALED');
  for (const h of [n1, n2, n3]) assert.equal(valueOf(h, 'k'), 'v1', 'nothing written over the restored value');
  assert.equal(n3.unfenceWrites(), true, 'n3 was fenced by the install');

  assert.equal(n2.unfenceWrites(), true, 'the fence was up');
  const i5 = await n2.propose(put('k', 'v5'));
  assert.ok(i5 > index);
  assert.equal(valueOf(n2, 'k'), 'v5');
  assert.equal(n2.unfenceWrites(), false, 'lifted once');
  assert.equal(n1.unfenceWrites(), true, 'n1 stays fenced until its own unseal');

  // An install that leaves the marker as it was fences nothing: n3, cut off while n2 compacts past it,
  // catches up by InstallSnapshot.
  cut.add('n3');
  const installsBefore = n3.stats().snapshotsInstalled;
  let last = i5;
  for (let i = 0; i < 30; i++) last = await n2.propose(put(`later/${i}`, 'x'));
  await until('n2 compacted past n3', () => n2.logStore.firstIndex() > n3.status().lastIndex + 1);
  cut.delete('n3');
  await until('n3 caught up', () => n3.fsmApplied().index >= last);
  assert.equal(n3.stats().snapshotsInstalled, installsBefore + 1, 'n3 caught up by InstallSnapshot');
  assert.equal(n3.unfenceWrites(), false, 'an install with the same marker raised no fence');
});
