// sys/remount {from, to} and sys/remount/status/<migration_id>: move a secrets engine or an auth method
// to another path. Checks and messages follow OpenBao's handleRemount / remountSecretsEngine /
// remountCredential (facts only, own code). A mount's data lives under its UUID (logical/<uuid>/ or
// auth/<uuid>/), so a move rewrites only its table row; as in Vault, every lease issued under the old
// path is revoked (auth tokens with their children) and the mount's quotas follow it. Vault runs the move
// in the background and answers with a migration id to poll; here the move is one write-set, committed
// before the answer, and its status record is written in the same write-set (so any node can answer
// the status, and `vault secrets move`'s polling sees "success" at once). Paths are relative to the
// request's namespace and may name a child namespace's mount: a move into another namespace moves the
// table row and the mount's data into the target's segment (docs/namespaces.md).
import { randomUUID } from 'node:crypto';
import type { HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { systemView } from '../../expiration/revoke-token.js';
import { mountDataPrefix } from '../mount-table.js';
import { namespaceSegment, ROOT_NAMESPACE, type NamespaceRef } from '../namespaces/model.js';
import { namespaceOfFullPath } from '../namespaces/store.js';
import { storageLimits } from '../../storage/storage-limits.js';
import { revokeLeasesUnder } from './leases.js';
import { moveMountQuotas } from './mount-quotas.js';
import { allMounts, PROTECTED_MOUNT_PREFIXES, readTable, writeTable, type Located } from './mounts.js';
import { badRequest, listRecursive, sanitizePath, subView } from './util.js';

/** A move into another namespace copies the mount's data: two operations a key, in one write-set. */
const MOVE_KEYS_MAX = Math.floor((storageLimits.writeSetOpsMax - 1024) / 2);

/** Vault's protectedAuths: the token store never moves. */
const PROTECTED_AUTHS = ['auth/token'];
const MIGRATION_PREFIX = 'core/mount-migrations/';

interface MigrationInfo {
  source_mount: string;
  target_mount: string;
  status: 'success';
}

/** Vault's router.MountConflict: a mount at, above or below `path`, from either table. */
function conflictingMount(mounts: Located[], path: string): string | null {
  for (const m of mounts) if (path.startsWith(m.fullPath) || m.fullPath.startsWith(path)) return m.fullPath;
  return null;
}

function checkPaths(from: string, to: string): void {
  if (from.startsWith('auth/')) {
    if (!to.startsWith('auth/')) badRequest(`cannot remount auth mount to non-auth mount ${JSON.stringify(to)}`);
    for (const p of PROTECTED_AUTHS) if (from.startsWith(p)) badRequest(`cannot remount ${JSON.stringify(from)}`);
    for (const p of PROTECTED_AUTHS) if (to.startsWith(p)) badRequest(`cannot remount to destination ${JSON.stringify(to)}`);
    return;
  }
  for (const p of PROTECTED_MOUNT_PREFIXES) {
    if (from.startsWith(p)) badRequest(`cannot remount ${JSON.stringify(from)}`);
    if (to.startsWith(p)) badRequest(`cannot remount to destination ${to}`);
  }
}

/** Where one side of a move is: its namespace, its path there, and a view of that namespace's segment. */
interface Side {
  ns: NamespaceRef;
  path: string;
  view: StorageView;
}

/** Paths are relative to the request's namespace and may name a child namespace's mount ("team1/secret/"). */
async function locate(root: StorageView, here: NamespaceRef, path: string): Promise<Side> {
  const ns = await namespaceOfFullPath(root, here.path + path);
  return { ns, path: (here.path + path).slice(ns.path.length), view: subView(root, namespaceSegment(ns)) };
}

async function remount(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const fromRaw = typeof req.fields.from === 'string' ? req.fields.from : '';
  const toRaw = typeof req.fields.to === 'string' ? req.fields.to : '';
  if (fromRaw === '' || toRaw === '') badRequest("both 'from' and 'to' path must be specified as a string");
  if (fromRaw.trim() !== fromRaw) badRequest("'from' path cannot contain trailing whitespace");
  if (toRaw.trim() !== toRaw) badRequest("'to' path cannot contain trailing whitespace");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(toRaw)) badRequest('invalid destination mount: path cannot contain non-printable characters');
  const root = systemView(storage);
  const here = req.mount.namespace ?? ROOT_NAMESPACE;
  const src = await locate(root, here, sanitizePath(fromRaw));
  const dst = await locate(root, here, sanitizePath(toRaw));
  const from = src.path;
  const to = dst.path;
  if (to === '') badRequest(`cannot remount to destination ${JSON.stringify(sanitizePath(toRaw))}`);
  checkPaths(from, to);

  const source = (await allMounts(src.view)).find((m) => m.fullPath === from);
  if (!source) badRequest(`no matching mount at ${JSON.stringify(sanitizePath(fromRaw))}`);
  const conflict = conflictingMount(await allMounts(dst.view), to);
  if (conflict !== null) badRequest(`path already in use at ${JSON.stringify(dst.ns.path.slice(here.path.length) + conflict)}`);

  await revokeLeasesUnder(root, src.ns.path + from);
  const storedPath = source.table === 'auth' ? to.slice('auth/'.length) : to;
  const moved = { ...source.entry, path: storedPath };
  const table = await readTable(src.view, source.table);
  if (src.ns.id === dst.ns.id) {
    writeTable(src.view, source.table, { ...table, entries: table.entries.map((e) => (e.uuid === source.entry.uuid ? moved : e)) });
  } else {
    // Into another namespace: the row changes tables and the data changes segments (same UUID), in this write-set.
    writeTable(src.view, source.table, { ...table, entries: table.entries.filter((e) => e.uuid !== source.entry.uuid) });
    const target = await readTable(dst.view, source.table);
    writeTable(dst.view, source.table, { ...target, entries: [...target.entries, moved] });
    const prefix = mountDataPrefix(source.table, source.entry.uuid);
    const keys = await listRecursive(src.view, prefix);
    if (keys.length > MOVE_KEYS_MAX) badRequest(`mount ${JSON.stringify(sanitizePath(fromRaw))} holds ${keys.length} keys, more than one request may move to another namespace`);
    for (const key of keys) {
      const value = await src.view.get(key);
      if (value !== undefined) dst.view.put(key, value);
      src.view.delete(key);
    }
  }
  await moveMountQuotas(root, from, to, src.ns.path, dst.ns.path);

  const fromShown = sanitizePath(fromRaw);
  const toShown = sanitizePath(toRaw);
  const migrationId = randomUUID();
  const info: MigrationInfo = { source_mount: fromShown, target_mount: toShown, status: 'success' };
  storage.putJson(`${MIGRATION_PREFIX}${migrationId}`, info);
  return { data: { migration_id: migrationId }, warnings: [`Mount moved from ${fromShown} to ${toShown}; status at sys/remount/status/${migrationId}`] };
}

async function status(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const id = String(req.params['migration_id'] ?? '');
  const info = await storage.getJson<MigrationInfo>(`${MIGRATION_PREFIX}${id}`);
  if (!info) return null; // 404, as Vault answers an unknown id
  return { data: { migration_id: id, migration_info: info } };
}

const help = (synopsis: string) => ({ synopsis, description: synopsis });

export const remountPaths: PathSpec[] = [
  {
    pattern: 'remount',
    sudo: true,
    fields: {
      from: { type: 'string', description: 'The mount to move, e.g. "secret/" or "auth/userpass/".' },
      to: { type: 'string', description: 'Its new path (an auth method stays under "auth/").' },
    },
    operations: { update: remount },
    alwaysWrites: ['update'],
    help: help('Move a secrets engine or auth method to a new path; its leases are revoked (root-protected).'),
  },
  {
    pattern: 'remount/status/:migration_id',
    operations: { read: status },
    help: help('The status of a mount move, by the migration_id sys/remount returned.'),
  },
];
