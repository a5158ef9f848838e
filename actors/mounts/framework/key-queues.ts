// Per-key write queues of one handler worker. Writes run optimistically; once a write conflicts on a
// storage key, that key gets a FIFO queue, and every later write in this worker whose write-set touches
// the key (reads it or writes it) waits its turn instead of racing: under sustained contention on one key
// every request still finishes (optimistic retries alone can starve), and writes to other keys of the
// same mount are not held up (a per-mount queue cut a mount's fresh-key writes 8x while 8 clients wrote
// one hot key: docs/concurrency.md).
import type { WriteSetWithGuards } from './storage-view.js';

interface Queue {
  tail: Promise<void>;
  holders: number;
}

export class KeyQueues {
  private readonly queues = new Map<string, Queue>();

  /** The contended keys `ws` touches that `held` does not already hold, sorted. */
  contendedIn(ws: WriteSetWithGuards, held: Held): string[] {
    if (this.queues.size === 0) return [];
    const found = new Set<string>();
    for (const g of ws.guards) if (this.queues.has(g.key) && !held.has(g.key)) found.add(g.key);
    for (const op of ws.ops) if (this.queues.has(op.key) && !held.has(op.key)) found.add(op.key);
    return [...found].sort();
  }

  /**
   * Makes `held` hold its keys plus `more`. Unless it holds them all already, everything held is released
   * first and the whole set taken again in sorted order: a writer never waits while holding a key another
   * waiter may need first, so two writers that each need the other's key cannot deadlock.
   */
  async hold(held: Held, more: string[]): Promise<void> {
    // Lost again on a key it already holds (to another worker): keep its place and run again at once.
    if (more.every((key) => held.has(key))) return;
    const want = [...new Set([...held.keys(), ...more])].sort();
    held.releaseAll();
    for (const key of want) held.set(key, await this.enqueue(key));
  }

  private async enqueue(key: string): Promise<() => void> {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), holders: 0 };
      this.queues.set(key, queue);
    }
    const q = queue;
    q.holders++;
    let release!: () => void;
    const previous = q.tail;
    q.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (--q.holders === 0) this.queues.delete(key);
    };
  }
}

/** The queue places one request holds, by key. */
export class Held {
  private readonly releases = new Map<string, () => void>();

  has(key: string): boolean {
    return this.releases.has(key);
  }

  keys(): IterableIterator<string> {
    return this.releases.keys();
  }

  set(key: string, release: () => void): void {
    this.releases.set(key, release);
  }

  releaseAll(): void {
    for (const release of this.releases.values()) release();
    this.releases.clear();
  }
}
