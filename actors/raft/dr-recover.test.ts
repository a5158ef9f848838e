// Disaster recovery on RaftHosts in one process (docs/dr.md): three voters (the primary site) and two
// non-voters (the DR site). The voters are lost; a non-voter is refused while it still hears from them,
// then becomes the only voter, keeps every write it had, commits new ones, and its other non-voter
// follows. Once the fence list is written, a message from a lost voter with a far higher term is dropped
// instead of pulling the DR site back into the old configuration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import { CofferError } from '../../runtime/errors.js';
import { tempDir } from '../storage/test-util.js';
import { encodeWriteSet } from '../storage/write-set.js';
import type { RaftMessage } from './core/types.js';
import { FENCED_KEY, PEERS_KEY, RaftHost } from './host.js';
import { fsmValue, putOne, untilTrue } from './test-hosts.js';

const VOTERS = ['n1', 'n2', 'n3'];
const DR = ['n4', 'n5'];
const SILENCE_MS = 400;

test('raft host: a DR non-voter takes over a lost quorum, keeps its log, and fences the lost voters', { timeout: 90_000 }, async (t) => {
  const hosts = new Map<string, RaftHost>();
  const lost = new Set<string>();
  const send = (msg: RaftMessage) => {
    if (lost.has(msg.from) || lost.has(msg.to)) return;
    const bytes = encode(msg);
    setImmediate(() => hosts.get(msg.to)?.step(decode<RaftMessage>(bytes)));
  };
  const log = pino({ level: 'silent' });
  const dataDirs = new Map<string, string>();
  const open = async (id: string, join: boolean) => {
    const dataDir = dataDirs.get(id) ?? tempDir(t, `coffer-dr-${id}-`);
    dataDirs.set(id, dataDir);
    const h = await RaftHost.open({ id, dataDir, voters: join ? [] : VOTERS, join, send, log, tickMs: id === 'n1' ? 5 : 20, compactAt: 10_000 });
    hosts.set(id, h);
    return h;
  };
  t.after(() => Promise.all([...hosts.values()].map((h) => h.close().catch(() => undefined))));
  for (const id of VOTERS) await open(id, false);
  for (const id of DR) await open(id, true);
  const [n1, n2, n3, n4, n5] = [...VOTERS, ...DR].map((id) => hosts.get(id)!) as [RaftHost, RaftHost, RaftHost, RaftHost, RaftHost];
  n1.start();
  await untilTrue('n1 leads', () => n1.status().role === 'leader');
  for (const h of [n2, n3, n4, n5]) h.start();
  for (const id of DR) await n1.proposeConfChange({ t: 'add-learner', node: id });
  for (let i = 0; i < 20; i++) await n1.propose(putOne(`kv/${i}`, `v${i}`));
  const written = n1.status().commit;
  await untilTrue('the DR non-voters applied every write', () => n4.fsmApplied().index >= written && n5.fsmApplied().index >= written);
  assert.deepEqual(n4.configuration().conf, { voters: VOTERS, learners: DR });

  // Still in touch with the voters: refused, and nothing changed.
  await new Promise((resolve) => setTimeout(resolve, SILENCE_MS)); // past the "just started" guard
  await assert.rejects(n4.recoverAsSoleVoter(['n5'], SILENCE_MS), (err: unknown) => err instanceof CofferError && /was heard from/.test(err.message));
  assert.equal(n4.status().role, 'follower');
  assert.deepEqual(n4.configuration().conf, { voters: VOTERS, learners: DR });

  // The primary site is lost.
  for (const id of VOTERS) lost.add(id);
  await Promise.all([n1, n2, n3].map((h) => h.close()));
  await new Promise((resolve) => setTimeout(resolve, SILENCE_MS + 100));
  const termBefore = n4.status().term;
  const { index } = await n4.recoverAsSoleVoter(['n5'], SILENCE_MS);
  assert.equal(n4.status().role, 'leader');
  assert.ok(n4.status().term > termBefore, 'the recovered history runs in a term of its own');
  assert.deepEqual(n4.configuration().conf, { voters: ['n4'], learners: ['n5'] });
  for (let i = 0; i < 20; i++) assert.equal(fsmValue(n4, `kv/${i}`), `v${i}`, `write ${i} survived`);

  // The new group commits alone and its non-voter follows, adopting the recovered configuration.
  await n4.propose(putOne('kv/after', 'dr'));
  await untilTrue('n5 applied the first write after the failover', () => fsmValue(n5, 'kv/after') === 'dr');
  assert.ok(n5.fsmApplied().index > index);
  assert.deepEqual(n5.configuration().conf, { voters: ['n4'], learners: ['n5'] });
  assert.equal(n5.status().leader, 'n4');

  // Fence the lost voters (what sys/storage/raft/dr/promote writes), then let one of them speak again
  // with a term far above ours, as an old primary that kept electing would.
  await n4.propose(encodeWriteSet({ ops: [{ t: 'put', key: PEERS_KEY, value: Buffer.from('{}') }, { t: 'put', key: FENCED_KEY, value: Buffer.from(JSON.stringify(VOTERS)) }] }));
  await untilTrue('n5 applied the fence', () => fsmValue(n5, FENCED_KEY) !== undefined);
  const n5Term = n5.status().term;
  const dropped = n5.stats().fencedDropped;
  n5.step({ t: 'app', from: 'n1', to: 'n5', term: n5Term + 1_000, index: 0, logTerm: 0, commit: 0, entries: [] });
  assert.equal(n5.status().term, n5Term, 'a fenced voter cannot raise the term');
  assert.equal(n5.status().leader, 'n4');
  assert.equal(n5.stats().fencedDropped, dropped + 1);
  await n4.propose(putOne('kv/fenced', 'still'));
  await untilTrue('n5 still follows n4', () => fsmValue(n5, 'kv/fenced') === 'still');

  // The recovery is durable: restarted, n4 is still the only voter, leads again and keeps the fence.
  await n4.close();
  const again = await open('n4', true);
  assert.deepEqual(again.configuration().conf, { voters: ['n4'], learners: ['n5'] });
  again.start();
  await untilTrue('n4 leads again after a restart', () => again.status().role === 'leader');
  assert.deepEqual(again.fencedPeers(), VOTERS);
  await again.propose(putOne('kv/restarted', 'yes'));
  await untilTrue('n5 follows the restarted n4', () => fsmValue(n5, 'kv/restarted') === 'yes');
  console.log(`dr recovery: n4 took over at index ${index} with ${written} entries kept; n5 followed; fence dropped the old voter's message`);
});
