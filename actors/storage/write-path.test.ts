import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorageEnv } from './env.js';
import { LogStore } from './log-store.js';
import { LocalWritePath } from './write-path.js';
import { normal, put, tempDir, text } from './test-util.js';

test('write path: submit then read', async (t) => {
  const wp = LocalWritePath.open(tempDir(t));
  const { index } = await wp.submit(put('secret/a', 'ciphertext-a'));
  assert.equal(index, 1);
  assert.equal(text(wp.reader.get('secret/a')), 'ciphertext-a');
  const second = await wp.submit({ ops: [{ t: 'delete', key: 'secret/a' }, { t: 'put', key: 'secret/b', value: Buffer.from('b') }] });
  assert.equal(second.index, 2);
  assert.equal(wp.reader.get('secret/a'), undefined);
  assert.deepEqual(wp.reader.list('secret/'), ['b']);
  assert.deepEqual(wp.stats(), { flushes: 2, writeSets: 2, appliedIndex: 2, writeSetsPerFlushMax: 1, compactions: 0 });
  await wp.close();
});

test('write path: 500 concurrent submits are group-committed and applied in index order', async (t) => {
  const wp = LocalWritePath.open(tempDir(t));
  const results = await Promise.all(
    Array.from({ length: 500 }, (_, i) => wp.submit({ ops: [{ t: 'put', key: `k/${i}`, value: Buffer.from(`${i}`) }, { t: 'put', key: 'last', value: Buffer.from(`${i}`) }] })),
  );
  // Index order is submit order, contiguous from 1.
  assert.deepEqual(results.map((r) => r.index), Array.from({ length: 500 }, (_, i) => i + 1));
  const stats = wp.stats();
  assert.equal(stats.writeSets, 500);
  assert.equal(stats.appliedIndex, 500);
  assert.ok(stats.flushes <= 10, `500 write-sets took ${stats.flushes} flushes`);
  // The write with the highest index wins every shared key.
  assert.equal(text(wp.reader.get('last')), '499');
  assert.equal(wp.reader.list('k/').length, 500);
  // Submits arriving while a flush is in flight form the next group.
  const first = wp.submit(put('x', '1'));
  const later = await new Promise<Promise<{ index: number }>[]>((resolve) => setImmediate(() => resolve(Array.from({ length: 50 }, (_, i) => wp.submit(put(`y${i}`, 'v'))))));
  await Promise.all([first, ...later]);
  assert.ok(wp.stats().flushes - stats.flushes <= 3, 'a flush in flight batches the submits behind it');
  await wp.close();
});

test('write path: restart replays entries appended but not applied', async (t) => {
  const dir = tempDir(t);
  let wp = LocalWritePath.open(dir);
  await wp.submit(put('a', '1'));
  await wp.close();
  // Simulate a crash between flush and apply: append straight to the log, never apply.
  const env = openStorageEnv(dir);
  const log = new LogStore(env);
  await log.append([normal(2, 1, put('b', '2')), { index: 3, term: 1, payload: { t: 'empty' } }, normal(4, 1, { ops: [{ t: 'delete', key: 'a' }] })], null);
  await env.close();

  wp = LocalWritePath.open(dir);
  assert.equal(wp.stats().appliedIndex, 4);
  assert.equal(wp.reader.get('a'), undefined);
  assert.equal(text(wp.reader.get('b')), '2');
  assert.equal((await wp.submit(put('c', '3'))).index, 5);
  await wp.close();
});

test('write path: the log is compacted behind the applied index and restart still works', async (t) => {
  const dir = tempDir(t);
  let wp = LocalWritePath.open(dir);
  const total = 25_000;
  for (let lo = 0; lo < total; lo += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => wp.submit(put(`k${lo + i}`, `${lo + i}`))));
  }
  await wp.close(); // waits for the compaction in flight
  assert.ok(wp.stats().compactions >= 1);
  wp = LocalWritePath.open(dir);
  assert.equal(wp.stats().appliedIndex, total);
  assert.ok(wp.log.firstIndex() > 1 && wp.log.firstIndex() <= total - 999, `first ${wp.log.firstIndex()}`);
  assert.equal(wp.log.lastIndex(), total);
  assert.equal(text(wp.reader.get('k0')), '0');
  assert.equal((await wp.submit(put('z', 'z'))).index, total + 1);
  await wp.close();
});

test('write path: invalid write-sets are refused without touching the log, closed paths refuse submits', async (t) => {
  const wp = LocalWritePath.open(tempDir(t));
  await assert.rejects(wp.submit({ ops: [{ t: 'put', key: '', value: Buffer.from('v') }] }));
  assert.equal(wp.log.lastIndex(), 0);
  const inFlight = wp.submit(put('a', '1'));
  const closing = wp.close();
  assert.equal((await inFlight).index, 1, 'close drains what was submitted before it');
  await closing;
  await assert.rejects(wp.submit(put('b', '2')), /closed/);
});
