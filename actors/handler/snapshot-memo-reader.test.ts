import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorageEnv } from '../storage/env.js';
import { Fsm } from '../storage/fsm.js';
import { FsmReader } from '../storage/fsm-reader.js';
import { normal, put, tempDir, text } from '../storage/test-util.js';
import { SnapshotMemoReader } from './snapshot-memo-reader.js';

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
  assert.deepEqual(reader.stats(), { entries: 2, hits: 2, misses: 2 });

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
