// The cubbyhole mount (`cubbyhole/`, type cubbyhole, built in and unmountable), following OpenBao's
// logical_cubbyhole.go: KV v1-like read/write/list/delete of JSON objects, without leases, in a space
// private to the calling token. Keys are `<salted token id>/<path>` under the mount's view
// (CUBBYHOLE_PREFIX); the caller's salted id comes from CallerInfo.tokenKey, never from the token.
import { CofferError } from '../../../runtime/errors.js';
import type { BackendFactory, Handler, HandlerRequest, PathSpec, StorageView } from '../framework/types.js';
import { saltedFromTokenKey } from '../token/entries.js';

/**
 * The caller's private root ("h…/"), and in a namespace's cubbyhole ("h…/<namespace uuid>/" under
 * NAMESPACE_CUBBYHOLE_PREFIX) one per namespace; a request without a token has no cubbyhole.
 */
function ownRoot(req: HandlerRequest): string {
  const salted = saltedFromTokenKey(req.caller.tokenKey);
  if (salted === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'client token empty');
  return req.mount.type === 'ns_cubbyhole' && req.mount.namespace ? `${salted}/${req.mount.namespace.uuid}/` : `${salted}/`;
}

function pathOf(req: HandlerRequest): string {
  const path = req.params.path ?? '';
  if (path.split('/').includes('..')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'invalid path');
  return path;
}

const read: Handler = async (req, storage) => {
  const path = pathOf(req);
  if (path === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing path');
  const data = await storage.getJson<Record<string, unknown>>(`${ownRoot(req)}${path}`);
  if (data === undefined) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data };
};

const write: Handler = async (req, storage) => {
  const path = pathOf(req);
  if (Object.keys(req.data).length === 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing data fields');
  if (path === '' || path.endsWith('/')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing path');
  storage.putJson(`${ownRoot(req)}${path}`, req.data);
  return null;
};

const remove: Handler = async (req, storage) => {
  const path = pathOf(req);
  if (path !== '') storage.delete(`${ownRoot(req)}${path}`);
  return null;
};

const list: Handler = async (req, storage) => {
  let path = pathOf(req);
  if (path !== '' && !path.endsWith('/')) path += '/';
  const keys = await storage.list(`${ownRoot(req)}${path}`);
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
};

const exists = async (req: HandlerRequest, storage: StorageView): Promise<boolean> => {
  const path = pathOf(req);
  return path !== '' && saltedFromTokenKey(req.caller.tokenKey) !== null && (await storage.get(`${ownRoot(req)}${path}`)) !== undefined;
};

export const cubbyholePaths: PathSpec[] = [
  {
    pattern: ':path*',
    fields: {},
    operations: { read, create: write, update: write, delete: remove, list },
    existenceCheck: exists,
    help: {
      synopsis: 'Pass-through secret storage to a token-specific cubbyhole in the storage backend, allowing you to read/write arbitrary data into secret storage.',
      description:
        'The view into the cubbyhole storage space is different for each token; it is a per-token cubbyhole. When the token is revoked all values are removed.',
    },
  },
];

export const cubbyholeBackend: BackendFactory = () => ({
  type: 'cubbyhole',
  help: 'The cubbyhole backend reads and writes arbitrary secrets, namespaced per token: tokens can only read and write their own values. When the token is revoked, its values are removed.',
  paths: cubbyholePaths,
});
