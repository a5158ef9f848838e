// sys/leases (§4.11, OpenBao's expiration.go + logical_system.go facts, own code): lookup (and LIST of
// lease ids, sudo), renew, revoke, revoke-prefix and revoke-force (sudo), tidy. The system backend's
// storage view is the physical root, so a revocation is one write-set: lease entries and indexes, and
// for an auth lease the whole token subtree with cubbyholes and leases (token/entries.ts revokeTree).
import { CofferError } from '../../../runtime/errors.js';
import { TOKEN_SALT_KEY, type TokenEntry } from '../../core/tokens.js';
import { currentExpiry, deleteLease, LEASE_DUE_INDEX_PREFIX, LEASE_PREFIX, LEASE_TOKEN_INDEX_PREFIX, leaseLookupData, loadLease, loadTokenEntry, moveDue, validLeaseId, type LeaseEntry } from '../../expiration/leases.js';
import { tokenStoreView } from '../../expiration/revoke-token.js';
import { CUBBYHOLE_PREFIX, destroyCubbyhole, listTree, NAMESPACE_CUBBYHOLE_PREFIX } from '../cubbyhole/store.js';
import type { FieldSchema, HandlerRequest, HandlerResult, PathSpec, StorageView } from '../framework/types.js';
import { storageLimits } from '../../storage/storage-limits.js';
import { calculateTtl, renewableNow, revokeTree } from '../token/entries.js';

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);
/** Leave room in one write-set for the last lease's revocation (a token subtree can be large). */
const OPS_BUDGET = storageLimits.writeSetOpsMax - 512;

function leaseIdOf(req: HandlerRequest): string {
  const id = ((req.fields['lease_id'] as string | undefined) ?? '') || (req.params['url_lease_id'] ?? '');
  if (id === '') throw invalid('lease_id must be specified');
  return id;
}

async function tokenSalt(sys: StorageView): Promise<string> {
  const raw = await sys.get(TOKEN_SALT_KEY);
  if (raw === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'token salt missing');
  return raw.toString('utf8');
}

/** Why the lease cannot be renewed now (Vault's leaseEntry.renewable), or null. */
function whyNotRenewable(lease: LeaseEntry, expireMs: number | null, token: TokenEntry | undefined, nowMs: number): string | null {
  if (expireMs === null) return 'lease is not renewable';
  if (expireMs <= nowMs) return 'lease expired';
  if (lease.kind === 'auth') return token ? renewableNow(token, nowMs) : 'lease not found';
  return lease.renewable ? null : 'lease is not renewable';
}

/**
 * Revokes one lease into this write-set. An auth lease revokes its token with the whole subtree (and
 * with them their cubbyholes and leases, this one included). Returns the storage operations added.
 */
export async function revokeLeaseEntry(sys: StorageView, lease: LeaseEntry): Promise<number> {
  if (lease.kind === 'auth' && (await loadTokenEntry(sys, lease.token_key)) !== undefined) {
    const before = await revokeTree(tokenStoreView(sys), await tokenSalt(sys), lease.token_key);
    return 4 * before + 3;
  }
  return deleteLease(sys, lease);
}

async function handleLookup(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const id = (req.fields['lease_id'] as string | undefined) ?? '';
  if (id === '') throw invalid('lease_id must be specified');
  const lease = await loadLease(sys, id);
  if (!lease) throw invalid('invalid lease');
  const { expireMs, token } = await currentExpiry(sys, lease);
  if (lease.kind === 'auth' && !token) throw invalid('invalid lease');
  return { data: leaseLookupData(lease, expireMs, whyNotRenewable(lease, expireMs, token, req.nowMs) === null, req.nowMs) };
}

async function handleLookupList(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  let prefix = req.params['prefix'] ?? '';
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (prefix.split('/').includes('..')) throw invalid('invalid prefix');
  const keys = await sys.list(`${LEASE_PREFIX}${prefix}`);
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
}

async function handleRenew(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const id = leaseIdOf(req);
  const lease = await loadLease(sys, id);
  if (!lease) throw invalid('lease not found');
  const { expireMs, token } = await currentExpiry(sys, lease);
  const why = whyNotRenewable(lease, expireMs, token, req.nowMs);
  if (why) throw invalid(why);
  if (lease.kind === 'auth') throw invalid('tokens cannot be renewed through this endpoint');
  const r = calculateTtl({
    mountDefaultS: lease.ttl_s,
    mountMaxS: lease.max_ttl_s,
    incrementS: Math.max(0, (req.fields['increment'] as number | undefined) ?? 0),
    backendTtlS: lease.ttl_s,
    periodS: 0,
    explicitMaxS: 0,
    startMs: lease.issue_time_ms,
    nowMs: req.nowMs,
  });
  const renewed = moveDue(sys, { ...lease, expire_time_ms: r.expireMs, last_renewal_time_ms: req.nowMs }, r.expireMs);
  return { data: null, lease: { leaseId: renewed.lease_id, durationS: r.ttlS, renewable: true }, warnings: r.warnings };
}

async function handleRevoke(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  const id = leaseIdOf(req);
  const lease = await loadLease(sys, id);
  if (lease) await revokeLeaseEntry(sys, lease);
  // Revocation always completes in this request; sync=false only changes the status (Vault: 202).
  return req.fields['sync'] === false ? { raw: { status: 202, body: null } } : null;
}

/** Every lease id at or under `prefix` (an exact id first, as Vault's revokePrefixCommon). */
async function leasesUnder(sys: StorageView, prefix: string): Promise<string[]> {
  if (prefix.split('/').includes('..')) throw invalid('invalid prefix');
  const ids: string[] = [];
  if (!prefix.endsWith('/') && validLeaseId(prefix) && (await loadLease(sys, prefix))) return [prefix];
  const root = `${LEASE_PREFIX}${prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`}`;
  for (const key of await listTree(sys, root)) ids.push(key.slice(LEASE_PREFIX.length));
  return ids;
}

/**
 * Revokes every lease at or under `prefix` into this write-set (auth leases with their token trees).
 * Also what disabling or moving a mount does to the leases issued under its path (Vault's RevokePrefix).
 * `force` (revoke-force) drops leases whose revocation fails instead of failing the request.
 */
export async function revokeLeasesUnder(sys: StorageView, prefix: string, force = false): Promise<void> {
  if (!(await revokeLeasesUpTo(sys, prefix, OPS_BUDGET, force))) throw invalid(`too many leases under "${prefix}" to revoke in one request; revoke a narrower prefix first`);
}

/**
 * Revokes leases at or under `prefix` into this write-set until it holds more than `budget` operations;
 * answers whether every one was revoked. The purger works a deleted namespace's leases off this way.
 */
export async function revokeLeasesUpTo(sys: StorageView, prefix: string, budget: number, force = false): Promise<boolean> {
  let ops = 0;
  for (const id of await leasesUnder(sys, prefix)) {
    if (ops > budget) return false;
    const lease = await loadLease(sys, id);
    if (!lease) continue;
    try {
      ops += await revokeLeaseEntry(sys, lease);
    } catch (err) {
      if (!force) throw err;
    }
  }
  return ops <= budget;
}

async function revokeAll(req: HandlerRequest, sys: StorageView, force: boolean): Promise<HandlerResult> {
  await revokeLeasesUnder(sys, req.params['prefix'] ?? '', force);
  return force || req.fields['sync'] !== false ? null : { raw: { status: 202, body: null } };
}

/**
 * Vault's Tidy: deletes leases whose owning token no longer exists, plus (ours) index keys pointing at
 * missing leases and cubbyholes of tokens that no longer exist. Bounded per request by the write-set
 * size; run it again to continue. Answers 202 as Vault (which runs it in the background).
 */
async function handleTidy(req: HandlerRequest, sys: StorageView): Promise<HandlerResult> {
  let ops = 0;
  const tokenExists = new Map<string, boolean>();
  const exists = async (salted: string) => {
    let known = tokenExists.get(salted);
    if (known === undefined) tokenExists.set(salted, (known = (await loadTokenEntry(sys, salted)) !== undefined));
    return known;
  };
  for (const key of await listTree(sys, LEASE_PREFIX)) {
    if (ops > OPS_BUDGET) break;
    const lease = await sys.getJson<LeaseEntry>(key);
    if (lease && !(await exists(lease.token_key))) ops += deleteLease(sys, lease);
  }
  for (const key of [...(await listTree(sys, LEASE_DUE_INDEX_PREFIX)), ...(await listTree(sys, LEASE_TOKEN_INDEX_PREFIX))]) {
    if (ops > OPS_BUDGET) break;
    const id = (await sys.get(key))?.toString('utf8') ?? '';
    if (!validLeaseId(id) || (await sys.get(`${LEASE_PREFIX}${id}`)) === undefined) {
      sys.delete(key);
      ops++;
    }
  }
  for (const dir of [...(await sys.list(CUBBYHOLE_PREFIX)), ...(await sys.list(NAMESPACE_CUBBYHOLE_PREFIX))]) {
    if (ops > OPS_BUDGET) break;
    const salted = dir.replace(/\/$/, '');
    if (dir.endsWith('/') && !(await exists(salted))) ops += await destroyCubbyhole(sys, salted);
  }
  void req;
  return { raw: { status: 202, body: null } };
}

const leaseIdField: Record<string, FieldSchema> = { lease_id: { type: 'string', description: 'The lease id' } };
const syncField: Record<string, FieldSchema> = { sync: { type: 'bool', description: 'Revoke before answering (always true here; false answers 202)', default: true } };
const help = (synopsis: string): PathSpec['help'] => ({ synopsis, description: synopsis });

function renewSpec(pattern: string): PathSpec {
  return {
    pattern,
    fields: { ...leaseIdField, url_lease_id: { type: 'string', description: 'The lease id (in the path)' }, increment: { type: 'duration', description: 'Requested extension', default: 0 } },
    operations: { update: handleRenew },
    alwaysWrites: ['update'],
    help: help('Renews a lease'),
  };
}

function revokeSpec(pattern: string): PathSpec {
  return { pattern, fields: { ...leaseIdField, url_lease_id: { type: 'string', description: 'The lease id (in the path)' }, ...syncField }, operations: { update: handleRevoke }, alwaysWrites: ['update'], help: help('Revokes a lease') };
}

export const leasePaths: PathSpec[] = [
  { pattern: 'leases/lookup/:prefix*', fields: leaseIdField, operations: { update: handleLookup, list: handleLookupList }, help: help('Looks up a lease (update) or lists lease ids under a prefix (list, sudo)') },
  renewSpec('leases/renew/:url_lease_id*'),
  renewSpec('renew/:url_lease_id*'),
  revokeSpec('leases/revoke/:url_lease_id*'),
  revokeSpec('revoke/:url_lease_id*'),
  { pattern: 'leases/revoke-prefix/:prefix+', fields: syncField, operations: { update: (r, s) => revokeAll(r, s, false) }, alwaysWrites: ['update'], help: help('Revokes every lease under a prefix (sudo)') },
  { pattern: 'revoke-prefix/:prefix+', fields: syncField, operations: { update: (r, s) => revokeAll(r, s, false) }, alwaysWrites: ['update'], help: help('Revokes every lease under a prefix (sudo)') },
  { pattern: 'leases/revoke-force/:prefix+', operations: { update: (r, s) => revokeAll(r, s, true) }, alwaysWrites: ['update'], help: help('Revokes every lease under a prefix, ignoring errors (sudo)') },
  { pattern: 'revoke-force/:prefix+', operations: { update: (r, s) => revokeAll(r, s, true) }, alwaysWrites: ['update'], help: help('Revokes every lease under a prefix, ignoring errors (sudo)') },
  { pattern: 'leases/tidy', operations: { update: handleTidy }, alwaysWrites: ['update'], help: help('Removes leases of tokens that no longer exist (and stray indexes and cubbyholes)') },
];
