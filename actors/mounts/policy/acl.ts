// Compiled ACL: the matching engine. Semantics follow OpenBao's acl.go (facts, own code):
//
//  1. An exact pattern equal to the request path wins outright.
//     For list/scan, an exact pattern equal to the path minus its trailing `/` is tried next.
//  2. Otherwise every glob pattern that matches competes: the longest plain prefix glob (`foo/ba*`) and every
//     pattern containing `+` segments. The single highest-priority one applies (no union across patterns).
//     P1 has LOWER priority than P2 when, checked in order:
//       (a) P1's first `+` or `*` comes earlier;  (b) P1 ends in `*` and P2 does not;
//       (c) P1 has more `+` segments;             (d) P1 is shorter (without the `*`);
//       (e) P1 is lexicographically smaller.
//  3. For list/scan with a trailing `/` and still no match, step 2 is retried without the `/`.
//  4. The same pattern in several policies is one rule with the union of capabilities; deny in any of them wins.
//  5. A policy named `root` makes a root ACL: everything is allowed.

import { assert } from '../../../runtime/assert.js';
import type { Capability, Operation, PathRule, Policy, TemplateIdentity } from './types.js';

// Bit values match OpenBao's constant order (not observable; internal only).
const DENY = 1 << 0;
const CREATE = 1 << 1;
const READ = 1 << 2;
const UPDATE = 1 << 3;
const DELETE = 1 << 4;
const LIST = 1 << 5;
const SUDO = 1 << 6;
const PATCH = 1 << 7;
const SCAN = 1 << 8;

const CAP_BIT: Record<Exclude<Capability, 'root'>, number> = {
  deny: DENY, create: CREATE, read: READ, update: UPDATE, delete: DELETE, list: LIST, sudo: SUDO, patch: PATCH, scan: SCAN,
};
const OP_BIT: Record<Operation, number> = {
  create: CREATE, read: READ, update: UPDATE, patch: PATCH, delete: DELETE, list: LIST, scan: SCAN,
};
const REPORT_ORDER: Array<[number, Capability]> = [
  [SUDO, 'sudo'], [READ, 'read'], [LIST, 'list'], [UPDATE, 'update'], [DELETE, 'delete'], [CREATE, 'create'], [PATCH, 'patch'], [SCAN, 'scan'],
];

/** The merged permissions of one pattern (all policies that wrote it). */
export interface RulePermissions {
  /** The pattern as written in the policies (after template resolution and leading-`/` strip). */
  readonly pattern: string;
  capabilities: number;
  minWrappingTtl: number;
  maxWrappingTtl: number;
  allowedParameters: Map<string, unknown[]> | undefined;
  deniedParameters: Map<string, unknown[]> | undefined;
  requiredParameters: string[];
  paginationLimit: number;
  responseKeysFilterPath: string;
  /** capability → names of the policies granting it on this pattern. */
  grantingPolicies: Map<Capability, string[]>;
}

export interface CheckOptions {
  /** The path is root-protected: the `sudo` capability is required as well. */
  sudo?: boolean;
  /** Request data, for allowed/denied/required parameter checks (create/read/update/patch) and `limit` (list/scan). */
  data?: Record<string, unknown>;
  /** Requested response-wrapping TTL in seconds; absent = not wrapped (then min/max_wrapping_ttl rules deny, as in Vault). */
  wrapTtlSeconds?: number;
}

export interface AclResult {
  allowed: boolean;
  /** The token has sudo on this path (or is root). */
  rootPrivs: boolean;
  isRoot: boolean;
  /** The pattern that decided, when one matched. */
  matchedPattern?: string;
  /** Policies that granted the operation, when allowed and not root. */
  grantingPolicies: string[];
  /** [OB] page size cap to apply on list/scan (0 = none). */
  paginationLimit: number;
  responseKeysFilterPath: string;
}

interface SegmentRule {
  key: string;
  parts: string[];
  isPrefix: boolean;
  firstWildcard: number;
  wildcards: number;
  wcPath: string;
  perms: RulePermissions;
}

interface Candidate {
  firstWildcard: number;
  isPrefix: boolean;
  wildcards: number;
  wcPath: string;
  perms: RulePermissions;
}

/** Vault's definition: a pattern "has segment wildcards" iff it is `+`, contains `/+`, or starts with `+/`. */
export function hasSegmentWildcards(pattern: string): boolean {
  return pattern === '+' || pattern.includes('/+') || pattern.startsWith('+/');
}

/** a < b in priority (a loses to b). Exported for the docs and tests. */
export function lowerPriority(a: Candidate, b: Candidate): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix;
  if (a.wildcards !== b.wildcards) return a.wildcards > b.wildcards;
  if (a.wcPath.length !== b.wcPath.length) return a.wcPath.length < b.wcPath.length;
  return a.wcPath < b.wcPath;
}

export interface CompileOptions {
  /** Resolves `{{identity...}}` paths; without it templated rules are skipped. */
  identity?: TemplateIdentity;
  /** Clock (ms) for rule `expiration`. */
  now?: number;
}

export class Acl {
  readonly isRoot: boolean;
  /** Names of the policies compiled in, in input order. */
  readonly policyNames: readonly string[];
  private readonly exact = new Map<string, RulePermissions>();
  private readonly prefix = new Map<string, RulePermissions>();
  /** Prefix keys, longest first (ties: any order; equal keys are merged). */
  private prefixKeys: string[] = [];
  private readonly segment = new Map<string, SegmentRule>();
  private segmentList: SegmentRule[] = [];

  private constructor(isRoot: boolean, names: string[]) {
    this.isRoot = isRoot;
    this.policyNames = names;
  }

  static compile(policies: Policy[], opts: CompileOptions = {}): Acl {
    const names = policies.map((p) => p.name);
    const acl = new Acl(names.includes('root'), names);
    if (acl.isRoot) return acl;
    const now = opts.now ?? Date.now();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        if (rule.expiration !== undefined && now > Date.parse(rule.expiration)) continue;
        let pattern = rule.path;
        if (rule.templated) {
          const resolved = resolveTemplate(pattern, opts.identity);
          if (resolved === undefined) continue;
          pattern = resolved;
        }
        // No further `/` stripping here: parsePolicy strips exactly one, as OpenBao does; a pattern still starting
        // with `/` can never match (request paths are stripped of leading slashes) - a dead rule, as in OpenBao.
        acl.insert(policy.name, pattern, rule);
      }
    }
    acl.prefixKeys = [...acl.prefix.keys()].sort((a, b) => b.length - a.length);
    acl.segmentList = [...acl.segment.values()];
    return acl;
  }

  private insert(policyName: string, pattern: string, rule: PathRule): void {
    const seg = hasSegmentWildcards(pattern);
    let table: Map<string, RulePermissions> | undefined;
    let key = pattern;
    if (!seg) {
      if (pattern.endsWith('*')) {
        table = this.prefix;
        key = pattern.slice(0, -1);
      } else {
        table = this.exact;
      }
    }
    const existing = table ? table.get(key) : this.segment.get(key)?.perms;
    if (existing === undefined) {
      const perms = fromRule(pattern, rule, policyName);
      if (table) table.set(key, perms);
      else this.segment.set(key, segmentRule(key, perms));
      return;
    }
    mergeInto(existing, rule, policyName);
  }

  /** Capabilities on `path` as sys/capabilities reports them: sorted; ['deny'] if none; ['root'] for root. */
  capabilities(path: string): Capability[] {
    if (this.isRoot) return ['root'];
    // OpenBao evaluates with the list operation so that the trailing-slash fallbacks apply.
    const perms = this.lookup(stripLeadingSlashes(path), true);
    const bits = perms?.capabilities ?? 0;
    if (bits & DENY) return ['deny'];
    const out: Capability[] = [];
    for (const [bit, name] of REPORT_ORDER) if (bits & bit) out.push(name);
    if (out.length === 0) return ['deny'];
    return out.sort();
  }

  /**
   * Every rule's capabilities, as sys/internal/ui/resultant-acl reports them: exact patterns, and glob
   * patterns (a `*` prefix by its prefix, a `+` pattern as written). Empty for root (the caller says root).
   */
  rules(): { exact: Record<string, Capability[]>; glob: Record<string, Capability[]> } {
    const names = (bits: number): Capability[] => {
      if (bits & DENY) return ['deny'];
      const out: Capability[] = [];
      for (const [bit, name] of REPORT_ORDER) if (bits & bit) out.push(name);
      return out.sort();
    };
    const exact: Record<string, Capability[]> = {};
    const glob: Record<string, Capability[]> = {};
    for (const [k, p] of this.exact) exact[k] = names(p.capabilities);
    for (const [k, p] of this.prefix) glob[k] = names(p.capabilities);
    for (const [k, r] of this.segment) glob[k] = names(r.perms.capabilities);
    return { exact, glob };
  }

  /** Whether `op` on `path` is allowed. For list/scan a trailing `/` is added when missing (as Vault's HTTP layer does). */
  allows(path: string, op: Operation, opts: CheckOptions = {}): boolean {
    return this.check(path, op, opts).allowed;
  }

  /** The matched rule for `path` (list/scan fallbacks applied when `op` is list/scan), or undefined. */
  matchingRule(path: string, op: Operation = 'read'): RulePermissions | undefined {
    if (this.isRoot) return undefined;
    const isList = op === 'list' || op === 'scan';
    return this.lookup(normalizeRequestPath(path, isList), isList);
  }

  /** Full decision, mirroring OpenBao's AllowOperation. */
  check(path: string, op: Operation, opts: CheckOptions = {}): AclResult {
    const result: AclResult = { allowed: false, rootPrivs: false, isRoot: false, grantingPolicies: [], paginationLimit: 0, responseKeysFilterPath: '' };
    if (this.isRoot) {
      result.allowed = true;
      result.rootPrivs = true;
      result.isRoot = true;
      result.grantingPolicies = ['root'];
      return result;
    }
    const isList = op === 'list' || op === 'scan';
    const perms = this.lookup(normalizeRequestPath(path, isList), isList);
    if (perms === undefined) return result;
    result.matchedPattern = perms.pattern;
    const caps = perms.capabilities;
    result.rootPrivs = (caps & SUDO) !== 0 && (caps & DENY) === 0;
    const bit = OP_BIT[op];
    assert(bit !== undefined, `unknown operation ${String(op)}`);
    if ((caps & DENY) !== 0 || (caps & bit) === 0) return result;
    if (opts.sudo && !result.rootPrivs) return result;

    // Response-wrapping bounds (Vault: a bound with no wrapping requested denies).
    if (perms.maxWrappingTtl > 0 && (opts.wrapTtlSeconds === undefined || opts.wrapTtlSeconds > perms.maxWrappingTtl)) return result;
    if (perms.minWrappingTtl > 0 && (opts.wrapTtlSeconds === undefined || opts.wrapTtlSeconds < perms.minWrappingTtl)) return result;
    if (perms.minWrappingTtl !== 0 && perms.maxWrappingTtl !== 0 && perms.maxWrappingTtl < perms.minWrappingTtl) return result;

    const data = opts.data ?? {};
    if (op === 'read' || op === 'update' || op === 'create' || op === 'patch') {
      if (!parametersAllowed(perms, data)) return result;
    } else if (isList) {
      const limit = paginationAllowed(perms, data);
      if (limit === false) return result;
      result.paginationLimit = limit;
      result.responseKeysFilterPath = perms.responseKeysFilterPath;
    }
    result.grantingPolicies = [...(perms.grantingPolicies.get(op) ?? [])];
    result.allowed = true;
    return result;
  }

  private lookup(path: string, isList: boolean): RulePermissions | undefined {
    const exact = this.exact.get(path);
    if (exact) return exact;
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    if (isList) {
      const e = this.exact.get(trimmed);
      if (e) return e;
    }
    const nonExact = this.nonExact(path);
    if (nonExact) return nonExact;
    if (isList && path.endsWith('/')) return this.nonExact(trimmed);
    return undefined;
  }

  private nonExact(path: string): RulePermissions | undefined {
    let best: Candidate | undefined;
    for (const k of this.prefixKeys) {
      if (path.startsWith(k)) {
        best = { firstWildcard: k.length, isPrefix: true, wildcards: 0, wcPath: k, perms: this.prefix.get(k)! };
        break;
      }
    }
    if (this.segmentList.length === 0) return best?.perms;
    const parts = path.split('/');
    for (const r of this.segmentList) {
      if (!segmentMatches(r, parts)) continue;
      if (best === undefined || lowerPriority(best, r)) best = r;
    }
    return best?.perms;
  }
}

function segmentRule(key: string, perms: RulePermissions): SegmentRule {
  const isPrefix = key.endsWith('*');
  const wcPath = isPrefix ? key.slice(0, -1) : key;
  const parts = wcPath.split('/');
  return { key, parts, isPrefix, firstWildcard: key.indexOf('+'), wildcards: parts.filter((p) => p === '+').length, wcPath, perms };
}

function segmentMatches(r: SegmentRule, pathParts: string[]): boolean {
  const n = r.parts.length;
  if (pathParts.length < n) return false;
  if (!r.isPrefix && pathParts.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const a = r.parts[i]!;
    const p = pathParts[i]!;
    if (a === '+' || a === p) continue;
    if (r.isPrefix && i === n - 1 && p.startsWith(a)) continue;
    return false;
  }
  return true;
}

function stripLeadingSlashes(p: string): string {
  let i = 0;
  while (i < p.length && p[i] === '/') i++;
  return p.slice(i);
}

function normalizeRequestPath(path: string, isList: boolean): string {
  const p = stripLeadingSlashes(path);
  return isList && !p.endsWith('/') ? p + '/' : p;
}

function capBits(caps: readonly Capability[]): number {
  let bits = 0;
  for (const c of caps) {
    if (c === 'root') continue;
    bits |= CAP_BIT[c];
  }
  return bits & DENY ? DENY : bits;
}

function addGranting(m: Map<Capability, string[]>, bits: number, policyName: string): void {
  for (const [bit, name] of [[DENY, 'deny'] as [number, Capability], ...REPORT_ORDER]) {
    if (!(bits & bit)) continue;
    const list = m.get(name);
    if (list) {
      if (!list.includes(policyName)) list.push(policyName);
    } else m.set(name, [policyName]);
  }
}

function toMap(rec: Record<string, unknown[]> | undefined): Map<string, unknown[]> | undefined {
  return rec === undefined ? undefined : new Map(Object.entries(rec).map(([k, v]) => [k.toLowerCase(), [...v]]));
}

function fromRule(pattern: string, rule: PathRule, policyName: string): RulePermissions {
  const bits = capBits(rule.capabilities);
  const perms: RulePermissions = {
    pattern,
    capabilities: bits,
    minWrappingTtl: rule.min_wrapping_ttl ?? 0,
    maxWrappingTtl: rule.max_wrapping_ttl ?? 0,
    allowedParameters: toMap(rule.allowed_parameters),
    deniedParameters: toMap(rule.denied_parameters),
    requiredParameters: [...(rule.required_parameters ?? [])],
    paginationLimit: rule.pagination_limit ?? 0,
    responseKeysFilterPath: rule.list_scan_response_keys_filter_path ?? '',
    grantingPolicies: new Map(),
  };
  addGranting(perms.grantingPolicies, bits, policyName);
  return perms;
}

function mergeParams(existing: Map<string, unknown[]> | undefined, add: Record<string, unknown[]> | undefined): Map<string, unknown[]> | undefined {
  if (add === undefined || Object.keys(add).length === 0) return existing;
  if (existing === undefined) return toMap(add);
  for (const [rawKey, value] of Object.entries(add)) {
    const key = rawKey.toLowerCase();
    const cur = existing.get(key);
    // An empty list (any value) absorbs everything else.
    if (value.length === 0 || (cur !== undefined && cur.length === 0)) existing.set(key, []);
    else existing.set(key, [...value, ...(cur ?? [])]);
  }
  return existing;
}

function mergeInto(existing: RulePermissions, rule: PathRule, policyName: string): void {
  const bits = capBits(rule.capabilities);
  if (existing.capabilities & DENY) return;
  if (bits & DENY) {
    existing.capabilities = DENY;
    existing.allowedParameters = undefined;
    existing.deniedParameters = undefined;
    return;
  }
  existing.capabilities |= bits;
  addGranting(existing.grantingPolicies, bits, policyName);
  // Lifetimes: the lesser of two set values wins.
  const maxT = rule.max_wrapping_ttl ?? 0;
  if (maxT > 0 && (existing.maxWrappingTtl === 0 || maxT < existing.maxWrappingTtl)) existing.maxWrappingTtl = maxT;
  const minT = rule.min_wrapping_ttl ?? 0;
  if (minT > 0 && (existing.minWrappingTtl === 0 || minT < existing.minWrappingTtl)) existing.minWrappingTtl = minT;
  existing.allowedParameters = mergeParams(existing.allowedParameters, rule.allowed_parameters);
  existing.deniedParameters = mergeParams(existing.deniedParameters, rule.denied_parameters);
  for (const p of rule.required_parameters ?? []) if (!existing.requiredParameters.includes(p)) existing.requiredParameters.push(p);
  const lim = rule.pagination_limit ?? 0;
  if (lim > 0 && (existing.paginationLimit <= 0 || lim < existing.paginationLimit)) existing.paginationLimit = lim;
  const f = rule.list_scan_response_keys_filter_path ?? '';
  if (f.length > 0 && existing.responseKeysFilterPath.length === 0) existing.responseKeysFilterPath = f;
}

// ---- parameter checks (Vault's AllowOperation, for create/read/update/patch) ----

function parametersAllowed(perms: RulePermissions, data: Record<string, unknown>): boolean {
  for (const p of perms.requiredParameters) if (!Object.hasOwn(data, p.toLowerCase())) return false;
  const entries = Object.entries(data);
  if (entries.length === 0) return true;
  const denied = perms.deniedParameters;
  if (denied && denied.size > 0) {
    if (denied.has('*')) return false;
    for (const [k, v] of entries) {
      const list = denied.get(k.toLowerCase());
      if (list !== undefined && valueInParameterList(v, list)) return false;
    }
  }
  const allowed = perms.allowedParameters;
  if (allowed === undefined || allowed.size === 0) return true;
  const allowedAll = allowed.has('*');
  if (allowed.size === 1 && allowedAll) return true;
  for (const [k, v] of entries) {
    const list = allowed.get(k.toLowerCase());
    if (list === undefined) {
      if (!allowedAll) return false;
    } else if (!valueInParameterList(v, list)) return false;
  }
  return true;
}

/** Returns the page-size cap to apply (0 = none) or false when the request must be denied. */
function paginationAllowed(perms: RulePermissions, data: Record<string, unknown>): number | false {
  const lim = perms.paginationLimit;
  if (lim <= 0) return 0;
  if (!Object.hasOwn(data, 'limit')) {
    return perms.requiredParameters.some((p) => p.toLowerCase() === 'limit') ? false : lim;
  }
  const raw = data['limit'];
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[-+]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n)) return raw === 'max' ? lim : false;
  if (n > lim || n < 0) return false;
  return lim;
}

function valueInParameterList(v: unknown, list: unknown[]): boolean {
  if (list.length === 0) return true;
  for (const el of list) {
    if (el === null || el === undefined || v === null || v === undefined) {
      if ((el ?? null) === (v ?? null)) return true;
    } else if (typeof el === 'string' && typeof v === 'string') {
      if (globbedStringsMatch(el, v)) return true;
    } else if (deepEqual(el, v)) return true;
  }
  return false;
}

/** Vault's strutil.GlobbedStringsMatch: `*x*` contains, `*x` suffix, `x*` prefix, else equality. */
export function globbedStringsMatch(item: string, val: string): boolean {
  if (item.length < 2) return val === item;
  const pre = item.startsWith('*');
  const suf = item.endsWith('*');
  if (pre && suf) return val.includes(item.slice(1, -1));
  if (pre) return val.endsWith(item.slice(1));
  if (suf) return val.startsWith(item.slice(0, -1));
  return val === item;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || typeof a !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---- templating ----

/** Resolve `{{identity...}}` in `path`; undefined when any parameter cannot be resolved (the rule is then skipped). */
export function resolveTemplate(path: string, id: TemplateIdentity | undefined): string | undefined {
  let failed = false;
  const out = path.replace(/\{\{([^{}]*)\}\}/g, (_m, expr: string) => {
    const v = templateValue(expr.trim(), id);
    // Substituted values may not smuggle in path structure or wildcards (OpenBao blocks them by default).
    if (v === undefined || v === '' || /[/*+]/.test(v)) failed = true;
    return v ?? '';
  });
  return failed ? undefined : out;
}

function templateValue(expr: string, id: TemplateIdentity | undefined): string | undefined {
  const e = id?.entity;
  const parts = expr.split('.');
  if (parts[0] !== 'identity') return undefined;
  if (parts[1] === 'entity') {
    if (!e) return undefined;
    if (parts.length === 3 && parts[2] === 'id') return e.id;
    if (parts.length === 3 && parts[2] === 'name') return e.name;
    if (parts.length >= 4 && parts[2] === 'metadata') return e.metadata?.[parts.slice(3).join('.')];
    if (parts.length >= 5 && parts[2] === 'aliases') {
      const alias = e.aliases?.[parts[3]!];
      if (!alias) return undefined;
      if (parts.length === 5 && parts[4] === 'id') return alias.id;
      if (parts.length === 5 && parts[4] === 'name') return alias.name;
      if (parts.length >= 6 && parts[4] === 'metadata') return alias.metadata?.[parts.slice(5).join('.')];
    }
    return undefined;
  }
  if (parts[1] === 'groups' && parts.length >= 5) {
    const groups = id?.groups ?? [];
    const g = parts[2] === 'ids' ? groups.find((x) => x.id === parts[3]) : parts[2] === 'names' ? groups.find((x) => x.name === parts[3]) : undefined;
    if (!g) return undefined;
    if (parts.length === 5 && parts[4] === 'id') return g.id;
    if (parts.length === 5 && parts[4] === 'name') return g.name;
    if (parts.length >= 6 && parts[4] === 'metadata') return g.metadata?.[parts.slice(5).join('.')];
  }
  return undefined;
}
