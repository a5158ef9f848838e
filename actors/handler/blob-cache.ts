// Validate-on-read caching: a cached value is kept with the exact ciphertext it was decoded from, and
// every use first re-reads that ciphertext from LMDB (a zero-copy get) and compares bytes. A changed
// policy, mount table or token is therefore seen on the very next request, on any worker, with no
// invalidation messages; an unchanged one costs one get and one memcmp instead of a decrypt and parse.
import type { PhysicalReader } from '../mounts/framework/storage-view.js';

interface Cached<T> {
  blob: Buffer;
  /**
   * The buffer the reader last answered for this key. The handler's snapshot memo answers the same buffer
   * until the FSM moves, and readers never change a buffer they answered: the same object means the same
   * bytes, so the memcmp is skipped (the namespace list is compared on every storage access in a namespace).
   */
  seen: Buffer;
  value: T;
  /** Unique per decode: changes exactly when the stored ciphertext changed (see getStamped). */
  stamp: number;
}

export class BlobCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  private nextStamp = 1;

  constructor(private readonly maxEntries: number) {}

  /** The value for `key` as stored now: from cache when the ciphertext is unchanged, else decoded anew. */
  get(physical: PhysicalReader, key: string, decode: (blob: Buffer) => T): T | undefined {
    return this.getStamped(physical, key, decode)?.value;
  }

  /**
   * Like get, with a stamp that identifies the stored version: a new stamp whenever the value is
   * decoded anew (the ciphertext changed, or the entry was evicted). Callers key derived caches by it
   * instead of re-reading and hashing the ciphertext (the ACL cache did a second get + sha256 per
   * policy per request).
   */
  getStamped(physical: PhysicalReader, key: string, decode: (blob: Buffer) => T): { value: T; stamp: number } | undefined {
    const blob = physical.get(key);
    if (blob === undefined) {
      this.entries.delete(key);
      return undefined;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined && (hit.seen === blob || hit.blob.equals(blob))) {
      hit.seen = blob;
      return hit;
    }
    const value = decode(blob);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const entry = { blob: Buffer.from(blob), seen: blob, value, stamp: this.nextStamp++ };
    this.entries.set(key, entry);
    return entry;
  }

  clear(): void {
    this.entries.clear();
  }
}
