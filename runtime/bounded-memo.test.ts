import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMemo } from './bounded-memo.js';

test('a bounded memo derives once per key, keeps at most its bound and drops the oldest first', () => {
  let derived = 0;
  const memo = new BoundedMemo<string>(3);
  const upper = (k: string) => (derived++, k.toUpperCase());
  assert.equal(memo.get('a', upper), 'A');
  assert.equal(memo.get('a', upper), 'A');
  assert.equal(derived, 1);
  for (const k of ['b', 'c', 'd']) memo.get(k, upper);
  assert.equal(memo.size, 3);
  assert.equal(derived, 4);
  memo.get('b', upper); // still held
  assert.equal(derived, 4);
  memo.get('a', upper); // 'a' was the oldest and went when 'd' came
  assert.equal(derived, 5);
});
