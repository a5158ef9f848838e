import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../runtime/codec.js';
import { decodeWriteSet, encodeWriteSet } from './write-set.js';

test('write-set: encode/decode round trip keeps ops and bytes', () => {
  const ws = { ops: [{ t: 'put' as const, key: 'a/b', value: new Uint8Array([1, 2, 3]) }, { t: 'delete' as const, key: 'c' }] };
  const back = decodeWriteSet(encodeWriteSet(ws));
  assert.equal(back.ops.length, 2);
  assert.deepEqual(back.ops[0], { t: 'put', key: 'a/b', value: Buffer.from([1, 2, 3]) });
  assert.deepEqual(back.ops[1], { t: 'delete', key: 'c' });
});

test('write-set: encoding is deterministic and drops foreign fields', () => {
  const a = encodeWriteSet({ ops: [{ t: 'put', key: 'k', value: Buffer.from('v'), extra: 1 } as never] });
  const b = encodeWriteSet({ ops: [{ t: 'put', key: 'k', value: Buffer.from('v') }] });
  assert.deepEqual(a, b);
});

test('write-set: malformed input is refused', () => {
  assert.throws(() => encodeWriteSet({ ops: [{ t: 'put', key: '', value: Buffer.from('v') }] }));
  assert.throws(() => encodeWriteSet({ ops: [{ t: 'put', key: 'k' } as never] }));
  assert.throws(() => encodeWriteSet({ ops: [{ t: 'move', key: 'k' } as never] }));
  assert.throws(() => encodeWriteSet({ ops: [{ t: 'put', key: 'k'.repeat(2000), value: Buffer.from('v') }] }));
  assert.throws(() => decodeWriteSet(encode({ nope: true })));
  assert.throws(() => decodeWriteSet(Buffer.from([0xc1])));
});
