// Where namespaces are stored: one barrier-encrypted entry per namespace, `core/namespace/<path>` ("team1",
// "team1/dev"), and `core/namespace-uuid/<uuid>` naming the path of each segment (the barrier finds a
// segment's seal owner through it). A request reads only the entries on its own path, so nothing is
// loaded for a namespace nobody uses, and creating the 10,000th namespace writes as much as the first.
//
// Before this layout the whole list was one value, `core/namespaces`, rewritten by every change. Such a
// list is still read, and the first change of any namespace moves it to this layout in its write-set.
//
// Concurrency, with the write-set's guards (every key read is guarded, present or absent):
// - two creates of one path both read its absent entry: one commits, the other re-runs and finds it;
// - a create reads its parent's entry and writes it back (same content, new ciphertext), so a delete of
//   the parent, which read that entry before listing the children, re-runs and sees the child.
import type { StorageView } from '../framework/types.js';
import { ROOT_NAMESPACE, type NamespaceEntry, type NamespaceRef, type NamespaceTable } from './model.js';

export const NAMESPACE_PREFIX = 'core/namespace/';
export const NAMESPACE_UUID_PREFIX = 'core/namespace-uuid/';
/** Each namespace's path by its id: a new id is checked against these (and tokens name their namespace by id). */
export const NAMESPACE_ID_PREFIX = 'core/namespace-id/';
/** The sealable namespaces by uuid (path): the seal sync of every standby lists these, not every namespace. */
export const SEALABLE_NAMESPACE_PREFIX = 'core/namespace-sealable/';
/** The single-value list of earlier versions: read while present, migrated by the first change. */
export const LEGACY_NAMESPACES_KEY = 'core/namespaces';

/** The storage key of the namespace at `path` ("team1/dev/" → core/namespace/team1/dev). */
export function namespaceKey(path: string): string {
  return NAMESPACE_PREFIX + path.slice(0, -1);
}

export function namespaceUuidKey(uuid: string): string {
  return NAMESPACE_UUID_PREFIX + uuid;
}

/** What the uuid key holds. */
export interface NamespaceUuidRecord {
  path: string;
}

async function legacy(root: StorageView): Promise<NamespaceEntry[] | undefined> {
  return (await root.getJson<NamespaceTable>(LEGACY_NAMESPACES_KEY))?.entries;
}

/** The namespace at `path` ("team1/dev/"), or undefined. */
export async function readNamespace(root: StorageView, path: string): Promise<NamespaceEntry | undefined> {
  if (path === '') return undefined;
  const old = await legacy(root);
  if (old !== undefined) return old.find((e) => e.path === path);
  return root.getJson<NamespaceEntry>(namespaceKey(path));
}

/** The namespaces directly below `parent`, by path. */
export async function childNamespaces(root: StorageView, parent: NamespaceRef): Promise<NamespaceEntry[]> {
  const old = await legacy(root);
  if (old !== undefined) return old.filter((e) => e.path.startsWith(parent.path) && e.path !== parent.path && !e.path.slice(parent.path.length, -1).includes('/')).sort(byPath);
  const out: NamespaceEntry[] = [];
  for (const name of await root.list(NAMESPACE_PREFIX + parent.path)) {
    if (name.endsWith('/')) continue;
    const entry = await root.getJson<NamespaceEntry>(NAMESPACE_PREFIX + parent.path + name);
    if (entry !== undefined) out.push(entry);
  }
  return out.sort(byPath);
}

/** Every namespace below `parent` (not `parent` itself), parents before their children. */
export async function descendantNamespaces(root: StorageView, parent: NamespaceRef): Promise<NamespaceEntry[]> {
  const out: NamespaceEntry[] = [];
  for (const child of await childNamespaces(root, parent)) out.push(child, ...(await descendantNamespaces(root, child)));
  return out;
}

/** `ns` and its ancestors that exist, outermost first ("a/", "a/b/"). */
export async function namespaceChain(root: StorageView, path: string): Promise<NamespaceEntry[]> {
  const out: NamespaceEntry[] = [];
  for (let end = path.indexOf('/'); end >= 0; end = path.indexOf('/', end + 1)) {
    const e = await readNamespace(root, path.slice(0, end + 1));
    if (e === undefined) break;
    out.push(e);
  }
  return out;
}

/**
 * The namespace a full path runs in: the deepest namespace whose path prefixes it ("team1" alone names
 * team1/). A namespace exists only below an existing parent, so the walk stops at the first miss.
 */
export async function namespaceOfFullPath(root: StorageView, path: string): Promise<NamespaceRef> {
  const chain = await namespaceChain(root, path.endsWith('/') ? path : `${path}/`);
  const last = chain[chain.length - 1];
  return last === undefined ? ROOT_NAMESPACE : { id: last.id, uuid: last.uuid, path: last.path };
}

/** Moves a list of the earlier layout into this one, in the request's write-set. */
async function migrate(root: StorageView): Promise<void> {
  const old = await legacy(root);
  if (old === undefined) return;
  for (const e of old) writeEntry(root, e);
  root.delete(LEGACY_NAMESPACES_KEY);
}

/** Whether a namespace has this id (the read guards it: two creates drawing one id cannot both commit). */
export async function namespaceIdTaken(root: StorageView, id: string): Promise<boolean> {
  const old = await legacy(root);
  if (old !== undefined && old.some((e) => e.id === id)) return true;
  return (await root.get(NAMESPACE_ID_PREFIX + id)) !== undefined;
}

function writeEntry(root: StorageView, entry: NamespaceEntry): void {
  root.putJson(namespaceKey(entry.path), entry);
  root.putJson(namespaceUuidKey(entry.uuid), { path: entry.path } satisfies NamespaceUuidRecord);
  root.putJson(NAMESPACE_ID_PREFIX + entry.id, { path: entry.path } satisfies NamespaceUuidRecord);
  if (entry.sealable === true) root.putJson(SEALABLE_NAMESPACE_PREFIX + entry.uuid, { path: entry.path } satisfies NamespaceUuidRecord);
}

/**
 * Writes a namespace's entry, new or changed (in the request's write-set). A new one also writes its
 * parent's entry back unchanged: see the concurrency note above.
 */
export async function putNamespace(root: StorageView, entry: NamespaceEntry, isNew = false): Promise<void> {
  await migrate(root);
  writeEntry(root, entry);
  if (!isNew) return;
  const parentPath = entry.path.slice(0, entry.path.slice(0, -1).lastIndexOf('/') + 1);
  if (parentPath === '') return;
  const parent = await readNamespace(root, parentPath);
  if (parent !== undefined) writeEntry(root, parent);
}

export async function deleteNamespaceEntry(root: StorageView, entry: NamespaceEntry): Promise<void> {
  await migrate(root);
  root.delete(namespaceKey(entry.path));
  root.delete(namespaceUuidKey(entry.uuid));
  root.delete(NAMESPACE_ID_PREFIX + entry.id);
  if (entry.sealable === true) root.delete(SEALABLE_NAMESPACE_PREFIX + entry.uuid);
}

function byPath(a: NamespaceEntry, b: NamespaceEntry): number {
  return a.path.localeCompare(b.path);
}
