// Policy text (HCL or JSON) → Policy. Semantics follow OpenBao's policy.go (facts, own code):
// top-level keys `name`/`path`; per-path keys checked against Vault's list; legacy `policy` folded into
// capabilities; `deny` anywhere in the list (once reached) leaves only `deny`; `+*` rejected; leading `/` stripped.
//
// HCL is parsed with @cdktf/hcl2json (an HCL2 parser, loaded on first use: runtime/hcl.ts). Vault uses HCL1; the policy subset is the same except
// that HCL2 does not allow two arguments on one line inside a single-line block (`path "a" { x = 1 y = 2 }`).

import { CofferError } from '../../../runtime/errors.js';
import { parseHcl } from '../../../runtime/hcl.js';
import {
  DEFAULT_POLICY_NAME,
  IMMUTABLE_POLICIES,
} from './builtin.js';
import type { Capability, LegacyPolicy, PathRule, Policy } from './types.js';

const VALID_TOP_KEYS = ['name', 'path'];
const VALID_PATH_KEYS = [
  'comment',
  'policy',
  'capabilities',
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'mfa_methods',
  'pagination_limit',
  'expiration',
  'list_scan_response_keys_filter_path',
  'control_group',
];
const PARSEABLE_CAPS: ReadonlySet<string> = new Set(['create', 'read', 'update', 'delete', 'list', 'sudo', 'patch', 'scan']);

class PolicyParseError extends Error {}

function fail(reason: string): never {
  throw new PolicyParseError(reason);
}

/** Lower-case and trim a policy name, as Vault's policy store does. */
export function normalizePolicyName(name: string): string {
  return name.trim().toLowerCase();
}

/** Throws the Vault error when `name` may not be written (`root`, `response-wrapping`). Returns the normalised name. */
export function assertPolicyWritable(name: string): string {
  const n = normalizePolicyName(name);
  if (n === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'policy name must be provided in the URL');
  if (IMMUTABLE_POLICIES.includes(n)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `cannot update "${n}" policy`);
  return n;
}

/** Throws the Vault error when `name` may not be deleted (`root`, `response-wrapping`, `default`). Returns the normalised name. */
export function assertPolicyDeletable(name: string): string {
  const n = normalizePolicyName(name);
  if (IMMUTABLE_POLICIES.includes(n)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `cannot delete "${n}" policy`);
  if (n === DEFAULT_POLICY_NAME) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'cannot delete default policy');
  return n;
}

/**
 * Vault accepts the policy body base64-encoded: when the text decodes as standard base64 it is replaced by the
 * decoded text (Vault's exact rule, including its false positives on texts that happen to be valid base64).
 */
export function decodePolicyBody(text: string): string {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return text;
  return Buffer.from(text, 'base64').toString('utf8');
}

/**
 * Parse a policy. Errors are CofferError('COFFER_ERR_INVALID_REQUEST', 'failed to parse policy: <reason>').
 * `opts.now` (ms) decides which `expiration`s have passed (expired rules are dropped, as OpenBao does).
 */
export async function parsePolicy(name: string, text: string, opts: { now?: number } = {}): Promise<Policy> {
  try {
    return await parseInner(normalizePolicyName(name), text, opts.now ?? Date.now());
  } catch (e) {
    if (e instanceof PolicyParseError) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `failed to parse policy: ${e.message}`);
    throw e;
  }
}

async function parseInner(name: string, text: string, now: number): Promise<Policy> {
  const root = await toTree(text);
  if (!isObject(root)) fail('does not contain a root object');
  const bad = Object.keys(root).filter((k) => !VALID_TOP_KEYS.includes(k));
  if (bad.length > 0) fail(bad.map((k) => `invalid key ${JSON.stringify(k)}${lineOf(text, k, 0)}`).join(', '));

  const rules: PathRule[] = [];
  let templated = false;
  let entries = pathEntries(root['path']);
  if (!isJsonText(text)) entries = sourceOrder(entries, text);
  for (const [pattern, body] of entries) {
    const rule = parseRule(pattern, body, text, now);
    if (rule === undefined) continue; // expired
    if (rule.templated) templated = true;
    rules.push(rule);
  }
  const policy: Policy = { name, rules, raw: text };
  if (templated) policy.templated = true;
  return policy;
}

/** Vault's rule: text whose first non-space character is `{` is JSON, anything else HCL. */
function isJsonText(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/**
 * hcl2json goes through a Go map and so returns path blocks sorted by key. Matching does not depend on the order,
 * but the parsed Policy should read like its source: restore the order of first appearance (stable for duplicates).
 */
function sourceOrder(entries: Array<[string, unknown]>, text: string): Array<[string, unknown]> {
  const pos = new Map<string, number>();
  for (const [k] of entries) {
    if (pos.has(k)) continue;
    const lit = JSON.stringify(k).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const m = new RegExp(`(^|[\\s;}])path\\s*${lit}`).exec(text);
    pos.set(k, m ? m.index : Number.MAX_SAFE_INTEGER);
  }
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => pos.get(a.e[0])! - pos.get(b.e[0])! || a.i - b.i)
    .map((x) => x.e);
}

async function toTree(text: string): Promise<unknown> {
  if (isJsonText(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      fail((e as Error).message);
    }
  }
  let out: unknown;
  try {
    out = await parseHcl('policy.hcl', text);
  } catch (e) {
    fail(hclMessage(String((e as Error)?.message ?? e)));
  }
  return out;
}

/** `parse config: [policy.hcl:1,29-30: Invalid expression; detail]` → `At 1:29: Invalid expression; detail`. */
function hclMessage(msg: string): string {
  const m = /^parse config: \[(.*)\]$/s.exec(msg.trim());
  const inner = m ? m[1]! : msg;
  return inner.replace(/policy\.hcl:(\d+),(\d+)(-\d+)?(,\d+-\d+)?: /g, 'At $1:$2: ');
}

/** Flatten `path` in its HCL2-JSON (`{p: [body, ...]}`) and Vault-JSON (`{p: body}`, `[{p: body}]`) shapes. */
function pathEntries(node: unknown): Array<[string, unknown]> {
  if (node === undefined) return [];
  const out: Array<[string, unknown]> = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (!isObject(n)) fail('path: expected an object of path rules');
    for (const [pattern, body] of Object.entries(n)) {
      if (Array.isArray(body)) for (const b of body) out.push([pattern, b]);
      else out.push([pattern, body]);
    }
  };
  visit(node);
  return out;
}

function parseRule(key: string, body: unknown, text: string, now: number): PathRule | undefined {
  const where = `path ${JSON.stringify(key)}:`;
  if (!isObject(body)) fail(`${where} expected an object`);
  const badKeys = Object.keys(body).filter((k) => !VALID_PATH_KEYS.includes(k));
  if (badKeys.length > 0) {
    const from = Math.max(0, text.indexOf(JSON.stringify(key)));
    fail(badKeys.map((k) => `${where} invalid key ${JSON.stringify(k)}${lineOf(text, k, from)}`).join(', '));
  }

  const templated = checkTemplating(key);

  const rule: PathRule = { path: key.startsWith('/') ? key.slice(1) : key, capabilities: [] };
  if (templated) rule.templated = true;

  if (body['comment'] !== undefined) rule.comment = str(body['comment'], `${where} comment`);
  if (body['expiration'] !== undefined) {
    const raw = str(body['expiration'], `${where} expiration`);
    if (raw.length > 0) {
      const t = parseAbsoluteTime(raw);
      if (t === undefined) fail(`path ${JSON.stringify(rule.path)}: invalid expiration time: ${JSON.stringify(raw)}`);
      if (now > t) return undefined;
      rule.expiration = raw;
    }
  }

  if (rule.path.includes('+*')) fail(`path ${JSON.stringify(rule.path)}: invalid use of wildcards ('+*' is forbidden)`);

  const caps: string[] = [];
  if (body['policy'] !== undefined) {
    const legacy = str(body['policy'], `${where} policy`);
    rule.policy = legacy as LegacyPolicy;
    switch (legacy) {
      case 'deny': caps.push('deny'); break;
      case 'read': caps.push('read', 'list'); break;
      case 'write': caps.push('create', 'read', 'update', 'delete', 'list'); break;
      case 'sudo': caps.push('create', 'read', 'update', 'delete', 'list', 'sudo'); break;
      default: fail(`path ${JSON.stringify(key)}: invalid policy ${JSON.stringify(legacy)}`);
    }
  }
  // Vault: the legacy mapping for deny *replaces*; for the others it is appended to `capabilities`.
  const written = body['capabilities'] === undefined ? [] : strList(body['capabilities'], `${where} capabilities`);
  const all = rule.policy === 'deny' ? caps : [...written, ...caps];
  const seen = new Set<string>();
  for (const c of all) {
    if (c === 'deny') {
      rule.capabilities = ['deny'];
      return rule; // OpenBao stops here: nothing else on a deny rule is read
    }
    if (!PARSEABLE_CAPS.has(c)) fail(`path ${JSON.stringify(key)}: invalid capability ${JSON.stringify(c)}`);
    if (!seen.has(c)) {
      seen.add(c);
      rule.capabilities.push(c as Capability);
    }
  }

  if (body['allowed_parameters'] !== undefined) rule.allowed_parameters = paramMap(body['allowed_parameters'], `${where} allowed_parameters`);
  if (body['denied_parameters'] !== undefined) rule.denied_parameters = paramMap(body['denied_parameters'], `${where} denied_parameters`);
  if (body['min_wrapping_ttl'] !== undefined) {
    rule.min_wrapping_ttl = durationSeconds(body['min_wrapping_ttl'], 'error parsing min_wrapping_ttl');
  }
  if (body['max_wrapping_ttl'] !== undefined) {
    rule.max_wrapping_ttl = durationSeconds(body['max_wrapping_ttl'], 'error parsing max_wrapping_ttl');
  }
  if (rule.min_wrapping_ttl && rule.max_wrapping_ttl && rule.max_wrapping_ttl < rule.min_wrapping_ttl) {
    fail('max_wrapping_ttl cannot be less than min_wrapping_ttl');
  }
  if (body['required_parameters'] !== undefined) {
    const req = strList(body['required_parameters'], `${where} required_parameters`);
    if (req.length > 0) rule.required_parameters = req;
  }
  if (body['pagination_limit'] !== undefined) {
    const n = body['pagination_limit'];
    if (typeof n !== 'number' || !Number.isInteger(n)) fail(`${where} pagination_limit: expected an integer`);
    rule.pagination_limit = n;
  }
  if (body['list_scan_response_keys_filter_path'] !== undefined) {
    const f = str(body['list_scan_response_keys_filter_path'], `${where} list_scan_response_keys_filter_path`);
    if (f.length > 0) {
      if (!rule.capabilities.includes('list')) fail('list_scan_response_keys_filter_path needs to be used on a path with the list capability');
      rule.list_scan_response_keys_filter_path = f;
    }
  }
  return rule;
}

// ---- templating (syntax check only; resolution is in acl.ts) ----

const TEMPLATE_RE = /\{\{([^{}]*)\}\}/g;

/** True when `path` is templated; throws on a malformed template, with OpenBao's prefix. */
function checkTemplating(path: string): boolean {
  if (!path.includes('{{') && !path.includes('}}')) return false;
  const stripped = path.replace(TEMPLATE_RE, '');
  if (stripped.includes('{{') || stripped.includes('}}')) fail('failed to validate policy templating: unbalanced template braces');
  for (const m of path.matchAll(TEMPLATE_RE)) {
    const expr = m[1]!.trim();
    if (!/^identity\.(entity|groups)\.[A-Za-z0-9_.\-]+$/.test(expr)) {
      fail(`failed to validate policy templating: invalid template parameter ${JSON.stringify(expr)}`);
    }
  }
  return true;
}

// ---- value helpers ----

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown, what: string): string {
  if (typeof x !== 'string') fail(`${what}: expected a string`);
  return x;
}

function strList(x: unknown, what: string): string[] {
  if (!Array.isArray(x)) fail(`${what}: expected a list of strings`);
  return x.map((v) => str(v, what));
}

/** `{k = [...]}` (HCL2 attribute) or `k { ... }` blocks (HCL2 JSON gives a list of objects). Keys lower-cased. */
function paramMap(x: unknown, what: string): Record<string, unknown[]> {
  const objs = Array.isArray(x) ? x : [x];
  const out: Record<string, unknown[]> = {};
  for (const o of objs) {
    if (!isObject(o)) fail(`${what}: expected an object of lists`);
    for (const [k, v] of Object.entries(o)) {
      const list = Array.isArray(v) ? v : [v];
      out[k.toLowerCase()] = list;
    }
  }
  return out;
}

const GO_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Vault's ParseDurationSecond: number = seconds; "90" = seconds; "5d" = days; else a Go duration ("1h30m"). */
export function durationSeconds(x: unknown, what: string): number {
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) fail(`${what}: invalid duration`);
    return Math.trunc(x);
  }
  if (typeof x !== 'string') fail(`${what}: expected a duration`);
  const s = x.trim();
  if (s === '') return 0;
  if (/^-?\d+$/.test(s)) return Number(s);
  const d = /^(-?\d+)d$/.exec(s);
  if (d) return Number(d[1]) * 86400;
  const re = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
  const m = re.exec(s);
  if (!m) fail(`${what}: time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * GO_UNITS[part[2]!]!;
  }
  return m[1] === '-' ? -total : total;
}

function parseAbsoluteTime(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** ` on line N` for the first line at or after `from` where `key` is assigned or opens a block; '' if not found. */
function lineOf(text: string, key: string, from: number): string {
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s{,])"?${esc}"?\\s*(=|:|\\{|")`, 'm');
  const rest = text.slice(from);
  const m = re.exec(rest);
  if (!m) return '';
  const at = from + m.index + m[1]!.length;
  return ` on line ${text.slice(0, at).split('\n').length}`;
}
