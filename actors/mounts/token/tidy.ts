// auth/token/tidy (Vault's token store handleTidy): index entries left pointing at tokens that no longer
// exist are removed. A token whose parent no longer exists is revoked with its subtree: Vault makes it an
// orphan, but here a token with a missing ancestor is already invalid (entries.ts), and tidy must not bring
// a revoked subtree back. Coffer revokes a token with its indexes and subtree in one write-set, so nothing
// should be left over; tidy repairs what an older version, a bug or a hand edit through sys/raw left. Bounded per request by the write-set size: run it again
// to continue. Answers 202 with Vault's warning (Vault runs it in the background).
import { storageLimits } from '../../storage/storage-limits.js';
import type { HandlerResult, StorageView } from '../framework/types.js';
import { accessorIndexTarget, loadRaw, parentKey, revokeTree, tokenSalt } from './entries.js';

const OPS_BUDGET = storageLimits.writeSetOpsMax - 512;

export async function handleTokenTidy(storage: StorageView): Promise<HandlerResult> {
  let ops = 0;
  const known = new Map<string, boolean>();
  const exists = async (salted: string): Promise<boolean> => {
    let e = known.get(salted);
    if (e === undefined) known.set(salted, (e = (await loadRaw(storage, salted)) !== undefined));
    return e;
  };

  // parent/<parent>/<child>: drop indexes of missing children; revoke children of a missing parent.
  const salt = await tokenSalt(storage);
  for (const dir of await storage.list('parent/')) {
    if (!dir.endsWith('/') || ops > OPS_BUDGET) continue;
    const parent = dir.slice(0, -1);
    const parentExists = await exists(parent);
    for (const child of await storage.list(`parent/${dir}`)) {
      if (ops > OPS_BUDGET) break;
      const entry = await loadRaw(storage, child);
      if (entry !== undefined && parentExists) continue;
      storage.delete(parentKey(parent, child));
      ops++;
      if (entry !== undefined) {
        ops += 4 * (await revokeTree(storage, salt, child));
        known.set(child, false);
      }
    }
  }

  // accessor/<salted accessor> → the entry's key: drop those whose token is gone.
  for (const name of await storage.list('accessor/')) {
    if (name.endsWith('/') || ops > OPS_BUDGET) continue;
    const raw = await storage.get(`accessor/${name}`);
    const target = raw === undefined ? null : accessorIndexTarget(raw);
    if (target !== null && (await exists(target))) continue;
    storage.delete(`accessor/${name}`);
    ops++;
  }

  return { data: null, warnings: ['Tidy operation successfully started. Any information from the operation will be printed to the server logs.'], statusCode: 202 };
}
