// sys/remount {from, to} and sys/remount/status/<migration_id>: move a secrets engine or an auth method
// to another path. Checks and messages follow OpenBao's handleRemount / remountSecretsEngine /
// remountCredential (facts only, own code). A mount's data lives under its UUID (logical/<uuid>/ or
// auth/<uuid>/), so a move rewrites only its table row; as in Vault, every lease issued under the old
// path is revoked (auth tokens with their children) and the mount's quotas follow it. Vault runs the move
// in the background and answers with a migration id to poll; here the move is one write-set, committed
// before the answer, and its status record is written in the same write-set (so any node can answer
// the status, and `vault secrets move`'s polling sees "success" at once).
import { randomUUID } from 'node:crypto';
import type { HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { revokeLeasesUnder } from './leases.js';
import { moveMountQuotas } from './mount-quotas.js';
import { allMounts, PROTECTED_MOUNT_PREFIXES, readTable, writeTable, type Located } from './mounts.js';
import { badRequest, sanitizePath } from './util.js';

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

async function remount(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const fromRaw = typeof req.fields.from === 'string' ? req.fields.from : '';
  const toRaw = typeof req.fields.to === 'string' ? req.fields.to : '';
  if (fromRaw === '' || toRaw === '') badRequest("both 'from' and 'to' path must be specified as a string");
  if (fromRaw.trim() !== fromRaw) badRequest("'from' path cannot contain trailing whitespace");
  if (toRaw.trim() !== toRaw) badRequest("'to' path cannot contain trailing whitespace");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(toRaw)) badRequest('invalid destination mount: path cannot contain non-printable characters');
  const from = sanitizePath(fromRaw);
  const to = sanitizePath(toRaw);
  checkPaths(from, to);

  const mounts = await allMounts(storage);
  const source = mounts.find((m) => m.fullPath === from);
  if (!source) badRequest(`no matching mount at ${JSON.stringify(from)}`);
  const conflict = conflictingMount(mounts, to);
  if (conflict !== null) badRequest(`path already in use at ${JSON.stringify(conflict)}`);

  await revokeLeasesUnder(storage, from);
  const table = await readTable(storage, source.table);
  const storedPath = source.table === 'auth' ? to.slice('auth/'.length) : to;
  writeTable(storage, source.table, { ...table, entries: table.entries.map((e) => (e.uuid === source.entry.uuid ? { ...e, path: storedPath } : e)) });
  await moveMountQuotas(storage, from, to);

  const migrationId = randomUUID();
  const info: MigrationInfo = { source_mount: from, target_mount: to, status: 'success' };
  storage.putJson(`${MIGRATION_PREFIX}${migrationId}`, info);
  return { data: { migration_id: migrationId }, warnings: [`Mount moved from ${from} to ${to}; status at sys/remount/status/${migrationId}`] };
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
