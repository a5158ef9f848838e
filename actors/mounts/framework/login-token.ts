// Login tokens: how an auth method's login creates a token in the token store within the SAME
// write-set as the login's own writes (Vault's handleLoginRequest → LoginCreateToken → RegisterAuth).
//
// An auth mount's storage view is rooted at auth/<uuid>/ and cannot reach sys/token/. So the request
// executor (execute.ts) gives auth-mount handlers `req.issueToken(spec)`: it writes the token entry
// and its accessor index through a second scoped view rooted at sys/token/, and the executor commits
// both views' operations and guards as ONE write-set. A login that spends a secret-id use therefore
// either commits with its token or not at all, and a conflict re-runs the whole handler.
//
// The entry and TTL logic is the token store's (token/entries.ts): Vault's CalculateTTL over the auth
// mount's default/max lease TTL, lowered by token_max_ttl and token_explicit_max_ttl; policies
// sanitized with "default" added unless token_no_default_policy; login tokens are orphans. The token's
// auth lease (actors/expiration/leases.ts) is registered in the same write-set too.
import { CofferError } from '../../../runtime/errors.js';
import { registerAuthLease } from '../../expiration/leases.js';
import { newAccessor, newServiceToken, saltedId, tokenIdKey, TOKEN_STORE_PREFIX, type TokenEntry } from '../../core/tokens.js';
import { sanitizePolicies } from '../token/policy-set.js';
import { accessorKey, authOf, calculateTtl, idKey, SYSTEM_LEASE_TTL_S, tokenSalt } from '../token/entries.js';
import { inNamespace, placeInNamespace } from '../namespaces/tokens.js';
import { ScopedStorage, type PhysicalReader, type ValueCrypto } from './storage-view.js';
import type { IssuedToken, LoginTokenSpec, MountInfo } from './types.js';

/** Policies a token can never carry (Vault's NonAssignablePolicies). */
const NON_ASSIGNABLE_POLICIES = ['response-wrapping'];

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

/** The smallest positive value, or 0 when none is positive. */
function minPositive(...values: number[]): number {
  const pos = values.filter((v) => v > 0);
  return pos.length === 0 ? 0 : Math.min(...pos);
}

/** Vault: source = mount point without "auth/", "/" → "-", prefixed to the backend's display name, trailing "-" trimmed. */
export function loginDisplayName(mountPath: string, displayName: string): string {
  const source = (mountPath.startsWith('auth/') ? mountPath.slice('auth/'.length) : mountPath).replaceAll('/', '-');
  const full = source + displayName;
  return full.endsWith('-') ? full.slice(0, -1) : full;
}

/**
 * One request's token issuer: a view rooted at sys/token/ whose writes the executor merges into the
 * handler's write-set. At most one token per request.
 */
export class LoginTokenIssuer {
  readonly storage: ScopedStorage;
  private issued = false;

  constructor(
    physical: PhysicalReader,
    crypto: ValueCrypto,
    private readonly mount: MountInfo,
    /** The request path relative to the mount, e.g. "login/alice". */
    private readonly path: string,
    private readonly nowMs: number,
  ) {
    this.storage = new ScopedStorage(TOKEN_STORE_PREFIX, physical, crypto);
  }

  readonly issue = async (spec: LoginTokenSpec): Promise<IssuedToken> => {
    if (this.issued) throw new CofferError('COFFER_ERR_INTERNAL', 'a login may issue only one token');
    this.issued = true;
    const tokenType = spec.tokenType ?? '';
    if (tokenType === 'batch' || tokenType === 'default-batch') throw invalid('batch tokens are not supported');
    if (!['', 'default', 'service', 'default-service'].includes(tokenType)) throw invalid(`invalid 'token_type' value "${tokenType}"`);
    if (spec.numUses < 0) throw invalid("'token_num_uses' cannot be negative");

    const policies = sanitizePolicies(spec.policies, !spec.noDefaultPolicy);
    for (const p of policies) {
      if (p === 'root') throw invalid('auth methods cannot create root tokens');
      if (NON_ASSIGNABLE_POLICIES.includes(p)) throw invalid(`cannot assign policy "${p}"`);
    }

    // Vault's CalculateTTL(sysView of the auth mount, 0, auth.TTL, auth.Period, auth.MaxTTL, auth.ExplicitMaxTTL).
    const mountMax = this.mount.maxLeaseTtlS > 0 ? this.mount.maxLeaseTtlS : SYSTEM_LEASE_TTL_S;
    const r = calculateTtl({
      mountDefaultS: this.mount.defaultLeaseTtlS,
      mountMaxS: mountMax,
      incrementS: 0,
      backendTtlS: spec.ttlS,
      periodS: spec.periodS,
      // At creation, lowering the cap by token_max_ttl gives Vault's result for periodic tokens too.
      explicitMaxS: minPositive(spec.maxTtlS, spec.explicitMaxTtlS),
      startMs: this.nowMs,
      nowMs: this.nowMs,
    });
    if (r.ttlS <= 0) throw new CofferError('COFFER_ERR_INTERNAL', 'refusing to create a non-root zero TTL token');

    // The token store renews with auth/token's TTLs, not this mount's (Vault asks the auth method,
    // AuthRenew). So a non-periodic login token carries its real ceiling (auth mount max,
    // token_max_ttl, token_explicit_max_ttl) as its explicit max whenever that ceiling is below the
    // system max, and renewals can never extend it past what this auth method allows.
    const ceiling = spec.periodS > 0 ? spec.explicitMaxTtlS : minPositive(mountMax, spec.maxTtlS, spec.explicitMaxTtlS);
    const explicitMax = spec.periodS > 0 || spec.explicitMaxTtlS > 0 || ceiling < SYSTEM_LEASE_TTL_S ? ceiling : 0;

    const salt = await tokenSalt(this.storage);
    const token = inNamespace(newServiceToken(), this.mount.namespace);
    const accessor = inNamespace(newAccessor(), this.mount.namespace);
    const entry: TokenEntry = {
      accessor,
      policies,
      path: `${this.mount.namespace?.path ?? ''}${this.mount.path}${this.path}`,
      display_name: loginDisplayName(this.mount.path, spec.displayName),
      creation_time_ms: this.nowMs,
      ttl_s: r.ttlS,
      num_uses: spec.numUses,
      orphan: true,
      meta: spec.metadata,
      parent: null,
      explicit_max_ttl_s: explicitMax,
      period_s: spec.periodS,
      renewable: true,
      type: 'service',
      entity_id: '',
      issue_time_ms: this.nowMs,
      expire_time_ms: r.expireMs,
      lease_ttl_s: r.ttlS,
    };
    if (spec.boundCidrs.length > 0) entry.bound_cidrs = [...spec.boundCidrs];
    placeInNamespace(entry, this.mount.namespace);
    const salted = saltedId(salt, token);
    this.storage.putJson(idKey(salted), entry);
    this.storage.put(accessorKey(saltedId(salt, accessor)), Buffer.from(tokenIdKey(salt, token)));
    // The token's auth lease (Vault's expiration.RegisterAuth), in the same write-set, as auth/token/create does.
    registerAuthLease(this.storage.rebase(''), salted, entry, this.nowMs);
    return { auth: authOf(entry, token, r.ttlS, true), warnings: r.warnings };
  };

  get hasWrites(): boolean {
    return this.storage.hasWrites;
  }
}

/** Only auth methods (not the token store itself, nor secrets engines) may issue login tokens. */
export function mayIssueTokens(mount: MountInfo): boolean {
  return mount.path.startsWith('auth/') && mount.type !== 'token' && mount.type !== 'ns_token';
}
