// sys/namespaces/api-lock/lock and /unlock (OpenBao): lock the request's namespace, or one below it, so
// every request in it and below answers 503 until it is unlocked (the pipeline checks: handler/pipeline.ts).
// The unlock key is answered once, by the lock, kept in the barrier-encrypted namespace list and compared
// in constant time; a caller with sudo on the path may unlock without it.
import { randomBase62, safeEqual } from '../../core/tokens.js';
import { systemView } from '../../expiration/revoke-token.js';
import type { HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import type { NamespaceEntry } from '../namespaces/model.js';
import { lockingIn } from '../namespaces/directory.js';
import { here, nameOf } from '../namespaces/requests.js';
import { namespaceChain, putNamespace } from '../namespaces/store.js';
import { badRequest } from './util.js';

/** The namespace an api-lock path names: the request's own namespace, or one below it. */
async function lockTarget(req: HandlerRequest, storage: StorageView): Promise<{ chain: NamespaceEntry[]; target: NamespaceEntry }> {
  const from = here(req);
  const rel = nameOf(req);
  const path = rel === '' ? from.path : `${from.path}${rel}/`;
  if (path === '') badRequest('root namespace cannot be locked/unlocked');
  const chain = await namespaceChain(systemView(storage), path);
  const target = chain[chain.length - 1];
  if (target === undefined || target.path !== path) badRequest('requested namespace does not exist');
  return { chain, target };
}

function saveLock(storage: StorageView, next: NamespaceEntry): Promise<void> {
  return putNamespace(systemView(storage), next);
}

async function lock(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const { chain, target } = await lockTarget(req, storage);
  const locking = lockingIn(chain);
  if (locking === target) badRequest(`cannot lock namespace ${JSON.stringify(target.path)}: is already locked`);
  if (locking !== undefined) badRequest(`cannot lock namespace ${JSON.stringify(target.path)}: ancestor namespace ${JSON.stringify(locking.path)} is already locked`);
  const unlockKey = randomBase62(24);
  await saveLock(storage, { ...target, locked: true, unlock_key: unlockKey });
  return { data: { unlock_key: unlockKey } };
}

async function unlock(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse | null> {
  const key = typeof req.fields.unlock_key === 'string' ? req.fields.unlock_key : '';
  // Without the key only a caller with sudo on this path may unlock (OpenBao).
  const sudo = req.caller.isRoot || req.caller.sudo === true;
  if (key === '' && !sudo) badRequest('provided empty key');
  const { chain, target } = await lockTarget(req, storage);
  if (target.locked !== true) badRequest(`namespace ${JSON.stringify(target.path)} is not locked`);
  const locking = lockingIn(chain);
  if (locking !== undefined && locking !== target) badRequest(`cannot unlock ${JSON.stringify(target.path)} with namespace ${JSON.stringify(locking.path)} being locked`);
  if (key !== '' && !safeEqual(key, target.unlock_key ?? '')) badRequest('incorrect unlock key');
  const { unlock_key: _dropped, ...rest } = target;
  void _dropped;
  await saveLock(storage, { ...rest, locked: false });
  return key === '' ? { data: null, warnings: ['Namespace unlocked using sudo capabilities'] } : null;
}

export const namespaceLockPaths: PathSpec[] = [
  {
    pattern: 'namespaces/api-lock/lock/:path*',
    operations: { update: lock },
    alwaysWrites: ['update'],
    help: { synopsis: 'API-lock a namespace (this one, or one below it): every request in it answers 503 until unlocked.', description: 'Answers the unlock_key.' },
  },
  {
    pattern: 'namespaces/api-lock/unlock/:path*',
    fields: { unlock_key: { type: 'string', description: 'The key the lock answered; may be omitted by a caller with sudo on this path.' } },
    operations: { update: unlock },
    alwaysWrites: ['update'],
    help: { synopsis: 'Unlock an API-locked namespace.', description: 'With the unlock_key, or without it by a caller with sudo.' },
  },
];
