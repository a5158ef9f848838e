// The approle auth method, following OpenBao's builtin/credential/approle (facts only, own code):
// role/ (LIST), role/<r> (create/update/read/delete), role/<r>/role-id, role/<r>/secret-id (generate,
// LIST accessors), role/<r>/custom-secret-id, role/<r>/secret-id/lookup|destroy,
// role/<r>/secret-id-accessor/lookup|destroy, the per-field role/<r>/<field> endpoints, tidy/secret-id
// and the unauthenticated login.
//
// Storage (view rooted at auth/<uuid>/), as Vault lays it out:
//   salt                                    per-mount salt (random UUID), written at enable
//   role/<role name, lower-cased>           RoleEntry (includes its own random hmac_key)
//   role_id/<HMAC(salt, role_id)>           { name }: the login index
//   secret_id/<HMAC(hmac_key, role name)>/<HMAC(hmac_key, secret_id)>   SecretIdEntry
//   accessor/<HMAC(salt, accessor)>         { secret_id_hmac }
//   (secret_id_local/ and accessor_local/ for roles created with local_secret_ids)
// A secret ID is never stored: only its HMAC under the role's key. A login that spends a secret-ID use
// writes the decremented entry (or deletes it on the last use) in the same write-set as the token.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import { saltedId, safeEqual } from '../../core/tokens.js';
import { storageLimits } from '../../storage/storage-limits.js';
import { addressInCidrs, cidrsSubset, validCidrList } from '../framework/cidr.js';
import type { BackendFactory, FieldSchema, FieldValues, HandlerRequest, HandlerResult, MountInfo, PathSpec, StorageView } from '../framework/types.js';
import { goDuration, goTime, SYSTEM_LEASE_TTL_S } from '../token/entries.js';
import { emptyTokenParams, loginSpec, parsePolicies, parseTokenFields, tokenData, TOKEN_FIELDS, upgradeValue, type TokenParams } from '../userpass/token-params.js';

const SECRET_ID_PREFIX = 'secret_id/';
const SECRET_ID_LOCAL_PREFIX = 'secret_id_local/';
const ACCESSOR_PREFIX = 'accessor/';
const ACCESSOR_LOCAL_PREFIX = 'accessor_local/';
const SALT_KEY = 'salt';
/** Vault's maxHmacInputLength. */
const MAX_HMAC_INPUT = 4096;
/** Go's zero time.Time as JSON: what Vault shows for a secret ID that never expires. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface RoleEntry extends TokenParams {
  name: string;
  role_id: string;
  hmac_key: string;
  bind_secret_id: boolean;
  secret_id_bound_cidrs: string[];
  secret_id_num_uses: number;
  secret_id_ttl: number;
  secret_id_prefix: string;
  /** Legacy (deprecated) fields, kept for reads as Vault does. */
  policies: string[];
  period: number;
}

export interface SecretIdEntry {
  secret_id_accessor: string;
  secret_id_num_uses: number;
  /** As requested (seconds); the expiry below is what counts. */
  secret_id_ttl: number;
  creation_time_ms: number;
  /** 0 = never expires. */
  expiration_time_ms: number;
  last_updated_time_ms: number;
  metadata: Record<string, string>;
  cidr_list: string[];
  token_bound_cidrs: string[];
}

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);
const NAME_RE = /^\w(?:[\w\-.@]*\w)?$/;

/** Vault's createHMAC: hex HMAC-SHA256 under the role's key. */
function hmac(key: string, value: string): string {
  if (key === '') throw new CofferError('COFFER_ERR_INTERNAL', 'invalid HMAC key');
  if (Buffer.byteLength(value) > MAX_HMAC_INPUT) throw invalid(`value is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
  return saltedId(key, value).slice(1);
}

function roleName(req: HandlerRequest): string {
  const name = req.params['role_name'] ?? '';
  if (!NAME_RE.test(name)) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', 'unsupported path');
  if (Buffer.byteLength(name) > MAX_HMAC_INPUT) throw invalid(`role_name is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
  return name;
}

const roleKey = (name: string) => `role/${name.toLowerCase()}`;

async function mountSalt(storage: StorageView): Promise<string> {
  const raw = await storage.get(SALT_KEY);
  if (raw !== undefined) return raw.toString('utf8');
  const salt = randomUUID();
  storage.put(SALT_KEY, Buffer.from(salt));
  return salt;
}

function mountMaxTtl(mount: MountInfo): number {
  return mount.maxLeaseTtlS > 0 ? mount.maxLeaseTtlS : SYSTEM_LEASE_TTL_S;
}

async function loadRole(storage: StorageView, name: string): Promise<RoleEntry | null> {
  const raw = await storage.getJson<Partial<RoleEntry>>(roleKey(name));
  if (!raw) return null;
  const role: RoleEntry = {
    ...emptyTokenParams(),
    name: name.toLowerCase(),
    role_id: '',
    hmac_key: '',
    bind_secret_id: false,
    secret_id_bound_cidrs: [],
    secret_id_num_uses: 0,
    secret_id_ttl: 0,
    secret_id_prefix: SECRET_ID_PREFIX,
    policies: [],
    period: 0,
    ...raw,
  };
  if (role.token_period === 0 && role.period > 0) role.token_period = role.period;
  if (role.token_policies.length === 0 && role.policies.length > 0) role.token_policies = role.policies;
  return role;
}

async function requireRole(storage: StorageView, name: string): Promise<RoleEntry> {
  const role = await loadRole(storage, name);
  if (!role) throw invalid(`role "${name}" does not exist`);
  return role;
}

const roleIdKey = (salt: string, roleId: string) => `role_id/${saltedId(salt, roleId).slice(1)}`;
const accessorPrefixOf = (role: RoleEntry) => (role.secret_id_prefix === SECRET_ID_LOCAL_PREFIX ? ACCESSOR_LOCAL_PREFIX : ACCESSOR_PREFIX);
const accessorKey = (salt: string, role: RoleEntry, accessor: string) => `${accessorPrefixOf(role)}${saltedId(salt, accessor).slice(1)}`;
const secretDir = (role: RoleEntry) => `${role.secret_id_prefix}${hmac(role.hmac_key, role.name)}/`;
const secretKey = (role: RoleEntry, secretIdHmac: string) => `${secretDir(role)}${secretIdHmac}`;

function validateRoleConstraints(role: RoleEntry): string | null {
  if (role.bind_secret_id || role.secret_id_bound_cidrs.length > 0 || role.token_bound_cidrs.length > 0) return null;
  return 'at least one constraint should be enabled on the role';
}

/** setRoleEntry: constraints, the role_id index (unique), the role itself. */
async function saveRole(storage: StorageView, role: RoleEntry, previousRoleId: string): Promise<void> {
  const bad = validateRoleConstraints(role);
  if (bad) throw invalid(bad);
  const salt = await mountSalt(storage);
  const index = await storage.getJson<{ name: string }>(roleIdKey(salt, role.role_id));
  if (index && index.name.toLowerCase() !== role.name.toLowerCase()) throw invalid('role_id already in use');
  if (previousRoleId !== '' && previousRoleId !== role.role_id) storage.delete(roleIdKey(salt, previousRoleId));
  storage.putJson(roleKey(role.name), role);
  storage.putJson(roleIdKey(salt, role.role_id), { name: role.name });
}

function cidrField(f: FieldValues, name: string): string[] | undefined {
  const v = f[name] as string[] | undefined;
  return v === undefined ? undefined : v.map((c) => c.trim()).filter((c) => c !== '');
}

// ---- role -----------------------------------------------------------------------------------------

async function roleWrite(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = roleName(req);
  const f: FieldValues = { ...req.fields };
  let role = await loadRole(storage, name);
  const creating = role === null;
  if (!role) {
    if (req.operation !== 'create') throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `role name "${name}" doesn't exist`);
    role = {
      ...emptyTokenParams(),
      name: name.toLowerCase(),
      role_id: '',
      hmac_key: randomUUID(),
      bind_secret_id: true,
      secret_id_bound_cidrs: [],
      secret_id_num_uses: 0,
      secret_id_ttl: 0,
      secret_id_prefix: SECRET_ID_PREFIX,
      policies: [],
      period: 0,
    };
  }
  const warnings: string[] = [];
  if (f['token_type'] === 'default-service') {
    f['token_type'] = 'service';
    warnings.push('default-service has no useful meaning; adjusting to service');
  } else if (f['token_type'] === 'default-batch') {
    f['token_type'] = 'batch';
    warnings.push('default-batch has no useful meaning; adjusting to batch');
  }
  parseTokenFields(role, f);

  if ('local_secret_ids' in f) {
    if (!creating) throw invalid('local_secret_ids can only be modified during role creation');
    if (f['local_secret_ids'] === true) role.secret_id_prefix = SECRET_ID_LOCAL_PREFIX;
  }

  const previousRoleId = role.role_id;
  if ('role_id' in f) role.role_id = f['role_id'] as string;
  else if (creating) role.role_id = randomUUID();
  if (role.role_id === '') throw invalid('invalid role_id supplied, or failed to generate a role_id');

  if ('bind_secret_id' in f) role.bind_secret_id = f['bind_secret_id'] as boolean;

  const bound = cidrField(f, 'secret_id_bound_cidrs') ?? cidrField(f, 'bound_cidr_list');
  if (bound !== undefined) role.secret_id_bound_cidrs = bound;
  if (role.secret_id_bound_cidrs.length > 0 && !validCidrList(role.secret_id_bound_cidrs)) throw invalid('invalid CIDR blocks');

  if ('secret_id_num_uses' in f) role.secret_id_num_uses = f['secret_id_num_uses'] as number;
  if (role.secret_id_num_uses < 0) throw invalid('secret_id_num_uses cannot be negative');
  if ('secret_id_ttl' in f) role.secret_id_ttl = f['secret_id_ttl'] as number;

  const pol = upgradeValue(f, 'policies', 'token_policies', { old: role.policies, cur: role.token_policies, empty: [] as string[] }, (v) => parsePolicies(v as string[]));
  role.policies = pol.old;
  role.token_policies = pol.cur;
  const per = upgradeValue(f, 'period', 'token_period', { old: role.period, cur: role.token_period, empty: 0 });
  role.period = per.old;
  role.token_period = per.cur;

  const max = mountMaxTtl(req.mount);
  if (role.period > max) throw invalid(`period of "${goDuration(role.period)}" is greater than the backend's maximum lease TTL of "${goDuration(max)}"`);
  if (role.token_max_ttl > max) warnings.push("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated");

  await saveRole(storage, role, previousRoleId);
  return warnings.length > 0 ? { data: null, warnings } : null;
}

function roleData(role: RoleEntry): Record<string, unknown> {
  const data: Record<string, unknown> = {
    bind_secret_id: role.bind_secret_id,
    secret_id_bound_cidrs: [...role.secret_id_bound_cidrs],
    secret_id_num_uses: role.secret_id_num_uses,
    secret_id_ttl: role.secret_id_ttl,
    local_secret_ids: role.secret_id_prefix === SECRET_ID_LOCAL_PREFIX,
    ...tokenData(role),
  };
  if (role.period !== 0) data['period'] = role.period;
  if (role.policies.length > 0) data['policies'] = [...role.policies];
  return data;
}

async function roleRead(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadRole(storage, roleName(req));
  if (!role) return null;
  const warnings = validateRoleConstraints(role) ? ['Role does not have any constraints set on it. Updates to this role will require a constraint to be set'] : [];
  return { data: roleData(role), ...(warnings.length > 0 ? { warnings } : {}) };
}

async function roleDelete(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadRole(storage, roleName(req));
  if (!role) return null;
  const salt = await mountSalt(storage);
  const dir = secretDir(role);
  const hmacs = (await storage.list(dir)).filter((k) => !k.endsWith('/'));
  if (hmacs.length * 2 + 4 > storageLimits.writeSetOpsMax) throw invalid(`role has too many secret IDs (${hmacs.length}) to delete in one request; destroy some first`);
  for (const h of hmacs) {
    const entry = await storage.getJson<SecretIdEntry>(`${dir}${h}`);
    if (entry) storage.delete(accessorKey(salt, role, entry.secret_id_accessor));
    storage.delete(`${dir}${h}`);
  }
  storage.delete(roleIdKey(salt, role.role_id));
  storage.delete(roleKey(role.name));
  return null;
}

async function roleList(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  let keys = await storage.list('role/');
  const after = (req.fields['after'] as string | undefined) ?? '';
  const limit = (req.fields['limit'] as number | undefined) ?? 0;
  if (after !== '') keys = keys.filter((k) => k > after);
  if (limit > 0) keys = keys.slice(0, limit);
  return { data: { keys } };
}

// ---- role-id --------------------------------------------------------------------------------------

async function roleIdRead(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadRole(storage, roleName(req));
  return role ? { data: { role_id: role.role_id } } : null;
}

async function roleIdUpdate(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadRole(storage, roleName(req));
  if (!role) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', 'unsupported path');
  const previous = role.role_id;
  role.role_id = (req.fields['role_id'] as string | undefined) ?? '';
  if (role.role_id === '') throw invalid('missing role_id');
  await saveRole(storage, role, previous);
  return null;
}

// ---- per-field role endpoints (role/<r>/policies, /secret-id-ttl, ...) --------------------------------

type RoleField = { suffix: string; field: string; schema: FieldSchema; read: (r: RoleEntry) => unknown; reset: (r: RoleEntry) => void; legacyAlso?: string };

/** Each updates one field through the full role write (same validation), reads it, or resets it. */
const ROLE_FIELDS: RoleField[] = [
  { suffix: 'policies', field: 'token_policies', legacyAlso: 'policies', schema: TOKEN_FIELDS['token_policies'] as FieldSchema, read: (r) => r.token_policies, reset: (r) => ((r.token_policies = []), (r.policies = [])) },
  { suffix: 'secret-id-bound-cidrs', field: 'secret_id_bound_cidrs', schema: { type: 'comma-string-slice', description: 'Comma separated string or list of CIDR blocks.' }, read: (r) => r.secret_id_bound_cidrs, reset: (r) => (r.secret_id_bound_cidrs = []) },
  { suffix: 'bound-cidr-list', field: 'bound_cidr_list', schema: { type: 'comma-string-slice', description: 'Deprecated: use secret_id_bound_cidrs.' }, read: (r) => r.secret_id_bound_cidrs, reset: (r) => (r.secret_id_bound_cidrs = []) },
  { suffix: 'token-bound-cidrs', field: 'token_bound_cidrs', schema: TOKEN_FIELDS['token_bound_cidrs'] as FieldSchema, read: (r) => r.token_bound_cidrs, reset: (r) => (r.token_bound_cidrs = []) },
  { suffix: 'bind-secret-id', field: 'bind_secret_id', schema: { type: 'bool', description: 'Require secret_id to be presented when logging in using this role.' }, read: (r) => r.bind_secret_id, reset: (r) => (r.bind_secret_id = true) },
  { suffix: 'secret-id-num-uses', field: 'secret_id_num_uses', schema: { type: 'int', description: 'Number of times a SecretID can access the role.' }, read: (r) => r.secret_id_num_uses, reset: (r) => (r.secret_id_num_uses = 0) },
  { suffix: 'secret-id-ttl', field: 'secret_id_ttl', schema: { type: 'duration', description: 'Duration after which the issued SecretID should expire.' }, read: (r) => r.secret_id_ttl, reset: (r) => (r.secret_id_ttl = 0) },
  { suffix: 'period', field: 'token_period', legacyAlso: 'period', schema: TOKEN_FIELDS['token_period'] as FieldSchema, read: (r) => r.token_period, reset: (r) => ((r.token_period = 0), (r.period = 0)) },
  { suffix: 'token-num-uses', field: 'token_num_uses', schema: TOKEN_FIELDS['token_num_uses'] as FieldSchema, read: (r) => r.token_num_uses, reset: (r) => (r.token_num_uses = 0) },
  { suffix: 'token-ttl', field: 'token_ttl', schema: TOKEN_FIELDS['token_ttl'] as FieldSchema, read: (r) => r.token_ttl, reset: (r) => (r.token_ttl = 0) },
  { suffix: 'token-max-ttl', field: 'token_max_ttl', schema: TOKEN_FIELDS['token_max_ttl'] as FieldSchema, read: (r) => r.token_max_ttl, reset: (r) => (r.token_max_ttl = 0) },
];

function roleFieldPaths(): PathSpec[] {
  return ROLE_FIELDS.map((rf): PathSpec => {
    const fields: Record<string, FieldSchema> = { role_name: ROLE_NAME_FIELD, [rf.field]: rf.schema };
    if (rf.legacyAlso) fields[rf.legacyAlso] = { ...rf.schema, description: `Deprecated: use "${rf.field}".` };
    return {
      pattern: `role/:role_name/${rf.suffix}`,
      fields,
      operations: {
        read: async (req, storage) => {
          const role = await loadRole(storage, roleName(req));
          if (!role) return null;
          const value = rf.read(role);
          const data: Record<string, unknown> = { [rf.field]: Array.isArray(value) ? [...(value as unknown[])] : value };
          // The deprecated name is shown too while it is set, as the full role read does.
          if (rf.legacyAlso === 'policies' && role.policies.length > 0) data['policies'] = [...role.policies];
          if (rf.legacyAlso === 'period' && role.period > 0) data['period'] = role.period;
          return { data };
        },
        update: async (req, storage) => {
          const name = roleName(req);
          if (!(await loadRole(storage, name))) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', 'unsupported path');
          const given = rf.field in req.fields || (rf.legacyAlso !== undefined && rf.legacyAlso in req.fields);
          if (!given) throw invalid(`missing ${rf.field}`);
          return roleWrite({ ...req, operation: 'update' }, storage);
        },
        delete: async (req, storage) => {
          const name = roleName(req);
          const role = await loadRole(storage, name);
          if (!role) return null;
          rf.reset(role);
          await saveRole(storage, role, role.role_id);
          return null;
        },
      },
      help: { synopsis: `Read, update or reset the role's ${rf.field}.`, description: '' },
    };
  });
}

async function localSecretIdsRead(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const role = await loadRole(storage, roleName(req));
  return role ? { data: { local_secret_ids: role.secret_id_prefix === SECRET_ID_LOCAL_PREFIX } } : null;
}

// ---- secret IDs -----------------------------------------------------------------------------------

/** strutil.ParseArbitraryKeyValues: a JSON object of strings, or k=v pairs separated by commas. */
function parseMetadata(input: string): Record<string, string> {
  const out: Record<string, string> = {};
  const s = input.trim();
  if (s === '') return out;
  if (s.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch (err) {
      throw invalid(`failed to parse metadata: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('failed to parse metadata: not a JSON object');
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v !== 'string') throw invalid(`failed to parse metadata: value of "${k}" is not a string`);
      out[k] = v;
    }
    return out;
  }
  for (const pair of s.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`failed to parse metadata: invalid key/value pair "${pair}"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** deriveSecretIDTTL: negative or beyond the mount's max → the mount's max. */
function deriveSecretIdTtl(ttl: number, mount: MountInfo): number {
  const max = mountMaxTtl(mount);
  return ttl < 0 || ttl > max ? max : ttl;
}

function cidrSubsetError(secretCidrs: string[], roleCidrs: string[]): string | null {
  if (secretCidrs.length === 0 || roleCidrs.length === 0) return null;
  const outer = roleCidrs.map((b) => (b.includes('/') ? b : `${b}/${b.includes(':') ? 128 : 32}`));
  if (cidrsSubset(outer, secretCidrs)) return null;
  const q = (l: string[]) => `[${l.map((x) => JSON.stringify(x)).join(' ')}]`;
  return `failed to verify subset relationship between CIDR blocks on the role ${q(outer)} and CIDR blocks on the secret ID ${q(secretCidrs)}`;
}

async function issueSecretId(req: HandlerRequest, storage: StorageView, secretId: string): Promise<HandlerResult> {
  const name = roleName(req);
  if (secretId === '') throw invalid('missing secret_id');
  const role = await loadRole(storage, name);
  if (!role) throw invalid(`role "${name}" does not exist`);
  if (!role.bind_secret_id) throw invalid('bind_secret_id is not set on the role');
  const f = req.fields;

  const cidrs = cidrField(f, 'cidr_list') ?? [];
  if (cidrs.length > 0 && !validCidrList(cidrs)) throw invalid('failed to validate CIDR blocks');
  const e1 = cidrSubsetError(cidrs, role.secret_id_bound_cidrs);
  if (e1) throw invalid(e1);
  const tokenCidrs = cidrField(f, 'token_bound_cidrs') ?? [];
  if (tokenCidrs.length > 0 && !validCidrList(tokenCidrs)) throw invalid('failed to validate token CIDR blocks');
  const e2 = cidrSubsetError(tokenCidrs, role.token_bound_cidrs);
  if (e2) throw invalid(e2);

  let numUses = role.secret_id_num_uses;
  if ('num_uses' in f) {
    numUses = f['num_uses'] as number;
    if (numUses < 0) throw invalid('num_uses cannot be negative');
    if ((numUses === 0 && role.secret_id_num_uses > 0) || (role.secret_id_num_uses > 0 && numUses > role.secret_id_num_uses)) {
      throw invalid("num_uses cannot be higher than the role's secret_id_num_uses");
    }
  }
  let ttl = role.secret_id_ttl;
  if ('ttl' in f) {
    ttl = f['ttl'] as number;
    if ((ttl === 0 && role.secret_id_ttl > 0) || (role.secret_id_ttl > 0 && ttl > role.secret_id_ttl)) throw invalid("ttl cannot be longer than the role's secret_id_ttl");
  }
  const metadata = parseMetadata((f['metadata'] as string | undefined) ?? '');

  const secretHmac = hmac(role.hmac_key, secretId);
  const key = secretKey(role, secretHmac);
  if ((await storage.get(key)) !== undefined) throw invalid('failed to store secret_id: SecretID is already registered');
  const derived = deriveSecretIdTtl(ttl, req.mount);
  const accessor = randomUUID();
  const entry: SecretIdEntry = {
    secret_id_accessor: accessor,
    secret_id_num_uses: numUses,
    secret_id_ttl: ttl,
    creation_time_ms: req.nowMs,
    expiration_time_ms: derived !== 0 ? req.nowMs + derived * 1000 : 0,
    last_updated_time_ms: req.nowMs,
    metadata,
    cidr_list: cidrs,
    token_bound_cidrs: tokenCidrs,
  };
  const salt = await mountSalt(storage);
  storage.putJson(accessorKey(salt, role, accessor), { secret_id_hmac: secretHmac });
  storage.putJson(key, entry);
  return { data: { secret_id: secretId, secret_id_accessor: accessor, secret_id_ttl: derived, secret_id_num_uses: numUses } };
}

async function secretIdList(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = roleName(req);
  const role = await loadRole(storage, name);
  if (!role) throw invalid(`role "${name}" does not exist`);
  const dir = secretDir(role);
  let hmacs = (await storage.list(dir)).filter((k) => k !== '' && !k.endsWith('/'));
  const after = (req.fields['after'] as string | undefined) ?? '';
  const limit = (req.fields['limit'] as number | undefined) ?? 0;
  if (after !== '') hmacs = hmacs.filter((k) => k > after);
  if (limit > 0) hmacs = hmacs.slice(0, limit);
  const keys: string[] = [];
  for (const h of hmacs) {
    const entry = await storage.getJson<SecretIdEntry>(`${dir}${h}`);
    if (!entry) throw new CofferError('COFFER_ERR_INTERNAL', 'storage entry for SecretID is present but no content found at the index');
    keys.push(entry.secret_id_accessor);
  }
  return { data: { keys } };
}

function expired(entry: SecretIdEntry, nowMs: number): boolean {
  return entry.expiration_time_ms > 0 && entry.expiration_time_ms <= nowMs;
}

/** secretIDStorageEntry.ToResponseData. */
function secretIdData(entry: SecretIdEntry): Record<string, unknown> {
  return {
    secret_id_accessor: entry.secret_id_accessor,
    secret_id_num_uses: entry.secret_id_num_uses,
    secret_id_ttl: entry.secret_id_ttl,
    creation_time: goTime(entry.creation_time_ms),
    expiration_time: entry.expiration_time_ms > 0 ? goTime(entry.expiration_time_ms) : GO_ZERO_TIME,
    last_updated_time: goTime(entry.last_updated_time_ms),
    metadata: { ...entry.metadata },
    cidr_list: [...entry.cidr_list],
    token_bound_cidrs: [...entry.token_bound_cidrs],
  };
}

/** The role and the secret ID's entry, by secret ID (null entry: unknown or expired, as after Vault's tidy). */
async function bySecretId(req: HandlerRequest, storage: StorageView): Promise<{ role: RoleEntry; key: string; entry: SecretIdEntry | null }> {
  const name = roleName(req);
  const secretId = (req.fields['secret_id'] as string | undefined) ?? '';
  if (secretId === '') throw invalid('missing secret_id');
  const role = await requireRole(storage, name);
  const key = secretKey(role, hmac(role.hmac_key, secretId));
  const entry = (await storage.getJson<SecretIdEntry>(key)) ?? null;
  return { role, key, entry: entry && !expired(entry, req.nowMs) ? entry : null };
}

async function secretIdLookup(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const { role, entry } = await bySecretId(req, storage);
  if (!entry) return null;
  const salt = await mountSalt(storage);
  if ((await storage.get(accessorKey(salt, role, entry.secret_id_accessor))) === undefined) throw invalid('invalid secret id');
  return { data: secretIdData(entry) };
}

async function secretIdDestroy(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = roleName(req);
  const secretId = (req.fields['secret_id'] as string | undefined) ?? '';
  if (secretId === '') throw invalid('missing secret_id');
  const role = await requireRole(storage, name);
  const key = secretKey(role, hmac(role.hmac_key, secretId));
  const entry = await storage.getJson<SecretIdEntry>(key);
  if (!entry) return null;
  const salt = await mountSalt(storage);
  storage.delete(accessorKey(salt, role, entry.secret_id_accessor));
  storage.delete(key);
  return null;
}

async function byAccessor(req: HandlerRequest, storage: StorageView): Promise<{ role: RoleEntry; accessor: string; accessorEntry: { secret_id_hmac: string } | null }> {
  const name = roleName(req);
  const accessor = (req.fields['secret_id_accessor'] as string | undefined) ?? '';
  if (accessor === '') throw invalid('missing secret_id_accessor');
  const role = await requireRole(storage, name);
  const salt = await mountSalt(storage);
  const accessorEntry = (await storage.getJson<{ secret_id_hmac: string }>(accessorKey(salt, role, accessor))) ?? null;
  return { role, accessor, accessorEntry };
}

async function accessorLookup(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const { role, accessor, accessorEntry } = await byAccessor(req, storage);
  if (!accessorEntry) throw new CofferError('COFFER_ERR_NOT_FOUND', `failed to find accessor entry for secret_id_accessor: "${accessor}"`);
  const entry = await storage.getJson<SecretIdEntry>(secretKey(role, accessorEntry.secret_id_hmac));
  if (!entry || expired(entry, req.nowMs)) return null;
  return { data: secretIdData(entry) };
}

async function accessorDestroy(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const { role, accessor, accessorEntry } = await byAccessor(req, storage);
  if (!accessorEntry) throw invalid(`failed to find accessor entry for secret_id_accessor: "${accessor}"`);
  const key = secretKey(role, accessorEntry.secret_id_hmac);
  if ((await storage.get(key)) === undefined) throw invalid('invalid secret id accessor');
  const salt = await mountSalt(storage);
  storage.delete(accessorKey(salt, role, accessor));
  storage.delete(key);
  return null;
}

/** tidy/secret-id: deletes expired secret IDs and accessor entries that point nowhere (Vault runs this every minute). */
async function tidy(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const salt = await mountSalt(storage);
  let ops = 0;
  const budget = storageLimits.writeSetOpsMax - 16;
  const live = new Set<string>();
  for (const prefix of [SECRET_ID_PREFIX, SECRET_ID_LOCAL_PREFIX]) {
    for (const dir of await storage.list(prefix)) {
      if (!dir.endsWith('/')) continue;
      for (const h of await storage.list(`${prefix}${dir}`)) {
        const key = `${prefix}${dir}${h}`;
        const entry = await storage.getJson<SecretIdEntry>(key);
        if (!entry) continue;
        const accPrefix = prefix === SECRET_ID_LOCAL_PREFIX ? ACCESSOR_LOCAL_PREFIX : ACCESSOR_PREFIX;
        const accKey = `${accPrefix}${saltedId(salt, entry.secret_id_accessor).slice(1)}`;
        if (expired(entry, req.nowMs) && ops + 2 <= budget) {
          storage.delete(key);
          storage.delete(accKey);
          ops += 2;
        } else {
          live.add(accKey);
        }
      }
    }
  }
  // Dangling accessor entries: no live secret ID carries them any more (list() reflects the deletes above).
  for (const accPrefix of [ACCESSOR_PREFIX, ACCESSOR_LOCAL_PREFIX]) {
    for (const k of await storage.list(accPrefix)) {
      const key = `${accPrefix}${k}`;
      if (live.has(key) || k.endsWith('/') || ops >= budget) continue;
      storage.delete(key);
      ops++;
    }
  }
  return { data: null, warnings: ['Tidy operation successfully started. Any information from the operation will be printed to OpenBao\'s server logs.'], statusCode: 202 };
}

// ---- login ----------------------------------------------------------------------------------------

const BAD_CREDS = 'invalid role or secret ID';

async function login(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const roleId = ((req.fields['role_id'] as string | undefined) ?? '').trim();
  if (roleId === '') throw invalid('missing role_id');
  const salt = await mountSalt(storage);
  const index = await storage.getJson<{ name: string }>(roleIdKey(salt, roleId));
  if (!index) throw invalid(BAD_CREDS);
  const role = await loadRole(storage, index.name);
  // The index is keyed by a hash of the role_id; the role must still carry this very role_id.
  if (!role || !safeEqual(role.role_id, roleId)) throw invalid(BAD_CREDS);

  let metadata: Record<string, string> = {};
  let entry: SecretIdEntry | null = null;
  if (role.bind_secret_id) {
    const secretId = ((req.fields['secret_id'] as string | undefined) ?? '').trim();
    if (secretId === '') throw invalid('missing secret_id');
    const key = secretKey(role, hmac(role.hmac_key, secretId));
    entry = (await storage.getJson<SecretIdEntry>(key)) ?? null;
    // Unknown, expired (Vault's tidy would have removed it) or orphaned by a missing accessor entry.
    if (!entry || expired(entry, req.nowMs)) throw invalid(BAD_CREDS);
    const accKey = accessorKey(salt, role, entry.secret_id_accessor);
    if ((await storage.get(accKey)) === undefined) throw invalid(BAD_CREDS);

    if (entry.secret_id_num_uses > 0) {
      // Spent in this write-set, together with the token: a failed commit spends nothing.
      if (entry.secret_id_num_uses === 1) {
        storage.delete(accKey);
        storage.delete(key);
      } else {
        storage.putJson(key, { ...entry, secret_id_num_uses: entry.secret_id_num_uses - 1, last_updated_time_ms: req.nowMs } satisfies SecretIdEntry);
      }
    }
    const subset = cidrSubsetError(entry.cidr_list, role.secret_id_bound_cidrs);
    if (subset) throw invalid(subset);
    if (entry.cidr_list.length > 0) {
      if (!req.clientAddr) throw invalid('failed to get connection information');
      if (!addressInCidrs(req.clientAddr, entry.cidr_list)) {
        throw invalid(entry.secret_id_num_uses === 0
          ? `source address "${req.clientAddr}" unauthorized through CIDR restrictions on the secret ID`
          : `source address "${req.clientAddr}" unauthorized by CIDR restrictions on the secret ID`);
      }
    }
    metadata = { ...entry.metadata };
  }
  if (role.secret_id_bound_cidrs.length > 0) {
    if (!req.clientAddr) throw invalid('failed to get connection information');
    if (!addressInCidrs(req.clientAddr, role.secret_id_bound_cidrs)) throw invalid(`source address "${req.clientAddr}" unauthorized by CIDR restrictions on the role`);
  }
  const tokenCidrs = entry && entry.token_bound_cidrs.length > 0 ? entry.token_bound_cidrs : role.token_bound_cidrs;
  metadata['role_name'] = role.name;

  if (!req.issueToken) throw new CofferError('COFFER_ERR_INTERNAL', 'login tokens can only be issued on an auth mount');
  const issued = await req.issueToken(loginSpec(role, metadata, '', req.clientAddr, tokenCidrs));
  return { data: null, auth: issued.auth, ...(issued.warnings.length > 0 ? { warnings: issued.warnings } : {}) };
}

// ---- paths ----------------------------------------------------------------------------------------

const ROLE_NAME_FIELD: FieldSchema = { type: 'string', description: `Name of the role. Must be less than ${MAX_HMAC_INPUT} bytes.` };
const fs = (type: FieldSchema['type'], description: string): FieldSchema => ({ type, description });
const help = (synopsis: string, description = '') => ({ synopsis, description });
const listFields = { after: fs('string', 'Optional entry to list begin listing after, not required to exist.'), limit: fs('int', 'Optional number of entries to return; defaults to all entries.') };
const secretIdFields = {
  role_name: ROLE_NAME_FIELD,
  metadata: fs('string', 'Metadata to be tied to the SecretID. This should be a JSON formatted string containing the metadata in key value pairs.'),
  cidr_list: fs('comma-string-slice', 'Comma separated string or list of CIDR blocks enforcing secret IDs to be used from specific set of IP addresses.'),
  token_bound_cidrs: fs('comma-string-slice', 'Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP addresses which can use the returned token.'),
  num_uses: fs('int', 'Number of times this SecretID can be used, after which the SecretID expires.'),
  ttl: fs('duration', 'Duration in seconds after which this SecretID expires.'),
};

function paths(): PathSpec[] {
  return [
    { pattern: 'role/', fields: listFields, operations: { list: roleList }, help: help('Lists all the roles registered with the backend.') },
    {
      pattern: 'role/:role_name',
      fields: {
        role_name: ROLE_NAME_FIELD,
        bind_secret_id: fs('bool', "Impose secret_id to be presented when logging in using this role. Defaults to 'true'."),
        bound_cidr_list: fs('comma-string-slice', 'Use "secret_id_bound_cidrs" instead.'),
        secret_id_bound_cidrs: fs('comma-string-slice', 'Comma separated string or list of CIDR blocks. If set, specifies the blocks of IP addresses which can perform the login operation.'),
        policies: fs('comma-string-slice', 'Use "token_policies" instead. If this and "token_policies" are both specified, only "token_policies" will be used.'),
        secret_id_num_uses: fs('int', 'Number of times a SecretID can access the role, after which the SecretID will expire. Defaults to 0 meaning that the the secret_id is of unlimited use.'),
        secret_id_ttl: fs('duration', 'Duration in seconds after which the issued SecretID should expire. Defaults to 0, meaning no expiration.'),
        period: fs('duration', 'Use "token_period" instead. If this and "token_period" are both specified, only "token_period" will be used.'),
        role_id: fs('string', 'Identifier of the role. Defaults to a UUID.'),
        local_secret_ids: fs('bool', 'If set, the secret IDs generated using this role will be cluster local. This can only be set during role creation and once set, it can\'t be reset later.'),
        ...TOKEN_FIELDS,
      },
      existenceCheck: async (req, storage) => (await loadRole(storage, roleName(req))) !== null,
      operations: { create: roleWrite, update: roleWrite, read: roleRead, delete: roleDelete },
      help: help('Register an role with the backend.'),
    },
    ...roleFieldPaths(),
    { pattern: 'role/:role_name/local-secret-ids', fields: { role_name: ROLE_NAME_FIELD }, operations: { read: localSecretIdsRead }, help: help('Whether the secret IDs of this role are cluster local.') },
    {
      pattern: 'role/:role_name/role-id',
      fields: { role_name: ROLE_NAME_FIELD, role_id: fs('string', 'Identifier of the role. Defaults to a UUID.') },
      operations: { read: roleIdRead, update: roleIdUpdate },
      help: help('Returns the \'role_id\' of the role.'),
    },
    {
      pattern: 'role/:role_name/secret-id',
      fields: { ...secretIdFields, ...listFields },
      operations: { update: (req, storage) => issueSecretId(req, storage, randomUUID()) },
      help: help('Generate a SecretID against this role.'),
    },
    {
      // LIST appends "/" to the path.
      pattern: 'role/:role_name/secret-id/',
      fields: { role_name: ROLE_NAME_FIELD, ...listFields },
      operations: { list: secretIdList },
      help: help('List the accessors of the SecretIDs issued against this role.'),
    },
    {
      pattern: 'role/:role_name/custom-secret-id',
      fields: { ...secretIdFields, secret_id: fs('string', 'SecretID to be attached to the role.') },
      operations: { update: (req, storage) => issueSecretId(req, storage, (req.fields['secret_id'] as string | undefined) ?? '') },
      help: help('Assign a SecretID of choice against the role.'),
    },
    {
      pattern: 'role/:role_name/secret-id/lookup',
      fields: { role_name: ROLE_NAME_FIELD, secret_id: fs('string', 'SecretID attached to the role.') },
      operations: { update: secretIdLookup },
      help: help('Read the properties of an issued secret_id'),
    },
    {
      pattern: 'role/:role_name/secret-id/destroy',
      fields: { role_name: ROLE_NAME_FIELD, secret_id: fs('string', 'SecretID attached to the role.') },
      operations: { update: secretIdDestroy, delete: secretIdDestroy },
      help: help('Invalidate an issued secret_id'),
    },
    {
      pattern: 'role/:role_name/secret-id-accessor/lookup',
      fields: { role_name: ROLE_NAME_FIELD, secret_id_accessor: fs('string', 'Accessor of the SecretID') },
      operations: { update: accessorLookup },
      help: help('Read an issued secret_id, using its accessor'),
    },
    {
      pattern: 'role/:role_name/secret-id-accessor/destroy',
      fields: { role_name: ROLE_NAME_FIELD, secret_id_accessor: fs('string', 'Accessor of the SecretID') },
      operations: { update: accessorDestroy, delete: accessorDestroy },
      help: help('Delete an issued secret_id, using its accessor'),
    },
    { pattern: 'tidy/secret-id', operations: { update: tidy }, alwaysWrites: ['update'], help: help('Trigger the clean-up of expired SecretID entries.') },
    {
      pattern: 'login',
      fields: {
        role_id: fs('string', "Unique identifier of the Role. Required to be supplied when the 'bind_secret_id' constraint is set."),
        secret_id: fs('string', 'SecretID belong to the App role'),
      },
      operations: { update: login },
      unauthenticated: true,
      alwaysWrites: ['update'],
      help: help('Issue a token based on the credentials supplied'),
    },
  ];
}

const HELP =
  "Any registered Role can authenticate itself with OpenBao. The credentials depends on the constraints that are set on the Role. One common required credential is the 'role_id' which is a unique identifier of the Role. It can be retrieved from the 'role/<appname>/role-id' endpoint. The default constraint configuration is 'bind_secret_id', which requires the credential 'secret_id' to be presented during login.";

/** Vault's approle pathLoginRenew: no renewal once the role is gone. */
async function renewLogin(login: { meta: Record<string, string> }, storage: StorageView): Promise<void> {
  const name = login.meta['role_name'] ?? '';
  if ((await loadRole(storage, name)) === null) throw invalid(`role "${name}" does not exist during renewal`);
}

export const approleBackend: BackendFactory = () => ({
  type: 'approle',
  help: HELP,
  paths: paths(),
  renewLogin,
  // Vault creates the mount's salt when the method is enabled.
  initialize: async (_mount, storage) => {
    await mountSalt(storage);
  },
});
