// A producer-side queue in front of a Ring: frames pushed in one synchronous stretch are written with
// one publish and at most one doorbell (flushed on a microtask). When the ring is full the outbox waits
// for space (Ring.waitForSpace) and keeps the frames in order; it never drops or overwrites. The queue
// is bounded: past ringLimits.outboxFramesMax frames, push throws COFFER_ERR_BACKPRESSURE.
import { CofferError } from '../errors.js';
import { ringLimits } from '../limits.js';
import { Ring, RingFrameTooLargeError } from './ring.js';

export class RingOutbox {
  private queue: Uint8Array[] = [];
  private head = 0;
  private scheduled = false;
  private waiting = false;
  private closed = false;
  private readonly flushTask = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    readonly ring: Ring,
    private readonly onStall: (err: Error) => void = () => {},
    private readonly framesMax: number = ringLimits.outboxFramesMax,
  ) {}

  /** Frames waiting for ring space. */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Queue a frame; throws RingFrameTooLargeError or CofferError(COFFER_ERR_BACKPRESSURE). */
  push(frame: Uint8Array): void {
    if (this.closed) throw new CofferError('COFFER_ERR_ACTOR_CRASHED', 'ring closed');
    if (frame.byteLength > this.ring.frameBytesMax) throw new RingFrameTooLargeError(frame.byteLength, this.ring.frameBytesMax);
    if (this.depth >= this.framesMax) throw new CofferError('COFFER_ERR_BACKPRESSURE', `outbox full (${this.framesMax} frames)`);
    this.queue.push(frame);
    if (!this.scheduled && !this.waiting) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** Write as much of the queue as fits now; if something is left, wait for space, then continue. */
  flush(): void {
    if (this.closed || this.waiting || this.depth === 0) return;
    this.head += this.ring.tryWriteMany(this.queue, this.head);
    if (this.depth === 0) {
      this.queue = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.waiting = true;
    const next = this.queue[this.head] as Uint8Array;
    this.ring.waitForSpace(next.byteLength, ringLimits.spaceWaitMs).then(
      () => {
        this.waiting = false;
        this.flush();
      },
      (err: Error) => {
        this.waiting = false;
        if (this.closed) return;
        this.onStall(err); // the consumer is slow or stuck; keep the frames and try again
        this.flush();
      },
    );
  }

  /** Drop everything queued (the peer is gone; pending asks are failed by their owner). */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
  }
}
