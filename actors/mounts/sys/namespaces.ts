// sys/namespaces: create, read, patch, list and delete the namespaces directly below the namespace the
// request runs in (Vault Enterprise's and OpenBao's API). A new namespace gets its own built-in mounts
// (sys/, cubbyhole/, auth/token/) and default policy in its segment, in the same write-set as its entry.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { systemView } from '../../expiration/revoke-token.js';
import { AUTH_KEY, builtinMountEntry, MOUNTS_KEY, type MountTable } from '../mount-table.js';
import {
  namespaceNameError,
  namespaceSegment,
  namespaceView,
  newNamespaceId,
  type NamespaceEntry,
  type NamespaceRef,
} from '../namespaces/model.js';
import { DEFAULT_POLICY_HCL } from '../policy/builtin.js';
import { revokeLeasesUpTo } from './leases.js';
import { PURGE_INLINE_KEYS_MAX } from './deferred-purge.js';
import { deleteNamespaceQuotas } from './mount-quotas.js';
import { policyKey, type StoredPolicy } from './policy-store.js';
import { badRequest, stringMap } from './util.js';
import { purgePrefix } from './deferred-purge.js';
import { storageLimits } from '../../storage/storage-limits.js';
import { namespaceLockPaths } from './namespace-lock.js';
import { here, nameOf } from '../namespaces/requests.js';
import { childNamespaces, deleteNamespaceEntry, namespaceChain, namespaceIdTaken, putNamespace, readNamespace } from '../namespaces/store.js';
import { sealOwnerIn } from '../namespaces/directory.js';
import { createNamespaceSeal, parseNamespaceSeal } from '../namespaces/seal.js';
import { encryptToPgpKeys } from '../../barrier/pgp.js';
import { sealOperation } from './namespace-seal-paths.js';

/** Lease revocations a delete does itself (leaving room for the inline purge); the purger does the rest. */
const DELETE_LEASE_OPS_BUDGET = storageLimits.writeSetOpsMax - PURGE_INLINE_KEYS_MAX - 512;

const fields: Record<string, FieldSchema> = {
  custom_metadata: { type: 'map', description: 'Free-form string metadata kept with the namespace.' },
  seal: { type: 'string', description: 'A seal config document (HCL or JSON), `seal "shamir" { shares = 5 threshold = 3 }`: creates a sealable namespace with keys of its own.' },
  pgp_keys: { type: 'any', description: 'With seal: base64 binary PGP public keys, one per share; each share is answered encrypted to its key.' },
  key: { type: 'string', description: 'unseal: one share of the namespace unseal key (hex or base64).' },
  reset: { type: 'bool', description: 'unseal: discard the shares given so far.' },
  force: { type: 'bool', description: 'delete-sealed: delete the sealed namespace with every namespace below it.' },
};

const respond = (data: Record<string, unknown>): LogicalResponse => ({ data });

async function list(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const from = here(req);
  const children = await childNamespaces(systemView(storage), from);
  if (children.length === 0) return null;
  const keys = children.map((c) => c.path.slice(from.path.length));
  const keyInfo: Record<string, unknown> = {};
  for (const c of children) keyInfo[c.path.slice(from.path.length)] = namespaceView(c);
  return respond({ keys, key_info: keyInfo });
}

async function read(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const from = here(req);
  const entry = await readNamespace(systemView(storage), `${from.path}${nameOf(req)}/`);
  return entry ? respond(namespaceView(entry)) : null;
}

/** The built-in mounts and the default policy every namespace starts with, written into its segment. */
function seedSegment(put: (key: string, value: unknown) => void, ns: NamespaceRef, nowMs: number): void {
  const segment = namespaceSegment(ns);
  const mounts: MountTable = {
    entries: [
      builtinMountEntry('mounts', 'ns_cubbyhole', 'cubbyhole/', 'per-token private secret storage'),
      builtinMountEntry('mounts', 'ns_system', 'sys/', 'system endpoints used for control, policy and debugging'),
    ],
  };
  const auth: MountTable = { entries: [builtinMountEntry('auth', 'ns_token', 'token/', 'token based credentials')] };
  const defaultPolicy: StoredPolicy = { name: 'default', raw: DEFAULT_POLICY_HCL, type: 'acl', version: 1, modified: new Date(nowMs).toISOString() };
  put(segment + MOUNTS_KEY, mounts);
  put(segment + AUTH_KEY, auth);
  put(segment + policyKey('default'), defaultPolicy);
}

async function write(req: HandlerRequest, storage: StorageView, patch: boolean): Promise<LogicalResponse | null> {
  const from = here(req);
  const name = nameOf(req);
  const invalid = namespaceNameError(name);
  if (invalid) badRequest(invalid);
  const root = systemView(storage);
  const path = `${from.path}${name}/`;
  const existing = await readNamespace(root, path);
  const metadata = req.data.custom_metadata === undefined ? null : stringMap(req.data.custom_metadata, 'custom_metadata');
  const sealDoc = req.data.seal;
  if (existing) {
    if (sealDoc !== undefined && sealDoc !== '') badRequest('cannot modify existing namespace seal config');
    // A create of an existing namespace updates it: its metadata is replaced (cleared when omitted), as OpenBao does.
    if (patch && req.data.custom_metadata === undefined) badRequest('missing required field "custom_metadata"');
    const merged = patch ? mergePatch(existing.custom_metadata, req.data.custom_metadata) : (metadata ?? {});
    const updated = { ...existing, custom_metadata: merged };
    await putNamespace(root, updated);
    return respond(namespaceView(updated));
  }
  if (patch) throw new CofferError('COFFER_ERR_NOT_FOUND', 'namespace not found');
  const clash = await mountClash(root, from, name);
  if (clash !== null) badRequest(`new namespace conflicts with existing mount: ${clash}`);
  const created: NamespaceEntry = { id: await newNamespaceId((id) => namespaceIdTaken(root, id)), uuid: randomUUID(), path, custom_metadata: metadata ?? {} };
  if (sealDoc === undefined || sealDoc === '') {
    // Below a sealable namespace its entries are encrypted with that namespace's keyring, as all its data
    // will be; no stored entry names it yet, so the keyring is named through its owner's segment.
    const owner = sealOwnerIn(await namespaceChain(root, from.path));
    const via = owner === null ? null : `namespaces/${owner.uuid}/${MOUNTS_KEY}`;
    seedSegment((key, value) => (via !== null && root.putJsonVia ? root.putJsonVia(key, value, via) : root.putJson(key, value)), created, req.nowMs);
    await putNamespace(root, created, true);
    return respond(namespaceView(created));
  }
  // A sealable namespace (docs/namespace-seals.md): its seal material, and its first entries encrypted with
  // its own keyring, in the same write-set as its entry. It starts sealed: only the shares open it.
  const pgpKeys = pgpKeysOf(req.data.pgp_keys);
  const config = await parseNamespaceSeal(sealDoc);
  if (pgpKeys.length > 0 && pgpKeys.length !== config.shares) badRequest('invalid seal config: count mismatch between number of provided PGP keys and number of shares');
  const material = await createNamespaceSeal(config, req.nowMs);
  // With pgp_keys each share is encrypted to its key (hex of the PGP message, as OpenBao answers them).
  const handedOut = pgpKeys.length > 0 ? (await encryptToPgpKeys(material.shares, pgpKeys)).values : material.shares;
  const segment = namespaceSegment(created);
  const raw = root.putRaw?.bind(root) ?? (() => badRequest('this storage cannot hold seal material'));
  for (const w of material.physical) raw(segment + w.key, w.value);
  seedSegment((key, value) => raw(key, material.barrier.encrypt(key, Buffer.from(JSON.stringify(value)))), created, req.nowMs);
  const sealable: NamespaceEntry = { ...created, sealable: true };
  await putNamespace(root, sealable, true);
  return respond({ ...namespaceView(sealable), key_shares: handedOut.map((share) => share.toString('hex')), key_threshold: config.threshold });
}

/** `pgp_keys`: a list (or comma-separated string) of base64 binary PGP public keys, one per share. */
function pgpKeysOf(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) badRequest('pgp_keys must be a list of strings');
  return (list as string[]).map((k) => k.trim()).filter((k) => k !== '');
}

/** A mount of the parent at or under `name/` would be shadowed by the namespace (routing takes namespaces first). */
async function mountClash(root: StorageView, parent: NamespaceRef, name: string): Promise<string | null> {
  const segment = namespaceSegment(parent);
  for (const key of [MOUNTS_KEY, AUTH_KEY]) {
    for (const e of (await root.getJson<MountTable>(segment + key))?.entries ?? []) {
      const path = key === AUTH_KEY ? `auth/${e.path}` : e.path;
      if (path.startsWith(`${name}/`)) return path;
    }
  }
  return null;
}

/** JSON merge patch of a string map (RFC 7386): null deletes a key. */
function mergePatch(current: Record<string, string>, patch: unknown): Record<string, string> {
  if (patch === undefined) return current;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) badRequest('custom_metadata must be a map');
  const out = { ...current };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = typeof v === 'string' ? v : badRequest(`custom_metadata.${k} must be a string`);
  }
  return out;
}

/**
 * Deleting a namespace takes everything it holds, in one write-set: the leases (so the tokens) issued
 * under its path, and every key of its segment (tables, policies, mount data). Tokens of the namespace
 * without a lease stop working at once too: the pipeline refuses a token whose namespace is gone.
 */
async function remove(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const from = here(req);
  const root = systemView(storage);
  const target = await readNamespace(root, `${from.path}${nameOf(req)}/`);
  if (!target) return { data: null, warnings: ['requested namespace does not exist'] };
  // A sealed namespace is deleted with delete-sealed (sudo), as OpenBao does.
  if (target.sealable === true && (await req.namespaceSeals?.status(target.uuid))?.sealed !== false) throw new CofferError('COFFER_ERR_NAMESPACE_SEALED');
  if ((await childNamespaces(root, target)).length > 0) badRequest('unable to delete namespace containing child namespaces');
  return removeTree(root, [target]);
}

/**
 * Deletes `doomed` (a namespace, or a sealed one with every namespace below it) from the list in one
 * write-set: their leases (so their tokens) as far as this write-set goes, their quotas, their segments.
 */
export async function removeTree(root: StorageView, doomed: NamespaceEntry[]): Promise<LogicalResponse | null> {
  // Their leases (so their tokens) as far as this write-set goes; the purger revokes the rest. Their tokens
  // stop working with this commit anyway: the pipeline refuses a token whose namespace is gone.
  const allRevoked: boolean[] = [];
  for (const target of doomed) {
    allRevoked.push(await revokeLeasesUpTo(root, target.path, Math.floor(DELETE_LEASE_OPS_BUDGET / doomed.length), true));
    await deleteNamespaceQuotas(root, target.path);
  }
  for (const target of doomed) await deleteNamespaceEntry(root, target);
  // The segments: in this write-set when they fit (204), else by the purger, as OpenBao deletes in the
  // background and answers "in-progress" (the entries are gone already, so nothing reaches the segments).
  let inProgress = false;
  for (const [i, target] of doomed.entries()) {
    const purge = await purgePrefix(root, namespaceSegment(target), `namespace ${target.path}`, allRevoked[i] ? undefined : target.path);
    inProgress ||= purge !== 'deleted';
  }
  return inProgress ? { data: { status: 'in-progress' } } : null;
}

const help = {
  synopsis: 'Create, read, patch, list and delete namespaces.',
  description: 'Namespaces below the one the request runs in. Each has its own mounts, auth methods, policies and tokens, stored in a segment of its own.',
};

const methodNotAllowed = (): never => {
  throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
};

/** One pattern serves the list (`namespaces`, `namespaces/` as LIST sends it) and the named operations. */
const named =
  (f: (req: HandlerRequest, storage: StorageView) => Promise<LogicalResponse | null>) =>
  (req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> =>
    nameOf(req) === '' ? methodNotAllowed() : f(req, storage);

/** `x/seal`, `x/unseal`, `x/seal-status`, `x/delete-sealed` (names never hold "/": see namespaceNameError). */
const orSeal =
  (op: 'read' | 'update' | 'delete', f: (req: HandlerRequest, storage: StorageView) => Promise<LogicalResponse | null>) =>
  (req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> => {
    const seal = sealOperation(req, op);
    return seal !== null ? seal(storage) : named(f)(req, storage);
  };

export const namespacePaths: PathSpec[] = [
  ...namespaceLockPaths,
  {
    pattern: 'namespaces/:path*',
    fields,
    operations: {
      list: (req, storage) => (nameOf(req) === '' ? list(req, storage) : methodNotAllowed()),
      read: orSeal('read', read),
      create: orSeal('update', (req, storage) => write(req, storage, false)),
      update: orSeal('update', (req, storage) => write(req, storage, false)),
      patch: named((req, storage) => write(req, storage, true)),
      delete: orSeal('delete', remove),
    },
    help,
  },
];
