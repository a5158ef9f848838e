// What sys/namespaces' handlers share: the namespace a request runs in, and the name its path gives.
// (Reading and writing namespaces: store.ts.)
import type { HandlerRequest } from '../framework/types.js';
import { ROOT_NAMESPACE, type NamespaceRef } from './model.js';

/** The namespace the request runs in (its mount's). */
export function here(req: HandlerRequest): NamespaceRef {
  return req.mount.namespace ?? ROOT_NAMESPACE;
}

/** The `:path` parameter without trailing slashes: a child's name, or "" for the request's own namespace. */
export function nameOf(req: HandlerRequest): string {
  return (req.params.path ?? '').replace(/\/+$/, '');
}

