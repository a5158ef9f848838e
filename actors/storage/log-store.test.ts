import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../raft/core/types.js';
import { openStorageEnv } from './env.js';
import { LogStore } from './log-store.js';
import { normal, put, tempDir } from './test-util.js';

const conf = { voters: ['n1'], learners: [] };

function entries(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(normal(i, term, put(`k${i}`, `t${term}`)));
  return out;
}

function shape(es: Entry[]): string {
  return es.map((e) => `${e.index}/${e.term}`).join(' ');
}

test('log store: empty log, then append, reopen recovers exact hard state and log', async (t) => {
  const dir = tempDir(t);
  let env = openStorageEnv(dir);
  let log = new LogStore(env);
  assert.deepEqual(log.load(), { hardState: { term: 0, vote: null, commit: 0 }, snapshotMeta: null, entries: [] });
  assert.equal(log.firstIndex(), 1);
  assert.equal(log.lastIndex(), 0);
  assert.equal(log.term(0), 0);
  await log.append(entries(1, 3, 1), { term: 1, vote: 'n1', commit: 0 });
  await log.append([{ index: 4, term: 2, payload: { t: 'empty' } }, { index: 5, term: 2, payload: { t: 'conf', change: { t: 'add-voter', node: 'n2' } } }], { term: 2, vote: 'n2', commit: 3 });
  await log.append([], { term: 3, vote: null, commit: 4 });
  const before = log.load();
  await env.close();

  env = openStorageEnv(dir);
  log = new LogStore(env);
  const after = log.load();
  assert.deepEqual(after.hardState, { term: 3, vote: null, commit: 4 });
  assert.equal(shape(after.entries), '1/1 2/1 3/1 4/2 5/2');
  assert.deepEqual(after, before);
  assert.deepEqual(after.entries[4]!.payload, { t: 'conf', change: { t: 'add-voter', node: 'n2' } });
  assert.equal(log.term(4), 2);
  assert.equal(log.term(6), undefined);
  await env.close();
});

test('log store: a conflicting append truncates the tail in the same transaction', async (t) => {
  const dir = tempDir(t);
  let env = openStorageEnv(dir);
  let log = new LogStore(env);
  await log.append(entries(1, 5, 1), null);
  // Watch the log from a second read snapshot: every committed state must be either the old log or the new one.
  const seen = new Set<string>();
  const observe = (): void => {
    env.root.resetReadTxn();
    seen.add([...env.log.getKeys({})].join(','));
  };
  observe();
  const pending = log.append(entries(3, 4, 2), { term: 2, vote: null, commit: 2 });
  assert.equal(log.lastIndex(), 4, 'the in-memory view truncates at once');
  assert.equal(shape(log.entries(1, 5)), '1/1 2/1 3/2 4/2', 'entries() answers for uncommitted entries');
  const poll = setInterval(observe, 0);
  await pending;
  clearInterval(poll);
  observe();
  assert.deepEqual([...seen].sort(), ['1,2,3,4', '1,2,3,4,5']);
  await env.close();

  env = openStorageEnv(dir);
  log = new LogStore(env);
  assert.equal(shape(log.load().entries), '1/1 2/1 3/2 4/2');
  assert.equal(log.lastIndex(), 4);
  await env.close();
});

test('log store: appends that leave a gap or rewrite committed entries are refused', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const log = new LogStore(env);
  await log.append(entries(1, 3, 1), { term: 1, vote: null, commit: 2 });
  await assert.rejects(log.append(entries(5, 5, 1), null), /gap/);
  await assert.rejects(log.append(entries(2, 2, 2), null), /committed/);
  assert.equal(shape(log.load().entries), '1/1 2/1 3/1');
  await env.close();
});

test('log store: compaction drops entries, keeps the base term, and load() reports the snapshot meta', async (t) => {
  const dir = tempDir(t);
  let env = openStorageEnv(dir);
  let log = new LogStore(env);
  await log.append([...entries(1, 4, 1), ...entries(5, 8, 2)], { term: 2, vote: null, commit: 8 });
  const meta = { index: 6, term: 2, conf };
  await log.compact(5, meta);
  assert.equal(log.firstIndex(), 6);
  assert.equal(log.term(5), 2);
  assert.equal(log.term(4), undefined);
  assert.throws(() => log.entries(5, 7), /compacted/);
  await assert.rejects(log.append(entries(5, 5, 2), null), /compacted/);
  await log.append(entries(9, 9, 2), null);
  await env.close();

  env = openStorageEnv(dir);
  log = new LogStore(env);
  const state = log.load();
  assert.deepEqual(state.snapshotMeta, meta);
  assert.equal(shape(state.entries), '6/2 7/2 8/2 9/2');
  assert.equal([...env.log.getKeys({})].join(','), '6,7,8,9');
  await env.close();
});

test('log store: a snapshot past the log or conflicting with it replaces the whole log', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const log = new LogStore(env);
  await log.append(entries(1, 3, 1), null);
  await log.compact(10, { index: 10, term: 4, conf });
  assert.equal(log.firstIndex(), 11);
  assert.equal(log.lastIndex(), 10);
  assert.equal(log.term(10), 4);
  await log.append(entries(11, 12, 4), null);
  await log.compact(12, { index: 12, term: 5, conf }); // same index, other term: conflict
  assert.equal(log.lastIndex(), 12);
  assert.equal(log.term(12), 5);
  assert.deepEqual(log.load().entries, []);
  assert.equal([...env.log.getKeys({})].length, 0);
  await env.close();
});
