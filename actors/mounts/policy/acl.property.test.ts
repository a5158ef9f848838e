// Differential test: the compiled Acl against a deliberately naive reference written from the spec
// (API.md §4.6 + OpenBao's documented list fallbacks): one regex per pattern, every matching glob
// considered (no longest-prefix shortcut), winner found by brute-force sort on the priority tuple.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Acl } from './acl.js';
import type { Capability, Operation, Policy } from './types.js';

// ---------------- reference ----------------

interface RefRule { pattern: string; caps: readonly string[] }

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function isSegmentPattern(p: string): boolean {
  return p === '+' || p.startsWith('+/') || p.includes('/+');
}

type Kind = 'exact' | 'glob';
function kindOf(p: string): Kind {
  return isSegmentPattern(p) || p.endsWith('*') ? 'glob' : 'exact';
}

function regexOf(p: string): RegExp {
  const glob = p.endsWith('*');
  const parts = p.split('/');
  const body = parts
    .map((part, i) => {
      const last = i === parts.length - 1;
      if (isSegmentPattern(p) && part === '+') return '[^/]*';
      if (last && glob) return esc(part.slice(0, -1)) + '.*';
      return esc(part);
    })
    .join('/');
  return new RegExp(`^${body}$`, 's');
}

/** Priority tuple: larger wins, compared left to right. */
function priority(p: string): [number, number, number, number, string] {
  const glob = p.endsWith('*');
  const stem = glob ? p.slice(0, -1) : p;
  const seg = isSegmentPattern(p);
  const firstWildcard = seg ? p.indexOf('+') : p.length - 1;
  const plusSegments = seg ? stem.split('/').filter((x) => x === '+').length : 0;
  return [firstWildcard, glob ? 0 : 1, -plusSegments, stem.length, stem];
}

function cmp(a: string, b: string): number {
  const x = priority(a);
  const y = priority(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < y[i]!) return -1;
    if (x[i]! > y[i]!) return 1;
  }
  return 0;
}

function normPattern(p: string): string {
  return p.startsWith('/') ? p.slice(1) : p;
}

/** The union of capabilities of every rule with this pattern (deny collapses). */
function unionFor(rules: RefRule[], pattern: string): Set<string> {
  const s = new Set<string>();
  for (const r of rules) if (normPattern(r.pattern) === pattern) for (const c of r.caps) s.add(c);
  return s.has('deny') ? new Set(['deny']) : s;
}

function refExact(rules: RefRule[], path: string): Set<string> | undefined {
  const hit = rules.find((r) => kindOf(normPattern(r.pattern)) === 'exact' && normPattern(r.pattern) === path);
  return hit ? unionFor(rules, path) : undefined;
}

function refGlob(rules: RefRule[], path: string): Set<string> | undefined {
  const matching = [...new Set(rules.map((r) => normPattern(r.pattern)))].filter((p) => kindOf(p) === 'glob' && regexOf(p).test(path));
  if (matching.length === 0) return undefined;
  matching.sort(cmp);
  return unionFor(rules, matching[matching.length - 1]!);
}

function refLookup(rules: RefRule[], path: string, isList: boolean): Set<string> | undefined {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return (
    refExact(rules, path) ??
    (isList ? refExact(rules, trimmed) : undefined) ??
    refGlob(rules, path) ??
    (isList && path.endsWith('/') ? refGlob(rules, trimmed) : undefined)
  );
}

function refAllows(rules: RefRule[], rawPath: string, op: Operation, sudo: boolean): boolean {
  let path = rawPath.replace(/^\/+/, '');
  const isList = op === 'list' || op === 'scan';
  if (isList && !path.endsWith('/')) path += '/';
  const caps = refLookup(rules, path, isList);
  if (!caps || caps.has('deny') || !caps.has(op)) return false;
  return !sudo || caps.has('sudo');
}

function refCapabilities(rules: RefRule[], rawPath: string): string[] {
  const caps = refLookup(rules, rawPath.replace(/^\/+/, ''), true);
  if (!caps || caps.size === 0 || caps.has('deny')) return ['deny'];
  return [...caps].sort();
}

// ---------------- generators ----------------

const patternSegment = fc.constantFrom('a', 'b', 'ab', 'ba', '+', '+', '', 'a+', '+b', 'a*b');
const pathSegment = fc.constantFrom('a', 'b', 'ab', 'ba', 'aa', '', '+', 'a*b', 'bab');

const patternArb = fc
  .tuple(
    fc.array(patternSegment, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('', '', '*', '*', 'a*', '/*'),
    fc.boolean(),
  )
  .map(([segs, suffix, lead]) => {
    let p = segs.join('/');
    if (suffix === 'a*') p = p + 'a*';
    else if (suffix === '/*') p = p + '/*';
    else p = p + suffix;
    return (lead ? '/' : '') + p;
  })
  .filter((p) => !p.replace(/^\//, '').includes('+*'));

const capsArb = fc.subarray(['read', 'list', 'update', 'create', 'sudo', 'deny', 'deny'] as const, { minLength: 1 }).map((c) => [...new Set(c)]);

const ruleArb = fc.record({ pattern: patternArb, caps: capsArb });
const policiesArb = fc.array(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 });

const pathArb = fc
  .tuple(fc.array(pathSegment, { minLength: 0, maxLength: 5 }), fc.boolean(), fc.nat(9))
  .map(([segs, trailing, lead]) => (lead === 0 ? '/' : '') + segs.join('/') + (trailing ? '/' : ''));

const opArb = fc.constantFrom<Operation>('read', 'list', 'update', 'create', 'delete');

function toPolicies(sets: RefRule[][]): Policy[] {
  return sets.map((rules, i) => ({
    name: `p${i}`,
    raw: '',
    rules: rules.map((r) => ({ path: normPattern(r.pattern), capabilities: [...r.caps] as Capability[] })),
  }));
}

// ---------------- properties ----------------

const RUNS = Number(process.env['POLICY_PROPERTY_RUNS'] ?? 4000);

test('Acl.allows agrees with the naive reference matcher', () => {
  fc.assert(
    fc.property(policiesArb, fc.array(fc.tuple(pathArb, opArb, fc.boolean()), { minLength: 1, maxLength: 8 }), (sets, queries) => {
      const acl = Acl.compile(toPolicies(sets));
      const flat = sets.flat();
      for (const [path, op, sudo] of queries) {
        assert.equal(acl.allows(path, op, { sudo }), refAllows(flat, path, op, sudo), `${op}${sudo ? '+sudo' : ''} ${JSON.stringify(path)}`);
      }
    }),
    { numRuns: RUNS },
  );
});

test('Acl.capabilities agrees with the naive reference matcher', () => {
  fc.assert(
    fc.property(policiesArb, fc.array(pathArb, { minLength: 1, maxLength: 8 }), (sets, paths) => {
      const acl = Acl.compile(toPolicies(sets));
      const flat = sets.flat();
      for (const path of paths) assert.deepEqual(acl.capabilities(path), refCapabilities(flat, path), JSON.stringify(path));
    }),
    { numRuns: RUNS },
  );
});

test('paths that can only match one way: glob patterns built from the path always match it', () => {
  // Sanity of the generators/reference pairing: a path turned into a pattern (each segment kept or replaced by +,
  // optionally cut short and globbed) must be allowed by that single rule.
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', 'b', 'ab'), { minLength: 1, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.nat(5), (segs, plus, cut) => {
      const path = segs.join('/');
      let parts = segs.map((s, i) => (plus[i] ? '+' : s));
      let pattern = parts.join('/');
      if (cut > 0 && cut < segs.length) {
        parts = parts.slice(0, cut);
        pattern = parts.join('/') + '/*';
      }
      const acl = Acl.compile([{ name: 'p', raw: '', rules: [{ path: pattern, capabilities: ['read'] }] }]);
      assert.equal(acl.allows(path, 'read'), true, `${pattern} vs ${path}`);
      assert.equal(refAllows([{ pattern, caps: ['read'] }], path, 'read', false), true);
    }),
    { numRuns: 500 },
  );
});
