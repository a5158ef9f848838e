// Audit for the endpoints the core actor answers itself (sys/seal, sys/rotate, sys/key-status, sys/raw,
// sys/step-down, sys/ha-status, sys/storage/raft/*): the same broker and entry shapes as the handler
// pipeline (broker.ts), so these requests cannot bypass the audit devices (issue #6). The core logs the
// request entry right after its token check and before acting, and the response entry before its reply
// leaves; with devices enabled and none writable the request is refused (500) and not run.
// Unauthenticated lifecycle calls (init, unseal, seal-status, health, leader, raft join/challenge/answer)
// are not audited, as in OpenBao (their handlers run outside the request pipeline); neither are the
// chunk messages of a snapshot stream: its open is the audited request.
import type { Barrier } from '../barrier/barrier.js';
import type { CoreRequest } from '../core/messages.js';
import { tokenIdKey, type TokenEntry } from '../core/tokens.js';
import type { LogicalRequest } from '../handler/messages.js';
import type { PhysicalReader } from '../mounts/framework/storage-view.js';
import type { CallerInfo } from '../mounts/framework/types.js';
import { AuditBroker, type AuditTrail } from './broker.js';

/** The logical request a lifecycle message stands for, or null when it is not audited. */
export function lifecycleRequest(req: CoreRequest): Pick<LogicalRequest, 'operation' | 'path' | 'data'> | null {
  switch (req.t) {
    case 'seal':
      return { operation: 'update', path: 'sys/seal', data: {} };
    case 'rotate':
      return { operation: 'update', path: 'sys/rotate', data: {} };
    case 'key-status':
      return { operation: 'read', path: 'sys/key-status', data: {} };
    case 'raw':
      return { operation: req.op, path: `sys/raw/${req.path}`, data: req.value === null ? {} : { value: req.value } };
    case 'step-down':
      return { operation: 'update', path: 'sys/step-down', data: {} };
    case 'ha-status':
      return { operation: 'read', path: 'sys/ha-status', data: {} };
    case 'raft-configuration':
      return { operation: 'read', path: 'sys/storage/raft/configuration', data: {} };
    case 'raft-peer':
      return { operation: 'update', path: `sys/storage/raft/${req.op === 'remove' ? 'remove-peer' : req.op}`, data: { server_id: req.serverId } };
    case 'autopilot':
      return req.op === 'state'
        ? { operation: 'read', path: 'sys/storage/raft/autopilot/state', data: {} }
        : { operation: req.op === 'get-config' ? 'read' : 'update', path: 'sys/storage/raft/autopilot/configuration', data: req.body ?? {} };
    case 'snapshot':
      if (req.snap.op === 'save-open') return { operation: 'read', path: 'sys/storage/raft/snapshot', data: {} };
      if (req.snap.op === 'restore-open') return { operation: 'update', path: req.snap.force ? 'sys/storage/raft/snapshot-force' : 'sys/storage/raft/snapshot', data: {} };
      return null;
    default:
      return null;
  }
}

export interface LifecycleAuditDeps {
  physical: PhysicalReader;
  barrier(): Barrier | null;
  tokenSalt(): string | null;
}

export class LifecycleAudit {
  private readonly broker: AuditBroker;

  constructor(private readonly deps: LifecycleAuditDeps) {
    this.broker = new AuditBroker({ physical: deps.physical, barrier: async () => deps.barrier() });
  }

  /** A trail for `req` (caller identified when its token resolves), or null when `req` is not audited. */
  begin(req: CoreRequest): AuditTrail | null {
    const logical = lifecycleRequest(req);
    if (logical === null) return null;
    const token = 'token' in req ? req.token : null;
    const trail = this.broker.trail({ ...logical, token, headers: {} });
    trail.identify(this.caller(token), null);
    return trail;
  }

  private caller(token: string | null): CallerInfo | null {
    const barrier = this.deps.barrier();
    const salt = this.deps.tokenSalt();
    if (!token || barrier === null || salt === null) return null;
    try {
      const key = tokenIdKey(salt, token);
      const blob = this.deps.physical.get(key);
      if (blob === undefined) return null;
      const e = JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as TokenEntry;
      return { tokenKey: key, accessor: e.accessor, policies: e.policies, isRoot: e.policies.includes('root'), displayName: e.display_name, entityId: '', entry: e as unknown as Record<string, unknown> };
    } catch {
      return null; // a bad token: the core refuses it, and the entry says so
    }
  }
}
