// The token store (auth/token/), following OpenBao's token_store.go: create / create-orphan, lookup,
// lookup-self, lookup-accessor, renew, renew-self, renew-accessor, revoke, revoke-self,
// revoke-accessor, revoke-orphan, LIST accessors. Storage is the view rooted at sys/token/ (§6);
// tokens exist there only as salted hashes (entries.ts). One request = one write-set: a revoked
// subtree, a created child with its indexes, a renewal are each committed atomically.
import { CofferError } from '../../../runtime/errors.js';
import { registerAuthLease } from '../../expiration/leases.js';
import { systemView } from '../../expiration/revoke-token.js';
import { customTokenIdError, newAccessor, newServiceToken, saltedId, safeEqual, tokenIdKey, type TokenEntry } from '../../core/tokens.js';
import { parseDurationSeconds } from '../framework/router.js';
import type { BackendFactory, CallerInfo, FieldSchema, HandlerRequest, HandlerResult, PathSpec, StorageView } from '../framework/types.js';
import {
  accessorIndexTarget,
  accessorKey,
  accessorMatches,
  accessorTarget,
  authOf,
  calculateTtl,
  idKey,
  loadLive,
  loadRaw,
  lookupData,
  parentKey,
  renewableNow,
  requestToken,
  revokeOrphan,
  revokeTree,
  saltedFromTokenKey,
  tokenSalt,
} from './entries.js';
import { sanitizePolicies } from './policy-set.js';
import { AUTH_KEY, longestPrefix, mountDataPrefix, mountInfoOf, type MountTable } from '../mount-table.js';
import type { ScopedStorage } from '../framework/storage-view.js';
import { loadTokenRole, roleNameOf, rolePolicies, rolesView, tokenRolePaths, type TokenRole } from './roles.js';
import { handleTokenTidy } from './tidy.js';
import { isRootNamespace, namespaceSegment } from '../namespaces/model.js';
import { inNamespace, namespaceOfToken, placeInNamespace } from '../namespaces/tokens.js';

export { sanitizePolicies };

/**
 * What the pipeline may add to CallerInfo for this mount: `sudo` = the ACL grants `sudo` on the request
 * path (root tokens always count as sudo). Needed for `id`, `no_parent`, `period`, revoke-orphan.
 */
export type TokenStoreCaller = CallerInfo & { sudo?: boolean };

/** Policies a token can never carry (Vault's NonAssignablePolicies). */
const NON_ASSIGNABLE_POLICIES = ['response-wrapping'];

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

function isSudo(req: HandlerRequest): boolean {
  return req.caller.isRoot || (req.caller as TokenStoreCaller).sudo === true;
}

function resolvePolicies(requested: string[], parent: TokenEntry, sudo: boolean, noDefault: boolean): string[] {
  let policies = requested;
  let addDefault = false;
  if (requested.length === 0) {
    // Inherit the parent's set; "default" only if the parent has it.
    policies = sanitizePolicies(parent.policies, false);
  } else if (!sudo) {
    const want = sanitizePolicies(requested, false);
    const have = sanitizePolicies(parent.policies, false);
    if (!want.every((p) => have.includes(p))) throw invalid('child policies must be subset of parent');
    if (!noDefault && parent.policies.includes('default')) addDefault = true;
  } else {
    addDefault = !noDefault;
  }
  let final = sanitizePolicies(policies, addDefault);
  if (noDefault) final = final.filter((p) => p !== 'default');
  for (const p of final) if (NON_ASSIGNABLE_POLICIES.includes(p)) throw invalid(`cannot assign policy "${p}"`);
  return final;
}

/**
 * Policies of a token created against a role. A role that allows or disallows policies decides the set
 * itself, disjoint from the parent's, with "default" added unless disallowed or declined; a role that
 * does neither leaves the usual subset-of-parent rule (Vault's handleCreateCommon).
 */
function policiesFromRole(role: TokenRole, requested: string[], parent: TokenEntry, sudo: boolean, noDefault: boolean): string[] {
  const restricts = role.allowed_policies.length + role.disallowed_policies.length + role.allowed_policies_glob.length + role.disallowed_policies_glob.length > 0;
  if (!restricts) return resolvePolicies(requested, parent, sudo, noDefault);
  const addDefault = !noDefault && !role.disallowed_policies.includes('default');
  const chosen = rolePolicies(
    role,
    requested.length > 0 ? sanitizePolicies(requested, addDefault) : [],
    sanitizePolicies(parent.policies, addDefault),
    sanitizePolicies(role.allowed_policies, addDefault),
  );
  let final = sanitizePolicies(chosen, false);
  if (noDefault) final = final.filter((p) => p !== 'default');
  for (const p of final) if (NON_ASSIGNABLE_POLICIES.includes(p)) throw invalid(`cannot assign policy "${p}"`);
  return final;
}

/** Optional duration given as a string or int; "" or absent = unset (Vault's TypeString duration fields). */
function optionalDuration(fields: Record<string, unknown>, name: string): number | null {
  const v = fields[name];
  if (v === undefined || v === null || v === '') return null;
  return parseDurationSeconds(v, name);
}

function toStringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw invalid(`error converting input for field "meta": value of "${k}" is not a string`);
  }
  return out;
}

function sanitizeDisplayName(name: string): string {
  let full = `token-${name}`.replace(/[^a-zA-Z0-9-]/g, '-');
  if (full.endsWith('-')) full = full.slice(0, -1);
  return full;
}

function mountTtls(req: HandlerRequest) {
  return { mountDefaultS: req.mount.defaultLeaseTtlS, mountMaxS: req.mount.maxLeaseTtlS };
}

/** The caller's own token (from the request headers), checked in constant time against the resolved caller. */
async function selfToken(req: HandlerRequest, salt: string): Promise<{ token: string; salted: string }> {
  const callerSalted = saltedFromTokenKey(req.caller.tokenKey);
  const token = requestToken(req);
  if (callerSalted === null || token === null) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  const salted = saltedId(salt, token);
  if (!safeEqual(salted, callerSalted)) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  return { token, salted };
}

// ---- create ---------------------------------------------------------------------------------------

/** auth/token/create/<role> or create with `role_name`: the role must exist. */
async function handleCreateAgainstRole(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = roleNameOf(req);
  const role = await loadTokenRole(rolesView(storage, req.mount.namespace), name);
  if (!role) throw invalid(`unknown role ${name}`);
  return handleCreate(req, storage, false, role);
}

async function handleCreate(req: HandlerRequest, storage: StorageView, orphanPath: boolean, role: TokenRole | null = null): Promise<HandlerResult> {
  const f = req.fields;
  if (role === null && req.path === 'create' && roleNameOf(req) !== '') return handleCreateAgainstRole(req, storage);
  const salt = await tokenSalt(storage);
  const parentSalted = saltedFromTokenKey(req.caller.tokenKey);
  const parent = parentSalted ? await loadLive(storage, parentSalted, req.nowMs) : null;
  if (!parent || parentSalted === null) throw invalid('parent token lookup failed: no parent found');
  // A restricted-use token could escape its count through children.
  if (parent.num_uses > 0) throw invalid('restricted use token cannot generate child tokens');
  const sudo = isSudo(req);

  const type = (f['type'] as string | undefined) ?? '';
  if (type === 'batch') throw invalid('batch tokens are not supported');
  if (type !== '' && type !== 'service') throw invalid("invalid 'token_type' value");
  let renewable = (f['renewable'] as boolean | undefined) ?? true;
  if (role && !role.renewable) renewable = false;
  const numUses = (f['num_uses'] as number | undefined) ?? 0;
  if (numUses < 0) throw invalid('number of uses cannot be negative');
  if (f['entity_alias']) throw invalid(role ? 'entity aliases are not supported' : "'entity_alias' is only allowed in combination with token role");

  const meta = f['meta'] === undefined ? null : toStringMap(f['meta']);
  const displayNameIn = (f['display_name'] as string | undefined) ?? '';
  const displayName = displayNameIn !== '' ? sanitizeDisplayName(displayNameIn) : 'token';

  const id = (f['id'] as string | undefined) ?? '';
  if (id !== '' && !sudo) throw invalid('root or sudo privileges required to specify token id');
  // A token is made in the namespace of the token store it is asked of (OpenBao's rules for a parent
  // namespace's token doing so in a child).
  const home = req.mount.namespace;
  const fromParentNamespace = (req.caller.namespace?.path ?? '') !== (home?.path ?? '');
  if (id !== '' && home !== undefined && !isRootNamespace(home)) throw invalid('token IDs can only be manually specified in the root namespace');
  if (fromParentNamespace && !sudo) throw invalid('root or sudo privileges required to directly generate a token in a child namespace');

  const noDefault = ((f['no_default_policy'] as boolean | undefined) ?? false) || (role?.token_no_default_policy ?? false);
  const requested = (f['policies'] as string[] | undefined) ?? [];
  const policies = role ? policiesFromRole(role, requested, parent, sudo, noDefault) : resolvePolicies(requested, parent, sudo, noDefault);
  if (policies.includes('root') && !parent.policies.includes('root')) {
    throw invalid('root tokens may not be created without parent token being root');
  }
  if (policies.includes('root') && fromParentNamespace) throw invalid('root tokens may not be created from a parent namespace');

  let orphan = orphanPath;
  if (role) orphan = role.orphan;
  else if (f['no_parent'] === true) {
    if (!sudo) throw invalid('root or sudo privileges required to create orphan token');
    orphan = true;
  }

  let explicitMax = optionalDuration(f, 'explicit_max_ttl') ?? 0;
  if (explicitMax < 0) throw invalid('explicit_max_ttl must be positive');
  let period = optionalDuration(f, 'period') ?? 0;
  if (period < 0) throw invalid('period must be positive');
  if (period > 0 && !sudo) throw invalid('root or sudo privileges required to create periodic token');
  let ttl = 0;
  const ttlIn = optionalDuration(f, 'ttl');
  if (ttlIn !== null) {
    if (ttlIn < 0) throw invalid('ttl must be positive');
    ttl = ttlIn;
  } else {
    const lease = optionalDuration(f, 'lease');
    if (lease !== null) {
      if (lease < 0) throw invalid('lease must be positive');
      ttl = lease;
    }
  }

  const warnings: string[] = [];
  if (role) {
    // A value in both the request and the role: the lesser wins, with Vault's warnings.
    if (role.token_explicit_max_ttl > 0) {
      if (explicitMax > 0) warnings.push(`Explicit max TTL specified both during creation call and in role; using the lesser value of ${Math.min(explicitMax, role.token_explicit_max_ttl)} seconds`);
      explicitMax = explicitMax > 0 ? Math.min(explicitMax, role.token_explicit_max_ttl) : role.token_explicit_max_ttl;
    }
    if (role.token_period > 0) {
      if (period > 0) warnings.push(`Period specified both during creation call and in role; using the lesser value of ${Math.min(period, role.token_period)} seconds`);
      period = period > 0 ? Math.min(period, role.token_period) : role.token_period;
    }
  }
  let expireMs: number | null = null;
  // Only compute a TTL when periodic, given a TTL, or not a root token (root may be non-expiring).
  if (period > 0 || ttl > 0 || !policies.includes('root')) {
    const r = calculateTtl({ ...mountTtls(req), incrementS: 0, backendTtlS: ttl, periodS: period, explicitMaxS: explicitMax, startMs: req.nowMs, nowMs: req.nowMs });
    ttl = r.ttlS;
    expireMs = r.expireMs;
    warnings.push(...r.warnings);
  }
  // Root tokens are still bound by an explicit max TTL.
  if (ttl === 0 && explicitMax > 0) {
    ttl = explicitMax;
    expireMs = req.nowMs + explicitMax * 1000;
  }
  if (ttl === 0) {
    if (parent.ttl_s !== 0) throw invalid('expiring root tokens cannot create non-expiring root tokens');
    renewable = false;
  }

  let token: string;
  if (id !== '') {
    const bad = customTokenIdError(id);
    if (bad) throw invalid(bad);
    if ((await storage.get(idKey(saltedId(salt, id)))) !== undefined) throw invalid('cannot create a token with a duplicate ID');
    token = id;
  } else {
    token = inNamespace(newServiceToken(), home);
  }
  const accessor = inNamespace(newAccessor(), home);
  const salted = saltedId(salt, token);

  const entry: TokenEntry = {
    accessor,
    policies,
    path: `${home?.path ?? ''}${role && role.path_suffix !== '' ? `auth/token/${req.path}/${role.path_suffix}` : `auth/token/${req.path}`}`,
    display_name: displayName,
    creation_time_ms: req.nowMs,
    ttl_s: ttl,
    num_uses: numUses,
    orphan,
    meta,
    parent: orphan ? null : parentSalted,
    explicit_max_ttl_s: explicitMax,
    period_s: period,
    renewable,
    type: 'service',
    entity_id: orphan ? '' : (parent.entity_id ?? ''),
    issue_time_ms: req.nowMs,
    expire_time_ms: expireMs,
    lease_ttl_s: ttl,
  };
  if (role) entry.role = role.name;
  placeInNamespace(entry, home);
  // Non-expiring root tokens are not CIDR-bound (Vault clears BoundCIDRs for them).
  if (role && role.token_bound_cidrs.length > 0 && ttl > 0) entry.bound_cidrs = role.token_bound_cidrs;
  storage.putJson(idKey(salted), entry);
  // The accessor index holds the salted entry key, as the core writes it for the root token.
  storage.put(accessorKey(saltedId(salt, accessor)), Buffer.from(tokenIdKey(salt, token)));
  if (!orphan) {
    storage.put(parentKey(parentSalted, salted), Buffer.alloc(0));
    // Rewrite the parent entry unchanged: a concurrent revocation of the parent (or of an ancestor)
    // read it, so its commit now conflicts and re-runs, and then sees this child.
    storage.putJson(idKey(parentSalted), parent);
  }
  // The token's own lease (sys/expire/id/auth/token/create/<salted>): the expiration actor revokes it when due.
  registerAuthLease(systemView(storage), salted, entry, req.nowMs);
  return { data: null, auth: authOf(entry, token, ttl, renewable), warnings };
}

// ---- lookup ---------------------------------------------------------------------------------------

/**
 * A namespace's token store sees only the tokens of its namespace and those below it: to it, any other
 * token does not exist (a namespace administrator cannot look up, renew or revoke a parent's tokens).
 */
function visible<T extends TokenEntry | undefined | null>(req: HandlerRequest, entry: T): T | undefined {
  if (!entry) return undefined;
  return (entry.namespace_path ?? '').startsWith(req.mount.namespace?.path ?? '') ? entry : undefined;
}

async function lookupByToken(req: HandlerRequest, storage: StorageView, token: string): Promise<HandlerResult> {
  const salt = await tokenSalt(storage);
  const entry = visible(req, await loadLive(storage, saltedId(salt, token), req.nowMs));
  if (!entry) throw new CofferError('COFFER_ERR_PERMISSION_DENIED', 'bad token');
  return { data: lookupData(entry, token, req.nowMs) };
}

async function handleLookup(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const token = (req.fields['token'] as string | undefined) || requestToken(req);
  if (!token) throw invalid('missing token ID');
  return lookupByToken(req, storage, token);
}

async function handleLookupSelf(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const salt = await tokenSalt(storage);
  const self = await selfToken(req, salt);
  const entry = await loadLive(storage, self.salted, req.nowMs);
  if (entry) return { data: lookupData(entry, self.token, req.nowMs) };
  // This request was the token's last use: consumeUse already deleted it, and the pipeline hands us the
  // entry with num_uses -1 (Vault shows the revocation-pending entry the same way).
  const pending = req.caller.entry as unknown as TokenEntry | null;
  if (pending && pending.num_uses === -1) return { data: lookupData(pending, self.token, req.nowMs) };
  throw new CofferError('COFFER_ERR_PERMISSION_DENIED', 'bad token');
}

async function handleLookupAccessor(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const accessor = (req.fields['accessor'] as string | undefined) ?? '';
  if (accessor === '') throw invalid('missing accessor');
  const salt = await tokenSalt(storage);
  const target = await accessorTarget(storage, salt, accessor);
  if (target === null) throw invalid('invalid accessor');
  const entry = visible(req, await loadLive(storage, target, req.nowMs));
  if (!entry) throw new CofferError('COFFER_ERR_PERMISSION_DENIED', 'bad token');
  if (!accessorMatches(entry, accessor)) throw invalid('invalid accessor');
  return { data: lookupData(entry, '', req.nowMs) };
}

// ---- renew ----------------------------------------------------------------------------------------

async function renewSalted(req: HandlerRequest, storage: StorageView, salted: string, clientToken: string, self = false): Promise<HandlerResult> {
  const live = await loadLive(storage, salted, req.nowMs);
  const entry = self ? live : visible(req, live);
  if (!entry) throw invalid('token not found');
  const why = renewableNow(entry, req.nowMs);
  if (why) throw invalid(why);
  await checkLoginRenewal(storage, entry);
  let periodS = entry.period_s ?? 0;
  if (entry.role) {
    // The role as it is now governs renewal: gone means no renewal; its period (the lesser) applies.
    const role = await loadTokenRole(rolesView(storage, await namespaceOfToken(systemView(storage), entry)), entry.role);
    if (!role) throw invalid(`original token role (${entry.role}) could not be found, not renewing`);
    if (role.token_period > 0) periodS = periodS > 0 ? Math.min(periodS, role.token_period) : role.token_period;
  }
  const increment = Math.max(0, (req.fields['increment'] as number | undefined) ?? 0);
  const r = calculateTtl({
    ...mountTtls(req),
    incrementS: increment,
    backendTtlS: entry.lease_ttl_s ?? entry.ttl_s,
    periodS,
    explicitMaxS: entry.explicit_max_ttl_s ?? 0,
    startMs: entry.issue_time_ms as number,
    nowMs: req.nowMs,
  });
  const renewed: TokenEntry = { ...entry, expire_time_ms: r.expireMs, lease_ttl_s: r.ttlS, last_renewal_time_ms: req.nowMs };
  storage.putJson(idKey(salted), renewed);
  return { data: null, auth: authOf(renewed, clientToken, r.ttlS, renewed.renewable === true), warnings: r.warnings };
}

/**
 * A token a login issued is renewed only if its auth method agrees (Vault asks the method's AuthRenew): the
 * method that issued it is found by the token's path in the auth table, and its backend checks that the user
 * or role still exists (and, for userpass, still carries the token's policies).
 */
async function checkLoginRenewal(storage: StorageView, entry: TokenEntry): Promise<void> {
  const root = systemView(storage);
  // A login in a namespace: its auth method is in that namespace's table and segment.
  const ns = await namespaceOfToken(root, entry);
  if (ns === undefined) throw invalid('the namespace of this token no longer exists, not renewing');
  const path = entry.path.slice(ns.path.length);
  if (!path.startsWith('auth/') || path.startsWith('auth/token/')) return;
  const segment = namespaceSegment(ns);
  const table = await root.getJson<MountTable>(segment + AUTH_KEY);
  const mounts = (table?.entries ?? []).map((e) => ({ ...e, path: `auth/${e.path}` }));
  const mount = longestPrefix(mounts, path);
  if (mount === null) throw invalid('the auth method that issued this token no longer exists, not renewing');
  // Lazily: the registry imports this backend.
  const factory = (await import('../registry.js')).backendFactories[mount.type];
  const backend = factory?.(mountInfoOf({ ...mount, path: mount.path.slice('auth/'.length) }, 'auth'));
  await backend?.renewLogin?.({ meta: entry.meta ?? {}, policies: entry.policies }, (root as ScopedStorage).rebase(segment + mountDataPrefix('auth', mount.uuid)));
}

async function handleRenew(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const token = (req.fields['token'] as string | undefined) ?? '';
  if (token === '') throw invalid('missing token ID');
  const salt = await tokenSalt(storage);
  return renewSalted(req, storage, saltedId(salt, token), token);
}

async function handleRenewSelf(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const salt = await tokenSalt(storage);
  const self = await selfToken(req, salt);
  return renewSalted(req, storage, self.salted, self.token, true);
}

async function handleRenewAccessor(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const accessor = (req.fields['accessor'] as string | undefined) ?? '';
  if (accessor === '') throw invalid('missing accessor');
  const salt = await tokenSalt(storage);
  const target = await accessorTarget(storage, salt, accessor);
  const entry = target === null ? undefined : visible(req, await loadRaw(storage, target));
  if (target === null || !entry || !accessorMatches(entry, accessor)) throw invalid('invalid accessor');
  // The token itself is never revealed through its accessor.
  return renewSalted(req, storage, target, '');
}

// ---- revoke ---------------------------------------------------------------------------------------

async function handleRevoke(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const token = (req.fields['token'] as string | undefined) ?? '';
  if (token === '') throw invalid('missing token ID');
  const salt = await tokenSalt(storage);
  const salted = saltedId(salt, token);
  // An unknown token is a silent success (204), as in Vault; a dead-but-present entry is cleaned up.
  if (visible(req, await loadRaw(storage, salted)) !== undefined) await revokeTree(storage, salt, salted);
  return null;
}

async function handleRevokeSelf(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const salt = await tokenSalt(storage);
  const salted = saltedFromTokenKey(req.caller.tokenKey);
  if (salted !== null && (await loadRaw(storage, salted)) !== undefined) await revokeTree(storage, salt, salted);
  return null;
}

async function handleRevokeAccessor(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const accessor = (req.fields['accessor'] as string | undefined) ?? '';
  if (accessor === '') throw invalid('missing accessor');
  const salt = await tokenSalt(storage);
  const target = await accessorTarget(storage, salt, accessor);
  if (target === null) return { data: null, warnings: ['No token found with this accessor'] };
  const entry = visible(req, await loadLive(storage, target, req.nowMs));
  if (!entry || !accessorMatches(entry, accessor)) throw invalid('token not found');
  await revokeTree(storage, salt, target);
  return null;
}

async function handleRevokeOrphan(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const token = (req.fields['token'] as string | undefined) ?? '';
  if (token === '') throw invalid('missing token ID');
  if (!isSudo(req)) throw invalid('root or sudo privileges required to revoke and orphan');
  const salt = await tokenSalt(storage);
  const salted = saltedId(salt, token);
  if (!visible(req, await loadLive(storage, salted, req.nowMs))) throw invalid('token to revoke not found');
  await revokeOrphan(storage, salt, salted);
  return null;
}

// ---- accessors ------------------------------------------------------------------------------------

async function handleAccessorList(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const keys: string[] = [];
  for (const name of await storage.list('accessor/')) {
    if (name.endsWith('/')) continue;
    const raw = await storage.get(`accessor/${name}`);
    if (raw === undefined) continue;
    const target = accessorIndexTarget(raw);
    if (target === null) continue;
    const entry = visible(req, await loadLive(storage, target, req.nowMs));
    if (entry) keys.push(entry.accessor);
  }
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
}

// ---- path table -----------------------------------------------------------------------------------

const createFields: Record<string, FieldSchema> = {
  id: { type: 'string', description: 'Token value (root or sudo only); may not start with "s." or "hvs." nor contain "."' },
  role_name: { type: 'string', description: 'Create the token against this token role (auth/token/roles/<name>)' },
  policies: { type: 'comma-string-slice', description: 'Policies of the token: a subset of the caller\'s unless root/sudo' },
  meta: { type: 'map', description: 'Arbitrary string metadata' },
  no_parent: { type: 'bool', description: 'Create an orphan token (root or sudo only)' },
  no_default_policy: { type: 'bool', description: 'Do not add the "default" policy' },
  renewable: { type: 'bool', description: 'Allow renewal', default: true },
  ttl: { type: 'string', description: 'Time to live (duration or seconds)' },
  lease: { type: 'string', description: 'Deprecated alias of ttl' },
  explicit_max_ttl: { type: 'string', description: 'Hard maximum lifetime, beyond renewals' },
  display_name: { type: 'string', description: 'Display name, prefixed "token-"' },
  num_uses: { type: 'int', description: 'Number of uses (0 = unlimited)' },
  period: { type: 'string', description: 'Renewal period of a periodic token (root or sudo only)' },
  type: { type: 'string', description: 'Token type: "service"' },
  entity_alias: { type: 'string', description: 'Entity alias (with a role only)' },
};
const tokenField: Record<string, FieldSchema> = { token: { type: 'string', description: 'The token' } };
const accessorField: Record<string, FieldSchema> = { accessor: { type: 'string', description: 'The token accessor' } };
const incrementField: Record<string, FieldSchema> = { increment: { type: 'duration', description: 'Requested TTL extension', default: 0 } };

const help = (synopsis: string): PathSpec['help'] => ({ synopsis, description: synopsis });

export const tokenPaths: PathSpec[] = [
  { pattern: 'create', fields: createFields, operations: { update: (r, s) => handleCreate(r, s, false) }, alwaysWrites: ['update'], help: help('Create a child token (an orphan with no_parent, root/sudo only)') },
  { pattern: 'create/:role_name', fields: createFields, operations: { update: handleCreateAgainstRole }, alwaysWrites: ['update'], help: help('Create a token against a token role') },
  { pattern: 'create-orphan', fields: createFields, operations: { update: (r, s) => handleCreate(r, s, true) }, alwaysWrites: ['update'], help: help('Create an orphan token') },
  { pattern: 'lookup', fields: tokenField, operations: { read: handleLookup, update: handleLookup }, answersLocally: ['update'], help: help('Look up a token') },
  { pattern: 'lookup-self', fields: tokenField, operations: { read: handleLookupSelf, update: handleLookupSelf }, answersLocally: ['update'], help: help('Look up the calling token') },
  { pattern: 'lookup-accessor', fields: accessorField, operations: { update: handleLookupAccessor }, answersLocally: ['update'], help: help('Look up a token by its accessor') },
  { pattern: 'renew', fields: { ...tokenField, ...incrementField }, operations: { update: handleRenew }, alwaysWrites: ['update'], help: help('Renew a token') },
  { pattern: 'renew-self', fields: { ...tokenField, ...incrementField }, operations: { update: handleRenewSelf }, alwaysWrites: ['update'], help: help('Renew the calling token') },
  { pattern: 'renew-accessor', fields: { ...accessorField, ...incrementField }, operations: { update: handleRenewAccessor }, alwaysWrites: ['update'], help: help('Renew a token by its accessor') },
  { pattern: 'revoke', fields: tokenField, operations: { update: handleRevoke }, alwaysWrites: ['update'], help: help('Revoke a token and all its children') },
  { pattern: 'revoke-self', operations: { update: handleRevokeSelf }, alwaysWrites: ['update'], help: help('Revoke the calling token and all its children') },
  { pattern: 'revoke-accessor', fields: accessorField, operations: { update: handleRevokeAccessor }, alwaysWrites: ['update'], help: help('Revoke a token and its children by accessor') },
  { pattern: 'revoke-orphan', fields: tokenField, operations: { update: handleRevokeOrphan }, alwaysWrites: ['update'], help: help('Revoke a token, leaving its children as orphans (root or sudo)') },
  { pattern: 'accessors', operations: { list: handleAccessorList }, sudo: true, help: help('List token accessors (sudo)') },
  { pattern: 'accessors/', operations: { list: handleAccessorList }, sudo: true, help: help('List token accessors (sudo)') },
  ...tokenRolePaths,
  { pattern: 'tidy', operations: { update: (_r, s) => handleTokenTidy(s) }, alwaysWrites: ['update'], help: help('Clean up index entries of tokens that no longer exist; orphan children of missing parents') },
];

export const tokenBackend: BackendFactory = () => ({ type: 'token', help: 'The token store: create, look up, renew and revoke tokens.', paths: tokenPaths });
