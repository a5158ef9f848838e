// What sys/namespaces' handlers share: the namespace list, the namespace a request runs in, and the
// name its path gives.
import type { HandlerRequest, StorageView } from '../framework/types.js';
import { NAMESPACES_KEY, ROOT_NAMESPACE, type NamespaceEntry, type NamespaceRef, type NamespaceTable } from './model.js';

/** The namespace list, read through the root view (in the request's write-set: the read guards it). */
export async function readNamespaces(root: StorageView): Promise<NamespaceEntry[]> {
  return (await root.getJson<NamespaceTable>(NAMESPACES_KEY))?.entries ?? [];
}

/** Writes the namespace list (through the root view, in the request's write-set). */
export function writeNamespaces(root: StorageView, entries: NamespaceEntry[]): void {
  root.putJson(NAMESPACES_KEY, { entries } satisfies NamespaceTable);
}

/** The namespace the request runs in (its mount's). */
export function here(req: HandlerRequest): NamespaceRef {
  return req.mount.namespace ?? ROOT_NAMESPACE;
}

/** The `:path` parameter without trailing slashes: a child's name, or "" for the request's own namespace. */
export function nameOf(req: HandlerRequest): string {
  return (req.params.path ?? '').replace(/\/+$/, '');
}

