import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BARRIER_VERSION, NONCE_BYTES, TERM_BYTES, decryptValue, encryptValue, termOf } from './aead.js';
import { CofferError } from '../../runtime/errors.js';
import cryptoTask from './crypto-task.js';

const key = randomBytes(32);
const ring = (t: number) => (t === 7 ? key : undefined);
const pt = Buffer.from('the quick brown fox: a secret value');

function internalError(path: string, term?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof CofferError, 'CofferError');
    assert.equal(e.value.code, 'COFFER_ERR_INTERNAL');
    assert.ok(e.message.includes(JSON.stringify(path)), `names path: ${e.message}`);
    if (term !== undefined) assert.ok(e.message.includes(`term ${term}`), `names term: ${e.message}`);
    assert.ok(!e.message.includes(pt.toString()) && !e.message.includes(key.toString('hex')) && !e.message.includes(key.toString('base64')));
    return true;
  };
}

test('round trip and framing', () => {
  const blob = encryptValue(key, 7, 'logical/abc/foo', pt);
  assert.equal(blob.length, 4 + 1 + 12 + pt.length + 16);
  assert.equal(blob.readUInt32BE(0), 7);
  assert.equal(blob[4], BARRIER_VERSION);
  assert.equal(blob[4], 0x02);
  assert.equal(termOf(blob), 7);
  assert.deepEqual(decryptValue(ring, 'logical/abc/foo', blob), pt);
  // empty plaintext and unicode paths
  const e = encryptValue(key, 7, 'sys/policy/ünïcødé', new Uint8Array(0));
  assert.equal(decryptValue(ring, 'sys/policy/ünïcødé', e).length, 0);
  // fresh nonce each time
  assert.notDeepEqual(encryptValue(key, 7, 'p', pt), encryptValue(key, 7, 'p', pt));
  // large term
  const big = encryptValue(key, 0xffffffff, 'p', pt);
  assert.equal(termOf(big), 0xffffffff);
  assert.deepEqual(decryptValue(() => key, 'p', big), pt);
});

test('nonces stay unique and random across refills of the nonce block', () => {
  const seen = new Set<string>();
  const zero = Buffer.alloc(NONCE_BYTES).toString('hex');
  for (let i = 0; i < 2000; i++) {
    const blob = encryptValue(key, 7, `p/${i}`, pt);
    const nonce = blob.subarray(TERM_BYTES + 1, TERM_BYTES + 1 + NONCE_BYTES).toString('hex');
    assert.notEqual(nonce, zero, `value ${i}: an all-zero nonce (a spent slot handed out again)`);
    assert.ok(!seen.has(nonce), `value ${i}: nonce repeated`);
    seen.add(nonce);
    assert.deepEqual(decryptValue(ring, `p/${i}`, blob), pt);
  }
});

test('wrong path (AAD) fails', () => {
  const blob = encryptValue(key, 7, 'logical/abc/foo', pt);
  assert.throws(() => decryptValue(ring, 'logical/abc/bar', blob), internalError('logical/abc/bar', 7));
  assert.throws(() => decryptValue(ring, 'logical/abc/foo ', blob), internalError('logical/abc/foo ', 7));
});

test('a flipped bit in any byte fails', () => {
  const blob = encryptValue(key, 7, 'p/q', pt);
  for (let i = 0; i < blob.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = Buffer.from(blob);
      bad[i]! ^= bit;
      assert.throws(() => decryptValue(ring, 'p/q', bad), CofferError, `byte ${i} bit ${bit}`);
    }
  }
  // A header flip that lands on another *known* term fails too, because that term has a different key.
  // (The term is not in the AAD, per §5; it is bound by key choice. Every keyring term has its own random key.)
  const other = randomBytes(32);
  const two = (t: number) => (t === 7 ? key : other);
  for (let i = 0; i < 4; i++) {
    const bad = Buffer.from(blob);
    bad[i]! ^= 1;
    assert.throws(() => decryptValue(two, 'p/q', bad), CofferError);
  }
});

test('truncation, extension, unknown term, bad version fail', () => {
  const blob = encryptValue(key, 7, 'p', pt);
  for (let n = 0; n < blob.length; n++) assert.throws(() => decryptValue(ring, 'p', blob.subarray(0, n)), CofferError, `len ${n}`);
  assert.throws(() => decryptValue(ring, 'p', Buffer.concat([blob, Buffer.from([0])])), CofferError);
  const other = encryptValue(key, 8, 'p', pt);
  assert.throws(() => decryptValue(ring, 'p', other), internalError('p', 8));
  assert.match(String(captured(() => decryptValue(ring, 'p', other))), /no key for this term/);
  const v1 = Buffer.from(blob);
  v1[4] = 1;
  assert.match(String(captured(() => decryptValue(ring, 'p', v1))), /unsupported version 1/);
  // wrong key for the term
  assert.throws(() => decryptValue(() => randomBytes(32), 'p', blob), internalError('p', 7));
  assert.throws(() => termOf(new Uint8Array(3)), CofferError);
});

test('decrypt accepts a Uint8Array view at an offset', () => {
  const blob = encryptValue(key, 7, 'p', pt);
  const backing = new Uint8Array(blob.length + 10);
  backing.set(blob, 5);
  assert.deepEqual(decryptValue(ring, 'p', backing.subarray(5, 5 + blob.length)), pt);
});

test('crypto task: batch encrypt/decrypt, plain exact-size outputs', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ path: `logical/x/${i}`, value: Buffer.from(`value-${i}`) }));
  const enc = cryptoTask({ op: 'encrypt', key, term: 7, items });
  assert.equal(enc.length, 50);
  for (const [i, b] of enc.entries()) {
    assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype);
    assert.equal(b.buffer.byteLength, b.byteLength);
    assert.deepEqual(decryptValue(ring, `logical/x/${i}`, b), items[i]!.value);
  }
  const dec = cryptoTask({ op: 'decrypt', key, term: 7, items: enc.map((value, i) => ({ path: `logical/x/${i}`, value })) });
  for (const [i, b] of dec.entries()) {
    assert.equal(b.buffer.byteLength, b.byteLength);
    assert.equal(Buffer.from(b).toString(), `value-${i}`);
  }
  assert.throws(() => cryptoTask({ op: 'decrypt', key, term: 7, items: [{ path: 'logical/x/1', value: enc[0]! }] }), internalError('logical/x/1', 7));
  assert.throws(() => cryptoTask({ op: 'decrypt', key, term: 8, items: [{ path: 'logical/x/0', value: enc[0]! }] }), CofferError);
  assert.throws(() => cryptoTask({ op: 'nope' as 'encrypt', key, term: 7, items: [] }));
});

function captured(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : e;
  }
  assert.fail('did not throw');
}
