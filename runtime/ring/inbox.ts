// A consumer-side loop over a Ring: drain every frame available per wake-up (copied out of the SAB),
// call onBatchEnd once per drained batch, yield one event-loop turn (setImmediate) so timers, I/O and
// the reactions to the batch run, then drain again; when the ring is empty, optionally spin briefly,
// then park on the doorbell (Ring.waitForData).
// A pending Atomics.waitAsync does not keep a Node event loop alive: the owner must hold a ref'd
// handle (a Worker, a parentPort listener) for as long as it wants to be served.
import { Ring } from './ring.js';

export interface InboxHandlers {
  /** One frame: bytes [start, end) of a private batch buffer (safe to keep; decode in place). */
  onFrame: (batch: Buffer, start: number, end: number) => void;
  onBatchEnd?: () => void;
  onError: (err: unknown) => void;
}

const SPIN_BACKOFF = 16; // idle transitions without spinning after a spin that found nothing
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RingInbox {
  private closed = false;
  private running = false;
  private spinSkips = 0;

  /**
   * spinUs: after a batch, and after yielding one event-loop turn (so the code that reacts to the
   * batch runs and can write), spin up to this long on the empty ring before parking on the doorbell.
   * This saves the ~10-80 µs futex + event-loop wake-up when the peer answers within microseconds
   * (request/reply, steady streams). spinWhile, if given, must hold for the spin to happen (e.g.
   * "asks are pending"), so an idle consumer parks at once and burns nothing.
   */
  constructor(
    readonly ring: Ring,
    private readonly handlers: InboxHandlers,
    private readonly spinUs = 0,
    private readonly spinWhile: () => boolean = () => true,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop().catch(this.handlers.onError);
  }

  close(): void {
    this.closed = true;
    this.ring.wakeConsumer();
  }

  private async loop(): Promise<void> {
    const { onFrame, onBatchEnd } = this.handlers;
    let busy = false;
    while (!this.closed) {
      const n = this.ring.drainRanges(onFrame);
      if (n > 0) {
        onBatchEnd?.();
        busy = true;
        await nextTurn(); // let timers, I/O and the reactions to this batch run
        continue;
      }
      if (this.closed) break;
      let spin = 0;
      if (busy && this.spinUs > 0 && this.spinWhile()) {
        if (this.spinSkips > 0) this.spinSkips--;
        else spin = this.spinUs;
      }
      busy = false;
      const hit = await this.ring.waitForData(Infinity, spin);
      // A spin that missed (peer slow or descheduled: 2 vCPUs shared) wasted the core; back off.
      if (spin > 0 && !hit) this.spinSkips = SPIN_BACKOFF;
    }
  }
}
