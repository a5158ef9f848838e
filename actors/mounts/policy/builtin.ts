// Built-in policies. Texts follow OpenBao's policy_store.go (facts; the comments and stanzas are what a
// Vault/OpenBao operator expects to read back from `GET sys/policies/acl/default`).

/** The `default` policy, attached to every token unless `no_default_policy` is set. Deletable: no. Editable: yes. */
export const DEFAULT_POLICY_HCL = `
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own entity by id or name
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}


# Allow a token to look up its resultant ACL from all policies. This is useful
# for UIs. It is an internal path because the format may change at any time
# based on how the internal ACL features and capabilities change.
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token. This is a convenience to
# avoid client token swapping since this is also part of the response wrapping
# policy.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}

# Allow a token to request control group authorization (Vault; harmless where unused)
path "sys/control-group/request" {
    capabilities = ["update"]
}
`;

/** The fixed `response-wrapping` policy given to wrapping tokens. Immutable. */
export const RESPONSE_WRAPPING_POLICY_HCL = `
path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
`;

export const ROOT_POLICY_NAME = 'root';
export const DEFAULT_POLICY_NAME = 'default';
export const RESPONSE_WRAPPING_POLICY_NAME = 'response-wrapping';

/** Policies that can be neither written nor deleted. */
export const IMMUTABLE_POLICIES: readonly string[] = [ROOT_POLICY_NAME, RESPONSE_WRAPPING_POLICY_NAME];
/** Policies a token may not be created with. */
export const NON_ASSIGNABLE_POLICIES: readonly string[] = [RESPONSE_WRAPPING_POLICY_NAME];

/**
 * Root-protected paths (need `sudo`), relative to the `sys/` mount, as OpenBao's system backend declares them (PathsSpecial.Root).
 * A trailing `*` is a prefix match.
 */
export const SYS_ROOT_PATHS: readonly string[] = [
  'auth/*',
  'remount',
  'audit',
  'audit/*',
  'raw',
  'raw/*',
  'rotate',
  'rotate/keyring',
  'rotate/root',
  'config/cors',
  'config/auditing/*',
  'config/ui/headers/*',
  'plugins/catalog/*',
  'revoke-prefix/*',
  'revoke-force/*',
  'leases/revoke-prefix/*',
  'leases/revoke-force/*',
  'leases/lookup/*',
  'leases',
  'internal/inspect/*',
];

/** True when `path` (full request path, e.g. `sys/audit/file`) is root-protected and so needs `sudo`. */
export function isSysRootPath(path: string): boolean {
  const p = path.replace(/^\/+/, '');
  if (!p.startsWith('sys/')) return false;
  const rel = p.slice(4);
  for (const pat of SYS_ROOT_PATHS) {
    if (pat.endsWith('*') ? rel.startsWith(pat.slice(0, -1)) : rel === pat) return true;
  }
  return false;
}
