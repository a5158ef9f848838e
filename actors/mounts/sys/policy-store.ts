// ACL policies in storage: sys/policy/<name> → barrier-encrypted JSON {name, raw, type}.
import type { StorageView } from '../framework/types.js';
import { Acl } from '../policy/acl.js';
import { DEFAULT_POLICY_HCL, DEFAULT_POLICY_NAME, NON_ASSIGNABLE_POLICIES, ROOT_POLICY_NAME } from '../policy/builtin.js';
import { normalizePolicyName, parsePolicy } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import { listRecursive } from './util.js';

export const POLICY_PREFIX = 'sys/policy/';
export const policyKey = (name: string) => `${POLICY_PREFIX}${name}`;

export interface StoredPolicy {
  name: string;
  /** The policy text as written (HCL or JSON), returned verbatim by reads. */
  raw: string;
  type: 'acl';
  /** [OB] DataVersion: 1 on the first write, +1 on each write; the `cas` parameter compares against it. */
  version?: number;
  /** [OB] once set, every write must carry `cas`. */
  cas_required?: boolean;
  /** [OB] RFC 3339 time of the last write. */
  modified?: string;
}

/**
 * Reads one policy by (normalised) name. `default` falls back to the built-in text when it was never
 * stored (the node stores it at init). `root` has no stored form: callers special-case it.
 */
export async function readPolicy(storage: StorageView, name: string): Promise<StoredPolicy | undefined> {
  const stored = await storage.getJson<StoredPolicy>(policyKey(name));
  if (stored) return stored;
  if (name === DEFAULT_POLICY_NAME) return { name, raw: DEFAULT_POLICY_HCL, type: 'acl' };
  return undefined;
}

/**
 * Names of the stored policies with `prefix` (recursive, sorted), without the non-assignable ones
 * (`response-wrapping`), with `default` included even when not stored. `root` is not added here.
 */
export async function listPolicyNames(storage: StorageView, prefix = ''): Promise<string[]> {
  const keys = (await listRecursive(storage, POLICY_PREFIX)).map((k) => k.slice(POLICY_PREFIX.length));
  const names = new Set(keys.filter((k) => k.startsWith(prefix) && !NON_ASSIGNABLE_POLICIES.includes(k)));
  if (DEFAULT_POLICY_NAME.startsWith(prefix)) names.add(DEFAULT_POLICY_NAME);
  return [...names].sort();
}

/**
 * The parsed policies behind a token's policy names: missing ones are skipped (as Vault's policy store
 * does), `root` yields the root policy. Stored texts were validated on write; one that no longer parses
 * is skipped rather than failing the request.
 */
export async function loadPolicies(storage: StorageView, names: readonly string[], nowMs: number): Promise<Policy[]> {
  const out: Policy[] = [];
  for (const raw of new Set(names.map(normalizePolicyName))) {
    if (raw === ROOT_POLICY_NAME) {
      out.push({ name: ROOT_POLICY_NAME, rules: [], raw: '' });
      continue;
    }
    const stored = await readPolicy(storage, raw);
    if (!stored) continue;
    try {
      out.push(await parsePolicy(raw, stored.raw, { now: nowMs }));
    } catch {
      // unreadable stored policy: grants nothing
    }
  }
  return out;
}

/** The compiled ACL of a set of policy names, read through `storage`. */
export async function aclOf(storage: StorageView, names: readonly string[], nowMs: number): Promise<{ acl: Acl; policies: Policy[] }> {
  const policies = await loadPolicies(storage, names, nowMs);
  return { acl: Acl.compile(policies, { now: nowMs }), policies };
}
