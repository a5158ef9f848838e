import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { Ring, RingFrameTooLargeError, RingOutbox, RingInbox } from './index.js';
import { CofferError } from '../errors.js';
import { decodeRange } from '../codec.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0xff);

test('frames wrap around the end of the data area intact (split copy), many times over', () => {
  const ring = Ring.create(64);
  let seq = 0;
  for (let round = 0; round < 200; round++) {
    // 13..23-byte frames misalign against a 64-byte area, so bodies regularly straddle the end.
    const n = 13 + (round % 11);
    assert.equal(ring.tryWrite(bytes(n, seq)), true, `write ${round}`);
    const out = ring.tryRead();
    assert.ok(out);
    assert.deepEqual(new Uint8Array(out), bytes(n, seq));
    seq++;
  }
  assert.equal(ring.tryRead(), undefined);
});

test('a full ring refuses the write and overwrites nothing', () => {
  const ring = Ring.create(64);
  const frames: Uint8Array[] = [];
  // 12-byte frame -> 16-byte record; exactly 4 fit in 64 bytes.
  for (let i = 0; i < 4; i++) {
    const f = bytes(12, i);
    assert.equal(ring.tryWrite(f), true);
    frames.push(f);
  }
  assert.equal(ring.usedBytes(), 64);
  assert.equal(ring.tryWrite(bytes(1, 99)), false);
  assert.equal(ring.tryWrite(new Uint8Array(0)), false);
  for (const f of frames) assert.deepEqual(new Uint8Array(ring.tryRead() as Buffer), f);
  assert.equal(ring.tryRead(), undefined);
});

test('a frame above the maximum frame size is refused with both sizes', () => {
  const ring = Ring.create(1024, { frameBytesMax: 100 });
  assert.throws(() => ring.tryWrite(new Uint8Array(101)), (e: unknown) => {
    assert.ok(e instanceof RingFrameTooLargeError);
    assert.equal(e.frameBytes, 101);
    assert.equal(e.frameBytesMax, 100);
    assert.match(e.message, /101.*100/);
    return true;
  });
  assert.equal(ring.isEmpty(), true);
  assert.equal(ring.tryWrite(new Uint8Array(100)), true);
});

test('property: any interleaving of writes and reads behaves like an array queue', () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant('w' as const), n: fc.integer({ min: 0, max: 140 }) }),
    fc.record({ t: fc.constant('r' as const), k: fc.integer({ min: 1, max: 5 }) }),
  );
  fc.assert(
    fc.property(fc.constantFrom(64, 128, 256), fc.array(op, { maxLength: 300 }), (cap, ops) => {
      const ring = Ring.create(cap);
      const model: Uint8Array[] = [];
      let modelUsed = 0;
      const rec = (n: number) => 4 + ((n + 3) & ~3);
      let seq = 0;
      for (const o of ops) {
        if (o.t === 'w') {
          const f = bytes(o.n, seq++);
          if (o.n > ring.frameBytesMax) {
            assert.throws(() => ring.tryWrite(f), RingFrameTooLargeError);
            continue;
          }
          const fits = modelUsed + rec(o.n) <= cap;
          assert.equal(ring.tryWrite(f), fits);
          if (fits) {
            model.push(f);
            modelUsed += rec(o.n);
          }
        } else {
          const got: Buffer[] = [];
          ring.drain((b) => got.push(b), o.k);
          const want = model.splice(0, o.k);
          assert.equal(got.length, want.length);
          for (let i = 0; i < want.length; i++) {
            assert.deepEqual(new Uint8Array(got[i] as Buffer), want[i]);
            modelUsed -= rec((want[i] as Uint8Array).length);
          }
        }
        assert.equal(ring.usedBytes(), modelUsed);
      }
    }),
    { numRuns: 300 },
  );
});

test('waitForSpace rejects with COFFER_ERR_BACKPRESSURE after its timeout, resolves once space frees', async () => {
  const ring = Ring.create(64);
  while (ring.tryWrite(bytes(12, 1)));
  await assert.rejects(ring.waitForSpace(12, 30), (e: unknown) => e instanceof CofferError && e.value.code === 'COFFER_ERR_BACKPRESSURE');
  const waiting = ring.waitForSpace(12, 2000);
  setTimeout(() => ring.tryRead(), 10);
  await waiting;
  assert.equal(ring.fits(12), true);
});

test('cross-thread: a worker produces 100k frames, main consumes them in order', async () => {
  const ring = Ring.create(64 * 1024);
  const total = 100_000;
  let next = 0;
  let failure: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const inbox = new RingInbox(ring, {
      onFrame: (b, start, end) => {
        const m = decodeRange<{ i: number; pad: Uint8Array }>(b, start, end);
        if (m.i !== next && failure === undefined) failure = `expected ${next}, got ${m.i}`;
        next++;
      },
      onBatchEnd: () => {
        if (next >= total) {
          inbox.close();
          resolve();
        }
      },
      onError: reject,
    });
    inbox.start();
  });
  const worker = new Worker(new URL('./test-workers/producer.js', import.meta.url), { workerData: { sab: ring.sab, total } });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  worker.once('error', (e) => {
    failure = String(e);
  });
  await done;
  assert.equal(failure, undefined);
  assert.equal(next, total);
  assert.equal(await exited, 0);
  assert.equal(ring.isEmpty(), true);
});

test('outbox keeps order through a full ring and drains once the consumer catches up', async () => {
  const ring = Ring.create(256);
  const outbox = new RingOutbox(ring);
  for (let i = 0; i < 100; i++) outbox.push(bytes(20, i));
  await new Promise((r) => setImmediate(r));
  assert.ok(outbox.depth > 0, 'ring should be full with frames still queued');
  const got: Uint8Array[] = [];
  while (got.length < 100) {
    ring.drain((f) => got.push(new Uint8Array(f)));
    await new Promise((r) => setTimeout(r, 1));
  }
  for (let i = 0; i < 100; i++) assert.deepEqual(got[i], bytes(20, i));
  assert.equal(outbox.depth, 0);
});
