// A list of namespaces indexed once: which namespace a path runs in, which namespace an id or path names,
// and which ancestor locks or seals it, each by walking the path's own prefixes (its depth), never the
// list. Used where a whole list is in hand: a data file of the earlier layout (one list value, answered
// by directory.ts until its first change migrates it), and the seal owners of every segment (sys/raw).
import { PrefixIndex } from '../prefix-index.js';
import { ROOT_NAMESPACE, refOf, type NamespaceEntry, type NamespaceRef, type SealOwner } from './model.js';

export class NamespaceIndex {
  private readonly paths: PrefixIndex<NamespaceEntry>;
  private readonly ids = new Map<string, NamespaceEntry>();
  /** One shared ref per entry: requests hand these around instead of copying one each. */
  private readonly refs = new Map<NamespaceEntry, NamespaceRef>();
  private owners: Map<string, SealOwner | null> | null = null;

  constructor(readonly entries: readonly NamespaceEntry[]) {
    this.paths = new PrefixIndex(entries);
    for (const e of entries) {
      if (!this.ids.has(e.id)) this.ids.set(e.id, e);
      this.refs.set(e, Object.freeze(refOf(e)));
    }
  }

  get size(): number {
    return this.entries.length;
  }

  byPath(path: string): NamespaceEntry | undefined {
    return this.paths.get(path);
  }

  /** The namespace a token names by id (undefined once it is deleted). */
  byId(id: string): NamespaceRef | undefined {
    const e = this.ids.get(id);
    return e === undefined ? undefined : this.refs.get(e);
  }

  /** The namespace a full request path runs in: the longest namespace path in front of it, else the root. */
  ofPath(path: string): NamespaceRef {
    const e = this.paths.longest(path);
    return e === null ? ROOT_NAMESPACE : (this.refs.get(e) as NamespaceRef);
  }

  /** `ns` and its ancestors, innermost first ("a/b/", "a/"). */
  private *chain(ns: NamespaceRef): Generator<NamespaceEntry> {
    const path = ns.path;
    for (let end = path.length - 1; end > 0; end = path.lastIndexOf('/', end - 1)) {
      const e = this.paths.get(path.slice(0, end + 1));
      if (e !== undefined) yield e;
    }
  }

  /** The sealable namespace whose keyring encrypts `ns`'s segment (itself or its nearest sealable ancestor). */
  sealOwner(ns: NamespaceRef): NamespaceEntry | undefined {
    for (const e of this.chain(ns)) if (e.sealable === true) return e;
    return undefined;
  }

  /** The outermost locked namespace at or above `ns` (OpenBao's locking namespace). */
  locking(ns: NamespaceRef): NamespaceEntry | undefined {
    let found: NamespaceEntry | undefined;
    for (const e of this.chain(ns)) if (e.locked === true) found = e;
    return found;
  }

  /**
   * For each namespace's segment uuid, the sealable namespace whose keyring encrypts it (null: the
   * root's), and whether that one was sealed on purpose (then no node may use its keyring).
   */
  sealOwnersBySegment(): Map<string, SealOwner | null> {
    if (this.owners === null) {
      this.owners = new Map();
      for (const e of this.entries) {
        const owner = this.sealOwner(e);
        this.owners.set(e.uuid, owner === undefined ? null : { uuid: owner.uuid, sealed: owner.manually_sealed === true });
      }
    }
    return this.owners;
  }
}
