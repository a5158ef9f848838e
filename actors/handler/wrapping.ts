// The pipeline's last step before the commit (MountDeps.finish): register the lease of a leased
// response, then, when the request carried X-Vault-Wrap-TTL, replace the response with a wrapping
// token whose cubbyhole holds it. Both write into the request's own write-set: a wrapped KV write and
// its wrapping token commit together, and a retried request mints a fresh token.
import { registerSecretLease } from '../expiration/leases.js';
import type { MountDeps } from '../mounts/framework/execute.js';
import type { CallerInfo, HandlerResult, MountInfo, Operation } from '../mounts/framework/types.js';
import { RESPONSE_WRAPPING_POLICY_NAME } from '../mounts/policy/builtin.js';
import { mintWrappingToken, wrappedEnvelope, WRAPPING_TOKEN_PATHS } from '../mounts/sys/wrapping.js';
import { saltedFromTokenKey } from '../mounts/token/entries.js';
import type { LogicalReply } from './messages.js';

export interface FinishInput {
  mount: MountInfo;
  /** Full request path (after /v1/). */
  path: string;
  caller: CallerInfo | null;
  nowMs: number;
  /** Requested wrap TTL in seconds, or null when the response is not to be wrapped. */
  wrapTtlS: number | null;
  /** The pipeline's reply shaping (shapeReply plus the warning for these ignored fields). */
  shape(result: HandlerResult, operation: Operation, unknownFields: string[]): LogicalReply;
}

/**
 * Vault registers leases for responses carrying a secret, except on KV mounts unless the mount was
 * enabled with `options.leased_passthrough = "true"` (request_handling.go); a plain KV v1 read keeps
 * `lease_id: ""` and its ttl as lease_duration. A request without a token owns no lease.
 */
function registersLease(mount: MountInfo): boolean {
  if (mount.type !== 'kv') return true;
  return mount.options['leased_passthrough'] === 'true' && mount.options['version'] !== '2';
}

/** A wrapping token on unwrap/lookup/rewrap: its use is spent by the handler, in the write-set that reads it. */
export function wrappingTokenSpendsInHandler(caller: CallerInfo | null, path: string): boolean {
  return caller !== null && caller.policies.length === 1 && caller.policies[0] === RESPONSE_WRAPPING_POLICY_NAME && WRAPPING_TOKEN_PATHS.includes(path);
}

export function finishHook(i: FinishInput): NonNullable<MountDeps['finish']> {
  return async (result, ctx, storage) => {
    const sys = storage.rebase('');
    let out = result;
    const owner = saltedFromTokenKey(i.caller?.tokenKey ?? null);
    if (out?.lease && out.lease.leaseId === '' && out.lease.durationS > 0 && owner !== null && registersLease(i.mount)) {
      const lease = registerSecretLease(sys, { path: i.path, ownerSalted: owner, ttlS: out.lease.durationS, maxTtlS: i.mount.maxLeaseTtlS, renewable: true, nowMs: i.nowMs });
      // In a namespace, the id is given relative to it (its sys/leases puts the namespace back in front).
      const ns = i.mount.namespace?.path ?? '';
      out = { ...out, lease: { leaseId: lease.lease_id.slice(ns.length), durationS: lease.ttl_s, renewable: true } };
    }
    // rewrap answers with its own wrapping (same TTL as the original); nothing else to wrap.
    if (i.wrapTtlS === null || out === null || i.path === `${i.mount.namespace?.path ?? ''}sys/wrapping/rewrap`) return out;
    const shaped = i.shape(out, ctx.operation, ctx.spec.fields ? ctx.unknownFields : []);
    // Vault wraps only a response: errors, 404s and bodiless replies go back as they are.
    if (shaped.body === null || shaped.status < 200 || shaped.status >= 300) return out;
    const info = await mintWrappingToken(sys, {
      response: JSON.stringify(shaped.body),
      ttlS: i.wrapTtlS,
      creationPath: i.path,
      wrappedAccessor: out.auth?.accessor ?? '',
      displayName: i.caller?.displayName ?? '',
      nowMs: i.nowMs,
      namespace: i.mount.namespace,
    });
    return { raw: { status: 200, body: wrappedEnvelope(info) } };
  };
}
