// Validate-on-read caching: a cached value is kept with the exact ciphertext it was decoded from, and
// every use first re-reads that ciphertext from LMDB (a zero-copy get) and compares bytes. A changed
// policy, mount table or token is therefore seen on the very next request, on any worker, with no
// invalidation messages; an unchanged one costs one get and one memcmp instead of a decrypt and parse.
import type { PhysicalReader } from '../mounts/framework/storage-view.js';

interface Cached<T> {
  blob: Buffer;
  value: T;
}

export class BlobCache<T> {
  private readonly entries = new Map<string, Cached<T>>();

  constructor(private readonly maxEntries: number) {}

  /** The value for `key` as stored now: from cache when the ciphertext is unchanged, else decoded anew. */
  get(physical: PhysicalReader, key: string, decode: (blob: Buffer) => T): T | undefined {
    const blob = physical.get(key);
    if (blob === undefined) {
      this.entries.delete(key);
      return undefined;
    }
    const hit = this.entries.get(key);
    if (hit && hit.blob.equals(blob)) return hit.value;
    const value = decode(blob);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { blob: Buffer.from(blob), value });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
