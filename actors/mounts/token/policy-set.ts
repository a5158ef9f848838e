// Vault's policyutil.SanitizePolicies, shared by the token store, its roles and every login.

/** Trim, lower-case, "root" alone wins, optional "default", dedupe, sort. */
export function sanitizePolicies(input: readonly string[], addDefault: boolean): string[] {
  let policies = input.map((p) => p.trim().toLowerCase());
  let defaultFound = false;
  for (const p of policies) {
    if (p === '') continue;
    if (p === 'root') {
      policies = ['root'];
      defaultFound = true;
      break;
    }
    if (p === 'default') defaultFound = true;
  }
  if (addDefault && (policies.length === 0 || !defaultFound)) policies.push('default');
  return [...new Set(policies.filter((p) => p !== ''))].sort();
}


/** Vault's policyutil.EquivalentPolicies: the same set, "default" aside (core may add it after the fact). */
export function equivalentPolicies(a: readonly string[], b: readonly string[]): boolean {
  const set = (l: readonly string[]) => [...new Set(sanitizePolicies(l, false).filter((p) => p !== 'default'))].sort().join('\n');
  return set(a) === set(b);
}
