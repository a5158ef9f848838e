// The namespaces as the request path meets them, read straight from a storage snapshot (the pipeline,
// the barrier's seal owners, the front's view, the core): each question reads the entries on one path,
// through validate-on-read caches, so a node loads a namespace when a request first reaches it and
// keeps at most ENTRIES_CACHED of them decoded. The storage layout is store.ts's; a list of the earlier
// single-value layout is answered from it until the first change migrates it.
import { BlobCache } from '../../handler/blob-cache.js';
import type { PhysicalReader } from '../framework/storage-view.js';
import { ROOT_NAMESPACE, refOf, type NamespaceEntry, type NamespaceRef, type NamespaceTable, type SealOwner } from './model.js';
import { NamespaceIndex } from './namespace-index.js';
import { LEGACY_NAMESPACES_KEY, NAMESPACE_PREFIX, namespaceKey, namespaceUuidKey, SEALABLE_NAMESPACE_PREFIX, type NamespaceUuidRecord } from './store.js';

/** Decoded namespace entries kept per reader; more namespaces in use just decode again. */
const ENTRIES_CACHED = 4096;

/** Decrypts a stored value (the node's barrier, passed as it is: no closure per request). */
export interface Decrypter {
  decrypt(key: string, blob: Uint8Array): Buffer;
}

/** Where a request path runs: its namespace, and that namespace with its ancestors, outermost first. */
export interface NamespacePlace {
  ns: NamespaceRef;
  chain: readonly NamespaceEntry[];
}

const ROOT_PLACE: NamespacePlace = Object.freeze({ ns: ROOT_NAMESPACE, chain: Object.freeze([]) as readonly NamespaceEntry[] });

export class NamespaceDirectory {
  private readonly entries = new BlobCache<{ entry: NamespaceEntry; ref: NamespaceRef }>(ENTRIES_CACHED);
  private readonly uuids = new BlobCache<string>(ENTRIES_CACHED);
  private readonly legacy = new BlobCache<NamespaceIndex>(1);

  constructor(private readonly physical: PhysicalReader) {}

  private legacyIndex(crypto: Decrypter): NamespaceIndex | undefined {
    return this.legacy.get(this.physical, LEGACY_NAMESPACES_KEY, (blob) => new NamespaceIndex((JSON.parse(crypto.decrypt(LEGACY_NAMESPACES_KEY, blob).toString('utf8')) as NamespaceTable).entries));
  }

  private load(crypto: Decrypter, path: string): { entry: NamespaceEntry; ref: NamespaceRef } | undefined {
    const key = namespaceKey(path);
    return this.entries.get(this.physical, key, (blob) => {
      const entry = JSON.parse(crypto.decrypt(key, blob).toString('utf8')) as NamespaceEntry;
      return { entry, ref: Object.freeze(refOf(entry)) };
    });
  }

  /** The namespace at exactly `path` ("team1/"), as a shared ref; undefined when there is none. */
  lookup(crypto: Decrypter, path: string): NamespaceRef | undefined {
    if (path === '') return undefined;
    const old = this.legacyIndex(crypto);
    if (old !== undefined) {
      const e = old.byPath(path);
      return e === undefined ? undefined : old.ofPath(path);
    }
    return this.load(crypto, path)?.ref;
  }

  /**
   * The namespace a full request path runs in ("team1" alone names team1/) with its chain. A namespace
   * exists only below an existing parent, so the walk stops at the first segment that names none.
   */
  place(crypto: Decrypter, path: string): NamespacePlace {
    const old = this.legacyIndex(crypto);
    if (old !== undefined) {
      const ns = old.ofPath(path);
      if (ns === ROOT_NAMESPACE) return ROOT_PLACE;
      const chain: NamespaceEntry[] = [];
      for (let end = ns.path.indexOf('/'); end >= 0; end = ns.path.indexOf('/', end + 1)) {
        const e = old.byPath(ns.path.slice(0, end + 1));
        if (e !== undefined) chain.push(e);
      }
      return { ns, chain };
    }
    let found: { entry: NamespaceEntry; ref: NamespaceRef } | undefined;
    let chain: NamespaceEntry[] | null = null;
    for (let end = path.indexOf('/'); ; end = path.indexOf('/', end + 1)) {
      const prefix = end < 0 ? `${path}/` : path.slice(0, end + 1);
      if (prefix === '/') break;
      const hit = this.load(crypto, prefix);
      if (hit === undefined) break;
      if (found !== undefined) (chain ??= [found.entry]).push(hit.entry);
      found = hit;
      if (end < 0 || end === path.length - 1) break;
    }
    if (found === undefined) return ROOT_PLACE;
    return { ns: found.ref, chain: chain ?? [found.entry] };
  }

  /**
   * The sealable namespace whose keyring encrypts the segment `namespaces/<uuid>/` (itself or its
   * nearest sealable ancestor), and whether it was sealed on purpose; null for the root's keyring.
   */
  sealOwnerOfSegment(crypto: Decrypter, uuid: string): SealOwner | null {
    const old = this.legacyIndex(crypto);
    if (old !== undefined) return old.sealOwnersBySegment().get(uuid) ?? null;
    const uuidKey = namespaceUuidKey(uuid);
    const path = this.uuids.get(this.physical, uuidKey, (blob) => (JSON.parse(crypto.decrypt(uuidKey, blob).toString('utf8')) as NamespaceUuidRecord).path);
    if (path === undefined) return null;
    return sealOwnerIn(this.place(crypto, path).chain);
  }

  /** Every namespace, parents before children: for the views that need all of them (the front's, the core's). */
  all(crypto: Decrypter): NamespaceEntry[] {
    return this.below(crypto, '');
  }

  /** The sealable namespaces (OpenBao 2.6's): through their own index, however many namespaces there are. */
  sealable(crypto: Decrypter): NamespaceEntry[] {
    const old = this.legacyIndex(crypto);
    if (old !== undefined) return old.entries.filter((e) => e.sealable === true);
    const out: NamespaceEntry[] = [];
    for (const uuid of this.physical.list(SEALABLE_NAMESPACE_PREFIX)) {
      const key = SEALABLE_NAMESPACE_PREFIX + uuid;
      const blob = this.physical.get(key);
      if (blob === undefined) continue;
      const entry = this.load(crypto, (JSON.parse(crypto.decrypt(key, blob).toString('utf8')) as NamespaceUuidRecord).path)?.entry;
      if (entry?.uuid === uuid) out.push(entry);
    }
    return out;
  }

  /** Every namespace below the one at `path` ("" for the root), parents before children. */
  below(crypto: Decrypter, path: string): NamespaceEntry[] {
    const old = this.legacyIndex(crypto);
    if (old !== undefined) return old.entries.filter((e) => e.path.startsWith(path) && e.path !== path);
    const out: NamespaceEntry[] = [];
    const walk = (prefix: string): void => {
      for (const name of this.physical.list(prefix)) {
        if (name.endsWith('/')) continue;
        const hit = this.load(crypto, `${prefix.slice(NAMESPACE_PREFIX.length)}${name}/`);
        if (hit === undefined) continue;
        out.push(hit.entry);
        walk(`${prefix}${name}/`);
      }
    };
    walk(NAMESPACE_PREFIX + path);
    return out;
  }
}

/** The innermost sealable namespace of a chain (outermost first). */
export function sealOwnerIn(chain: readonly NamespaceEntry[]): SealOwner | null {
  for (let i = chain.length - 1; i >= 0; i--) {
    const e = chain[i] as NamespaceEntry;
    if (e.sealable === true) return { uuid: e.uuid, sealed: e.manually_sealed === true };
  }
  return null;
}

/** The outermost locked namespace of a chain (OpenBao's locking namespace). */
export function lockingIn(chain: readonly NamespaceEntry[]): NamespaceEntry | undefined {
  return chain.find((e) => e.locked === true);
}
