// Small helpers shared by the system backend's handlers.
import { CofferError } from '../../../runtime/errors.js';
import type { StorageView } from '../framework/types.js';

/** Vault's handler error response: a 400 with this message. */
export function badRequest(message: string): never {
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', message);
}

/** Vault's sanitizePath: ensure a trailing `/`, drop one leading `/`. */
export function sanitizePath(path: string): string {
  let p = path.endsWith('/') ? path : `${path}/`;
  if (p.startsWith('/')) p = p.slice(1);
  return p;
}

/**
 * A view of `parent` under `prefix`: reads and writes go through the parent, so they join the parent's
 * write-set (one request, one transaction) and its read guards.
 */
export function subView(parent: StorageView, prefix: string): StorageView {
  return {
    get: (key) => parent.get(prefix + key),
    getJson: <T>(key: string) => parent.getJson<T>(prefix + key),
    list: (p) => parent.list(prefix + p),
    put: (key, value) => parent.put(prefix + key, value),
    putJson: (key, value) => parent.putJson(prefix + key, value),
    delete: (key) => parent.delete(prefix + key),
  };
}

/**
 * Every key under `prefix`, recursively, as full keys (Vault's CollectKeysWithPrefix over a view); with
 * `max`, it stops once it holds more than `max` (enough to tell "few" from "many").
 */
export async function listRecursive(storage: StorageView, prefix: string, max = Infinity): Promise<string[]> {
  const out: string[] = [];
  const queue = [prefix];
  while (queue.length > 0 && out.length <= max) {
    const dir = queue.shift() as string;
    for (const name of await storage.list(dir)) {
      if (name.endsWith('/')) queue.push(dir + name);
      else out.push(dir + name);
      if (out.length > max) break;
    }
  }
  return out;
}

/** A string-valued map (Vault's TypeKVPairs): values are converted to strings, as Go's weak decode does. */
export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) badRequest(`error converting input for field "${field}": expected a map`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined) out[k] = '';
    else if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else badRequest(`error converting input for field "${field}": expected a map of strings`);
  }
  return out;
}

/** A list given as an array or a comma-separated string (Vault's TypeCommaStringSlice). */
export function commaSlice(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter((v) => v !== '');
  return String(value)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
