// KV v1: pass-through storage of arbitrary JSON objects at any path under the mount (OpenBao's
// passthrough.go). Reads are "secret" responses whose lease_duration is the stored `ttl` (or `lease`)
// when it parses as a duration, else the mount's default lease TTL; no lease is ever created.
import { CofferError } from '../../../runtime/errors.js';
import { parseDurationSeconds } from '../framework/router.js';
import type { Handler, HandlerRequest, PathSpec, StorageView } from '../framework/types.js';
import { sortKeysDeep, type JsonObject } from './format.js';
import { checkKeyName } from './v2-store.js';

/** Vault's default_lease_ttl (768h) when the mount does not say. */
const SYSTEM_DEFAULT_LEASE_TTL_S = 2764800;

function keyOf(req: HandlerRequest): string {
  const key = req.params.path ?? '';
  if (key !== '') checkKeyName(key);
  return key;
}

function leaseSeconds(data: JsonObject, fallbackS: number): number {
  const raw = Object.prototype.hasOwnProperty.call(data, 'ttl') ? data.ttl : Object.prototype.hasOwnProperty.call(data, 'lease') ? data.lease : undefined;
  if (raw === undefined) return fallbackS;
  try {
    return parseDurationSeconds(raw, 'ttl');
  } catch {
    return fallbackS;
  }
}

const read: Handler = async (req, storage) => {
  const key = keyOf(req);
  const data = key === '' ? undefined : await storage.getJson<JsonObject>(key);
  if (data === undefined) throw new CofferError('COFFER_ERR_NOT_FOUND');
  const fallback = req.mount.defaultLeaseTtlS > 0 ? req.mount.defaultLeaseTtlS : SYSTEM_DEFAULT_LEASE_TTL_S;
  return { data, lease: { leaseId: '', durationS: leaseSeconds(data, fallback), renewable: false } };
};

const write: Handler = async (req, storage) => {
  const key = keyOf(req);
  if (key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing path');
  if (Object.keys(req.data).length === 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing data fields');
  storage.putJson(key, sortKeysDeep(req.data));
  return null;
};

const remove: Handler = async (req, storage) => {
  const key = keyOf(req);
  if (key !== '') storage.delete(key);
  return null;
};

const list: Handler = async (req, storage) => {
  let prefix = keyOf(req);
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const keys = await storage.list(prefix);
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
};

const exists = async (req: HandlerRequest, storage: StorageView): Promise<boolean> => {
  const key = keyOf(req);
  return key !== '' && (await storage.get(key)) !== undefined;
};

export const v1Paths: PathSpec[] = [
  {
    pattern: ':path*',
    fields: {},
    operations: { read, create: write, update: write, delete: remove, list },
    existenceCheck: exists,
    help: {
      synopsis: 'Pass-through secret storage to the storage backend, allowing you to read/write arbitrary data into secret storage.',
      description:
        'Reads and writes arbitrary JSON objects, encrypted by the barrier. A "ttl" field is returned as the lease duration, a hint to re-read; no lease is created.',
    },
  },
];
