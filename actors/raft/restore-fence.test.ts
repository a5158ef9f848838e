// A snapshot restore replaces the FSM under write-sets that were built against the old one. A write-set
// whose guards passed just before the restore began waits at the restore gate (RaftHost.propose); once
// the restore is installed it must be refused, not proposed on top of the restored data: its guards were
// checked against the replaced state and its values were encrypted with the replaced keyring. The fence
// stays up, refusing every proposal, until the node unseals again (RaftHost.unfenceWrites).
// Three RaftHosts in this process; the leader's appends are held back so that an entry stays uncommitted
// and the restore has to wait for the log to quiesce while the guarded write-set arrives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import { CofferError } from '../../runtime/errors.js';
import type { RaftMessage } from './core/types.js';
import { RaftHost } from './host.js';
import { tempDir } from '../storage/test-util.js';
import { until as untilProbe } from '../../test/helpers/cluster.js';
import { encodeWriteSet } from '../storage/write-set.js';
import { imageDir, imageFileName, writeFsmImage } from '../storage/snapshot-image.js';
import { prepareCommit, versionHash } from '../storage/guarded-commit.js';
import { guardedProposals } from './guarded-proposals.js';

const quiet = pino({ level: 'silent' });
const IDS = ['n1', 'n2', 'n3'];
const until = (what: string, cond: () => boolean) => untilProbe(what, 20_000, async () => cond(), 10);
const put = (key: string, value: string) => encodeWriteSet({ ops: [{ t: 'put', key, value: Buffer.from(value) }] });
const valueOf = (h: RaftHost, key: string) => {
  h.env.root.resetReadTxn();
  return h.env.fsm.get(key)?.toString();
};
const codeOf = (err: unknown) => (err instanceof CofferError ? err.value.code : String(err));

test('raft: a write-set that waited through a snapshot restore is refused, and proposals stay fenced until unseal', { timeout: 60_000 }, async (t) => {
  const hosts = new Map<string, RaftHost>();
  let holdAppends = false;
  const send = (msg: RaftMessage) => {
    if (holdAppends && msg.from === 'n1' && msg.t === 'app') return;
    const bytes = encode(msg);
    setImmediate(() => hosts.get(msg.to)?.step(decode<RaftMessage>(bytes)));
  };
  for (const id of IDS) {
    hosts.set(id, await RaftHost.open({ id, dataDir: tempDir(t, `coffer-restore-fence-${id}-`), voters: IDS, send, log: quiet, tickMs: id === 'n1' ? 5 : 20, compactAt: 10_000 }));
  }
  t.after(() => Promise.all([...hosts.values()].map((h) => h.close().catch(() => undefined))));
  const [n1, n2, n3] = IDS.map((id) => hosts.get(id)!) as [RaftHost, RaftHost, RaftHost];
  n1.start();
  await until('n1 leads', () => n1.status().role === 'leader');
  n2.start();
  n3.start();

  // The image to restore holds k = v1; afterwards k becomes v2.
  await n1.propose(put('k', 'v1'));
  const imageParent = tempDir(t, 'coffer-restore-fence-image-');
  await (await writeFsmImage(n1.env, imageParent, 1, 1)).durable;
  const image = readFileSync(join(imageDir(imageParent), imageFileName(1, 1)));
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
  assert.equal(n1.unfenceWrites(), true, 'the fence was up');
  const i5 = await n1.propose(put('k', 'v5'));
  assert.ok(i5 > index);
  assert.equal(valueOf(n1, 'k'), 'v5');
  assert.equal(n1.unfenceWrites(), false, 'lifted once');
});
