import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadIndexBatcher } from './read-index-batch.js';

/** An ask whose rounds the test settles by hand; each round remembers when it was sent. */
function manualAsk() {
  const rounds: { sentAt: number; resolve: (i: number) => void; reject: (e: unknown) => void }[] = [];
  let clock = 0;
  const ask = (_timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      rounds.push({ sentAt: clock, resolve, reject });
    });
  return { ask, rounds, tick: () => ++clock, now: () => clock };
}

test('read-index batching: a read never uses a round sent before it arrived; reads queued during a round share the next one', async () => {
  const m = manualAsk();
  const b = new ReadIndexBatcher(m.ask);
  const arrived: number[] = [];
  const results: Promise<number>[] = [];
  const read = () => {
    arrived.push(m.now());
    results.push(b.readIndex(1_000));
  };
  read(); // starts round 0 at once
  assert.equal(m.rounds.length, 1);
  m.tick();
  read();
  read();
  read(); // all three wait: round 0 was sent before they arrived
  assert.equal(m.rounds.length, 1, 'no second round while one is in flight');
  m.tick();
  m.rounds[0]!.resolve(10);
  await results[0];
  await new Promise((r) => setImmediate(r));
  assert.equal(m.rounds.length, 2, 'the queued reads go out as one round once the first settles');
  assert.ok(m.rounds[1]!.sentAt >= Math.max(...arrived.slice(1)), 'the shared round started after each of its reads arrived');
  m.rounds[1]!.resolve(12);
  assert.deepEqual(await Promise.all(results), [10, 12, 12, 12]);
  assert.deepEqual(b.stats, { rounds: 2, reads: 4 });
});

test('read-index batching: a failed round fails its reads only; the next round still goes out', async () => {
  const m = manualAsk();
  const b = new ReadIndexBatcher(m.ask);
  const first = b.readIndex(500);
  const second = b.readIndex(500);
  m.rounds[0]!.reject(new Error('no leader'));
  await assert.rejects(first, /no leader/);
  await new Promise((r) => setImmediate(r));
  assert.equal(m.rounds.length, 2);
  m.rounds[1]!.resolve(7);
  assert.equal(await second, 7);
});
