// ACL checks for the cluster/HA endpoints the core answers itself (sys/storage/raft/*, sys/step-down,
// sys/ha-status, snapshots, autopilot). They never reach a handler worker's pipeline, so the core
// decides here with the same pieces the pipeline uses (token resolution, stored policies, Acl).
//
// Which capability, as OpenBao declares it (vault/logical_system.go PathsSpecial.Root and
// vault/logical_raft.go): `sys/step-down` (and `sys/seal`) are root-protected, so the token needs the
// operation's capability AND `sudo`. The raft paths are ordinary ACL paths: `read` on
// configuration/autopilot state/snapshot, `update` on remove-peer/promote/demote/snapshot restore/
// autopilot configuration. A root token passes everything.
import { CofferError } from '../../runtime/errors.js';
import type { Operation } from '../mounts/framework/types.js';
import type { PhysicalReader, ValueCrypto } from '../mounts/framework/storage-view.js';
import { Acl } from '../mounts/policy/acl.js';
import { RESPONSE_WRAPPING_POLICY_HCL, RESPONSE_WRAPPING_POLICY_NAME } from '../mounts/policy/builtin.js';
import { parsePolicy } from '../mounts/policy/parse.js';
import type { Policy } from '../mounts/policy/types.js';
import { policyKey, type StoredPolicy } from '../mounts/sys/policy-store.js';
import { resolveToken } from '../mounts/token/store.js';
import type { SnapshotOp } from './snapshot.js';

/** One check: the request path (full, from the root), the operation and whether `sudo` is needed too. */
export interface ClusterAccess {
  path: string;
  operation: Operation;
  sudo: boolean;
}

/** What each cluster core message needs. `restore-*` steps after open accept either snapshot path. */
export function accessFor(msg:
  | { t: 'raft-configuration' }
  | { t: 'raft-peer'; op: 'remove' | 'promote' | 'demote' }
  | { t: 'raft-dr'; op: 'status' | 'promote' }
  | { t: 'step-down' }
  | { t: 'ha-status' }
  | { t: 'snapshot'; snap: SnapshotOp }
  | { t: 'autopilot'; op: 'state' | 'get-config' | 'set-config' }): ClusterAccess[] {
  switch (msg.t) {
    case 'raft-configuration':
      return [{ path: 'sys/storage/raft/configuration', operation: 'read', sudo: false }];
    case 'raft-peer':
      return [{ path: `sys/storage/raft/${msg.op === 'remove' ? 'remove-peer' : msg.op}`, operation: 'update', sudo: false }];
    case 'raft-dr':
      // Promotion ends the old group's authority over this node's data: root-protected, like step-down.
      if (msg.op === 'promote') return [{ path: 'sys/storage/raft/dr/promote', operation: 'update', sudo: true }];
      return [{ path: 'sys/storage/raft/dr/status', operation: 'read', sudo: false }];
    case 'step-down':
      return [{ path: 'sys/step-down', operation: 'update', sudo: true }];
    case 'ha-status':
      return [{ path: 'sys/ha-status', operation: 'read', sudo: false }];
    case 'autopilot':
      if (msg.op === 'state') return [{ path: 'sys/storage/raft/autopilot/state', operation: 'read', sudo: false }];
      return [{ path: 'sys/storage/raft/autopilot/configuration', operation: msg.op === 'get-config' ? 'read' : 'update', sudo: false }];
    case 'snapshot': {
      const s = msg.snap;
      if (s.op === 'save-open' || s.op === 'save-next' || s.op === 'save-close') return [{ path: 'sys/storage/raft/snapshot', operation: 'read', sudo: false }];
      if (s.op === 'restore-open') return [{ path: s.force ? 'sys/storage/raft/snapshot-force' : 'sys/storage/raft/snapshot', operation: 'update', sudo: false }];
      return [
        { path: 'sys/storage/raft/snapshot', operation: 'update', sudo: false },
        { path: 'sys/storage/raft/snapshot-force', operation: 'update', sudo: false },
      ];
    }
  }
}

export interface AuthorizeDeps {
  physical: PhysicalReader;
  crypto: ValueCrypto;
  tokenSalt: string;
  nowMs: number;
}

/**
 * Compiles token ACLs from stored policies, cached by the policies' ciphertexts (a changed policy has a
 * new ciphertext, so the cache is exact without an invalidation hook).
 */
export class ClusterAuthorizer {
  private readonly cache = new Map<string, Acl>();
  private wrapping: Promise<Policy> | null = null;

  /** Throws 403 (permission denied) unless the token passes one of `options`. */
  async require(deps: AuthorizeDeps, token: string | null, options: ClusterAccess[]): Promise<void> {
    if (!token) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    const resolved = resolveToken(deps.physical, deps.crypto, deps.tokenSalt, token, deps.nowMs);
    if (resolved === null) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    // These are the root namespace's endpoints: a token of another namespace is not valid here, and its
    // policy names are its namespace's, not the root's (a same-named root policy must grant it nothing).
    if (resolved.entry.namespace_id !== undefined) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    if (resolved.caller.isRoot) return;
    const acl = await this.aclFor(deps, resolved.caller.policies);
    if (!options.some((o) => acl.allows(o.path, o.operation, { sudo: o.sudo }))) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  }

  private async aclFor(deps: AuthorizeDeps, names: string[]): Promise<Acl> {
    const stored: { key: string; blob: Buffer }[] = [];
    const stamps: string[] = [];
    for (const name of [...new Set(names)].sort()) {
      if (name === RESPONSE_WRAPPING_POLICY_NAME) {
        stamps.push(name);
        continue;
      }
      const key = policyKey(name);
      const blob = deps.physical.get(key);
      if (blob === undefined) continue; // deleted since the token was issued
      stamps.push(`${name}@${Buffer.from(blob).toString('base64')}`);
      stored.push({ key, blob: Buffer.from(blob) });
    }
    const cacheKey = stamps.join(',');
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const policies: Policy[] = await Promise.all(
      stored.map(({ key, blob }) => {
        const p = JSON.parse(deps.crypto.decrypt(key, blob).toString('utf8')) as StoredPolicy;
        return parsePolicy(p.name, p.raw);
      }),
    );
    if (stamps.includes(RESPONSE_WRAPPING_POLICY_NAME)) {
      this.wrapping ??= parsePolicy(RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY_HCL);
      policies.push(await this.wrapping);
    }
    const acl = Acl.compile(policies);
    if (this.cache.size > 256) this.cache.clear();
    this.cache.set(cacheKey, acl);
    return acl;
  }
}
