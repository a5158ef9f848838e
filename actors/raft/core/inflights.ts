// Bounded window of AppendEntries messages in flight to one follower: each slot holds the last index a
// message carried. Freed in order as the follower acknowledges.
import { assert } from '../../../runtime/assert.js';

export class Inflights {
  private readonly ring: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, `inflights capacity must be positive, got ${capacity}`);
    this.ring = new Array<number>(capacity).fill(0);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  add(lastIndex: number): void {
    assert(!this.full(), 'inflights add when full');
    if (this.count > 0) assert(lastIndex > this.newest(), 'inflights must grow in index order');
    this.ring[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is <= index (acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && (this.ring[this.start] ?? Infinity) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    assert(this.count >= 0 && this.count <= this.capacity, 'inflights count out of range');
  }

  /** Frees the oldest message (etcd FreeFirstOne): it is presumed lost, so one more may be sent. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }

  private newest(): number {
    const value = this.ring[(this.start + this.count - 1) % this.capacity];
    assert(value !== undefined, 'inflights newest missing');
    return value;
  }
}
