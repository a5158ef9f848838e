import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorageEnv } from './env.js';
import { Fsm } from './fsm.js';
import { FsmReader } from './fsm-reader.js';
import { normal, put, tempDir, text } from './test-util.js';

test('fsm: applies write-sets in one transaction, records applied, and re-apply is idempotent', async (t) => {
  const dir = tempDir(t);
  let env = openStorageEnv(dir);
  let fsm = new Fsm(env);
  const reader = new FsmReader(env);
  const batch = [
    normal(1, 1, put('a', '1')),
    { index: 2, term: 1, payload: { t: 'empty' as const } },
    normal(3, 2, { ops: [{ t: 'put', key: 'b', value: Buffer.from('2') }, { t: 'delete', key: 'a' }] }),
  ];
  fsm.apply(batch);
  assert.deepEqual(fsm.applied(), { index: 3, term: 2 });
  assert.equal(reader.get('a'), undefined);
  assert.equal(text(reader.get('b')), '2');
  // Replaying the same entries (and an overlapping batch) changes nothing already applied.
  fsm.apply([...batch, normal(4, 2, put('a', '4'))]);
  fsm.apply(batch);
  assert.deepEqual(fsm.applied(), { index: 4, term: 2 });
  assert.equal(text(reader.get('a')), '4');
  await env.close();

  env = openStorageEnv(dir);
  fsm = new Fsm(env);
  assert.deepEqual(fsm.applied(), { index: 4, term: 2 });
  assert.deepEqual(new FsmReader(env).applied(), { index: 4, term: 2 });
  await env.close();
});

test('fsm: conf and empty entries bump applied', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const fsm = new Fsm(env);
  fsm.apply([{ index: 1, term: 1, payload: { t: 'conf', change: { t: 'add-voter', node: 'n1' } } }, { index: 2, term: 3, payload: { t: 'empty' } }]);
  assert.deepEqual(fsm.applied(), { index: 2, term: 3 });
  await env.close();
});

test('fsm: an undecodable entry throws and nothing of its batch is written', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const fsm = new Fsm(env);
  const reader = new FsmReader(env);
  const bad = { index: 2, term: 1, payload: { t: 'normal' as const, data: Buffer.from([0x93, 0x01]) } };
  assert.throws(() => fsm.apply([normal(1, 1, put('a', '1')), bad]));
  assert.deepEqual(fsm.applied(), { index: 0, term: 0 });
  assert.equal(reader.get('a'), undefined);
  assert.throws(() => fsm.apply([normal(2, 1, put('a', '1'))]), /gap/);
  await env.close();
});

test('fsm reader: list has Vault semantics', async (t) => {
  const env = openStorageEnv(tempDir(t));
  const fsm = new Fsm(env);
  const reader = new FsmReader(env);
  const keys = ['sys/policy/a', 'sys/policy/b', 'sys/token/x/1', 'sys/token/x/2', 'sys/token/y', 'sys/tokens', 'sys/z', 'sys/a-b/c', 'sys/a0', 'sys/a', 'sys/a/deep/er', 'sysx', 'other/q'];
  fsm.apply([normal(1, 1, { ops: keys.map((key) => ({ t: 'put' as const, key, value: Buffer.from(key) })) })]);
  assert.deepEqual(reader.list('sys/'), ['a', 'a-b/', 'a/', 'a0', 'policy/', 'token/', 'tokens', 'z']);
  assert.deepEqual(reader.list('sys/token/'), ['x/', 'y']);
  assert.deepEqual(reader.list('sys/token/x/'), ['1', '2']);
  assert.deepEqual(reader.list(''), ['other/', 'sys/', 'sysx']);
  assert.deepEqual(reader.list('sys'), ['/', 'x']);
  assert.deepEqual(reader.list('nope/'), []);
  assert.deepEqual(reader.list('sys/a/'), ['deep/']);
  await env.close();
});

test('env: a read-only env refuses writers', async (t) => {
  const env = openStorageEnv(tempDir(t), { readOnly: true });
  assert.throws(() => new Fsm(env), /read-only/);
  assert.equal(new FsmReader(env).get('x'), undefined);
  await env.close();
});
