// A memo of a pure function of a string, bounded by entry count: when full, the oldest entry goes first.
// For derivations that are costly next to a Map lookup and asked for again and again by the same
// requests (salted token ids, KV version keys); it lives only in the memory of the thread that built it.
export class BoundedMemo<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, derive: (key: string) => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = derive(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
