import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { combine } from 'shamir-secret-sharing';
import {
  initializeShamir, openKeyring, openKeyringWithRootKey, readSealConfig, rotateKeyring, validateSealConfig,
  type PhysicalWrite,
} from './seal.js';
import { Barrier } from './barrier.js';
import { decryptValue, termOf } from './aead.js';
import { CofferError } from '../../runtime/errors.js';

const NOW = Date.UTC(2026, 5, 1);

function store(physical: PhysicalWrite[], into = new Map<string, Buffer>()) {
  for (const w of physical) into.set(w.key, w.value);
  return into;
}
const reader = (m: Map<string, Buffer>) => (k: string) => m.get(k);
const u8 = (b: Uint8Array) => { const o = new Uint8Array(b.length); o.set(b); return o; };

/** Every subset of size k of xs. */
function subsets<T>(xs: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs;
  return [...subsets(t, k - 1).map((s) => [h!, ...s]), ...subsets(t, k)];
}

test('validateSealConfig: Vault texts and order', () => {
  const p = 'invalid seal configuration: ';
  assert.equal(validateSealConfig(5, 3), null);
  assert.equal(validateSealConfig(1, 1), null);
  assert.equal(validateSealConfig(255, 255), null);
  assert.equal(validateSealConfig(2, 2), null);
  assert.equal(validateSealConfig(0, 1), p + 'shares must be at least one');
  assert.equal(validateSealConfig(0, 0), p + 'shares must be at least one');
  assert.equal(validateSealConfig(-1, 3), p + 'shares must be at least one');
  assert.equal(validateSealConfig(3, 0), p + 'threshold must be at least one');
  assert.equal(validateSealConfig(5, 1), p + 'threshold must be greater than one for multiple shares');
  assert.equal(validateSealConfig(300, 1), p + 'threshold must be greater than one for multiple shares');
  assert.equal(validateSealConfig(256, 3), p + 'shares must be less than 256');
  assert.equal(validateSealConfig(256, 256), p + 'shares must be less than 256');
  assert.equal(validateSealConfig(255, 256), p + 'threshold must be less than 256');
  assert.equal(validateSealConfig(3, 5), p + 'threshold cannot be larger than shares');
  assert.equal(validateSealConfig(1, 2), p + 'threshold cannot be larger than shares');
  assert.equal(validateSealConfig(NaN, 2), p + 'shares must be at least one');
});

test('init 5/3: 33-byte shares, any 3 reconstruct, 2 do not; openKeyring gives the same keyring', async () => {
  const r = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  assert.equal(r.shares.length, 5);
  for (const s of r.shares) {
    assert.equal(s.length, 33);
    assert.equal(s.toString('hex').length, 66);
    assert.equal(s.toString('base64').length, 44);
  }
  assert.equal(new Set(r.shares.map((s) => s[32])).size, 5, 'distinct x coordinates in the last byte');
  const m = store(r.physical);
  const expected = r.keyring.toBytes();
  let kek: Uint8Array | undefined;
  for (const set of subsets(r.shares, 3)) {
    const k = await combine(set.map(u8));
    assert.equal(k.length, 32);
    if (kek === undefined) kek = k;
    assert.deepEqual(k, kek);
  }
  for (const set of subsets([...r.shares].reverse(), 4)) assert.deepEqual(await combine(set.map(u8)), kek);
  const ring = openKeyring(kek!, reader(m));
  assert.deepEqual(ring.toBytes(), expected);
  assert.equal(ring.activeTerm, 1);
  for (const set of subsets(r.shares, 2)) {
    const k = await combine(set.map(u8));
    assert.notDeepEqual(k, kek);
    assert.throws(() => openKeyring(k, reader(m)), (e: unknown) =>
      e instanceof CofferError && e.value.code === 'COFFER_ERR_INVALID_REQUEST' &&
      e.message === 'invalid key: failed to decrypt keys from storage: cipher: message authentication failed');
  }
});

test('init 1/1: the single key is the raw 32-byte KEK', async () => {
  const r = await initializeShamir({ secretShares: 1, secretThreshold: 1, nowMs: NOW });
  assert.equal(r.shares.length, 1);
  assert.equal(r.shares[0]!.length, 32);
  assert.equal(r.shares[0]!.toString('hex').length, 64);
  const ring = openKeyring(r.shares[0]!, reader(store(r.physical)));
  assert.deepEqual(ring.toBytes(), r.keyring.toBytes());
});

test('init rejects an invalid config with the Vault message', async () => {
  await assert.rejects(initializeShamir({ secretShares: 5, secretThreshold: 1, nowMs: NOW }), (e: unknown) =>
    e instanceof CofferError && e.value.code === 'COFFER_ERR_INVALID_REQUEST' &&
    e.message === 'invalid seal configuration: threshold must be greater than one for multiple shares');
});

test('physical layout: paths, plaintext entries, no raw key material anywhere', async () => {
  const r = await initializeShamir({ secretShares: 5, secretThreshold: 3, nowMs: NOW });
  const kek = Buffer.from(await combine(r.shares.slice(1, 4).map(u8)));
  const m = store(r.physical);
  assert.deepEqual([...m.keys()].sort(), ['core/hsm/barrier-unseal-keys', 'core/keyring', 'core/root-key', 'core/seal-config', 'core/shamir-kek']);
  const cfg = JSON.parse(m.get('core/seal-config')!.toString());
  assert.deepEqual(cfg, { type: 'shamir', secret_shares: 5, secret_threshold: 3, pgp_keys: null, nonce: '', backup: false, stored_shares: 1 });
  assert.deepEqual(readSealConfig(reader(m)), { type: 'shamir', secret_shares: 5, secret_threshold: 3 });
  assert.equal(readSealConfig(() => undefined), null);
  assert.throws(() => readSealConfig(() => Buffer.from('{nope')), CofferError);
  assert.throws(() => readSealConfig(() => Buffer.from('{"type":"shamir","secret_shares":5,"secret_threshold":1}')), CofferError);

  const secrets: Buffer[] = [kek, r.keyring.rootKey, ...r.keyring.terms().map((t) => t.key), ...r.shares];
  const forms = (s: Buffer) => [s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('base64')), Buffer.from(s.toString('base64url'))];
  for (const [path, value] of m) {
    for (const s of secrets) for (const f of forms(s)) assert.equal(value.indexOf(f), -1, `secret material in ${path}`);
    // and no 8-byte window of any secret
    for (const s of secrets) for (let i = 0; i + 8 <= s.length; i++) assert.equal(value.indexOf(s.subarray(i, i + 8)), -1, `secret window in ${path}`);
  }
  // the barrier-encrypted entries are active-term barrier blobs with the right contents
  const b = new Barrier(r.keyring);
  assert.equal(termOf(m.get('core/root-key')!), 1);
  const rk = JSON.parse(b.decrypt('core/root-key', m.get('core/root-key')!).toString());
  assert.deepEqual(rk, { Term: 1, Version: 1, Value: r.keyring.rootKey.toString('base64') });
  assert.deepEqual(b.decrypt('core/shamir-kek', m.get('core/shamir-kek')!), kek);
  // keyring: term marker 1 under the root key, not under the term-1 data key
  assert.equal(termOf(m.get('core/keyring')!), 1);
  assert.throws(() => b.decrypt('core/keyring', m.get('core/keyring')!), CofferError);
  assert.ok(decryptValue(() => r.keyring.rootKey, 'core/keyring', m.get('core/keyring')!).length > 0);
  // the keyring's counters include the two init writes
  assert.equal(r.keyring.activeKey().encryptions, 2);
});

test('openKeyring failures: tampered blob, swapped blob, missing entries, bad key length', async () => {
  const a = await initializeShamir({ secretShares: 1, secretThreshold: 1, nowMs: NOW });
  const b = await initializeShamir({ secretShares: 1, secretThreshold: 1, nowMs: NOW });
  const ma = store(a.physical);
  const kek = a.shares[0]!;
  const invalidKey = (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INVALID_REQUEST' && e.message.startsWith('invalid key: failed to decrypt keys from storage: ')
    && !e.message.includes(kek.toString('hex')) && !e.message.includes(kek.toString('base64'));
  const blob = ma.get('core/hsm/barrier-unseal-keys')!;
  for (let i = 0; i < blob.length; i++) {
    const bad = Buffer.from(blob);
    bad[i]! ^= 1;
    assert.throws(() => openKeyring(kek, (k) => (k === 'core/hsm/barrier-unseal-keys' ? bad : ma.get(k))), invalidKey, `byte ${i}`);
  }
  assert.throws(() => openKeyring(kek.subarray(0, 31), reader(ma)), invalidKey);
  assert.throws(() => openKeyring(Buffer.concat([kek, Buffer.from([1])]), reader(ma)), invalidKey);
  assert.throws(() => openKeyring(b.shares[0]!, reader(ma)), invalidKey);
  assert.throws(() => openKeyring(kek, () => undefined), (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INTERNAL');
  // a right KEK but another cluster's keyring: storage corruption, not an operator error
  const mixed = new Map(ma);
  mixed.set('core/keyring', store(b.physical).get('core/keyring')!);
  assert.throws(() => openKeyring(kek, reader(mixed)), (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INTERNAL');
  const noRing = new Map(ma);
  noRing.delete('core/keyring');
  assert.throws(() => openKeyring(kek, reader(noRing)), (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INTERNAL');
});

test('rotateKeyring: keyring, root-key and upgrade entries; reopen after two rotations', async () => {
  const r = await initializeShamir({ secretShares: 3, secretThreshold: 2, nowMs: NOW });
  const m = store(r.physical);
  const kek = Buffer.from(await combine(r.shares.slice(0, 2).map(u8)));
  const b1 = new Barrier(r.keyring);
  const c1 = b1.encrypt('logical/x/a', Buffer.from('v1'));

  const rot1 = rotateKeyring(r.keyring, NOW + 1);
  assert.deepEqual(rot1.physical.map((w) => w.key), ['core/keyring', 'core/root-key', 'core/upgrade/1']);
  store(rot1.physical, m);
  const b2 = new Barrier(rot1.keyring);
  const c2 = b2.encrypt('logical/x/b', Buffer.from('v2'));
  const rot2 = rotateKeyring(rot1.keyring, NOW + 2);
  assert.deepEqual(rot2.physical.map((w) => w.key), ['core/keyring', 'core/root-key', 'core/upgrade/2']);
  store(rot2.physical, m);

  // upgrade entry n: the new key encrypted under term n
  assert.equal(termOf(m.get('core/upgrade/1')!), 1);
  const up = JSON.parse(decryptValue((t) => rot2.keyring.keyFor(t), 'core/upgrade/1', m.get('core/upgrade/1')!).toString());
  assert.equal(up.Term, 2);
  assert.equal(up.Value, rot2.keyring.keyFor(2)!.toString('base64'));
  assert.equal(termOf(m.get('core/upgrade/2')!), 2);
  assert.equal(termOf(m.get('core/root-key')!), 3);
  assert.equal(termOf(m.get('core/keyring')!), 1);

  // a restart: unseal with the same KEK, everything old is readable, new writes use term 3
  const ring = openKeyring(kek, reader(m));
  assert.equal(ring.activeTerm, 3);
  assert.deepEqual(ring.terms().map((t) => t.key), rot2.keyring.terms().map((t) => t.key));
  const b3 = new Barrier(ring);
  assert.equal(b3.decrypt('logical/x/a', c1).toString(), 'v1');
  assert.equal(b3.decrypt('logical/x/b', c2).toString(), 'v2');
  assert.equal(termOf(b3.encrypt('logical/x/c', Buffer.from('v3'))), 3);
  // a standby holding the root key reloads the rotated keyring
  assert.equal(openKeyringWithRootKey(r.keyring.rootKey, reader(m)).activeTerm, 3);
  // no raw keys in any rotation write
  for (const w of [...rot1.physical, ...rot2.physical]) {
    for (const t of rot2.keyring.terms()) assert.equal(w.value.indexOf(t.key), -1);
    assert.equal(w.value.indexOf(ring.rootKey), -1);
  }
});

// Vault's shamir works in GF(2^8) with the AES polynomial (x^8+x^4+x^3+x+1) and appends the x coordinate as the
// last byte of each part. Build parts by hand with a bitwise multiply and check the library combines them.
function gfMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) r ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b;
    b >>= 1;
  }
  return r;
}

test('share format matches Vault: AES-field GF(2^8), x coordinate in the last byte', async () => {
  const secret = randomBytes(32);
  const coeffs = Array.from({ length: 32 }, () => [randomBytes(1)[0]!, randomBytes(1)[0]!]); // degree 2 → threshold 3
  const xs = [7, 42, 200];
  const parts = xs.map((x) => {
    const p = new Uint8Array(33);
    for (let i = 0; i < 32; i++) {
      const [a1, a2] = coeffs[i]!;
      p[i] = secret[i]! ^ gfMul(a1!, x) ^ gfMul(a2!, gfMul(x, x));
    }
    p[32] = x;
    return p;
  });
  assert.deepEqual(Buffer.from(await combine(parts)), secret);
});
