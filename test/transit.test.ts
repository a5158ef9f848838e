// Transit over HTTP against a dev node from the SDK: mounting, key management, encrypt/decrypt with
// statuses and envelopes as Vault answers them, node-vault's transit methods used unchanged, and a
// policy-limited token that may only encrypt with one key.
import assert from 'node:assert/strict';
import { verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  text: string;
  body: any;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('transit over HTTP', () => {
  let node: EmbeddedNode;
  before(async () => {
    node = await startNode();
    const m = await call('POST', 'sys/mounts/transit', { type: 'transit' });
    assert.equal(m.status, 204, m.text);
  });
  after(async () => {
    await node.close();
  });

  async function call(method: string, path: string, body?: unknown, token = node.rootToken): Promise<Reply> {
    const res = await fetch(`${node.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: text === '' ? null : JSON.parse(text) };
  }

  it('is listed as a transit mount', async () => {
    const r = await call('GET', 'sys/mounts');
    assert.equal(r.body.data['transit/'].type, 'transit');
  });

  it('creates, reads, lists, rotates and deletes keys with Vault statuses', async () => {
    const c = await call('POST', 'transit/keys/orders', { type: 'aes256-gcm96' });
    assert.equal(c.status, 200, c.text);
    assert.equal(c.body.data.latest_version, 1);
    assert.equal(c.body.warnings, null);
    const again = await call('POST', 'transit/keys/orders', {});
    assert.deepEqual(again.body.warnings, ['key orders already existed']);
    const read = await call('GET', 'transit/keys/orders');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.type, 'aes256-gcm96');
    assert.equal(typeof read.body.data.keys['1'], 'number');
    const list = await call('LIST', 'transit/keys');
    assert.ok(list.body.data.keys.includes('orders'));
    assert.equal((await call('GET', 'transit/keys/missing')).status, 404);
    const rot = await call('POST', 'transit/keys/orders/rotate');
    assert.equal(rot.body.data.latest_version, 2);
    const del = await call('DELETE', 'transit/keys/orders');
    assert.equal(del.status, 400);
    assert.deepEqual(del.body, { errors: ['error deleting policy orders: deletion is not allowed for this key'] });
    assert.equal((await call('POST', 'transit/keys/orders/config', { deletion_allowed: true })).status, 200);
    assert.equal((await call('DELETE', 'transit/keys/orders')).status, 204);
    assert.equal((await call('GET', 'transit/keys/orders')).status, 404);
  });

  it('encrypts and decrypts; missing keys and bad input are 400 with Vault messages; batches answer per item', async () => {
    await call('POST', 'transit/keys/app', {});
    const enc = await call('POST', 'transit/encrypt/app', { plaintext: b64('card 4242') });
    assert.equal(enc.status, 200, enc.text);
    assert.match(enc.body.data.ciphertext, /^vault:v1:/);
    assert.equal(enc.body.data.key_version, 1);
    const dec = await call('POST', 'transit/decrypt/app', { ciphertext: enc.body.data.ciphertext });
    assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), 'card 4242');
    const missing = await call('POST', 'transit/decrypt/nokey', { ciphertext: enc.body.data.ciphertext });
    assert.deepEqual([missing.status, missing.body], [400, { errors: ['encryption key not found'] }]);
    const noPlain = await call('POST', 'transit/encrypt/app', {});
    assert.deepEqual([noPlain.status, noPlain.body], [400, { errors: ['missing plaintext to encrypt'] }]);
    const tampered = enc.body.data.ciphertext.slice(0, -4) + 'AAA=';
    const bad = await call('POST', 'transit/decrypt/app', { ciphertext: tampered });
    assert.deepEqual([bad.status, bad.body], [400, { errors: ['cipher: message authentication failed'] }]);
    const batch = await call('POST', 'transit/encrypt/app', { batch_input: [{ plaintext: b64('a'), reference: 'one' }, { plaintext: 'not base64!' }] });
    assert.equal(batch.status, 400);
    assert.equal(batch.body.data.batch_results.length, 2);
    assert.equal(batch.body.data.batch_results[0].reference, 'one');
    assert.match(batch.body.data.batch_results[1].error, /^illegal base64 data at input byte/);
    // An encrypt on an unknown key upserts it (the root token has create).
    const up = await call('POST', 'transit/encrypt/upserted', { plaintext: b64('x') });
    assert.equal(up.status, 200, up.text);
    assert.equal((await call('GET', 'transit/keys/upserted')).body.data.type, 'aes256-gcm96');
  });

  it('signs with ed25519; the signature verifies with node:crypto and the published key', async () => {
    await call('POST', 'transit/keys/signer', { type: 'ed25519' });
    const pubRaw = Buffer.from((await call('GET', 'transit/keys/signer')).body.data.keys['1'].public_key, 'base64');
    const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pubRaw]), format: 'der', type: 'spki' });
    const s = await call('POST', 'transit/sign/signer', { input: b64('release v1.2.3') });
    assert.equal(s.status, 200, s.text);
    assert.ok(cryptoVerify(null, Buffer.from('release v1.2.3'), pub, Buffer.from(s.body.data.signature.slice('vault:v1:'.length), 'base64')));
    assert.equal((await call('POST', 'transit/verify/signer', { input: b64('release v1.2.3'), signature: s.body.data.signature })).body.data.valid, true);
    assert.equal((await call('POST', 'transit/verify/signer', { input: b64('release v6.6.6'), signature: s.body.data.signature })).body.data.valid, false);
  });

  it('node-vault transitCreateKey, encryptData, decryptData, transitReadKey work unchanged', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: node.rootToken });
    await vault.transitCreateKey({ name: 'nv', type: 'chacha20-poly1305' });
    const key = await vault.transitReadKey({ name: 'nv' });
    assert.equal(key.data.type, 'chacha20-poly1305');
    const enc = await vault.encryptData({ name: 'nv', plaintext: b64('from node-vault') });
    assert.match(enc.data.ciphertext, /^vault:v1:/);
    const dec = await vault.decryptData({ name: 'nv', ciphertext: enc.data.ciphertext });
    assert.equal(Buffer.from(dec.data.plaintext, 'base64').toString(), 'from node-vault');
    await assert.rejects(vault.decryptData({ name: 'nv', ciphertext: 'vault:v9:AAAA' }), (e: any) => e.response?.statusCode === 400 && /version is too new/.test(e.message));
  });

  it('a token whose policy allows only transit/encrypt/app can encrypt with app and nothing else', async () => {
    const pol = await call('PUT', 'sys/policies/acl/encrypt-app', { policy: 'path "transit/encrypt/app" { capabilities = ["update"] }' });
    assert.equal(pol.status, 204, pol.text);
    const created = await call('POST', 'auth/token/create', { policies: ['encrypt-app'], ttl: '1h' });
    assert.equal(created.status, 200, created.text);
    const token = created.body.auth.client_token as string;
    const enc = await call('POST', 'transit/encrypt/app', { plaintext: b64('limited') }, token);
    assert.equal(enc.status, 200, enc.text);
    const denied = [
      await call('POST', 'transit/decrypt/app', { ciphertext: enc.body.data.ciphertext }, token),
      await call('POST', 'transit/encrypt/other', { plaintext: b64('x') }, token),
      await call('GET', 'transit/keys/app', undefined, token),
      await call('POST', 'transit/keys/app/rotate', undefined, token),
    ];
    for (const d of denied) assert.deepEqual([d.status, d.body], [403, { errors: ['permission denied'] }]);
    // update without create: encrypting with an unknown key would upsert it, so the ACL checks create and refuses.
    const upsert = await call('POST', 'sys/policies/acl/encrypt-any', { policy: 'path "transit/encrypt/*" { capabilities = ["update"] }' });
    assert.equal(upsert.status, 204);
    const t2 = (await call('POST', 'auth/token/create', { policies: ['encrypt-any'], ttl: '1h' })).body.auth.client_token as string;
    assert.equal((await call('POST', 'transit/encrypt/app', { plaintext: b64('x') }, t2)).status, 200);
    assert.equal((await call('POST', 'transit/encrypt/brand-new', { plaintext: b64('x') }, t2)).status, 403);
    assert.equal((await call('GET', 'transit/keys/brand-new')).status, 404);
    // The root token still decrypts what the limited token encrypted.
    const dec = await call('POST', 'transit/decrypt/app', { ciphertext: enc.body.data.ciphertext });
    assert.equal(Buffer.from(dec.body.data.plaintext, 'base64').toString(), 'limited');
  });

  it('random and hash answer without a key', async () => {
    const r = await call('POST', 'transit/random/16', { format: 'hex' });
    assert.match(r.body.data.random_bytes, /^[0-9a-f]{32}$/);
    const h = await call('POST', 'transit/hash/sha2-256', { input: b64('abc') });
    assert.equal(h.body.data.sum, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
