// Transit through testMount: key management, every key type's round trip, batches, derivation,
// tampering, signatures cross-checked with node:crypto, rotation rules, deletion, hmac, random, hash.
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, createPublicKey, hkdfSync, verify as cryptoVerify } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { CofferError } from '../../../runtime/errors.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import { transitBackend } from './backend.js';
import { decodeBase64, ed25519PublicFromRaw } from './crypto.js';
import { destroyTransitPool, POOL_BATCH_THRESHOLD } from './ops.js';

after(() => destroyTransitPool());

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 600);

function mount(): TestMount {
  return testMount(transitBackend, { type: 'transit', path: 'transit/' });
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

async function fails(p: Promise<unknown>): Promise<[string, string[]]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CofferError, String(err));
    return [err.value.code, err.value.messages];
  }
  return ['ok', []];
}

async function data(m: TestMount, op: 'update' | 'read' | 'list' | 'delete', path: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await m.request(op, path, body, { nowMs: NOW });
  return (r.result?.data ?? {}) as Record<string, unknown>;
}

async function create(m: TestMount, name: string, body: Record<string, unknown> = {}) {
  return data(m, 'update', `keys/${name}`, body);
}

describe('transit keys', () => {
  it('creates with Vault key info; a second create warns; read, list, 404 on a missing key', async () => {
    const m = mount();
    const info = await create(m, 'k1');
    assert.equal(info.type, 'aes256-gcm96');
    assert.equal(info.latest_version, 1);
    assert.equal(info.min_decryption_version, 1);
    assert.equal(info.min_encryption_version, 0);
    assert.equal(info.deletion_allowed, false);
    assert.equal(info.derived, false);
    assert.equal(info.exportable, false);
    assert.equal(info.supports_encryption, true);
    assert.equal(info.supports_signing, false);
    assert.equal(info.supports_derivation, true);
    assert.deepEqual(info.keys, { '1': Math.floor(NOW / 1000) });
    const again = await m.request('update', 'keys/k1', { type: 'ed25519' }, { nowMs: NOW });
    assert.deepEqual(again.result?.warnings, ['key k1 already existed']);
    assert.equal((again.result?.data as Record<string, unknown>).type, 'aes256-gcm96');
    assert.deepEqual(await data(m, 'read', 'keys/k1'), info);
    await create(m, 'k2', { type: 'ed25519', exportable: true });
    assert.deepEqual(await data(m, 'list', 'keys/'), { keys: ['k1', 'k2'] });
    assert.deepEqual(await fails(m.request('read', 'keys/nope')), ['COFFER_ERR_NOT_FOUND', []]);
    assert.deepEqual(await fails(mount().request('list', 'keys/')), ['COFFER_ERR_NOT_FOUND', []]);
  });

  it('refuses unknown types, derivation on ecdsa/rsa, convergent without derivation, short auto-rotate', async () => {
    const m = mount();
    assert.deepEqual(await fails(create(m, 'x', { type: 'des' })), ['COFFER_ERR_INVALID_REQUEST', ['unknown key type des']]);
    assert.deepEqual(await fails(create(m, 'x', { convergent_encryption: true })), ['COFFER_ERR_INVALID_REQUEST', ['convergent encryption requires derivation to be enabled']]);
    assert.deepEqual(await fails(create(m, 'x', { auto_rotate_period: '30m' })), ['COFFER_ERR_INVALID_REQUEST', ['auto rotate period must be 0 to disable or at least an hour']]);
    assert.deepEqual(await fails(create(m, 'x', { type: 'ecdsa-p256', derived: true })), [
      'COFFER_ERR_INTERNAL',
      ['key derivation and convergent encryption not supported for keys of type ecdsa-p256'],
    ]);
    assert.equal((await create(m, 'x', { auto_rotate_period: '2h' })).auto_rotate_period, 7200);
  });

  it('asymmetric key info carries public keys; ecdsa is PKIX PEM, ed25519 raw base64', async () => {
    const m = mount();
    const ec = (await create(m, 'ec', { type: 'ecdsa-p256' })).keys as Record<string, Record<string, string>>;
    assert.equal(ec['1']?.name, 'P-256');
    assert.match(ec['1']?.public_key ?? '', /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(ec['1']?.creation_time, '2026-01-02T03:04:05.6Z');
    const ed = (await create(m, 'ed', { type: 'ed25519' })).keys as Record<string, Record<string, string>>;
    assert.equal(ed['1']?.name, 'ed25519');
    assert.equal(Buffer.from(ed['1']?.public_key ?? '', 'base64').length, 32);
    const rsa = (await create(m, 'rsa', { type: 'rsa-2048' })).keys as Record<string, Record<string, string>>;
    assert.equal(rsa['1']?.name, 'rsa-2048');
    assert.equal(createPublicKey(rsa['1']?.public_key ?? '').asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('delete is refused until deletion_allowed is set through config', async () => {
    const m = mount();
    await create(m, 'd');
    assert.deepEqual(await fails(m.request('delete', 'keys/d')), ['COFFER_ERR_INVALID_REQUEST', ['error deleting policy d: deletion is not allowed for this key']]);
    assert.deepEqual(await fails(m.request('delete', 'keys/none')), ['COFFER_ERR_INVALID_REQUEST', ['error deleting policy none: could not delete key; not found']]);
    const cfg = await data(m, 'update', 'keys/d/config', { deletion_allowed: true });
    assert.equal(cfg.deletion_allowed, true);
    assert.equal((await m.request('delete', 'keys/d')).result, null);
    assert.deepEqual(await fails(m.request('read', 'keys/d')), ['COFFER_ERR_NOT_FOUND', []]);
  });

  it('config validates versions; exportable cannot be turned off', async () => {
    const m = mount();
    await create(m, 'c');
    assert.deepEqual(await fails(m.request('update', 'keys/c/config', { min_decryption_version: 2 })), ['COFFER_ERR_INVALID_REQUEST', ['cannot set min decryption version of 2, latest key version is 1']]);
    assert.deepEqual(await fails(m.request('update', 'keys/c/config', { min_encryption_version: -1 })), ['COFFER_ERR_INVALID_REQUEST', ['min encryption version cannot be negative']]);
    assert.deepEqual(await fails(m.request('update', 'keys/nokey/config', {})), ['COFFER_ERR_INVALID_REQUEST', ['no existing key named nokey could be found']]);
    const r = await m.request('update', 'keys/c/config', { min_decryption_version: 0, exportable: true });
    assert.deepEqual(r.result?.warnings, ['since Vault 0.3 (prior to the OpenBao fork), transit key numbering starts at 1; forcing minimum to 1']);
    assert.equal((await data(m, 'update', 'keys/c/config', { exportable: false })).exportable, true);
    for (let i = 0; i < 2; i++) await data(m, 'update', 'keys/c/rotate');
    assert.deepEqual(await fails(m.request('update', 'keys/c/config', { min_decryption_version: 3, min_encryption_version: 2 })), [
      'COFFER_ERR_INVALID_REQUEST',
      ['cannot set min encryption/decryption values; min encryption version of 2 must be greater than or equal to min decryption version of 3'],
    ]);
  });

  it('names outside Vault\'s name pattern do not route', async () => {
    const m = mount();
    assert.equal((await fails(m.request('update', 'keys/-bad', {})))[0], 'COFFER_ERR_UNSUPPORTED_PATH');
  });
});

describe('transit encrypt/decrypt', () => {
  for (const type of ['aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305', 'rsa-2048']) {
    it(`round-trips with ${type}`, async () => {
      const m = mount();
      await create(m, 'k', { type });
      const enc = await data(m, 'update', 'encrypt/k', { plaintext: b64('the quick brown fox') });
      assert.match(String(enc.ciphertext), /^vault:v1:[A-Za-z0-9+/]+=*$/);
      assert.equal(enc.key_version, 1);
      assert.deepEqual(await data(m, 'update', 'decrypt/k', { ciphertext: enc.ciphertext }), { plaintext: b64('the quick brown fox') });
      const empty = await data(m, 'update', 'encrypt/k', { plaintext: '' });
      assert.deepEqual(await data(m, 'update', 'decrypt/k', { ciphertext: empty.ciphertext }), { plaintext: '' });
    });
  }

  it('the ciphertext is base64(nonce ‖ ct ‖ tag) under the stored AES key (cross-checked with node:crypto)', async () => {
    const m = mount();
    await create(m, 'k');
    const enc = await data(m, 'update', 'encrypt/k', { plaintext: b64('hello') });
    const raw = Buffer.from(String(enc.ciphertext).slice('vault:v1:'.length), 'base64');
    assert.equal(raw.length, 12 + 5 + 16);
    const stored = JSON.parse(String(m.physical.data.get('logical/mount-uuid/policy/k')?.subarray('logical/mount-uuid/policy/k\0'.length + 8))) as { keys: Record<string, { key: string }> };
    const key = Buffer.from(stored.keys['1']?.key ?? '', 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    assert.equal(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString(), 'hello');
  });

  it('upserts a missing key on encrypt (create), not on decrypt', async () => {
    const m = mount();
    const r = await m.request('update', 'encrypt/auto', { plaintext: b64('x') }, { nowMs: NOW });
    assert.equal(r.operation, 'create');
    assert.equal((await data(m, 'read', 'keys/auto')).type, 'aes256-gcm96');
    assert.equal((await m.request('update', 'encrypt/auto', { plaintext: b64('x') })).operation, 'update');
    assert.deepEqual(await fails(m.request('update', 'decrypt/nokey', { ciphertext: 'vault:v1:AAAA' })), ['COFFER_ERR_INVALID_REQUEST', ['encryption key not found']]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/ec', { plaintext: b64('x'), type: 'ecdsa-p256' })), ['COFFER_ERR_INVALID_REQUEST', ['key type ecdsa-p256 not supported for this operation']]);
    await data(m, 'update', 'config/keys', { disable_upsert: true });
    assert.deepEqual(await fails(m.request('update', 'encrypt/other', { plaintext: b64('x') })), ['COFFER_ERR_INVALID_REQUEST', ['encryption key not found']]);
  });

  it('rejects missing plaintext, bad base64, signing-only keys', async () => {
    const m = mount();
    await create(m, 'k');
    await create(m, 'ed', { type: 'ed25519' });
    assert.deepEqual(await fails(m.request('update', 'encrypt/k', {})), ['COFFER_ERR_INVALID_REQUEST', ['missing plaintext to encrypt']]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/k', { plaintext: 'no!' })), ['COFFER_ERR_INVALID_REQUEST', ['illegal base64 data at input byte 2']]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/ed', { plaintext: b64('x') })), ['COFFER_ERR_INVALID_REQUEST', ['message encryption not supported for key type ed25519']]);
    assert.deepEqual(await fails(m.request('update', 'decrypt/k', {})), ['COFFER_ERR_INVALID_REQUEST', ['missing ciphertext to decrypt']]);
    assert.deepEqual(await fails(m.request('update', 'decrypt/k', { ciphertext: 'v1:abc' })), ['COFFER_ERR_INVALID_REQUEST', ['invalid ciphertext: no prefix']]);
    assert.deepEqual(await fails(m.request('update', 'decrypt/k', { ciphertext: 'vault:v9:abc' })), ['COFFER_ERR_INVALID_REQUEST', ['invalid ciphertext: version is too new']]);
    assert.deepEqual(await fails(m.request('update', 'decrypt/k', { ciphertext: 'vault:vx:abc' })), ['COFFER_ERR_INVALID_REQUEST', ['invalid ciphertext: version number could not be decoded']]);
  });

  it('tampered ciphertext fails authentication and returns no plaintext', async () => {
    const m = mount();
    for (const [type, msg] of [
      ['aes256-gcm96', 'cipher: message authentication failed'],
      ['chacha20-poly1305', 'chacha20poly1305: message authentication failed'],
    ] as const) {
      await create(m, type, { type });
      const enc = String((await data(m, 'update', `encrypt/${type}`, { plaintext: b64('secret payload') })).ciphertext);
      const raw = Buffer.from(enc.slice(9), 'base64');
      for (const at of [0, 14, raw.length - 1]) {
        const t = Buffer.from(raw);
        t[at] = (t[at] as number) ^ 1;
        const [code, messages] = await fails(m.request('update', `decrypt/${type}`, { ciphertext: `vault:v1:${t.toString('base64')}` }));
        assert.deepEqual([code, messages], ['COFFER_ERR_INVALID_REQUEST', [msg]]);
        assert.ok(!messages.join().includes('secret'));
      }
      const short = await fails(m.request('update', `decrypt/${type}`, { ciphertext: `vault:v1:${raw.subarray(0, 8).toString('base64')}` }));
      assert.deepEqual(short, ['COFFER_ERR_INVALID_REQUEST', ['invalid ciphertext length']]);
      const batch = await m.request('update', `decrypt/${type}`, { batch_input: [{ ciphertext: `vault:v1:${Buffer.concat([raw.subarray(0, 20), Buffer.alloc(raw.length - 20)]).toString('base64')}` }] });
      assert.deepEqual(batch.result?.data, { batch_results: [{ plaintext: '', error: msg, reference: '' }] });
      assert.equal(batch.result?.statusCode, 400);
    }
  });

  it('batch: per-item results and errors, references, 400 on any failed item, partial_failure_response_code', async () => {
    const m = mount();
    await create(m, 'k');
    const r = await m.request('update', 'encrypt/k', { batch_input: [{ plaintext: b64('a'), reference: 'r1' }, { plaintext: '%%%' }, { plaintext: b64('c'), key_version: 5 }] });
    assert.equal(r.result?.statusCode, 400);
    const results = (r.result?.data as { batch_results: Record<string, unknown>[] }).batch_results;
    assert.equal(results.length, 3);
    assert.match(String(results[0]?.ciphertext), /^vault:v1:/);
    assert.equal(results[0]?.key_version, 1);
    assert.equal(results[0]?.reference, 'r1');
    assert.deepEqual(results[1], { error: 'illegal base64 data at input byte 0', reference: '' });
    assert.deepEqual(results[2], { error: 'requested version for encryption is higher than the latest key version', reference: '' });
    const p = await m.request('update', 'encrypt/k', { batch_input: [{ plaintext: b64('a') }, { plaintext: '%' }], partial_failure_response_code: 207 });
    assert.equal(p.result?.statusCode, 207);
    const ok = await m.request('update', 'encrypt/k', { batch_input: [{ plaintext: b64('a') }, { plaintext: b64('b') }] });
    assert.equal(ok.result?.statusCode, undefined);
    const cts = (ok.result?.data as { batch_results: { ciphertext: string }[] }).batch_results.map((x) => ({ ciphertext: x.ciphertext, reference: 'x' }));
    const dec = await data(m, 'update', 'decrypt/k', { batch_input: [...cts, { ciphertext: '' }] });
    assert.deepEqual(dec.batch_results, [
      { plaintext: b64('a'), reference: 'x' },
      { plaintext: b64('b'), reference: 'x' },
      { plaintext: '', error: 'missing ciphertext to decrypt', reference: '' },
    ]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/k', { batch_input: [] })), ['COFFER_ERR_INVALID_REQUEST', ['missing batch input to process']]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/k', { batch_input: [{ plaintext: '', context: b64('c') }, { plaintext: '' }] })), [
      'COFFER_ERR_INVALID_REQUEST',
      ['context should be set either in all the request blocks or in none'],
    ]);
  });

  it(`batches larger than ${POOL_BATCH_THRESHOLD} items run on the CPU pool with the same results`, async () => {
    const m = mount();
    await create(m, 'k');
    const n = POOL_BATCH_THRESHOLD * 2 + 7;
    const items = Array.from({ length: n }, (_, i) => ({ plaintext: i === 300 ? '!' : b64(`item ${i}`), reference: String(i) }));
    const r = await m.request('update', 'encrypt/k', { batch_input: items });
    const results = (r.result?.data as { batch_results: Record<string, unknown>[] }).batch_results;
    assert.equal(results.length, n);
    assert.equal(r.result?.statusCode, 400);
    assert.equal(results[300]?.error, 'illegal base64 data at input byte 0');
    const back = await data(m, 'update', 'decrypt/k', { batch_input: results.filter((x) => x.ciphertext).map((x) => ({ ciphertext: x.ciphertext, reference: x.reference })) });
    const plain = back.batch_results as { plaintext: string; reference: string }[];
    assert.equal(plain.length, n - 1);
    for (const p of plain) assert.equal(Buffer.from(p.plaintext, 'base64').toString(), `item ${p.reference}`);
  });

  it('derived keys need a context; HKDF-SHA256 per context as keysutil', async () => {
    const m = mount();
    await create(m, 'dk', { derived: true });
    const info = await data(m, 'read', 'keys/dk');
    assert.equal(info.derived, true);
    assert.equal(info.kdf, 'hkdf_sha256');
    assert.equal(info.convergent_encryption, false);
    const need = "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";
    assert.deepEqual(await fails(m.request('update', 'encrypt/dk', { plaintext: b64('x') })), ['COFFER_ERR_INVALID_REQUEST', [need]]);
    const enc = await data(m, 'update', 'encrypt/dk', { plaintext: b64('per tenant'), context: b64('tenant-1') });
    assert.equal((await data(m, 'update', 'decrypt/dk', { ciphertext: enc.ciphertext, context: b64('tenant-1') })).plaintext, b64('per tenant'));
    assert.deepEqual(await fails(m.request('update', 'decrypt/dk', { ciphertext: enc.ciphertext, context: b64('tenant-2') })), ['COFFER_ERR_INVALID_REQUEST', ['cipher: message authentication failed']]);
    assert.deepEqual(await fails(m.request('update', 'decrypt/dk', { ciphertext: enc.ciphertext })), ['COFFER_ERR_INVALID_REQUEST', [need]]);
    // The derived key is HKDF-SHA256(key, salt=∅, info=context), 32 bytes.
    const stored = JSON.parse(String(m.physical.data.get('logical/mount-uuid/policy/dk')?.subarray('logical/mount-uuid/policy/dk\0'.length + 8))) as { keys: Record<string, { key: string }> };
    const dkey = Buffer.from(hkdfSync('sha256', Buffer.from(stored.keys['1']?.key ?? '', 'base64'), Buffer.alloc(0), Buffer.from('tenant-1'), 32));
    const raw = Buffer.from(String(enc.ciphertext).slice(9), 'base64');
    const d = createDecipheriv('aes-256-gcm', dkey, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    assert.equal(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString(), 'per tenant');
  });

  it('upsert with a context creates a derived key; convergent encryption is deterministic per context', async () => {
    const m = mount();
    await data(m, 'update', 'encrypt/up', { plaintext: b64('x'), context: b64('c') });
    assert.equal((await data(m, 'read', 'keys/up')).derived, true);
    await create(m, 'conv', { derived: true, convergent_encryption: true });
    const a = await data(m, 'update', 'encrypt/conv', { plaintext: b64('same'), context: b64('ctx') });
    const b = await data(m, 'update', 'encrypt/conv', { plaintext: b64('same'), context: b64('ctx') });
    const c = await data(m, 'update', 'encrypt/conv', { plaintext: b64('same'), context: b64('other') });
    assert.equal(a.ciphertext, b.ciphertext);
    assert.notEqual(a.ciphertext, c.ciphertext);
    assert.equal((await data(m, 'update', 'decrypt/conv', { ciphertext: a.ciphertext, context: b64('ctx') })).plaintext, b64('same'));
  });

  it('associated data binds the ciphertext (AEAD only)', async () => {
    const m = mount();
    await create(m, 'k');
    await create(m, 'r', { type: 'rsa-2048' });
    const enc = await data(m, 'update', 'encrypt/k', { plaintext: b64('x'), associated_data: b64('aad') });
    assert.equal((await data(m, 'update', 'decrypt/k', { ciphertext: enc.ciphertext, associated_data: b64('aad') })).plaintext, b64('x'));
    assert.deepEqual(await fails(m.request('update', 'decrypt/k', { ciphertext: enc.ciphertext })), ['COFFER_ERR_INVALID_REQUEST', ['cipher: message authentication failed']]);
    assert.deepEqual(await fails(m.request('update', 'encrypt/r', { plaintext: b64('x'), associated_data: b64('aad') })), ['COFFER_ERR_INVALID_REQUEST', ["'[0].associated_data' provided for non-AEAD cipher suite rsa-2048"]]);
  });
});

describe('transit rotation and versions', () => {
  it('encrypt after rotate uses the newest version; old versions decrypt until min_decryption_version excludes them', async () => {
    const m = mount();
    await create(m, 'r');
    const v1 = String((await data(m, 'update', 'encrypt/r', { plaintext: b64('one') })).ciphertext);
    const rotated = await data(m, 'update', 'keys/r/rotate');
    assert.equal(rotated.latest_version, 2);
    const e2 = await data(m, 'update', 'encrypt/r', { plaintext: b64('two') });
    assert.match(String(e2.ciphertext), /^vault:v2:/);
    assert.equal(e2.key_version, 2);
    assert.match(String((await data(m, 'update', 'encrypt/r', { plaintext: b64('x'), key_version: 1 })).ciphertext), /^vault:v1:/);
    assert.equal((await data(m, 'update', 'decrypt/r', { ciphertext: v1 })).plaintext, b64('one'));
    // rewrap moves a v1 ciphertext to v2
    const rw = await data(m, 'update', 'rewrap/r', { ciphertext: v1 });
    assert.match(String(rw.ciphertext), /^vault:v2:/);
    assert.equal(rw.key_version, 2);
    assert.equal((await data(m, 'update', 'decrypt/r', { ciphertext: rw.ciphertext })).plaintext, b64('one'));

    const cfg = await data(m, 'update', 'keys/r/config', { min_decryption_version: 2 });
    assert.deepEqual(Object.keys(cfg.keys as object), ['2']);
    assert.deepEqual(await fails(m.request('update', 'decrypt/r', { ciphertext: v1 })), ['COFFER_ERR_INVALID_REQUEST', ['ciphertext or signature version is disallowed by policy (too old)']]);
    assert.deepEqual(await fails(m.request('update', 'rewrap/r', { ciphertext: v1 })), ['COFFER_ERR_INVALID_REQUEST', ['ciphertext or signature version is disallowed by policy (too old)']]);
    await data(m, 'update', 'keys/r/rotate');
    await data(m, 'update', 'keys/r/config', { min_encryption_version: 3 });
    assert.deepEqual(await fails(m.request('update', 'encrypt/r', { plaintext: b64('x'), key_version: 2 })), [
      'COFFER_ERR_INVALID_REQUEST',
      ['requested version for encryption is less than the minimum encryption key version'],
    ]);
    assert.deepEqual(await fails(m.request('update', 'keys/none/rotate')), ['COFFER_ERR_INVALID_REQUEST', ['key not found']]);
  });

  it('concurrent rotations of one key are serialised by the storage guards: none is lost', async () => {
    const m = mount();
    await create(m, 'cc', { type: 'ed25519' });
    await Promise.all(Array.from({ length: 6 }, () => m.request('update', 'keys/cc/rotate', {}, { nowMs: NOW })));
    const info = await data(m, 'read', 'keys/cc');
    assert.equal(info.latest_version, 7);
    assert.deepEqual(Object.keys(info.keys as object), ['1', '2', '3', '4', '5', '6', '7']);
  });

  it('datakey plaintext|wrapped with 128/256/512 bits; the wrapped key decrypts to the plaintext', async () => {
    const m = mount();
    await create(m, 'k');
    for (const bits of [128, 256, 512]) {
      const dk = await data(m, 'update', 'datakey/plaintext/k', { bits });
      assert.equal(Buffer.from(String(dk.plaintext), 'base64').length, bits / 8);
      assert.equal(dk.key_version, 1);
      assert.equal((await data(m, 'update', 'decrypt/k', { ciphertext: dk.ciphertext })).plaintext, dk.plaintext);
    }
    const wrapped = await data(m, 'update', 'datakey/wrapped/k');
    assert.equal(wrapped.plaintext, undefined);
    assert.match(String(wrapped.ciphertext), /^vault:v1:/);
    assert.deepEqual(await fails(m.request('update', 'datakey/plaintext/k', { bits: 100 })), ['COFFER_ERR_INVALID_REQUEST', ['invalid bit length']]);
    assert.deepEqual(await fails(m.request('update', 'datakey/other/k', {})), ['COFFER_ERR_INVALID_REQUEST', ["Invalid path, must be 'plaintext' or 'wrapped'"]]);
  });
});

describe('transit sign/verify', () => {
  const input = b64('message to sign');

  it('ed25519: signature verifies with node:crypto and the published public key; tampering fails', async () => {
    const m = mount();
    const info = await create(m, 'ed', { type: 'ed25519' });
    const pub = ed25519PublicFromRaw(Buffer.from((info.keys as Record<string, { public_key: string }>)['1']?.public_key ?? '', 'base64'));
    const s = await data(m, 'update', 'sign/ed', { input });
    assert.equal(s.key_version, 1);
    const sig = Buffer.from(String(s.signature).slice(9), 'base64');
    assert.equal(sig.length, 64);
    assert.ok(cryptoVerify(null, Buffer.from('message to sign'), pub, sig));
    assert.deepEqual(await data(m, 'update', 'verify/ed', { input, signature: s.signature }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/ed', { input: b64('other message'), signature: s.signature }), { valid: false });
  });

  it('derived ed25519 signs per context; the key read with that context shows the public key', async () => {
    const m = mount();
    await create(m, 'ded', { type: 'ed25519', derived: true });
    assert.equal(((await data(m, 'read', 'keys/ded')).keys as Record<string, { public_key: string }>)['1']?.public_key, '');
    const s = await data(m, 'update', 'sign/ded', { input, context: b64('ctx') });
    const pubRaw = ((await data(m, 'read', 'keys/ded', { context: b64('ctx') })).keys as Record<string, { public_key: string }>)['1']?.public_key ?? '';
    assert.equal(s.public_key, pubRaw);
    assert.ok(cryptoVerify(null, Buffer.from('message to sign'), ed25519PublicFromRaw(Buffer.from(pubRaw, 'base64')), Buffer.from(String(s.signature).slice(9), 'base64')));
    assert.deepEqual(await data(m, 'update', 'verify/ded', { input, signature: s.signature, context: b64('ctx') }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/ded', { input, signature: s.signature, context: b64('other') }), { valid: false });
    assert.equal((await fails(m.request('update', 'sign/ded', { input })))[0], 'COFFER_ERR_INTERNAL');
  });

  it('ecdsa-p256: asn1 and jws marshaling, verified with node:crypto; a verify failure', async () => {
    const m = mount();
    const info = await create(m, 'ec', { type: 'ecdsa-p256' });
    const pem = (info.keys as Record<string, { public_key: string }>)['1']?.public_key ?? '';
    const asn1 = await data(m, 'update', 'sign/ec', { input });
    assert.ok(cryptoVerify('sha256', Buffer.from('message to sign'), pem, Buffer.from(String(asn1.signature).slice(9), 'base64')));
    const jws = await data(m, 'update', 'sign/ec/sha2-384', { input, marshaling_algorithm: 'jws' });
    const raw = Buffer.from(String(jws.signature).slice(9), 'base64url');
    assert.equal(raw.length, 64);
    assert.ok(cryptoVerify('sha384', Buffer.from('message to sign'), { key: pem, dsaEncoding: 'ieee-p1363' }, raw));
    assert.deepEqual(await data(m, 'update', 'verify/ec', { input, signature: asn1.signature }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/ec/sha2-384', { input, signature: jws.signature, marshaling_algorithm: 'jws' }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/ec', { input: b64('forged'), signature: asn1.signature }), { valid: false });
    assert.deepEqual(await data(m, 'update', 'verify/ec', { input, signature: asn1.signature, hash_algorithm: 'sha2-512' }), { valid: false });
    assert.deepEqual(await fails(m.request('update', 'sign/ec', { input, marshaling_algorithm: 'der' })), ['COFFER_ERR_INVALID_REQUEST', ['invalid marshaling type "der"']]);
  });

  it('rsa-2048: pss (default) and pkcs1v15, cross-checked with node:crypto; prehashed pkcs1v15', async () => {
    const m = mount();
    const info = await create(m, 'rsa', { type: 'rsa-2048' });
    const pem = (info.keys as Record<string, { public_key: string }>)['1']?.public_key ?? '';
    const msg = Buffer.from('message to sign');
    const pss = await data(m, 'update', 'sign/rsa', { input });
    assert.ok(cryptoVerify('sha256', msg, { key: pem, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 2048 / 8 - 2 - 32 }, Buffer.from(String(pss.signature).slice(9), 'base64')));
    const v15 = await data(m, 'update', 'sign/rsa/sha2-512', { input, signature_algorithm: 'pkcs1v15' });
    assert.ok(cryptoVerify('sha512', msg, pem, Buffer.from(String(v15.signature).slice(9), 'base64')));
    assert.deepEqual(await data(m, 'update', 'verify/rsa', { input, signature: pss.signature }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/rsa', { input, signature: pss.signature, salt_length: 'hash' }), { valid: false });
    assert.deepEqual(await data(m, 'update', 'verify/rsa/sha2-512', { input, signature: v15.signature, signature_algorithm: 'pkcs1v15' }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/rsa', { input: b64('forged'), signature: pss.signature }), { valid: false });
    const digest = createHash('sha256').update(msg).digest();
    const pre = await data(m, 'update', 'sign/rsa', { input: digest.toString('base64'), prehashed: true, signature_algorithm: 'pkcs1v15' });
    assert.ok(cryptoVerify('sha256', msg, pem, Buffer.from(String(pre.signature).slice(9), 'base64')));
    assert.deepEqual(await data(m, 'update', 'verify/rsa', { input: digest.toString('base64'), prehashed: true, signature_algorithm: 'pkcs1v15', signature: pre.signature }), { valid: true });
    assert.deepEqual(await fails(m.request('update', 'sign/rsa', { input, hash_algorithm: 'none' })), ['COFFER_ERR_INVALID_REQUEST', ['hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15']]);
  });

  it('signing rules: symmetric keys cannot sign; versions; min_decryption_version on verify; batches', async () => {
    const m = mount();
    await create(m, 'aes');
    assert.deepEqual(await fails(m.request('update', 'sign/aes', { input })), ['COFFER_ERR_INVALID_REQUEST', ['key type aes256-gcm96 does not support signing']]);
    assert.deepEqual(await fails(m.request('update', 'sign/none', { input })), ['COFFER_ERR_INVALID_REQUEST', ['signing key not found']]);
    await create(m, 'ed', { type: 'ed25519' });
    const s1 = await data(m, 'update', 'sign/ed', { input });
    await data(m, 'update', 'keys/ed/rotate');
    const s2 = await data(m, 'update', 'sign/ed', { input });
    assert.match(String(s2.signature), /^vault:v2:/);
    assert.deepEqual(await data(m, 'update', 'verify/ed', { input, signature: s1.signature }), { valid: true });
    await data(m, 'update', 'keys/ed/config', { min_decryption_version: 2 });
    assert.deepEqual(await fails(m.request('update', 'verify/ed', { input, signature: s1.signature })), ['COFFER_ERR_INVALID_REQUEST', ['ciphertext or signature version is disallowed by policy (too old)']]);
    assert.deepEqual(await fails(m.request('update', 'verify/ed', { input })), ['COFFER_ERR_INVALID_REQUEST', ["neither a 'signature' nor an 'hmac' were given to verify"]]);
    const batch = await data(m, 'update', 'sign/ed', { batch_input: [{ input, reference: 'a' }, { input: '%' }] });
    const results = batch.batch_results as Record<string, unknown>[];
    assert.match(String(results[0]?.signature), /^vault:v2:/);
    assert.equal(results[0]?.reference, 'a');
    assert.deepEqual(results[1], { error: 'unable to decode input as base64: illegal base64 data at input byte 0', reference: '' });
    const vb = await data(m, 'update', 'verify/ed', { batch_input: [{ input, signature: results[0]?.signature }, { input: b64('x'), signature: results[0]?.signature }] });
    assert.deepEqual(vb.batch_results, [{ valid: true, reference: '' }, { reference: '' }]);
  });
});

describe('transit hmac, random, hash', () => {
  it('hmac with the version key; verify through verify/ with hmac; algorithms in path or body', async () => {
    const m = mount();
    await create(m, 'h');
    const h = await data(m, 'update', 'hmac/h', { input: b64('data') });
    assert.match(String(h.hmac), /^vault:v1:/);
    assert.equal(Buffer.from(String(h.hmac).slice(9), 'base64').length, 32);
    const stored = JSON.parse(String(m.physical.data.get('logical/mount-uuid/policy/h')?.subarray('logical/mount-uuid/policy/h\0'.length + 8))) as { keys: Record<string, { hmac_key: string }> };
    const expect = createHmac('sha256', Buffer.from(stored.keys['1']?.hmac_key ?? '', 'base64')).update('data').digest('base64');
    assert.equal(h.hmac, `vault:v1:${expect}`);
    assert.deepEqual(await data(m, 'update', 'verify/h', { input: b64('data'), hmac: h.hmac }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/h', { input: b64('other'), hmac: h.hmac }), { valid: false });
    const h512 = await data(m, 'update', 'hmac/h/sha2-512', { input: b64('data') });
    assert.equal(Buffer.from(String(h512.hmac).slice(9), 'base64').length, 64);
    assert.deepEqual(await data(m, 'update', 'verify/h/sha2-512', { input: b64('data'), hmac: h512.hmac }), { valid: true });
    assert.deepEqual(await data(m, 'update', 'verify/h', { input: b64('data'), hmac: h512.hmac, algorithm: 'sha3-256' }), { valid: false });
    assert.deepEqual(await fails(m.request('update', 'hmac/h', {})), ['COFFER_ERR_INVALID_REQUEST', ['missing input for HMAC']]);
    assert.deepEqual(await fails(m.request('update', 'hmac/h/md5', { input: b64('x') })), ['COFFER_ERR_INVALID_REQUEST', ["unsupported algorithm '\\x00'"]]);
    // As in Vault, an item with both is a signature item (its "provide one of" check cannot fire for one item).
    assert.deepEqual(await fails(m.request('update', 'verify/h', { input: b64('data'), hmac: h.hmac, signature: 'vault:v1:x' })), ['COFFER_ERR_INVALID_REQUEST', ['key type aes256-gcm96 does not support verification']]);
    assert.deepEqual(await fails(m.request('update', 'verify/h', { batch_input: [{ input: b64('data'), hmac: h.hmac }, { input: b64('data'), signature: 'vault:v1:x' }] })), [
      'COFFER_ERR_INVALID_REQUEST',
      ["elements of batch_input must all provide 'signature' or all provide 'hmac'"],
    ]);
    const batch = await data(m, 'update', 'hmac/h', { batch_input: [{ input: b64('data'), reference: 'q' }, {}] });
    assert.deepEqual(batch.batch_results, [{ hmac: h.hmac, reference: 'q' }, { error: 'missing input for HMAC', reference: '' }]);
  });

  it('random: bytes in path or body, base64 or hex, limits', async () => {
    const m = mount();
    assert.equal(Buffer.from(String((await data(m, 'update', 'random')).random_bytes), 'base64').length, 32);
    assert.match(String((await data(m, 'update', 'random/8', { format: 'hex' })).random_bytes), /^[0-9a-f]{16}$/);
    assert.equal(Buffer.from(String((await data(m, 'update', 'random', { bytes: 5 })).random_bytes), 'base64').length, 5);
    assert.equal(Buffer.from(String((await data(m, 'update', 'random/platform/12')).random_bytes), 'base64').length, 12);
    assert.equal(Buffer.from(String((await data(m, 'update', 'random/all')).random_bytes), 'base64').length, 32);
    assert.deepEqual(await fails(m.request('update', 'random/0')), ['COFFER_ERR_INVALID_REQUEST', ["'bytes' cannot be less than 1"]]);
    assert.deepEqual(await fails(m.request('update', 'random', { format: 'b32' })), ['COFFER_ERR_INVALID_REQUEST', ['unsupported encoding format "b32"; must be "hex" or "base64"']]);
    assert.deepEqual(await fails(m.request('update', 'random', { bytes: 200000 })), ['COFFER_ERR_INVALID_REQUEST', ["'bytes' should be less than 131072"]]);
  });

  it('hash: sha2 and sha3 families, hex by default', async () => {
    const m = mount();
    const input = b64('abc');
    assert.deepEqual(await data(m, 'update', 'hash', { input }), { sum: createHash('sha256').update('abc').digest('hex') });
    assert.deepEqual(await data(m, 'update', 'hash/sha3-512', { input, format: 'base64' }), { sum: createHash('sha3-512').update('abc').digest('base64') });
    assert.deepEqual(await data(m, 'update', 'hash', { input, algorithm: 'sha2-224' }), { sum: createHash('sha224').update('abc').digest('hex') });
    assert.deepEqual(await fails(m.request('update', 'hash', {})), ['COFFER_ERR_INVALID_REQUEST', ['input missing']]);
    assert.deepEqual(await fails(m.request('update', 'hash/md5', { input })), ['COFFER_ERR_INVALID_REQUEST', ['unsupported algorithm md5']]);
  });
});

describe('Go-compatible base64', () => {
  it('requires padding and reports the offending byte', () => {
    assert.deepEqual(decodeBase64('aGk='), Buffer.from('hi'));
    assert.deepEqual(decodeBase64('aGk=\n'), Buffer.from('hi'));
    assert.throws(() => decodeBase64('aGk'), /illegal base64 data at input byte/);
    assert.throws(() => decodeBase64('a$=='), /illegal base64 data at input byte 1/);
    assert.throws(() => decodeBase64('a==='), /illegal base64 data/);
  });
});
