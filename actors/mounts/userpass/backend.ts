// The userpass auth method, following OpenBao's builtin/credential/userpass (facts only, own code):
// users/ (LIST), users/<u> (create/update/read/delete), users/<u>/password, users/<u>/policies and the
// unauthenticated login/<u>. Usernames are lower-cased. Passwords are stored only as scrypt hashes
// computed on the CPU pool (password.ts); a login creates its token in the same write-set
// (req.issueToken, framework/login-token.ts). Storage (view rooted at auth/<uuid>/): user/<username>.
import { CofferError } from '../../../runtime/errors.js';
import { addressInCidrs } from '../framework/cidr.js';
import type { BackendFactory, FieldSchema, FieldValues, HandlerRequest, HandlerResult, PathSpec, StorageView } from '../framework/types.js';
import { equivalentPolicies } from '../token/policy-set.js';
import { hashPassword, verifyPassword } from './password.js';
import { emptyTokenParams, loginSpec, parseCidrField, parsePolicies, parseTokenFields, tokenData, TOKEN_FIELDS, upgradeValue, type TokenParams } from './token-params.js';

export interface UserEntry extends TokenParams {
  /** scrypt, encoded by hash-task.ts; never returned. */
  password_hash: string;
  // Legacy fields (Vault keeps them for reads when they were set through the deprecated names).
  policies: string[];
  ttl: number;
  max_ttl: number;
  bound_cidrs: string[];
}

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

/** Vault's framework.GenericNameRegex: word characters, and "-", ".", "@" inside. */
const NAME_RE = /^\w(?:[\w\-.@]*\w)?$/;

function username(req: HandlerRequest): string {
  const name = req.params['username'] ?? '';
  if (!NAME_RE.test(name)) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', 'unsupported path');
  return name.toLowerCase();
}

const userKey = (name: string) => `user/${name}`;

/** Reads a user with the legacy → token_* upgrade applied (Vault's b.user). */
export async function loadUser(storage: StorageView, name: string): Promise<UserEntry | null> {
  const raw = await storage.getJson<Partial<UserEntry>>(userKey(name));
  if (!raw) return null;
  const u: UserEntry = { ...emptyTokenParams(), password_hash: '', policies: [], ttl: 0, max_ttl: 0, bound_cidrs: [], ...raw };
  if (u.token_ttl === 0 && u.ttl > 0) u.token_ttl = u.ttl;
  if (u.token_max_ttl === 0 && u.max_ttl > 0) u.token_max_ttl = u.max_ttl;
  if (u.token_policies.length === 0 && u.policies.length > 0) u.token_policies = u.policies;
  if (u.token_bound_cidrs.length === 0 && u.bound_cidrs.length > 0) u.token_bound_cidrs = u.bound_cidrs;
  return u;
}

function passwordInput(f: FieldValues): { password: string; passwordHash: string } {
  return { password: (f['password'] as string | undefined) ?? '', passwordHash: (f['password_hash'] as string | undefined) ?? '' };
}

/** validatePasswordInput, then the hash (bcrypt pre-hashes are not accepted: Coffer stores scrypt). */
async function newPasswordHash(f: FieldValues): Promise<string> {
  const { password, passwordHash } = passwordInput(f);
  if (password !== '' && passwordHash !== '') throw invalid('only one of password or password_hash may be provided');
  if (password === '' && passwordHash === '') throw invalid('must provide either password or password_hash');
  if (passwordHash !== '') throw invalid('password_hash is not supported: Coffer hashes passwords with scrypt; provide password');
  return hashPassword(password);
}

// ---- users ----------------------------------------------------------------------------------------

async function userWrite(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const f = req.fields;
  const { password, passwordHash } = passwordInput(f);
  if (req.operation === 'create') {
    if (password !== '' && passwordHash !== '') throw invalid('only one of password or password_hash may be provided');
    if (password === '' && passwordHash === '') throw invalid('must provide either password or password_hash');
  }
  const name = username(req);
  const user: UserEntry = (await loadUser(storage, name)) ?? { ...emptyTokenParams(), password_hash: '', policies: [], ttl: 0, max_ttl: 0, bound_cidrs: [] };
  parseTokenFields(user, f);
  if (password !== '' || passwordHash !== '') user.password_hash = await newPasswordHash(f);

  const pol = upgradeValue(f, 'policies', 'token_policies', { old: user.policies, cur: user.token_policies, empty: [] as string[] }, (v) => parsePolicies(v as string[]));
  user.policies = pol.old;
  user.token_policies = pol.cur;
  const ttl = upgradeValue(f, 'ttl', 'token_ttl', { old: user.ttl, cur: user.token_ttl, empty: 0 });
  user.ttl = ttl.old;
  user.token_ttl = ttl.cur;
  const maxTtl = upgradeValue(f, 'max_ttl', 'token_max_ttl', { old: user.max_ttl, cur: user.token_max_ttl, empty: 0 });
  user.max_ttl = maxTtl.old;
  user.token_max_ttl = maxTtl.cur;
  const cidrs = upgradeValue(f, 'bound_cidrs', 'token_bound_cidrs', { old: user.bound_cidrs, cur: user.token_bound_cidrs, empty: [] as string[] }, (v) => parseCidrField(v as string[], 'bound_cidrs'));
  user.bound_cidrs = cidrs.old;
  user.token_bound_cidrs = cidrs.cur;

  storage.putJson(userKey(name), user);
  return null;
}

async function userRead(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const user = await loadUser(storage, username(req));
  if (!user) return null;
  const data = tokenData(user);
  if (user.ttl > 0) data['ttl'] = user.ttl;
  if (user.max_ttl > 0) data['max_ttl'] = user.max_ttl;
  if (user.policies.length > 0) data['policies'] = data['token_policies'];
  if (user.bound_cidrs.length > 0) data['bound_cidrs'] = [...user.bound_cidrs];
  return { data };
}

async function userDelete(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  storage.delete(userKey(username(req)));
  return null;
}

async function userList(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  let keys = await storage.list('user/');
  const after = (req.fields['after'] as string | undefined) ?? '';
  const limit = (req.fields['limit'] as number | undefined) ?? 0;
  if (after !== '') keys = keys.filter((k) => k > after);
  if (limit > 0) keys = keys.slice(0, limit);
  return { data: { keys } };
}

async function passwordUpdate(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = username(req);
  const user = await loadUser(storage, name);
  if (!user) throw invalid('username does not exist');
  user.password_hash = await newPasswordHash(req.fields);
  storage.putJson(userKey(name), user);
  return null;
}

async function policiesUpdate(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = username(req);
  const user = await loadUser(storage, name);
  if (!user) throw invalid('username does not exist');
  const f = req.fields;
  if (!('token_policies' in f)) {
    if ('policies' in f) {
      user.policies = parsePolicies(f['policies'] as string[]);
      user.token_policies = user.policies;
    }
  } else {
    user.token_policies = parsePolicies(f['token_policies'] as string[]);
    user.policies = 'policies' in f ? user.token_policies : [];
  }
  storage.putJson(userKey(name), user);
  return null;
}

// ---- login ----------------------------------------------------------------------------------------

const BAD_LOGIN = 'invalid username or password';

async function login(req: HandlerRequest, storage: StorageView): Promise<HandlerResult> {
  const name = username(req);
  const password = (req.fields['password'] as string | undefined) ?? '';
  if (password === '') throw invalid('missing password');
  const user = await loadUser(storage, name);
  if (user && user.password_hash === '') throw invalid(BAD_LOGIN);
  // The same scrypt work whether or not the user exists (dummy hash), then one generic message.
  const ok = await verifyPassword(password, user ? user.password_hash : null);
  if (!user || !ok) throw invalid(BAD_LOGIN);

  if (user.token_bound_cidrs.length > 0 && !addressInCidrs(req.clientAddr, user.token_bound_cidrs)) {
    throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
  }
  if (!req.issueToken) throw new CofferError('COFFER_ERR_INTERNAL', 'login tokens can only be issued on an auth mount');
  const issued = await req.issueToken(loginSpec(user, { username: name }, name, req.clientAddr));
  return { data: null, auth: issued.auth, ...(issued.warnings.length > 0 ? { warnings: issued.warnings } : {}) };
}

// ---- paths ----------------------------------------------------------------------------------------

const f = (type: FieldSchema['type'], description: string): FieldSchema => ({ type, description });
const usernameField = { username: f('string', 'Username for this user.') };
const passwordFields = {
  password: f('string', 'Password for this user.'),
  password_hash: f('string', 'Pre-hashed bcrypt password for this user (not supported by Coffer).'),
};
const help = (synopsis: string, description = '') => ({ synopsis, description });

const paths: PathSpec[] = [
  {
    pattern: 'users/',
    fields: { after: f('string', 'Optional entry to list begin listing after, not required to exist.'), limit: f('int', 'Optional number of entries to return; defaults to all entries.') },
    operations: { list: userList },
    help: help('Manage users allowed to authenticate.'),
  },
  {
    pattern: 'users/:username',
    fields: {
      ...usernameField,
      ...passwordFields,
      policies: f('comma-string-slice', 'Use "token_policies" instead. If this and "token_policies" are both specified, only "token_policies" will be used.'),
      ttl: f('duration', 'Use "token_ttl" instead. If this and "token_ttl" are both specified, only "token_ttl" will be used.'),
      max_ttl: f('duration', 'Use "token_max_ttl" instead. If this and "token_max_ttl" are both specified, only "token_max_ttl" will be used.'),
      bound_cidrs: f('comma-string-slice', 'Use "token_bound_cidrs" instead. If this and "token_bound_cidrs" are both specified, only "token_bound_cidrs" will be used.'),
      ...TOKEN_FIELDS,
    },
    existenceCheck: async (req, storage) => (await loadUser(storage, username(req))) !== null,
    operations: { create: userWrite, update: userWrite, read: userRead, delete: userDelete },
    help: help('Manage users allowed to authenticate.', 'Create, read, update, and delete users that are allowed to authenticate. Deleting a user does not revoke the tokens it obtained.'),
  },
  {
    pattern: 'users/:username/password',
    fields: { ...usernameField, ...passwordFields },
    operations: { update: passwordUpdate },
    help: help("Reset user's password."),
  },
  {
    pattern: 'users/:username/policies',
    fields: {
      ...usernameField,
      policies: f('comma-string-slice', 'Use "token_policies" instead. If this and "token_policies" are both specified, only "token_policies" will be used.'),
      token_policies: f('comma-string-slice', 'Comma-separated list of policies'),
    },
    operations: { update: policiesUpdate },
    help: help('Update the policies associated with the username.'),
  },
  {
    pattern: 'login/:username',
    fields: { ...usernameField, password: f('string', 'Password for this user.') },
    operations: { update: login },
    unauthenticated: true,
    alwaysWrites: ['update'],
    help: help('Log in with a username and password.', 'This endpoint authenticates using a username and password.'),
  },
];

const HELP =
  'The "userpass" credential provider allows authentication using a combination of a username and password. No additional factors are supported. The username/password combination is configured using the "users/" endpoints by a user with root access. Authentication is then done by supplying the two fields for "login".';

/** Vault's pathLoginRenew: no renewal once the user is gone or its policies changed since the login. */
async function renewLogin(login: { meta: Record<string, string>; policies: string[] }, storage: StorageView): Promise<void> {
  const name = login.meta['username'] ?? '';
  const user = await loadUser(storage, name.toLowerCase());
  if (!user) throw invalid(`user "${name}" no longer exists, not renewing`);
  if (!equivalentPolicies(user.token_policies, login.policies)) throw invalid('policies have changed, not renewing');
}

export const userpassBackend: BackendFactory = () => ({ type: 'userpass', help: HELP, paths, renewLogin });
