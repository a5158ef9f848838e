// Backend unit tests run requests through the real router, field validation, existence checks and
// guarded commits, against an in-memory physical store (no threads, no LMDB).
import { CofferError } from '../../../runtime/errors.js';
import { executeOnMount, resolveOperation, type Executed, type MountRequest } from './execute.js';
import { compileBackend } from './router.js';
import { MemoryPhysical, testCrypto } from './storage-view.js';
import type { BackendFactory, CallerInfo, MountInfo } from './types.js';

export const rootCaller: CallerInfo = { tokenKey: 'sys/token/id/hroot', accessor: 'rootaccessor0000000000000', policies: ['root'], isRoot: true, displayName: 'root', entityId: '', entry: null };

export interface TestMount {
  physical: MemoryPhysical;
  mount: MountInfo;
  /** Runs one request; a 404 "route not found" is thrown as COFFER_ERR_UNSUPPORTED_PATH. */
  request(operation: MountRequest['operation'], path: string, data?: Record<string, unknown>, opts?: Partial<Pick<MountRequest, 'caller' | 'nowMs' | 'headers' | 'clientAddr'>>): Promise<Executed>;
}

export function testMount(factory: BackendFactory, mount: Partial<MountInfo> & Pick<MountInfo, 'type' | 'path'>, physical = new MemoryPhysical()): TestMount {
  const info: MountInfo = { uuid: 'mount-uuid', accessor: `${mount.type}_acc`, options: {}, defaultLeaseTtlS: 2764800, maxLeaseTtlS: 2764800, ...mount };
  const compiled = compileBackend(factory(info));
  let index = 0;
  const deps = {
    physical,
    crypto: testCrypto,
    commit: async (ws: Parameters<MemoryPhysical['commit']>[0]) => {
      const conflictKey = physical.commit(ws);
      return conflictKey === null ? { ok: true as const, index: ++index } : { ok: false as const, conflictKey };
    },
  };
  return {
    physical,
    mount: info,
    async request(operation, path, data = {}, opts = {}) {
      const req: MountRequest = { operation, path, data, caller: opts.caller ?? rootCaller, nowMs: opts.nowMs ?? Date.now(), headers: opts.headers ?? {}, ...(opts.clientAddr ? { clientAddr: opts.clientAddr } : {}) };
      const resolved = await resolveOperation(compiled, info, req, deps);
      if (!resolved) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `no handler for route "${info.path}${path}". route entry not found.`);
      return executeOnMount(compiled, info, req, resolved, deps);
    },
  };
}
