import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Keyring, ABSOLUTE_MAX_OPERATIONS, MAX_TERM_AGE_MS } from './keyring.js';
import { Barrier } from './barrier.js';
import { termOf } from './aead.js';
import { CofferError } from '../../runtime/errors.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

test('create: term 1, fresh key, root key copied', () => {
  const root = randomBytes(32);
  const k = Keyring.create(root, T0);
  assert.equal(k.activeTerm, 1);
  assert.deepEqual(k.rootKey, root);
  assert.equal(k.activeKey().term, 1);
  assert.equal(k.activeKey().key.length, 32);
  assert.notDeepEqual(k.activeKey().key, root);
  assert.equal(k.activeKey().installTimeMs, T0);
  assert.equal(k.keyFor(2), undefined);
  assert.notDeepEqual(Keyring.create(root, T0).activeKey().key, k.activeKey().key);
  assert.throws(() => Keyring.create(randomBytes(16), T0));
});

test('old terms decrypt after two rotations, new writes use the newest term', () => {
  const k1 = Keyring.create(randomBytes(32), T0);
  const b = new Barrier(k1);
  const c1 = b.encrypt('a', Buffer.from('one'));
  const k2 = k1.withRotation(T0 + 1);
  assert.equal(k1.activeTerm, 1, 'rotation does not mutate the old keyring');
  b.install(k2);
  const c2 = b.encrypt('b', Buffer.from('two'));
  const b3 = new Barrier(k2.withRotation(T0 + 2));
  const c3 = b3.encrypt('c', Buffer.from('three'));
  assert.deepEqual([termOf(c1), termOf(c2), termOf(c3)], [1, 2, 3]);
  assert.equal(b3.keyring.activeTerm, 3);
  assert.deepEqual(b3.keyring.terms().map((t) => t.term), [1, 2, 3]);
  assert.equal(b3.decrypt('a', c1).toString(), 'one');
  assert.equal(b3.decrypt('b', c2).toString(), 'two');
  assert.equal(b3.decrypt('c', c3).toString(), 'three');
  assert.throws(() => b.decrypt('c', c3), CofferError, 'an older keyring cannot read a newer term');
  assert.throws(() => b3.decrypt('a', c2), CofferError, 'AAD still enforced');
  const keys = b3.keyring.terms().map((t) => t.key.toString('hex'));
  assert.equal(new Set(keys).size, 3);
});

test('encryptions are counted per active term', () => {
  const b = new Barrier(Keyring.create(randomBytes(32), T0));
  for (let i = 0; i < 5; i++) b.encrypt('x', Buffer.from('y'));
  b.decrypt('x', b.encrypt('x', Buffer.from('y')));
  assert.equal(b.keyring.activeKey().encryptions, 6);
  b.install(b.keyring.withRotation(T0));
  b.encrypt('x', Buffer.from('y'));
  assert.deepEqual(b.keyring.terms().map((t) => t.encryptions), [6, 1]);
});

test('keyring bytes round trip (§5 JSON)', () => {
  const b = new Barrier(Keyring.create(randomBytes(32), T0));
  b.encrypt('x', Buffer.from('y'));
  const k = b.keyring.withRotation(T0 + 1000).withRotation(T0 + 2000);
  const bytes = k.toBytes();
  const doc = JSON.parse(bytes.toString());
  assert.deepEqual(Object.keys(doc), ['MasterKey', 'Keys', 'RotationConfig']);
  assert.deepEqual(Object.keys(doc.Keys[0]), ['Term', 'Version', 'Value', 'InstallTime', 'encryptions']);
  assert.equal(doc.Keys[0].InstallTime, new Date(T0).toISOString());
  assert.equal(doc.Keys[0].encryptions, 1);
  assert.equal(doc.Keys[0].Version, 1);
  assert.equal(doc.MasterKey, k.rootKey.toString('base64'));
  assert.deepEqual(doc.RotationConfig, { Disabled: false, MaxOperations: ABSOLUTE_MAX_OPERATIONS, Interval: 0 });
  const back = Keyring.fromBytes(bytes);
  assert.equal(back.activeTerm, 3);
  assert.deepEqual(back.rootKey, k.rootKey);
  assert.deepEqual(back.terms(), k.terms());
  assert.deepEqual(back.rotationConfig, k.rotationConfig);
  assert.deepEqual(back.toBytes(), bytes);
  // rotation config survives, interval in Go nanoseconds
  const cfg = k.withRotationConfig({ disabled: true, maxOperations: 2_000_000, intervalMs: 86_400_000 });
  const cdoc = JSON.parse(cfg.toBytes().toString());
  assert.equal(cdoc.RotationConfig.Interval, 86_400_000 * 1e6);
  assert.deepEqual(Keyring.fromBytes(cfg.toBytes()).rotationConfig, cfg.rotationConfig);
});

test('fromBytes rejects malformed input without echoing it', () => {
  const good = JSON.parse(Keyring.create(randomBytes(32), T0).toBytes().toString());
  const secretish = good.Keys[0].Value as string;
  const cases: unknown[] = [
    'not json ' + secretish,
    [],
    { ...good, MasterKey: 'AAAA' },
    { ...good, Keys: [] },
    { ...good, Keys: [{ ...good.Keys[0], Term: 0 }] },
    { ...good, Keys: [good.Keys[0], good.Keys[0]] },
    { ...good, Keys: [{ ...good.Keys[0], Value: secretish.slice(0, -4) }] },
    { ...good, Keys: [{ ...good.Keys[0], InstallTime: 'yesterday' }] },
    { ...good, Keys: [{ ...good.Keys[0], encryptions: -1 }] },
  ];
  for (const c of cases) {
    const bytes = Buffer.from(typeof c === 'string' ? c : JSON.stringify(c));
    assert.throws(
      () => Keyring.fromBytes(bytes),
      (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_INTERNAL' && !e.message.includes(secretish.slice(0, 8)) && !e.message.includes(good.MasterKey.slice(0, 8)),
    );
  }
});

test('shouldRotate: operations, interval, age', () => {
  const k = Keyring.create(randomBytes(32), T0);
  assert.equal(k.shouldRotate(T0 + 1), false);
  assert.equal(k.shouldRotate(T0 + MAX_TERM_AGE_MS), true);
  const c = k.withRotationConfig({ disabled: false, maxOperations: 1_000_000, intervalMs: 86_400_000 });
  assert.equal(c.shouldRotate(T0 + 86_400_000), true);
  c.activeKey().encryptions = 1_000_000;
  assert.equal(c.shouldRotate(T0), true);
  const d = k.withRotationConfig({ disabled: true, maxOperations: 1_000_000, intervalMs: 86_400_000 });
  d.activeKey().encryptions = 1_000_000;
  assert.equal(d.shouldRotate(T0 + 86_400_000), false);
  d.activeKey().encryptions = ABSOLUTE_MAX_OPERATIONS;
  assert.equal(d.shouldRotate(T0), true, 'absolute maximum applies even when disabled');
});
