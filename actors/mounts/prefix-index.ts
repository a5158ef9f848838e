// Longest-prefix lookup of mount and namespace paths ("team1/", "team1/secret/", "auth/userpass/") in
// time that grows with the depth of the request path, not with how many paths there are. A scan of
// every path per request made each request pay for every tenant: with 2,000 namespaces (4,000 mounts)
// the front's mount lookup and the pipeline's namespace lookup cost more than serving the read itself.
//
// Every indexed path ends with "/", so the candidates for a request path are its prefixes that end at a
// "/" (and the whole path with a "/" added: "secret" names "secret/"). They are tried shortest first, and
// the walk stops at the first prefix that no indexed path starts with (the index keeps every such
// prefix, counted), so "secret/data/app/x" costs one or two lookups when only "secret/" is mounted.

export class PrefixIndex<T extends { path: string }> {
  private readonly byPath = new Map<string, T>();
  /** Every "/"-ended prefix of an indexed path (the path itself included), with how many paths have it. */
  private readonly prefixes = new Map<string, number>();

  constructor(items: Iterable<T>) {
    // The first of two equal paths wins, as the linear scans did (only a longer path replaced a match).
    for (const item of items) if (!this.byPath.has(item.path)) this.set(item);
  }

  get size(): number {
    return this.byPath.size;
  }

  /** The item whose path is exactly `path` ("team1/"). */
  get(path: string): T | undefined {
    return this.byPath.get(path);
  }

  /** The item with the longest path that prefixes `path`, or is `path` + "/"; the "" item, else null, when none does. */
  longest(path: string): T | null {
    let best = this.byPath.get('') ?? null;
    for (let start = 0; ; ) {
      const slash = path.indexOf('/', start);
      const prefix = slash < 0 ? `${path}/` : path.slice(0, slash + 1);
      if (!this.prefixes.has(prefix)) return best;
      const hit = this.byPath.get(prefix);
      if (hit !== undefined) best = hit;
      if (slash < 0 || slash === path.length - 1) return best;
      start = slash + 1;
    }
  }

  /** Adds or replaces the item at its path. */
  set(item: T): void {
    if (!this.byPath.has(item.path)) this.countPrefixes(item.path, 1);
    this.byPath.set(item.path, item);
  }

  delete(path: string): void {
    if (this.byPath.delete(path)) this.countPrefixes(path, -1);
  }

  values(): IterableIterator<T> {
    return this.byPath.values();
  }

  private countPrefixes(path: string, by: 1 | -1): void {
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      const prefix = path.slice(0, slash + 1);
      const n = (this.prefixes.get(prefix) ?? 0) + by;
      if (n > 0) this.prefixes.set(prefix, n);
      else this.prefixes.delete(prefix);
    }
  }
}
