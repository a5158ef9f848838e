// SPSC ring of length-prefixed frames over a SharedArrayBuffer (model: padenot/ringbuf.js, STYLE §4.2).
//
// Layout (all Int32 slots, each on its own 64-byte cache line so producer and consumer never share one):
//
//   byte   0  WRITE          producer's monotonic byte counter (u32, wraps mod 2^32)
//   byte  64  READ           consumer's monotonic byte counter (u32, wraps mod 2^32)
//   byte 128  SLEEPING       1 while the consumer is (about to be) parked on BELL
//   byte 192  BELL           doorbell word the consumer waits on; the producer bumps it to wake it
//   byte 256  SPACE_WAITING  1 while the producer is parked waiting for free space
//   byte 320  SPACE_BELL     doorbell word the producer waits on; the consumer bumps it
//   byte 384  META           magic, capacityBytes, frameBytesMax (constant after create)
//   byte 512  data area      capacityBytes, a power of two
//
// Counters are monotonic u32 byte counts; a position is `counter & (capacity - 1)` and the fill level
// is `(WRITE - READ) >>> 0`. Because capacity divides 2^32 the arithmetic stays right across the u32
// wrap, and the whole data area is usable (no "one empty slot").
//
// A record is a u32 length (host byte order, 4-aligned) followed by the frame, padded to 4 bytes.
// Records start 4-aligned and capacity is a multiple of 4, so the length word never splits; the frame
// body may wrap past the end of the data area and is then copied in two pieces (split copy).
//
// Publish discipline: the producer copies the whole record, then Atomics.store(WRITE). The consumer
// copies frames OUT into a private Buffer, then Atomics.store(READ). Nobody decodes from the SAB.
import { assert } from '../assert.js';
import { CofferError } from '../errors.js';
import { limits, ringLimits } from '../limits.js';

// Atomics.waitAsync is in Node 20 but not in the ES2022 lib typings the project compiles against.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, t?: number) => WaitAsyncResult }).waitAsync;
assert(typeof waitAsync === 'function', 'Atomics.waitAsync is required (Node >= 16)');

const LINE_I32 = 16; // 64 bytes / 4
const WRITE = 0;
const READ = 1 * LINE_I32;
const SLEEPING = 2 * LINE_I32;
const BELL = 3 * LINE_I32;
const SPACE_WAITING = 4 * LINE_I32;
const SPACE_BELL = 5 * LINE_I32;
const META = 6 * LINE_I32;
const HEADER_BYTES = 512;
const MAGIC = 0x434f4652; // 'COFR'
assert(new Uint8Array(new Uint32Array([1]).buffer)[0] === 1, 'ring length words assume a little-endian host');
const LEN_BYTES = 4;

/** Bytes per consumer arena for drained batches (Ring.batchBuffer): below malloc's mmap threshold. */
const DRAIN_ARENA_BYTES = 64 * 1024;

export class RingFrameTooLargeError extends Error {
  override name = 'RingFrameTooLargeError';
  constructor(readonly frameBytes: number, readonly frameBytesMax: number) {
    super(`ring frame of ${frameBytes} bytes exceeds the ring's maximum frame size of ${frameBytesMax} bytes`);
  }
}

export interface RingOptions {
  /** Largest frame accepted; default min(limits.frameBytesMax, capacityBytes - 4). */
  frameBytesMax?: number;
}

function recordBytes(frameBytes: number): number {
  return LEN_BYTES + ((frameBytes + 3) & ~3);
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly capacityBytes: number;
  readonly frameBytesMax: number;
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly data32: Int32Array;
  private readonly mask: number;
  /**
   * Consumer side: drained batches are carved from this arena. `Buffer.allocUnsafe` of a batch above
   * 4 KiB (node's pool limit) is a fresh ArrayBuffer each time, 2.5-6 us here, which was a quarter of a
   * busy consumer's time in bench/ring. Carved batches are never overwritten: a full arena is replaced
   * (frames still held keep the old one alive, as they kept node's pool slabs alive before).
   */
  private arena: Buffer | null = null;
  private arenaOff = 0;

  /** Allocate a new ring whose data area is `capacityBytes` (a power of two, at least 64). */
  static create(capacityBytes: number, opts: RingOptions = {}): Ring {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes >= 64, `ring capacity must be >= 64, got ${capacityBytes}`);
    assert((capacityBytes & (capacityBytes - 1)) === 0, `ring capacity must be a power of two, got ${capacityBytes}`);
    const frameBytesMax = opts.frameBytesMax ?? Math.min(limits.frameBytesMax, capacityBytes - LEN_BYTES);
    assert(recordBytes(frameBytesMax) <= capacityBytes, `frameBytesMax ${frameBytesMax} does not fit a ring of ${capacityBytes}`);
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
    const header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    header[META] = MAGIC;
    header[META + 1] = capacityBytes;
    header[META + 2] = frameBytesMax;
    return new Ring(sab);
  }

  /** Attach to a ring created elsewhere (e.g. in another thread). */
  static attach(sab: SharedArrayBuffer): Ring {
    return new Ring(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    assert(this.header[META] === MAGIC, 'not a ring buffer (bad magic)');
    this.capacityBytes = this.header[META + 1] as number;
    this.frameBytesMax = this.header[META + 2] as number;
    assert(sab.byteLength === HEADER_BYTES + this.capacityBytes, 'ring SAB size does not match its header');
    this.data = new Uint8Array(sab, HEADER_BYTES, this.capacityBytes);
    this.data32 = new Int32Array(sab, HEADER_BYTES, this.capacityBytes / 4);
    this.mask = this.capacityBytes - 1;
  }

  /** Bytes currently queued (records, including length words and padding). */
  usedBytes(): number {
    return (Atomics.load(this.header, WRITE) - Atomics.load(this.header, READ)) >>> 0;
  }

  isEmpty(): boolean {
    return Atomics.load(this.header, WRITE) === Atomics.load(this.header, READ);
  }

  /** Whether a frame of this size fits right now. */
  fits(frameBytes: number): boolean {
    return this.usedBytes() + recordBytes(frameBytes) <= this.capacityBytes;
  }

  // ---- producer side ----

  /**
   * Copy one frame in and publish it. Returns false when the ring lacks space (nothing is written,
   * nothing is overwritten). Throws RingFrameTooLargeError for a frame above frameBytesMax.
   * Wakes the consumer if (and only if) it is marked sleeping.
   */
  tryWrite(frame: Uint8Array): boolean {
    const w = this.writeRecord(frame, Atomics.load(this.header, WRITE) >>> 0, Atomics.load(this.header, READ) >>> 0);
    if (w < 0) return false;
    Atomics.store(this.header, WRITE, w | 0);
    this.wakeConsumerIfSleeping();
    return true;
  }

  /**
   * Write frames[from..] until one does not fit; publish the write index once and ring the doorbell
   * at most once. Returns how many frames were written.
   */
  tryWriteMany(frames: readonly Uint8Array[], from = 0): number {
    const r = Atomics.load(this.header, READ) >>> 0;
    let w = Atomics.load(this.header, WRITE) >>> 0;
    let i = from;
    for (; i < frames.length; i++) {
      const next = this.writeRecord(frames[i] as Uint8Array, w, r);
      if (next < 0) break;
      w = next;
    }
    if (i > from) {
      Atomics.store(this.header, WRITE, w | 0);
      this.wakeConsumerIfSleeping();
    }
    return i - from;
  }

  /** Copies the record at counter w; returns the new write counter or -1 when it does not fit. */
  private writeRecord(frame: Uint8Array, w: number, r: number): number {
    const len = frame.byteLength;
    if (len > this.frameBytesMax) throw new RingFrameTooLargeError(len, this.frameBytesMax);
    const rec = recordBytes(len);
    const used = (w - r) >>> 0;
    assert(used <= this.capacityBytes, 'ring indices corrupt: used exceeds capacity');
    if (used + rec > this.capacityBytes) return -1;
    const pos = w & this.mask;
    this.data32[pos >> 2] = len;
    const body = (pos + LEN_BYTES) & this.mask;
    const first = Math.min(len, this.capacityBytes - body);
    if (first === len) {
      this.data.set(frame, body);
    } else {
      this.data.set(frame.subarray(0, first), body);
      this.data.set(frame.subarray(first), 0);
    }
    return (w + rec) >>> 0;
  }

  /** Bump the consumer's doorbell if it marked itself sleeping (at most one notify per sleep). */
  wakeConsumerIfSleeping(): void {
    if (Atomics.load(this.header, SLEEPING) !== 0 && Atomics.compareExchange(this.header, SLEEPING, 1, 0) === 1) {
      Atomics.add(this.header, BELL, 1);
      Atomics.notify(this.header, BELL);
    }
  }

  /** Wake the consumer unconditionally (used on close so a parked reader loop can observe it). */
  wakeConsumer(): void {
    Atomics.store(this.header, SLEEPING, 0);
    Atomics.add(this.header, BELL, 1);
    Atomics.notify(this.header, BELL);
  }

  /**
   * Wait until a frame of `frameBytes` fits. Rejects with COFFER_ERR_BACKPRESSURE after timeoutMs.
   * The consumer bumps SPACE_BELL after it frees space, only if SPACE_WAITING is set.
   */
  async waitForSpace(frameBytes: number, timeoutMs: number): Promise<void> {
    if (frameBytes > this.frameBytesMax) throw new RingFrameTooLargeError(frameBytes, this.frameBytesMax);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.fits(frameBytes)) return;
      const bell = Atomics.load(this.header, SPACE_BELL);
      Atomics.store(this.header, SPACE_WAITING, 1);
      if (this.fits(frameBytes)) {
        Atomics.store(this.header, SPACE_WAITING, 0);
        return;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        Atomics.store(this.header, SPACE_WAITING, 0);
        throw new CofferError('COFFER_ERR_BACKPRESSURE', `ring full: no room for a ${frameBytes}-byte frame within ${timeoutMs} ms`);
      }
      const res = waitAsync(this.header, SPACE_BELL, bell, remaining);
      if (res.async) {
        // A bounded wait should keep the loop alive for its duration (waitAsync alone does not).
        const keepAlive = setTimeout(() => {}, remaining + 1);
        try {
          await res.value;
        } finally {
          clearTimeout(keepAlive);
        }
      }
    }
  }

  // ---- consumer side ----

  /** Copy out one frame into a private Buffer and free its space; undefined when empty. */
  tryRead(): Buffer | undefined {
    let out: Buffer | undefined;
    this.drain((f) => {
      out = f;
    }, 1);
    return out;
  }

  /**
   * Copy out the available frames (up to about ringLimits.drainBytesMax, at least one) into ONE private
   * Buffer in at most two copies, publish the read index once, then hand each frame (a subarray of
   * that private Buffer, safe to keep and to decode) to onFrame. Returns the number of frames.
   */
  drain(onFrame: (frame: Buffer) => void, framesMax = Number.MAX_SAFE_INTEGER, bytesMax: number = ringLimits.drainBytesMax): number {
    return this.drainRanges((buf, start, end) => onFrame(buf.subarray(start, end)), framesMax, bytesMax);
  }

  /**
   * drain() without a Buffer view per frame: each frame is handed over as (batch, start, end), for
   * decoders that read a range in place (msgpackr's unpack with { start, end }); a view costs ~110 ns.
   */
  drainRanges(onRange: (batch: Buffer, start: number, end: number) => void, framesMax = Number.MAX_SAFE_INTEGER, bytesMax: number = ringLimits.drainBytesMax): number {
    const r = Atomics.load(this.header, READ) >>> 0;
    const w = Atomics.load(this.header, WRITE) >>> 0;
    const avail = (w - r) >>> 0;
    if (avail === 0) return 0;
    assert(avail <= this.capacityBytes, 'ring indices corrupt: available exceeds capacity');
    // Walk the length words (in the SAB) to find where this batch ends.
    let span = 0;
    let count = 0;
    while (span < avail && count < framesMax && (count === 0 || span < bytesMax)) {
      const len = this.data32[((r + span) & this.mask) >> 2] as number;
      assert(len >= 0 && len <= this.frameBytesMax, `ring frame length corrupt: ${len}`);
      span += recordBytes(len);
      count++;
    }
    assert(span <= avail, 'ring frame extends past the write index');
    const start = r & this.mask;
    const copy = this.batchBuffer(span);
    const first = Math.min(span, this.capacityBytes - start);
    copy.set(this.data.subarray(start, start + first), 0);
    if (first < span) copy.set(this.data.subarray(0, span - first), first);
    Atomics.store(this.header, READ, (r + span) | 0);
    this.wakeProducerIfWaiting();
    let off = 0;
    for (let i = 0; i < count; i++) {
      const len = copy.readUInt32LE(off); // written via Int32Array (host order); asserted little-endian below
      onRange(copy, off + LEN_BYTES, off + LEN_BYTES + len);
      off += recordBytes(len);
    }
    assert(off === span, 'ring drain parse mismatch');
    return count;
  }

  /** A private buffer for one drained batch: carved from the arena, or its own for a batch above a quarter of it. */
  private batchBuffer(span: number): Buffer {
    if (span > DRAIN_ARENA_BYTES / 4) return Buffer.allocUnsafeSlow(span);
    if (this.arena === null || this.arenaOff + span > DRAIN_ARENA_BYTES) {
      this.arena = Buffer.allocUnsafeSlow(DRAIN_ARENA_BYTES);
      this.arenaOff = 0;
    }
    const out = this.arena.subarray(this.arenaOff, this.arenaOff + span);
    this.arenaOff += (span + 7) & ~7; // keep batches 8-byte aligned
    return out;
  }

  private wakeProducerIfWaiting(): void {
    if (Atomics.load(this.header, SPACE_WAITING) !== 0 && Atomics.compareExchange(this.header, SPACE_WAITING, 1, 0) === 1) {
      Atomics.add(this.header, SPACE_BELL, 1);
      Atomics.notify(this.header, SPACE_BELL);
    }
  }

  /**
   * Park until the producer publishes (or timeoutMs passes, or wakeConsumer is called). Protocol:
   * read BELL, set SLEEPING, re-check the ring, then waitAsync(BELL, seen). A producer that publishes
   * after our re-check sees SLEEPING and bumps BELL, so the wait returns at once or is notified.
   * Optionally spins first for spinUs (only worth it when the peer is likely to answer within µs);
   * resolves true if data arrived during that spin, false otherwise.
   * Note: a pending waitAsync does not keep a Node event loop alive; the caller holds a ref'd handle.
   */
  async waitForData(timeoutMs = Infinity, spinUs = 0): Promise<boolean> {
    if (spinUs > 0 && this.spin(spinUs)) return true;
    const bell = Atomics.load(this.header, BELL);
    Atomics.store(this.header, SLEEPING, 1);
    if (!this.isEmpty()) {
      Atomics.store(this.header, SLEEPING, 0);
      return false;
    }
    const res = waitAsync(this.header, BELL, bell, timeoutMs);
    if (res.async) await res.value;
    Atomics.store(this.header, SLEEPING, 0);
    return false;
  }

  /** Busy-check for data for up to spinUs; true if data arrived. */
  private spin(spinUs: number): boolean {
    const end = performance.now() + spinUs / 1000;
    let n = 0;
    for (;;) {
      if (Atomics.load(this.header, WRITE) !== Atomics.load(this.header, READ)) return true;
      if ((++n & 63) === 0 && performance.now() >= end) return false;
    }
  }
}
