import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorageEnv } from '../storage/env.js';
import { Fsm } from '../storage/fsm.js';
import { FsmReader } from '../storage/fsm-reader.js';
import { normal, put, tempDir, text } from '../storage/test-util.js';
import { MAX_MEMO_BYTES, MAX_MEMO_VALUE_BYTES, SnapshotMemoReader } from './snapshot-memo-reader.js';

test('snapshot memo: a refresh that sees no new apply keeps the memo; one that does drops it', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const fsm = new Fsm(env);
  fsm.apply([normal(1, 1, put('k', 'one'))]);
  const reader = new SnapshotMemoReader(new FsmReader(env), env);
  reader.refresh();
  assert.equal(text(reader.get('k')), 'one');
  assert.equal(reader.get('absent'), undefined);
  reader.refresh();
  assert.equal(text(reader.get('k')), 'one');
  assert.equal(reader.get('absent'), undefined);
  assert.deepEqual(reader.stats(), { entries: 2, hits: 2, misses: 2, bytes: 'k'.length + 'one'.length + 'absent'.length });

  // A new apply (a change and a new key) is seen after the next refresh, never later.
  fsm.apply([normal(2, 1, { ops: [{ t: 'put', key: 'k', value: Buffer.from('two') }, { t: 'put', key: 'absent', value: Buffer.from('now') }] })]);
  reader.refresh();
  assert.equal(text(reader.get('k')), 'two');
  assert.equal(text(reader.get('absent')), 'now');

  // An entry without data (a leader's no-op) also moves applied: the memo is dropped, values unchanged.
  fsm.apply([{ index: 3, term: 2, payload: { t: 'empty' } }]);
  reader.refresh();
  assert.equal(reader.stats().entries, 0);
  assert.equal(text(reader.get('k')), 'two');
  await env.close();
});

test('snapshot memo: an FSM with nothing applied yet is never memoised across refreshes', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const reader = new SnapshotMemoReader(new FsmReader(env), env);
  reader.refresh();
  assert.equal(reader.get('k'), undefined);
  new Fsm(env).apply([normal(1, 1, put('k', 'v'))]);
  reader.refresh();
  assert.equal(text(reader.get('k')), 'v');
  await env.close();
});

test('snapshot memo: bounded in bytes; a value above the per-value bound is never remembered', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const value = Buffer.alloc(256 * 1024, 1);
  const ops = [];
  for (let i = 0; i < 64; i++) ops.push({ t: 'put' as const, key: `big/${i}`, value });
  new Fsm(env).apply([normal(1, 1, { ops })]);
  env.fsm.putSync('huge', Buffer.alloc(MAX_MEMO_VALUE_BYTES + 1, 2)); // larger than a write-set allows; still readable
  const reader = new SnapshotMemoReader(new FsmReader(env), env);
  reader.refresh();
  let peak = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 64; i++) {
      assert.ok(reader.get(`big/${i}`)?.equals(value));
      peak = Math.max(peak, reader.stats().bytes);
    }
  }
  assert.ok(peak <= MAX_MEMO_BYTES, `memo held ${peak} bytes, bound ${MAX_MEMO_BYTES}`);
  assert.ok(peak > MAX_MEMO_BYTES / 2, `memo still remembers up to its bound (${peak} bytes)`);
  const before = reader.stats().bytes;
  assert.equal(reader.get('huge')?.length, MAX_MEMO_VALUE_BYTES + 1);
  assert.equal(reader.get('huge')?.length, MAX_MEMO_VALUE_BYTES + 1);
  assert.equal(reader.stats().bytes, before, 'the oversized value was not remembered');
  console.log(`snapshot memo: ${64 * 2} reads of 256 KiB values, memo peak ${(peak / 1048576).toFixed(2)} MiB of ${MAX_MEMO_BYTES / 1048576} MiB bound`);
  await env.close();
});

test('snapshot memo: appliedIndex is the index of the snapshot read from, not of applies since (the X-Vault-Index of an answer)', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const fsm = new Fsm(env);
  const reader = new SnapshotMemoReader(new FsmReader(env), env);
  reader.refresh();
  assert.equal(reader.appliedIndex(), 0);
  fsm.apply([normal(1, 1, put('k', 'one'))]);
  reader.refresh();
  assert.equal(reader.appliedIndex(), 1);
  assert.equal(text(reader.get('k')), 'one');
  // Applies after the read's snapshot do not move it: an answer made now claims index 1, which is
  // what it read ('one'), not 3 (where k is 'three').
  fsm.apply([normal(2, 1, put('k', 'two'))]);
  fsm.apply([normal(3, 1, put('k', 'three'))]);
  assert.equal(reader.appliedIndex(), 1);
  assert.equal(text(reader.get('k')), 'one');
  reader.refresh();
  assert.equal(reader.appliedIndex(), 3);
  assert.equal(text(reader.get('k')), 'three');
  await env.close();
});
