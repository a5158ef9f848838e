// Longest-prefix lookup of mount and namespace paths ("team1/", "team1/secret/", "auth/userpass/") in
// time that grows with the depth of the request path, not with how many paths there are. A scan of
// every path per request made each request pay for every tenant: with 2,000 namespaces (4,000 mounts)
// the front's mount lookup and the pipeline's namespace lookup cost more than serving the read itself.
//
// Every indexed path ends with "/", so the candidates for a request path are its prefixes that end at
// a "/" (and the whole path with a "/" added: "team1" names "team1/"), tried longest first.

export class PrefixIndex<T extends { path: string }> {
  private readonly byPath = new Map<string, T>();

  constructor(items: Iterable<T>) {
    for (const item of items) {
      // The first of two equal paths wins, as the linear scans did (only a longer path replaced a match).
      if (!this.byPath.has(item.path)) this.byPath.set(item.path, item);
    }
  }

  get size(): number {
    return this.byPath.size;
  }

  /** The item whose path is exactly `path` ("team1/"). */
  get(path: string): T | undefined {
    return this.byPath.get(path);
  }

  /** The item with the longest path that prefixes `path`, or `path` + "/" itself; null when none does. */
  longest(path: string): T | null {
    if (this.byPath.size === 0) return null;
    if (!path.endsWith('/')) {
      const whole = this.byPath.get(`${path}/`);
      if (whole !== undefined) return whole;
    }
    for (let end = path.lastIndexOf('/'); end >= 0; end = end === 0 ? -1 : path.lastIndexOf('/', end - 1)) {
      const hit = this.byPath.get(path.slice(0, end + 1));
      if (hit !== undefined) return hit;
    }
    // The root's own paths are "" for some tables (the root namespace): a path of "" prefixes everything.
    return this.byPath.get('') ?? null;
  }

  /** Adds or replaces the item at its path. */
  set(item: T): void {
    this.byPath.set(item.path, item);
  }

  delete(path: string): void {
    this.byPath.delete(path);
  }

  values(): IterableIterator<T> {
    return this.byPath.values();
  }
}
