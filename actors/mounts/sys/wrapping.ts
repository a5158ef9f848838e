// Response wrapping (§4.12, OpenBao's wrapping.go and logical_system.go facts, own code).
// A wrapping token is an orphan service token with the single policy `response-wrapping`, num_uses 1,
// TTL = explicit max TTL = the wrap TTL; the wrapped HTTP body sits in its cubbyhole at `response`
// ({response: "<json>"}) and the creation facts at `wrapinfo`. Minting writes token entry, accessor
// index, cubbyhole and the token's lease into the caller's write-set: the wrapped request and its
// wrapping are one commit. Unwrap and rewrap revoke the token in the write-set that reads it, so of
// two concurrent unwraps exactly one commits (the other's guards fail, it re-runs and finds nothing).
import { CofferError } from '../../../runtime/errors.js';
import { newAccessor, newServiceToken, saltedId, tokenAccessorKey, tokenIdKey, TOKEN_SALT_KEY, type TokenEntry } from '../../core/tokens.js';
import { goTime, registerAuthLease } from '../../expiration/leases.js';
import { tokenStoreView } from '../../expiration/revoke-token.js';
import { CUBBYHOLE_PREFIX } from '../cubbyhole/store.js';
import { parseDurationSeconds } from '../framework/router.js';
import type { FieldSchema, HandlerRequest, HandlerResult, PathSpec, StorageView } from '../framework/types.js';
import { RESPONSE_WRAPPING_POLICY_NAME } from '../policy/builtin.js';
import { entryIsLive, requestToken, revokeTree } from '../token/entries.js';
import type { NamespaceRef } from '../namespaces/model.js';
import { inNamespace, placeInNamespace } from '../namespaces/tokens.js';

export const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

export interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  wrapped_accessor?: string;
}

export interface MintInput {
  /** HTTP body of the wrapped response, stored as JSON text (or the text itself, for rewrap). */
  response: string;
  ttlS: number;
  creationPath: string;
  /** The accessor of a token the wrapped response carries (auth responses). */
  wrappedAccessor: string;
  displayName: string;
  nowMs: number;
  /** The namespace the wrapping happened in: the token unwraps there only (absent: the root namespace). */
  namespace?: NamespaceRef | undefined;
}

/** `X-Vault-Wrap-TTL` in seconds; null when absent or 0 (no wrapping). Bad or negative → 400 as Vault. */
export function parseWrapTtl(headers: Record<string, string>): number | null {
  const raw = headers['x-vault-wrap-ttl'];
  if (raw === undefined || raw.trim() === '') return null;
  let seconds: number;
  try {
    seconds = parseDurationSeconds(raw, 'X-Vault-Wrap-TTL');
  } catch (err) {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error parsing X-Vault-Wrap-TTL header: ${(err as Error).message}`);
  }
  if (seconds < 0) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'error parsing X-Vault-Wrap-TTL header: requested wrap ttl cannot be negative');
  return seconds === 0 ? null : seconds;
}

async function tokenSaltOf(sys: StorageView): Promise<string> {
  const raw = await sys.get(TOKEN_SALT_KEY);
  if (raw === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'token salt missing');
  return raw.toString('utf8');
}

/** Creates a wrapping token holding `response` into the write-set of `sys` (a view rooted at ''). */
export async function mintWrappingToken(sys: StorageView, i: MintInput): Promise<WrapInfo> {
  const salt = await tokenSaltOf(sys);
  const token = inNamespace(newServiceToken(), i.namespace);
  const accessor = inNamespace(newAccessor(), i.namespace);
  const salted = saltedId(salt, token);
  const entry: TokenEntry = {
    accessor,
    policies: [RESPONSE_WRAPPING_POLICY_NAME],
    path: i.creationPath,
    display_name: i.displayName,
    creation_time_ms: i.nowMs,
    ttl_s: i.ttlS,
    num_uses: 1,
    orphan: true,
    meta: null,
    parent: null,
    explicit_max_ttl_s: i.ttlS,
    period_s: 0,
    renewable: false,
    type: 'service',
    entity_id: '',
    issue_time_ms: i.nowMs,
    expire_time_ms: i.nowMs + i.ttlS * 1000,
    lease_ttl_s: i.ttlS,
  };
  placeInNamespace(entry, i.namespace);
  sys.putJson(tokenIdKey(salt, token), entry);
  sys.put(tokenAccessorKey(salt, accessor), Buffer.from(tokenIdKey(salt, token)));
  const creationTime = goTime(i.nowMs);
  sys.putJson(`${CUBBYHOLE_PREFIX}${salted}/response`, { response: i.response });
  sys.putJson(`${CUBBYHOLE_PREFIX}${salted}/wrapinfo`, { creation_ttl: i.ttlS, creation_time: creationTime, creation_path: i.creationPath });
  registerAuthLease(sys, salted, entry, i.nowMs);
  const info: WrapInfo = { token, accessor, ttl: i.ttlS, creation_time: creationTime, creation_path: i.creationPath };
  if (i.wrappedAccessor !== '') info.wrapped_accessor = i.wrappedAccessor;
  return info;
}

/** The envelope a wrapped request answers with (§0.3): only wrap_info. */
export function wrappedEnvelope(info: WrapInfo): Record<string, unknown> {
  return { request_id: '', lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: info, warnings: null, auth: null, mount_type: '' };
}

interface ValidWrapping {
  salt: string;
  salted: string;
  entry: TokenEntry;
}

/** The wrapping token of the request: `token` in the body (third party) or the caller's own token. */
function wrappingTokenOf(req: HandlerRequest): string {
  const fromBody = req.data['token'];
  if (fromBody !== undefined && fromBody !== null) {
    if (typeof fromBody !== 'string' || fromBody === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
    return fromBody;
  }
  const own = requestToken(req);
  if (!own) throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
  return own;
}

/** Vault's validateWrappingToken: a live token whose only policy is response-wrapping; else 400. */
async function validWrapping(req: HandlerRequest, sys: StorageView): Promise<ValidWrapping> {
  const token = wrappingTokenOf(req);
  const salt = await tokenSaltOf(sys);
  const salted = saltedId(salt, token);
  const entry = await sys.getJson<TokenEntry>(tokenIdKey(salt, token));
  // A wrapping token is looked up, unwrapped and rewrapped in the namespace it was made in only.
  const here = (entry?.namespace_path ?? '') === (req.mount.namespace?.path ?? '');
  const wrapping = entry !== undefined && here && entry.policies.length === 1 && entry.policies[0] === RESPONSE_WRAPPING_POLICY_NAME;
  if (!entry || !wrapping || !entryIsLive(entry, req.nowMs)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
  return { salt, salted, entry };
}

async function cubbyValue<T>(sys: StorageView, salted: string, key: string): Promise<T> {
  const v = await sys.getJson<T>(`${CUBBYHOLE_PREFIX}${salted}/${key}`);
  if (v === undefined) throw new CofferError('COFFER_ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
  return v;
}

async function handleWrap(req: HandlerRequest): Promise<HandlerResult> {
  if (parseWrapTtl(req.headers) === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'endpoint requires response wrapping to be used');
  return { data: { ...req.data } };
}

async function handleUnwrap(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const w = await validWrapping(req, sys);
  const stored = await cubbyValue<{ response: string }>(sys, w.salted, 'response');
  // Single use: the token, its cubbyhole and its lease go in this write-set.
  await revokeTree(tokenStoreView(sys), w.salt, w.salted);
  if (stored.response === '') return { raw: { status: 204, body: null } };
  return { raw: { status: 200, body: JSON.parse(stored.response) as unknown } };
}

async function handleLookup(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const token = req.data['token'];
  if ((token === undefined || token === '') && !requestToken(req)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'missing "token" value in input');
  const w = await validWrapping(req, sys);
  const info = await cubbyValue<{ creation_ttl: number; creation_time: string; creation_path: string }>(sys, w.salted, 'wrapinfo');
  return { data: { creation_path: info.creation_path, creation_time: info.creation_time, creation_ttl: info.creation_ttl } };
}

async function handleRewrap(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const w = await validWrapping(req, sys);
  const stored = await cubbyValue<{ response: string }>(sys, w.salted, 'response');
  const info = await cubbyValue<{ creation_ttl: number; creation_path: string }>(sys, w.salted, 'wrapinfo');
  await revokeTree(tokenStoreView(sys), w.salt, w.salted);
  // Same TTL and creation path as the original; the stored text moves over unchanged.
  const next = await mintWrappingToken(sys, { response: stored.response, ttlS: info.creation_ttl, creationPath: info.creation_path, wrappedAccessor: '', displayName: '', nowMs: req.nowMs, namespace: req.mount.namespace });
  return { raw: { status: 200, body: wrappedEnvelope(next) } };
}

const tokenField: Record<string, FieldSchema> = { token: { type: 'string', description: 'The wrapping token (else the request token)' } };
const help = (synopsis: string): PathSpec['help'] => ({ synopsis, description: synopsis });

/** Paths under sys/ that never go through the pipeline's num_uses step for a wrapping token (their handlers spend it). */
export const WRAPPING_TOKEN_PATHS: readonly string[] = ['sys/wrapping/unwrap', 'sys/wrapping/lookup', 'sys/wrapping/rewrap'];

export const wrappingPaths: PathSpec[] = [
  { pattern: 'wrapping/wrap', operations: { update: handleWrap }, help: help('Response-wraps an arbitrary JSON object (requires X-Vault-Wrap-TTL)') },
  { pattern: 'wrapping/unwrap', fields: tokenField, operations: { update: handleUnwrap }, alwaysWrites: ['update'], help: help('Unwraps a response-wrapping token (single use)') },
  { pattern: 'wrapping/lookup', fields: tokenField, operations: { read: handleLookup, update: handleLookup }, answersLocally: ['update'], unauthenticated: true, help: help('Looks up the creation path, time and TTL of a wrapping token') },
  { pattern: 'wrapping/rewrap', fields: tokenField, operations: { update: handleRewrap }, alwaysWrites: ['update'], help: help('Rotates a wrapping token, keeping its response and TTL') },
];
