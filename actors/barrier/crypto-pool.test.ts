// Batch barrier crypto on the piscina pool: values encrypted on pool threads decrypt on this thread
// with the same keyring, and the reverse; a tampered value fails on the pool without leaking content.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createCpuPool } from '../../runtime/pool.js';
import { decryptValue, encryptValue } from './aead.js';
import type { CryptoTask } from './crypto-task.js';

describe('barrier crypto on the CPU pool', () => {
  const pool = createCpuPool(new URL('./crypto-task.js', import.meta.url), { maxThreads: 2 });
  after(() => pool.destroy());
  const key = randomBytes(32);
  const items = Array.from({ length: 2000 }, (_, i) => ({ path: `logical/m/k${i}`, value: Buffer.from(`secret number ${i}`) }));

  it('encrypts a large batch on pool threads, decryptable here', async () => {
    const task: CryptoTask = { op: 'encrypt', key, term: 3, items };
    const sealed = await pool.run<Uint8Array[]>(task);
    assert.equal(sealed.length, items.length);
    for (const [i, blob] of sealed.entries()) {
      const item = items[i] as (typeof items)[number];
      assert.equal(Buffer.from(blob).includes(item.value), false, 'no plaintext in the ciphertext');
      assert.deepEqual(decryptValue((t) => (t === 3 ? key : undefined), item.path, blob), item.value);
    }
  });

  it('decrypts a batch sealed here, and fails closed on tampering', async () => {
    const sealed = items.slice(0, 100).map((it) => ({ path: it.path, value: encryptValue(key, 3, it.path, it.value) }));
    const opened = await pool.run<Uint8Array[]>({ op: 'decrypt', key, term: 3, items: sealed } satisfies CryptoTask);
    assert.deepEqual(opened.map((b) => Buffer.from(b).toString()), items.slice(0, 100).map((it) => it.value.toString()));
    const tampered = sealed.map((s, i) => (i === 7 ? { ...s, value: Buffer.from(s.value).fill(0, 20, 21) } : s));
    await assert.rejects(pool.run({ op: 'decrypt', key, term: 3, items: tampered } satisfies CryptoTask), (e: Error) => !e.message.includes('secret number'));
  });
});
