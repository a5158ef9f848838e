// sys/raw: Vault's root-only view of storage through the barrier (enabled by `raw_storage_endpoint`,
// on in dev mode). Coffer refuses the whole `core/` tree for reads and writes: it holds the keyring,
// the seal blob and the unseal key copy, and Vault's own protected-path list has grown by incident.
import { CofferError } from '../../runtime/errors.js';
import { limits } from '../../runtime/limits.js';
import type { Barrier } from '../barrier/barrier.js';
import type { StorageOp } from '../storage/write-set.js';
import type { CoreRequest, RawResult } from './messages.js';

export interface RawDeps {
  barrier: Barrier;
  read(key: string): Buffer | undefined;
  list(prefix: string): string[];
  commit(ops: StorageOp[]): Promise<unknown>;
}

const PROTECTED_PREFIXES = ['core/'];
/** A namespace segment's own `core/` tree: its tables and, for a sealable namespace, its seal material. */
const NAMESPACE_CORE = /^namespaces\/[^/]+\/core(\/|$)/;

function checkPath(path: string, verb: 'read' | 'write' | 'list'): void {
  if (path.includes('..') || path.startsWith('/')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid path "${path}"`);
  if (NAMESPACE_CORE.test(path)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `cannot ${verb} "${path}"`);
  for (const p of PROTECTED_PREFIXES) {
    if (path === p.slice(0, -1) || path.startsWith(p)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `cannot ${verb} "${path}"`);
  }
}

export async function handleRaw(req: Extract<CoreRequest, { t: 'raw' }>, deps: RawDeps): Promise<RawResult> {
  switch (req.op) {
    case 'read': {
      checkPath(req.path, 'read');
      const blob = deps.read(req.path);
      if (blob === undefined) return { data: null, noContent: false };
      return { data: { value: deps.barrier.decrypt(req.path, blob).toString('utf8') }, noContent: false };
    }
    case 'update': {
      checkPath(req.path, 'write');
      if (req.path === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing path');
      if (req.value === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing value');
      const plaintext = Buffer.from(req.value, 'utf8');
      if (plaintext.length > limits.entryBytesMax) {
        throw new CofferError('COFFER_ERR_INVALID_REQUEST', `value too large: ${plaintext.length} bytes, the limit is ${limits.entryBytesMax}`);
      }
      await deps.commit([{ t: 'put', key: req.path, value: deps.barrier.encrypt(req.path, plaintext) }]);
      return { data: null, noContent: true };
    }
    case 'delete': {
      checkPath(req.path, 'write');
      await deps.commit([{ t: 'delete', key: req.path }]);
      return { data: null, noContent: true };
    }
    case 'list': {
      checkPath(req.path, 'list');
      const prefix = req.path === '' || req.path.endsWith('/') ? req.path : `${req.path}/`;
      const keys = deps.list(prefix).filter((k) => !(prefix === '' && PROTECTED_PREFIXES.includes(k)));
      return keys.length === 0 ? { data: null, noContent: false } : { data: { keys }, noContent: false };
    }
  }
}
