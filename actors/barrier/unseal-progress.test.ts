import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UnsealProgress, decodeUnsealKey, MSG_KEY_UNDECODABLE, MSG_KEY_MISSING } from './unseal-progress.js';
import { initializeShamir, openKeyring, type PhysicalWrite } from './seal.js';
import { CofferError } from '../../runtime/errors.js';

const NOW = Date.UTC(2026, 5, 1);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const reader = (ps: PhysicalWrite[]) => { const m = new Map(ps.map((w) => [w.key, w.value])); return (k: string) => m.get(k); };
const cfg53 = { type: 'shamir' as const, secret_shares: 5, secret_threshold: 3 };

function badRequest(message: string) {
  return (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INVALID_REQUEST' && e.message === message;
}

test('5/3: progress, nonce, hex and base64 mixed, complete opens the keyring', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  assert.deepEqual(await u.submit(init.shares[4]!.toString('hex')), { kind: 'progress' });
  assert.equal(u.progress, 1);
  assert.match(u.nonce, UUID);
  const nonce = u.nonce;
  assert.deepEqual(await u.submit(init.shares[0]!.toString('base64')), { kind: 'progress' });
  assert.equal(u.progress, 2);
  assert.equal(u.nonce, nonce, 'nonce stable within an attempt');
  const r = await u.submit(init.shares[2]!.toString('hex').toUpperCase());
  assert.equal(r.kind, 'complete');
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  if (r.kind !== 'complete') return;
  assert.equal(r.kek.length, 32);
  assert.deepEqual(openKeyring(r.kek, reader(init.physical)).toBytes(), init.keyring.toBytes());
});

test('a repeated share is ignored silently, in either encoding', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[1]!.toString('hex'));
  const nonce = u.nonce;
  assert.deepEqual(await u.submit(init.shares[1]!.toString('hex')), { kind: 'ignored' });
  assert.deepEqual(await u.submit(init.shares[1]!.toString('base64')), { kind: 'ignored' });
  assert.equal(u.progress, 1);
  assert.equal(u.nonce, nonce);
  await u.submit(init.shares[3]!.toString('hex'));
  assert.deepEqual(await u.submit(init.shares[3]!.toString('base64')), { kind: 'ignored' });
  const r = await u.submit(init.shares[0]!.toString('base64'));
  assert.equal(r.kind, 'complete');
  if (r.kind === 'complete') openKeyring(r.kek, reader(init.physical));
});

test('threshold with a wrong set: complete with a KEK that openKeyring rejects; progress already 0', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const other = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[0]!.toString('hex'));
  await u.submit(init.shares[1]!.toString('hex'));
  // a share from another cluster, with an x coordinate not used by the two above
  const foreign = other.shares.find((s) => s[32] !== init.shares[0]![32] && s[32] !== init.shares[1]![32])!;
  const r = await u.submit(foreign.toString('hex'));
  assert.equal(r.kind, 'complete');
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  if (r.kind !== 'complete') return;
  assert.throws(() => openKeyring(r.kek, reader(init.physical)), (e: unknown) =>
    e instanceof CofferError && e.value.code === 'COFFER_ERR_INVALID_REQUEST' &&
    e.message.startsWith('invalid key: failed to decrypt keys from storage: '));
  // a fresh attempt after the failure works
  for (const s of init.shares.slice(2)) await u.submit(s.toString('base64'));
  assert.equal(u.progress, 0);
});

test('incompatible parts at threshold: 400, progress reset', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[0]!.toString('hex'));
  await u.submit(init.shares[1]!.toString('hex'));
  await assert.rejects(u.submit(randomBytes(32).toString('hex')), badRequest('failed to compute combined key: all parts must be the same length'));
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  const same = Buffer.from(init.shares[0]!);
  same[0]! ^= 1; // different bytes, same x coordinate
  await u.submit(init.shares[0]!.toString('hex'));
  await u.submit(init.shares[1]!.toString('hex'));
  await assert.rejects(u.submit(same.toString('hex')), badRequest('failed to compute combined key: duplicate part detected'));
  assert.equal(u.progress, 0);
});

test('reset clears progress and nonce; the next share starts a new nonce', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[0]!.toString('hex'));
  await u.submit(init.shares[1]!.toString('hex'));
  const n1 = u.nonce;
  u.reset();
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  u.reset();
  // the share submitted before the reset counts again (it is not a duplicate any more)
  assert.deepEqual(await u.submit(init.shares[0]!.toString('hex')), { kind: 'progress' });
  assert.match(u.nonce, UUID);
  assert.notEqual(u.nonce, n1);
});

test('1/1: the key itself, nonce made and cleared in one call; wrong key rejected by openKeyring', async () => {
  const init = await initializeShamir({ secretShares: 1, secretThreshold: 1, nowMs: NOW });
  const u = new UnsealProgress({ type: 'shamir', secret_shares: 1, secret_threshold: 1 });
  const r = await u.submit(init.shares[0]!.toString('base64'));
  assert.equal(r.kind, 'complete');
  assert.equal(u.progress, 0);
  assert.equal(u.nonce, '');
  if (r.kind === 'complete') assert.deepEqual(r.kek, init.shares[0]);
  const w = await u.submit(randomBytes(32).toString('hex'));
  assert.equal(w.kind, 'complete');
  if (w.kind === 'complete') assert.throws(() => openKeyring(w.kek, reader(init.physical)), CofferError);
  assert.equal(u.progress, 0);
});

test('key decoding: hex, base64, hex-of-wrong-length retried as base64, garbage rejected', () => {
  const k = randomBytes(33);
  assert.deepEqual(decodeUnsealKey(k.toString('hex')), k);
  assert.deepEqual(decodeUnsealKey(k.toString('hex').toUpperCase()), k);
  assert.deepEqual(decodeUnsealKey(k.toString('base64')), k);
  const k32 = randomBytes(32);
  assert.deepEqual(decodeUnsealKey(k32.toString('base64')), k32);
  // 32 hex chars = 16 bytes is valid hex within bounds → taken as hex
  assert.equal(decodeUnsealKey('00112233445566778899aabbccddeeff').length, 16);
  // valid hex but 24 bytes decoded as base64 would be 36... choose a string that is valid hex (too long) and valid base64
  const longHex = 'ab'.repeat(36); // 72 hex chars = 36 bytes (> 33) → base64 → 54 bytes → too long
  assert.throws(() => decodeUnsealKey(longHex), badRequest('key is longer than maximum 33 bytes'));
  // valid hex, 8 bytes (< 16) → base64 of 16 chars = 12 bytes → too short
  assert.throws(() => decodeUnsealKey('0011223344556677'), badRequest('key is shorter than minimum 16 bytes'));
  // 44-char hex string = 22 bytes: hex in range, wins over base64
  assert.equal(decodeUnsealKey('a'.repeat(44)).length, 22);
  // valid hex of 40 bytes (80 chars) is > 33 → base64 → 60 bytes → too long
  assert.throws(() => decodeUnsealKey('0'.repeat(80)), badRequest('key is longer than maximum 33 bytes'));
  for (const g of ['not a key!', 'zz'.repeat(33), k.toString('base64').slice(0, -1), k.toString('base64url').replace(/[^-_]/, '-') + '-', '====', ' ' + k.toString('hex')]) {
    assert.throws(() => decodeUnsealKey(g), (e: unknown) => badRequest(MSG_KEY_UNDECODABLE)(e) || badRequest('key is shorter than minimum 16 bytes')(e) || badRequest('key is longer than maximum 33 bytes')(e), g);
  }
  assert.throws(() => decodeUnsealKey('not a key!'), badRequest(MSG_KEY_UNDECODABLE));
  assert.throws(() => decodeUnsealKey('zz'.repeat(33)), badRequest(MSG_KEY_UNDECODABLE));
  assert.throws(() => decodeUnsealKey(''), badRequest(MSG_KEY_MISSING));
});

test('garbage through submit: exact message, state untouched, input never echoed', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[0]!.toString('hex'));
  const nonce = u.nonce;
  const secretish = init.shares[1]!.toString('hex') + '!';
  await assert.rejects(u.submit(secretish), (e: unknown) => badRequest("'key' must be a valid hex or base64 string")(e) && !(e as Error).message.includes(secretish.slice(0, 16)));
  assert.equal(u.progress, 1);
  assert.equal(u.nonce, nonce);
  await assert.rejects(u.submit(randomBytes(8).toString('hex')), badRequest('key is shorter than minimum 16 bytes'));
  assert.equal(u.progress, 1);
});

test('concurrent submits at the threshold: exactly one completes', async () => {
  const init = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const u = new UnsealProgress(cfg53);
  await u.submit(init.shares[0]!.toString('hex'));
  await u.submit(init.shares[1]!.toString('hex'));
  const rs = await Promise.all([u.submit(init.shares[2]!.toString('hex')), u.submit(init.shares[3]!.toString('hex'))]);
  assert.deepEqual(rs.map((r) => r.kind).sort(), ['complete', 'progress']);
  assert.equal(u.progress, 1);
});
