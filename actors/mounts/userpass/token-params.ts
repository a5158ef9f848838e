// Vault's sdk/helper/tokenutil for Coffer's auth methods (userpass, approle): the token_* fields a
// user or role carries, their parsing (with Vault's messages), their read-out, the upgrade of legacy
// fields (policies → token_policies, ttl → token_ttl, ...), and the LoginTokenSpec a login hands the
// framework. Shared by actors/mounts/userpass and actors/mounts/approle.
import { CofferError } from '../../../runtime/errors.js';
import { validCidrList } from '../framework/cidr.js';
import type { FieldSchema, FieldValues, LoginTokenSpec } from '../framework/types.js';

export interface TokenParams {
  token_bound_cidrs: string[];
  token_explicit_max_ttl: number;
  token_max_ttl: number;
  token_no_default_policy: boolean;
  token_num_uses: number;
  token_period: number;
  token_policies: string[];
  /** "default" (unset), "service", "batch", "default-service", "default-batch" */
  token_type: string;
  token_ttl: number;
  token_strictly_bind_ip: boolean;
}

export function emptyTokenParams(): TokenParams {
  return {
    token_bound_cidrs: [],
    token_explicit_max_ttl: 0,
    token_max_ttl: 0,
    token_no_default_policy: false,
    token_num_uses: 0,
    token_period: 0,
    token_policies: [],
    token_type: 'default',
    token_ttl: 0,
    token_strictly_bind_ip: false,
  };
}

const d = (description: string, type: FieldSchema['type']): FieldSchema => ({ type, description });

/** tokenutil.TokenFields(); no defaults here, so "was it given" is `name in fields`. */
export const TOKEN_FIELDS: Record<string, FieldSchema> = {
  token_bound_cidrs: d('Comma separated string or JSON list of CIDR blocks. If set, specifies the blocks of IP addresses which are allowed to use the generated token.', 'comma-string-slice'),
  token_explicit_max_ttl: d('If set, tokens created via this role carry an explicit maximum TTL.', 'duration'),
  token_max_ttl: d('The maximum lifetime of the generated token', 'duration'),
  token_no_default_policy: d("If true, the 'default' policy will not automatically be added to generated tokens", 'bool'),
  token_period: d('If set, tokens created via this role will have no max lifetime; instead, their renewal period will be fixed to this value.', 'duration'),
  token_policies: d('Comma-separated list of policies', 'comma-string-slice'),
  token_type: d('The type of token to generate, service or batch', 'string'),
  token_ttl: d('The initial ttl of the token to generate', 'duration'),
  token_num_uses: d('The maximum number of times a token may be used, a value of zero means unlimited', 'int'),
  token_strictly_bind_ip: d('If true, CIDRs for the token will be strictly bound to the source IP address of the login request', 'bool'),
};

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

/** Trimmed, non-empty; each an address or CIDR block (parseutil.ParseAddrs). */
export function parseCidrField(list: string[], name = 'token_bound_cidrs'): string[] {
  const out = list.map((c) => c.trim()).filter((c) => c !== '');
  for (const c of out) if (!validCidrList([c])) throw invalid(`error parsing ${name}: invalid address or CIDR block "${c}"`);
  return out;
}

/** tokenutil.ParseTokenFields: applies the given token_* fields onto `t` (messages as Vault's). */
export function parseTokenFields(t: TokenParams, f: FieldValues): void {
  if ('token_bound_cidrs' in f) t.token_bound_cidrs = parseCidrField(f['token_bound_cidrs'] as string[]);
  if ('token_explicit_max_ttl' in f) t.token_explicit_max_ttl = f['token_explicit_max_ttl'] as number;
  if ('token_max_ttl' in f) t.token_max_ttl = f['token_max_ttl'] as number;
  if (t.token_max_ttl < 0) throw invalid("'token_max_ttl' cannot be negative");
  if ('token_no_default_policy' in f) t.token_no_default_policy = f['token_no_default_policy'] as boolean;
  if ('token_period' in f) t.token_period = f['token_period'] as number;
  if (t.token_period < 0) throw invalid("'token_period' cannot be negative");
  if ('token_policies' in f) t.token_policies = f['token_policies'] as string[];
  if ('token_type' in f) {
    const v = f['token_type'] as string;
    switch (v) {
      case '':
      case 'default':
        t.token_type = 'default';
        break;
      case 'service':
      case 'batch':
        t.token_type = v;
        break;
      default:
        throw invalid(`invalid 'token_type' value "${v}"`);
    }
  }
  if ('token_num_uses' in f) t.token_num_uses = f['token_num_uses'] as number;
  if (t.token_num_uses < 0) throw invalid("'token_num_uses' cannot be negative");
  if (t.token_type === 'batch') {
    // Coffer issues service tokens only (API.md §4.5); refused at configuration time rather than at login.
    throw invalid('batch tokens are not supported');
  }
  if ('token_ttl' in f) t.token_ttl = f['token_ttl'] as number;
  if (t.token_ttl < 0) throw invalid("'token_ttl' cannot be negative");
  if (t.token_ttl > 0 && t.token_max_ttl > 0 && t.token_ttl > t.token_max_ttl) throw invalid("'token_ttl' cannot be greater than 'token_max_ttl'");
  if ('token_strictly_bind_ip' in f) t.token_strictly_bind_ip = f['token_strictly_bind_ip'] as boolean;
  if (t.token_strictly_bind_ip && t.token_bound_cidrs.length > 0) throw invalid("'token_strictly_bind_ip' conflicts with 'token_bound_cidrs'; set only one");
}

/** tokenutil.PopulateTokenData: the token_* keys of a read. */
export function tokenData(t: TokenParams): Record<string, unknown> {
  return {
    token_bound_cidrs: [...t.token_bound_cidrs],
    token_explicit_max_ttl: t.token_explicit_max_ttl,
    token_max_ttl: t.token_max_ttl,
    token_no_default_policy: t.token_no_default_policy,
    token_period: t.token_period,
    token_policies: [...t.token_policies],
    token_type: t.token_type,
    token_ttl: t.token_ttl,
    token_num_uses: t.token_num_uses,
    token_strictly_bind_ip: t.token_strictly_bind_ip,
  };
}

/** policyutil.ParsePolicies: trimmed, lower-cased, empty dropped, "root" alone wins, deduped, sorted. */
export function parsePolicies(list: string[]): string[] {
  const p = list.map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
  if (p.includes('root')) return ['root'];
  return [...new Set(p)].sort();
}

/**
 * tokenutil.UpgradeValue: `newKey` given → it wins, and the legacy value mirrors it only if `oldKey`
 * was given too (else it is cleared); only `oldKey` given → both take it.
 */
export function upgradeValue<T>(f: FieldValues, oldKey: string, newKey: string, get: { old: T; cur: T; empty: T }, convert: (v: unknown) => T = (v) => v as T): { old: T; cur: T } {
  if (!(newKey in f)) {
    if (oldKey in f) {
      const v = convert(f[oldKey]);
      return { old: v, cur: v };
    }
    return { old: get.old, cur: get.cur };
  }
  return { old: oldKey in f ? get.cur : get.empty, cur: get.cur };
}

/**
 * The LoginTokenSpec for these params (tokenutil.PopulateTokenAuth). token_strictly_bind_ip binds the
 * token to the login's source address; without one the login is refused.
 */
export function loginSpec(t: TokenParams, metadata: Record<string, string>, displayName: string, clientAddr: string | undefined, boundCidrs = t.token_bound_cidrs): LoginTokenSpec {
  let cidrs = boundCidrs;
  if (t.token_strictly_bind_ip) {
    if (!clientAddr) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    cidrs = [clientAddr];
  }
  return {
    policies: t.token_policies,
    noDefaultPolicy: t.token_no_default_policy,
    metadata,
    displayName,
    ttlS: t.token_ttl,
    maxTtlS: t.token_max_ttl,
    explicitMaxTtlS: t.token_explicit_max_ttl,
    periodS: t.token_period,
    numUses: t.token_num_uses,
    boundCidrs: cidrs,
    tokenType: t.token_type,
  };
}
