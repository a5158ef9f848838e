// "Will this request write?" on a standby, decided BEFORE anything runs (docs/ha-standby-reads.md).
// The pipeline calls these when the front marked the request `standby`; they throw COFFER_ERR_NOT_LEADER,
// which the front turns into a forward to the active node (or a 307). A request that writes without
// being predicted here still fails its first commit with NOT_LEADER (handlers are free of side effects
// before their first storage write), so it runs exactly once either way.
import { CofferError, httpStatusOf } from '../../runtime/errors.js';
import type { CallerInfo, Operation, PathSpec } from '../mounts/framework/types.js';

function forward(reason: string): never {
  throw new CofferError('COFFER_ERR_NOT_LEADER', `forward to the active node: ${reason}`);
}

const LOGIN = /^auth\/.+\/login(\/|$)/;

/** Before the token spends a use or the request runs (OpenBao's (c), (d), (e), (f); API.md §3.3). */
export function forwardBeforeRunning(req: { token: string | null; path: string }, caller: CallerInfo | null, wrapTtlS: number | null): void {
  // A token this node does not know may be new (not replicated here yet): the active node decides.
  if (req.token && caller === null) forward('token not found on this standby');
  const uses = caller?.entry?.num_uses as number | undefined;
  if (uses !== undefined && uses > 0) forward('the token has limited uses');
  if (wrapTtlS !== null) forward('response wrapping writes a wrapping token');
  if (LOGIN.test(req.path)) forward('a login issues a token');
}

/**
 * After routing, before authorization and the handler: every create/update/patch/delete unless the path
 * declares it a pure lookup (PathSpec.answersLocally), and reads flagged PathSpec.alwaysWrites (token
 * lookups that spend a use, unwrap, logins). The standby then does none of the work twice, and never
 * answers a write from its possibly stale state.
 */
export function forwardIfWrites(spec: PathSpec, operation: Operation): void {
  const w = spec.alwaysWrites;
  if (w !== undefined && (w.includes(operation) || (operation === 'create' && w.includes('update')))) forward(`${operation} always writes`);
  if (operation === 'read' || operation === 'list' || spec.answersLocally?.includes(operation)) return;
  forward(`${operation} runs on the active node`);
}

/**
 * A write-type operation the handler refused on a standby (a 4xx: check-and-set mismatch, a missing key…)
 * was judged against this node's FSM, which may lag the active node: only the active node may refuse it.
 * (LIN-KV-ACTIVE found a restarted, lagging standby answering "check-and-set parameter did not match" for a
 * CAS on the key's current version.) Read and list operations keep their local answer.
 */
export function forwardIfRefusedOnStandby(err: unknown, operation: Operation): void {
  if (operation === 'read' || operation === 'list' || !(err instanceof CofferError)) return;
  const status = httpStatusOf(err.value.code);
  if (status >= 400 && status < 500) forward(`a ${operation} refused against this standby's possibly stale state (${status})`);
}
