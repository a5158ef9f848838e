// A consumer-side loop over a Ring: drain every frame available per wake-up (copied out of the SAB),
// call onBatchEnd once per drained batch, then park on the doorbell. While frames keep coming it yields
// one event-loop turn (setImmediate) between batches so timers and I/O are not starved.
// A pending Atomics.waitAsync does not keep a Node event loop alive: the owner must hold a ref'd
// handle (a Worker, a parentPort listener) for as long as it wants to be served.
import { Ring } from './ring.js';

export interface InboxHandlers {
  onFrame: (frame: Buffer) => void;
  onBatchEnd?: () => void;
  onError: (err: unknown) => void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RingInbox {
  private closed = false;
  private running = false;

  constructor(
    readonly ring: Ring,
    private readonly handlers: InboxHandlers,
    private readonly spinUs = 0,
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
    while (!this.closed) {
      const n = this.ring.drain(onFrame);
      if (n > 0) {
        onBatchEnd?.();
        if (!this.ring.isEmpty()) {
          await nextTurn();
          continue;
        }
      }
      if (this.closed) break;
      await this.ring.waitForData(Infinity, this.spinUs);
    }
  }
}
