// GuardedCommit on its own, with a map for the FSM and proposals that land when the test says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuardedCommit, prepareCommit, versionHash, type CommitReply } from './guarded-commit.js';
import { decodeWriteSet } from './write-set.js';

function harness() {
  const fsm = new Map<string, Buffer>();
  const inFlight: { data: Uint8Array; land(): void }[] = [];
  let index = 0;
  const gc = new GuardedCommit({
    read: (key) => fsm.get(key),
    propose: (data) =>
      new Promise<number>((resolve) => {
        inFlight.push({
          data,
          land: () => {
            for (const op of decodeWriteSet(data).ops) {
              if (op.t === 'put') fsm.set(op.key, Buffer.from(op.value));
              else fsm.delete(op.key);
            }
            resolve(++index);
          },
        });
      }),
  });
  return { fsm, inFlight, gc };
}

const put = (key: string, value: string) => ({ t: 'put' as const, key, value: Buffer.from(value) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('guarded commit: a write-set in flight counts as the key\'s value; its loser is answered once it landed', async () => {
  const { fsm, inFlight, gc } = harness();
  const first = gc.commit(prepareCommit([put('k', 'a')], [{ key: 'k', hash: null }]));
  assert.equal(inFlight.length, 1, 'the first write-set is proposed at once');
  assert.equal(gc.inFlightKeys(), 1);

  // A second writer read k as absent too: it lost to the write in flight, but hears so only once it landed.
  let second: CommitReply | null = null;
  const secondDone = gc.commit(prepareCommit([put('k', 'b')], [{ key: 'k', hash: null }])).then((r) => (second = r));
  await tick();
  assert.equal(second, null, 'the loser waits for the winner to land');
  assert.equal(inFlight.length, 1, 'the loser proposed nothing');

  // A writer guarded on the in-flight value passes before it lands (pipelined behind it).
  const third = gc.commit(prepareCommit([put('k', 'c')], [{ key: 'k', hash: versionHash(Buffer.from('a')) }]));
  assert.equal(inFlight.length, 2, 'guarded on the pending value: proposed');

  inFlight[0]!.land();
  assert.deepEqual(await first, { ok: true, index: 1 });
  await secondDone;
  assert.deepEqual(second, { ok: false, conflictKey: 'k' });
  inFlight[1]!.land();
  assert.deepEqual(await third, { ok: true, index: 2 });
  assert.equal(fsm.get('k')?.toString(), 'c');
  assert.equal(gc.inFlightKeys(), 0, 'nothing left in flight');

  // Back to the FSM: a guard on the stored value passes, one on an older value fails at once.
  assert.deepEqual(await Promise.race([gc.commit(prepareCommit([put('k', 'd')], [{ key: 'k', hash: versionHash(Buffer.from('a')) }])), tick().then(() => 'waited')]), { ok: false, conflictKey: 'k' });
  const fourth = gc.commit(prepareCommit([{ t: 'delete', key: 'k' }], [{ key: 'k', hash: versionHash(Buffer.from('c')) }]));
  assert.equal(inFlight.length, 3);
  // While the delete is in flight, k counts as absent.
  const fifth = gc.commit(prepareCommit([put('k', 'e')], [{ key: 'k', hash: null }]));
  assert.equal(inFlight.length, 4, 'guarded on the in-flight delete: proposed');
  inFlight[2]!.land();
  inFlight[3]!.land();
  assert.deepEqual(await fourth, { ok: true, index: 3 });
  assert.deepEqual(await fifth, { ok: true, index: 4 });
  assert.equal(fsm.get('k')?.toString(), 'e');
});

test('guarded commit: ready() holds the check back until the proposer can see everything committed', async () => {
  const fsm = new Map<string, Buffer>([['k', Buffer.from('old')]]);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let gated = true;
  const proposed: Uint8Array[] = [];
  const gc = new GuardedCommit({
    read: (key) => fsm.get(key),
    propose: async (data) => (proposed.push(data), proposed.length),
    ready: () => (gated ? gate : null),
  });
  let reply: CommitReply | null = null;
  const done = gc.commit(prepareCommit([put('k', 'mine')], [{ key: 'k', hash: versionHash(Buffer.from('old')) }])).then((r) => (reply = r));
  await tick();
  assert.equal(reply, null);
  assert.equal(proposed.length, 0, 'nothing checked or proposed before ready');
  // What the previous leader committed lands meanwhile.
  fsm.set('k', Buffer.from('committed-by-the-old-leader'));
  gated = false;
  open();
  await done;
  assert.deepEqual(reply, { ok: false, conflictKey: 'k' });
  assert.equal(proposed.length, 0);
});
