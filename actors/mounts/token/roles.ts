// Token roles (auth/token/roles/<name>), following Vault's token_store.go: a role fixes what tokens
// created through auth/token/create/<name> may carry (allowed and disallowed policies, exact or glob),
// whether they are orphans, periodic, renewable, bound to CIDRs, and a path suffix for revoke-prefix.
// Stored in the token store's view as roles/<name> (sys/token/roles/<name>, §6), names lower-cased.
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, FieldValues, HandlerRequest, HandlerResult, StorageView } from '../framework/types.js';
import { parseCidrField } from '../userpass/token-params.js';
import { systemView } from '../../expiration/revoke-token.js';
import { TOKEN_STORE_PREFIX } from '../../core/tokens.js';
import { isRootNamespace, namespaceSegment, type NamespaceRef } from '../namespaces/model.js';
import { subView } from '../sys/util.js';

export interface TokenRole {
  name: string;
  allowed_policies: string[];
  disallowed_policies: string[];
  allowed_policies_glob: string[];
  disallowed_policies_glob: string[];
  allowed_entity_aliases: string[];
  orphan: boolean;
  renewable: boolean;
  path_suffix: string;
  /** Seconds; 0 = none. */
  token_period: number;
  token_explicit_max_ttl: number;
  token_no_default_policy: boolean;
  token_bound_cidrs: string[];
  /** "default-service" or "service": Coffer issues service tokens only. */
  token_type: string;
}

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);
const roleKey = (name: string) => `roles/${name}`;

/** From the path (roles/<name>, create/<name>), else the `role_name` field of auth/token/create. */
export function roleNameOf(req: HandlerRequest): string {
  return String(req.params['role_name'] ?? req.fields['role_name'] ?? '').toLowerCase();
}

/**
 * Where a namespace's token roles are: the root's in the token store's view (sys/token/roles/), another
 * namespace's in its own segment (namespaces/<uuid>/sys/token/roles/), so that a namespace's administrator
 * can neither read nor replace another namespace's roles, and the roles go with the namespace.
 */
export function rolesView(storage: StorageView, ns: NamespaceRef | undefined): StorageView {
  return isRootNamespace(ns) ? storage : subView(systemView(storage), `${namespaceSegment(ns)}${TOKEN_STORE_PREFIX}`);
}

/** A role path's handler, given the roles of the mount's namespace. */
const inRoles =
  (h: (req: HandlerRequest, storage: StorageView) => Promise<HandlerResult>) =>
  (req: HandlerRequest, storage: StorageView): Promise<HandlerResult> =>
    h(req, rolesView(storage, req.mount.namespace));

export async function loadTokenRole(storage: StorageView, name: string): Promise<TokenRole | null> {
  if (name === '') return null;
  return (await storage.getJson<TokenRole>(roleKey(name))) ?? null;
}

/** Vault's strutil.RemoveDuplicates(list, lowercase=true): trimmed, lower-cased, deduped, sorted. */
function cleanList(list: readonly string[]): string[] {
  return [...new Set(list.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
}

function emptyRole(name: string): TokenRole {
  return {
    name,
    allowed_policies: [],
    disallowed_policies: [],
    allowed_policies_glob: [],
    disallowed_policies_glob: [],
    allowed_entity_aliases: [],
    orphan: false,
    renewable: true,
    path_suffix: '',
    token_period: 0,
    token_explicit_max_ttl: 0,
    token_no_default_policy: false,
    token_bound_cidrs: [],
    token_type: 'default-service',
  };
}

/** A legacy field and its token_* successor: the successor wins when both are given (tokenutil's upgrade). */
function pick<T>(f: FieldValues, legacy: string, current: string): T | undefined {
  if (current in f) return f[current] as T;
  if (legacy in f) return f[legacy] as T;
  return undefined;
}

async function roleWrite(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = roleNameOf(req);
  if (name === '') throw invalid('role name cannot be empty');
  const f = req.fields;
  const role = (await loadTokenRole(storage, name)) ?? emptyRole(name);
  for (const k of ['allowed_policies', 'disallowed_policies', 'allowed_policies_glob', 'disallowed_policies_glob'] as const) {
    if (k in f) role[k] = cleanList(f[k] as string[]);
  }
  if ('allowed_entity_aliases' in f) role.allowed_entity_aliases = [...new Set((f['allowed_entity_aliases'] as string[]).map((a) => a.trim()).filter((a) => a !== ''))];
  if ('orphan' in f) role.orphan = f['orphan'] as boolean;
  if ('renewable' in f) role.renewable = f['renewable'] as boolean;
  if ('path_suffix' in f) {
    const suffix = String(f['path_suffix']).trim();
    if (suffix.includes('..')) throw invalid(`error registering path suffix: invalid path suffix "${suffix}"`);
    role.path_suffix = suffix;
  }
  const period = pick<number>(f, 'period', 'token_period');
  if (period !== undefined) role.token_period = period;
  const explicitMax = pick<number>(f, 'explicit_max_ttl', 'token_explicit_max_ttl');
  if (explicitMax !== undefined) role.token_explicit_max_ttl = explicitMax;
  if (role.token_period < 0) throw invalid("'token_period' cannot be negative");
  if (role.token_explicit_max_ttl < 0) throw invalid("'token_explicit_max_ttl' cannot be negative");
  if ('token_no_default_policy' in f) role.token_no_default_policy = f['token_no_default_policy'] as boolean;
  const cidrs = pick<string[]>(f, 'bound_cidrs', 'token_bound_cidrs');
  if (cidrs !== undefined) role.token_bound_cidrs = parseCidrField(cidrs, 'token_bound_cidrs');
  if ('token_type' in f) {
    const type = String(f['token_type']).trim().toLowerCase();
    if (type === 'batch' || type === 'default-batch') throw invalid('batch tokens are not supported');
    if (type !== '' && type !== 'service' && type !== 'default-service' && type !== 'default') throw invalid("invalid 'token_type' value");
    role.token_type = type === 'service' ? 'service' : 'default-service';
  }
  const warnings: string[] = [];
  if (role.token_period > 0 && role.token_explicit_max_ttl > 0 && role.token_explicit_max_ttl < role.token_period) {
    warnings.push('Role explicit max TTL is less than the role period; tokens will expire at their explicit max TTL even when renewed');
  }
  storage.putJson(roleKey(name), role);
  return warnings.length > 0 ? { data: null, warnings } : null;
}

async function roleRead(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadTokenRole(storage, roleNameOf(req));
  if (!role) return null; // 404, as Vault answers a missing role with no response
  const data: Record<string, unknown> = {
    name: role.name,
    allowed_policies: role.allowed_policies,
    disallowed_policies: role.disallowed_policies,
    allowed_policies_glob: role.allowed_policies_glob,
    disallowed_policies_glob: role.disallowed_policies_glob,
    allowed_entity_aliases: role.allowed_entity_aliases,
    orphan: role.orphan,
    renewable: role.renewable,
    path_suffix: role.path_suffix,
    token_period: role.token_period,
    period: role.token_period,
    token_explicit_max_ttl: role.token_explicit_max_ttl,
    explicit_max_ttl: role.token_explicit_max_ttl,
    token_no_default_policy: role.token_no_default_policy,
    token_type: role.token_type,
  };
  if (role.token_bound_cidrs.length > 0) {
    data['token_bound_cidrs'] = role.token_bound_cidrs;
    data['bound_cidrs'] = role.token_bound_cidrs;
  }
  return { data };
}

async function roleDelete(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  storage.delete(roleKey(roleNameOf(req)));
  return null;
}

async function roleList(_req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const keys = (await storage.list('roles/')).filter((k) => !k.endsWith('/'));
  if (keys.length === 0) throw new CofferError('COFFER_ERR_NOT_FOUND');
  return { data: { keys } };
}

// ---- the policies a role lets a token carry --------------------------------------------------------

/** Go's %q of a []string: ["a" "b"]. */
const goQuoted = (list: readonly string[]) => `[${list.map((p) => JSON.stringify(p)).join(' ')}]`;

/** Vault's glob for policy names: `*` matches any run of characters, nothing else is special. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/**
 * The final policy set of a token created against `role` (Vault's handleCreateCommon, role branch):
 * `requested` are the request's policies, already sanitized (with "default" added when `addDefault`),
 * `parentPolicies` the parent's, sanitized the same way. Throws with Vault's messages.
 */
export function rolePolicies(role: TokenRole, requested: string[], parentPolicies: string[], allowedSanitized: string[]): string[] {
  let final = requested;
  if (role.allowed_policies.length > 0 || role.allowed_policies_glob.length > 0) {
    if (final.length === 0) final = allowedSanitized;
    else {
      const allowed = (p: string) => allowedSanitized.includes(p) || role.allowed_policies_glob.some((g) => globMatch(g, p));
      if (!final.every(allowed)) {
        throw invalid(
          `token policies (${goQuoted(final)}) must be subset of the role's allowed policies (${goQuoted(allowedSanitized)}) or glob policies (${goQuoted(role.allowed_policies_glob)})`,
        );
      }
    }
  } else if (final.length === 0) {
    final = parentPolicies;
  }
  for (const p of final) {
    if (role.disallowed_policies.includes(p)) throw invalid(`token policy "${p}" is disallowed by this role`);
    if (role.disallowed_policies_glob.some((g) => globMatch(g, p))) {
      throw invalid(`token policy (${JSON.stringify(p)}) is disallowed by this role's glob policies (${goQuoted(role.disallowed_policies_glob)})`);
    }
  }
  return final;
}

// ---- path table -----------------------------------------------------------------------------------

const fs = (type: FieldSchema['type'], description: string): FieldSchema => ({ type, description });
const ROLE_FIELDS: Record<string, FieldSchema> = {
  role_name: fs('string', 'Name of the role'),
  allowed_policies: fs('comma-string-slice', 'If set, tokens can be created with any subset of the policies in this list, rather than the normal semantics of tokens being a subset of the calling token\'s policies'),
  disallowed_policies: fs('comma-string-slice', 'If set, successful token creation via this role will require that no policies in the given list are requested'),
  allowed_policies_glob: fs('comma-string-slice', 'As allowed_policies, with "*" globs'),
  disallowed_policies_glob: fs('comma-string-slice', 'As disallowed_policies, with "*" globs'),
  allowed_entity_aliases: fs('comma-string-slice', 'Entity aliases tokens of this role may be bound to'),
  orphan: fs('bool', 'If true, tokens created via this role will be orphan tokens (have no parent)'),
  renewable: fs('bool', 'Tokens created via this role will be renewable or not according to this value (default true)'),
  path_suffix: fs('string', 'If set, tokens created via this role will contain the given suffix as a part of their path'),
  period: fs('duration', 'Use "token_period" instead'),
  explicit_max_ttl: fs('duration', 'Use "token_explicit_max_ttl" instead'),
  bound_cidrs: fs('comma-string-slice', 'Use "token_bound_cidrs" instead'),
  token_period: fs('duration', 'If set, tokens created via this role will have no max lifetime; instead, their renewal period will be fixed to this value'),
  token_explicit_max_ttl: fs('duration', 'If set, tokens created via this role carry an explicit maximum TTL'),
  token_no_default_policy: fs('bool', "If true, the 'default' policy will not automatically be added to generated tokens"),
  token_bound_cidrs: fs('comma-string-slice', 'CIDR blocks allowed to use the generated tokens'),
  token_type: fs('string', 'The type of token to generate: service (the only type Coffer issues)'),
};

const help = (synopsis: string) => ({ synopsis, description: synopsis });

export const tokenRolePaths = [
  { pattern: 'roles', operations: { list: inRoles(roleList) }, help: help('List token roles') },
  { pattern: 'roles/', operations: { list: inRoles(roleList) }, help: help('List token roles') },
  {
    pattern: 'roles/:role_name',
    fields: ROLE_FIELDS,
    existenceCheck: async (req: HandlerRequest, storage: StorageView) => (await loadTokenRole(rolesView(storage, req.mount.namespace), roleNameOf(req))) !== null,
    operations: { read: inRoles(roleRead), create: inRoles(roleWrite), update: inRoles(roleWrite), delete: inRoles(roleDelete) },
    help: help('Create, read, update or delete a token role'),
  },
];
