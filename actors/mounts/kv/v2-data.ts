// KV v2 paths on versions: data/<key> (read, write, patch, soft delete of the latest), delete/,
// undelete/ and destroy/ of listed versions, subkeys/. Shapes and messages follow OpenBao's
// builtin/logical/kv (path_data.go, path_delete.go, path_destroy.go, path_subkeys.go).
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, Handler, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { isObject, mergePatch, sortKeysDeep, type JsonObject } from './format.js';
import {
  addVersion,
  checkCas,
  deletionTimeMs,
  DVA_DISABLED_S,
  isDeleted,
  loadConfig,
  loadMetadata,
  loadVersion,
  newMetadata,
  saveMetadata,
  versionKey,
  versionResponse,
  weakInt,
  type KeyMetadata,
  type VersionMeta,
  type VersionRecord,
} from './v2-store.js';

const pathField: FieldSchema = { type: 'string', description: 'Location of the secret.' };

/** Vault's RespondWithStatusCode: the whole envelope, sent with 404. */
export function notFoundWith(data: JsonObject): LogicalResponse {
  return { data, statusCode: 404 };
}

/** Vault's RespondWithStatusCode(nil, 404): status only, empty body. */
export const NOT_FOUND_EMPTY: LogicalResponse = { raw: { status: 404, body: null } };

function notFound(): never {
  throw new CofferError('COFFER_ERR_NOT_FOUND');
}

function keyOf(req: HandlerRequest): string {
  return req.params.path ?? '';
}

/** The root of a KV v2 sub-path ("data", "metadata", ...) without a key: OpenBao's 404 with a warning. */
export function rootWarning(): LogicalResponse {
  return { data: null, warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'], statusCode: 404 };
}

function isBareRoot(req: HandlerRequest): boolean {
  return !req.path.includes('/');
}

export const existsByMetadata = async (req: HandlerRequest, storage: StorageView): Promise<boolean> => {
  const key = keyOf(req);
  return key !== '' && (await loadMetadata(storage, key)) !== undefined;
};

// ---- data/<key> -----------------------------------------------------------------------------------

/** The version a read asks for (`?version=`, else the current one), or 404 when it never existed. */
async function askedVersion(req: Parameters<Handler>[0], storage: Parameters<Handler>[1]) {
  const key = keyOf(req);
  const meta = await loadMetadata(storage, key);
  if (!meta) notFound();
  const asked = typeof req.fields.version === 'number' ? req.fields.version : 0;
  const version = asked > 0 ? asked : meta.current_version;
  const vm = meta.versions[String(version)];
  if (!vm) notFound();
  const metadata = versionResponse(meta, version, vm);
  return { key, version, metadata, gone: isDeleted(vm, req.nowMs) || vm.destroyed };
}


const dataRead: Handler = async (req, storage) => {
  if (isBareRoot(req)) return rootWarning();
  const { key, version, metadata, gone } = await askedVersion(req, storage);
  if (gone) return notFoundWith({ data: null, metadata });
  const rec = await loadVersion(storage, key, version);
  return { data: { data: rec.data, metadata } };
};

/** Appends a new version holding `data` (already canonical) and prunes past max_versions. */
async function appendVersion(req: HandlerRequest, storage: StorageView, meta: KeyMetadata, data: JsonObject, configMax: number, deletionMs: number | null): Promise<LogicalResponse> {
  const { vm, pruned } = addVersion(meta, req.nowMs, deletionMs, configMax);
  // The version's creation time is in the metadata (versions[n].created_ms), read from there.
  storage.putJson(versionKey(meta.key, meta.current_version), { v: 1, data } satisfies VersionRecord);
  for (const n of pruned) storage.delete(versionKey(meta.key, n));
  saveMetadata(storage, meta);
  return { data: versionResponse(meta, meta.current_version, vm) };
}

const dataWrite: Handler = async (req, storage) => {
  if (isBareRoot(req)) return rootWarning();
  const key = keyOf(req);
  if (key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing path');
  const config = await loadConfig(storage);
  if (!isObject(req.fields.data)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no data provided');
  const meta = (await loadMetadata(storage, key)) ?? newMetadata(key);
  checkCas(req.fields.options, config, meta);
  const data = sortKeysDeep(req.fields.data) as JsonObject;
  return appendVersion(req, storage, meta, data, config.max_versions, deletionTimeMs(req.nowMs, config, meta));
};

const dataPatch: Handler = async (req, storage) => {
  if (isBareRoot(req)) return rootWarning();
  const key = keyOf(req);
  if (!isObject(req.fields.data)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no data provided');
  const meta = await loadMetadata(storage, key);
  if (!meta) return NOT_FOUND_EMPTY;
  const config = await loadConfig(storage);
  checkCas(req.fields.options, config, meta);
  const current = meta.current_version;
  const vm = meta.versions[String(current)];
  if (!vm) return NOT_FOUND_EMPTY;
  if (isDeleted(vm, req.nowMs) || vm.destroyed) return notFoundWith(versionResponse(meta, current, vm));
  const rec = await loadVersion(storage, key, current);
  const patched = sortKeysDeep(mergePatch(rec.data, req.fields.data)) as JsonObject;
  return appendVersion(req, storage, meta, patched, config.max_versions, deletionTimeMs(req.nowMs, config, meta));
};

/** DELETE data/<key>: soft-deletes the latest version; 204 whatever the state. */
const dataDelete: Handler = async (req, storage) => {
  if (isBareRoot(req)) return rootWarning();
  const meta = await loadMetadata(storage, keyOf(req));
  if (!meta) return null;
  const lv = meta.versions[String(meta.current_version)];
  if (!lv || lv.destroyed || isDeleted(lv, req.nowMs)) return null;
  lv.deletion_ms = req.nowMs;
  saveMetadata(storage, meta);
  return null;
};

export const dataPath: PathSpec = {
  pattern: 'data/:path*',
  fields: {
    path: pathField,
    version: { type: 'int', description: 'If provided during a read, the value at the version number will be returned' },
    options: { type: 'map', description: 'Options for writing a KV entry: "cas" (0 = only if absent, N = only if the current version is N).' },
    data: { type: 'map', description: 'The contents of the data map will be stored and returned on read.' },
  },
  operations: { read: dataRead, create: dataWrite, update: dataWrite, patch: dataPatch, delete: dataDelete },
  existenceCheck: existsByMetadata,
  help: {
    synopsis: 'Write, Patch, Read, and Delete data in the Key-Value Store.',
    description: 'Each write creates a new version. A read returns the latest version unless "version" is set. Delete soft-deletes the latest version; it can be undone.',
  },
};

// ---- delete/, undelete/, destroy/ ------------------------------------------------------------------

/** TypeCommaIntSlice: an array of ints (or numeric strings), a comma-separated string, or one int. */
function parseVersions(raw: unknown): number[] {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [raw];
  return items.map((item) => {
    const n = weakInt(item);
    if (n === null || typeof item === 'object') throw new CofferError('COFFER_ERR_INVALID_REQUEST', `Field validation failed: error converting input for field "versions": cannot parse "${String(item)}" as an integer`);
    return n;
  });
}

type VersionsOp = (vm: VersionMeta, ctx: { req: HandlerRequest; meta: KeyMetadata; deletionMs: number | null }) => void;

function versionsHandler(missingMessage: string, op: VersionsOp, destroy: boolean): Handler {
  return async (req, storage) => {
    if (isBareRoot(req)) return rootWarning();
    const versions = parseVersions(req.fields.versions);
    if (versions.length === 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', missingMessage);
    const key = keyOf(req);
    const config = await loadConfig(storage);
    const meta = await loadMetadata(storage, key);
    if (!meta) return null;
    const deletionMs = config.delete_version_after_s === DVA_DISABLED_S ? null : deletionTimeMs(req.nowMs, config, meta);
    for (const n of versions) {
      const vm = meta.versions[String(n)];
      if (!vm || vm.destroyed) continue;
      op(vm, { req, meta, deletionMs });
    }
    saveMetadata(storage, meta);
    if (destroy) for (const n of versions) if (n > 0) storage.delete(versionKey(key, n));
    return null;
  };
}

const softDelete: VersionsOp = (vm, { req }) => {
  if (!isDeleted(vm, req.nowMs)) vm.deletion_ms = req.nowMs;
};
const undelete: VersionsOp = (vm, { deletionMs }) => {
  vm.deletion_ms = deletionMs;
};
const destroyOne: VersionsOp = (vm) => {
  vm.destroyed = true;
};

function versionsPath(root: string, description: string, handler: Handler, synopsis: string): PathSpec {
  return {
    pattern: `${root}/:path*`,
    fields: { path: pathField, versions: { type: 'any', description } },
    operations: { update: handler },
    help: { synopsis, description: synopsis },
  };
}

export const deletePath = versionsPath(
  'delete',
  'The versions to be archived. The versioned data will not be deleted, but it will no longer be returned in normal get requests.',
  versionsHandler('No version number provided', softDelete, false),
  'Marks one or more versions as deleted in the KV store.',
);
export const undeletePath = versionsPath(
  'undelete',
  'The versions to unarchive. The versions will be restored and their data will be returned on normal get requests.',
  versionsHandler('No version number provided', undelete, false),
  'Undeletes one or more versions from the KV store.',
);
export const destroyPath = versionsPath(
  'destroy',
  'The versions to destroy. Their data will be permanently deleted.',
  versionsHandler('no version number provided', destroyOne, true),
  'Permanently removes one or more versions in the KV store',
);

// ---- subkeys/<key> ----------------------------------------------------------------------------------

/** Replaces leaf values with null; maps deeper than `maxDepth` (0 = unlimited) become leaves too. */
export function subkeysOf(input: JsonObject, maxDepth: number, depth = 1): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(input)) {
    const deeper = depth + 1;
    out[k] = isObject(v) && Object.keys(v).length > 0 && (maxDepth === 0 || deeper <= maxDepth) ? subkeysOf(v, maxDepth, deeper) : null;
  }
  return out;
}

const subkeysRead: Handler = async (req, storage) => {
  if (isBareRoot(req)) return rootWarning();
  const { key, version, metadata, gone } = await askedVersion(req, storage);
  if (gone) return notFoundWith({ metadata, subkeys: null });
  const depth = typeof req.fields.depth === 'number' ? req.fields.depth : 0;
  const rec = await loadVersion(storage, key, version);
  return { data: { metadata, subkeys: subkeysOf(rec.data, depth) } };
};

export const subkeysPath: PathSpec = {
  pattern: 'subkeys/:path*',
  fields: {
    path: pathField,
    depth: { type: 'int', description: 'The maximum depth to traverse. No limit will be imposed if not provided or if 0.' },
    version: { type: 'int', description: 'Specifies which version to retrieve. If not provided, the current version will be used.' },
  },
  operations: { read: subkeysRead },
  help: {
    synopsis: 'Read the structure of a secret entry from the Key-Value store with the values removed.',
    description: 'Leaf values are replaced by null; "depth" limits the nesting shown (0 = unlimited).',
  },
};
