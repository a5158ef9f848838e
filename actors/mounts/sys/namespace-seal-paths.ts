// sys/namespaces/:path/seal-status, unseal, seal and delete-sealed (OpenBao 2.6's sealable namespaces,
// docs/namespace-seals.md). `:path` is relative to the namespace the request runs in, as for every
// sys/namespaces path; send them from the parent, since the namespace itself answers 503 while sealed.
// The seal state lives in the active node's core (actors/core/namespace-seals.ts): a standby forwards.
import { CofferError } from '../../../runtime/errors.js';
import type { HandlerRequest, LogicalResponse, NamespaceSealOps, PathSpec, StorageView } from '../framework/types.js';
import { systemView } from '../../expiration/revoke-token.js';
import type { NamespaceEntry } from '../namespaces/model.js';
import { here, nameOf } from '../namespaces/requests.js';
import { descendantNamespaces, putNamespace, readNamespace } from '../namespaces/store.js';
import { removeTree } from './namespaces.js';
import { badRequest } from './util.js';

const SEAL_OPERATIONS = { 'seal-status': 'read', unseal: 'update', seal: 'update', 'delete-sealed': 'delete' } as const;
type SealOperation = keyof typeof SEAL_OPERATIONS;

/** The handler of `<name>/<seal operation>` for this HTTP operation, or null when the path names no such operation. */
export function sealOperation(req: HandlerRequest, op: 'read' | 'update' | 'delete'): ((storage: StorageView) => Promise<LogicalResponse | null>) | null {
  const name = nameOf(req);
  const slash = name.lastIndexOf('/');
  if (slash <= 0) return null;
  const what = name.slice(slash + 1) as SealOperation;
  if (SEAL_OPERATIONS[what] === undefined) return null;
  if (SEAL_OPERATIONS[what] !== op) throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
  const targetPath = `${here(req).path}${name.slice(0, slash)}/`;
  return (storage) => run(req, storage, what, targetPath);
}

async function run(req: HandlerRequest, storage: StorageView, what: SealOperation, targetPath: string): Promise<LogicalResponse | null> {
  const seals = req.namespaceSeals;
  if (seals === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'namespace seals are not available here');
  const root = systemView(storage);
  const target = await readNamespace(root, targetPath);
  if (target === undefined) return badRequest(`namespace ${JSON.stringify(targetPath)} doesn't exist`);
  const t = target;
  switch (what) {
    case 'seal-status':
      return { data: await seals.status(sealableUuid(t)) };
    case 'unseal': {
      const key = req.data.key;
      if (key !== undefined && typeof key !== 'string') badRequest('key must be a string');
      const status = await seals.unseal(sealableUuid(t), (key as string | undefined) ?? null, req.data.reset === true || req.data.reset === 'true');
      // Unsealed on purpose: the other nodes may fetch its keyring from this one again.
      if (status.sealed === false && t.manually_sealed === true) await saveSealFlags(root, [t], false);
      return { data: status };
    }
    case 'seal': {
      sealableUuid(t);
      // With it, every sealable namespace below it (their seal config is readable only through it). The
      // replicated flag makes every other node forget its copies of their keyrings as it applies it.
      const sealed = [t, ...(await descendantNamespaces(root, t))].filter((e) => e.sealable === true);
      await seals.seal(sealed.map((e) => e.uuid));
      await saveSealFlags(root, sealed, true);
      return null;
    }
    case 'delete-sealed':
      return deleteSealed(req, root, t, await seals.status(sealableUuid(t)));
  }
}

/** Sets or clears manually_sealed on these namespaces, in the request's write-set. */
async function saveSealFlags(root: StorageView, entries: readonly NamespaceEntry[], sealed: boolean): Promise<void> {
  for (const e of entries) {
    const { manually_sealed: _was, ...rest } = e;
    void _was;
    await putNamespace(root, sealed ? { ...rest, manually_sealed: true } : rest);
  }
}

function sealableUuid(target: NamespaceEntry): string {
  if (target.sealable !== true) badRequest('namespace is not sealable');
  return target.uuid;
}

/** DELETE <name>/delete-sealed[?force=true]: needs sudo; the namespace must be sealed (else delete it as usual). */
async function deleteSealed(req: HandlerRequest, root: StorageView, target: NamespaceEntry, status: Record<string, unknown>): Promise<LogicalResponse | null> {
  if (!req.caller.isRoot && req.caller.sudo !== true) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  if (status.sealed !== true) badRequest('namespace is not sealed');
  const below = await descendantNamespaces(root, target);
  const force = req.data.force === true || req.data.force === 'true';
  if (below.length > 0 && !force) {
    throw new CofferError('COFFER_ERR_CONFLICT', 'sealed namespace has leftover child namespaces; pass force=true to delete the entire tree, or unseal the namespace and delete children individually');
  }
  // Deepest first; the whole tree in one write-set (segments beyond its budget go to the purger).
  const doomed = [...below.sort((a, b) => b.path.length - a.path.length), target];
  const result = await removeTree(root, doomed);
  return result ?? { data: { status: 'in-progress' } };
}

/**
 * sys/rotate, sys/rotate/keyring and sys/key-status sent to a sealable namespace itself (OpenBao: `bao
 * operator rotate -ns=tenant`): its own keyring. Root-protected, as the node's. Elsewhere in a namespace
 * they stay the root namespace's (400 "operation only available in root namespace").
 */
async function ownSealable(req: HandlerRequest, storage: StorageView): Promise<{ seals: NamespaceSealOps; uuid: string }> {
  const seals = req.namespaceSeals;
  const ns = here(req);
  const found = await readNamespace(systemView(storage), ns.path);
  const entry = found?.uuid === ns.uuid ? found : undefined;
  if (seals === undefined || entry?.sealable !== true) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'operation only available in root namespace');
  return { seals, uuid: entry.uuid };
}

const rotate = async (req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> => {
  const { seals, uuid } = await ownSealable(req, storage);
  await seals.rotate(uuid);
  return null;
};

export const namespaceKeyringPaths: PathSpec[] = [
  { pattern: 'rotate', sudo: true, operations: { update: rotate }, alwaysWrites: ['update'], help: { synopsis: "Rotate this sealable namespace's keyring.", description: 'Adds a term; older terms still decrypt.' } },
  { pattern: 'rotate/keyring', sudo: true, operations: { update: rotate }, alwaysWrites: ['update'], help: { synopsis: "Rotate this sealable namespace's keyring.", description: 'Adds a term; older terms still decrypt.' } },
  {
    pattern: 'key-status',
    sudo: true,
    operations: {
      read: async (req, storage) => {
        const { seals, uuid } = await ownSealable(req, storage);
        return { data: await seals.keyStatus(uuid) };
      },
    },
    alwaysWrites: ['read'],
    help: { synopsis: "This sealable namespace's keyring: active term, install time, encryptions.", description: 'As sys/key-status, for the namespace.' },
  },
];
