// SEC-ACL-MODEL (RELIABILITY.md §7.2): random policies and random paths, the server's decision against a
// small reference evaluator written here from Vault's documented rules, not from actors/mounts/policy:
//  - default deny; a token's policies merge; the same pattern in several policies is one rule with the
//    union of its capabilities, and `deny` in any of them denies (docs: concepts/policies "Policy syntax");
//  - an exact (glob-free) pattern equal to the path wins outright; otherwise the single highest-priority
//    matching glob/`+` pattern applies, no union across patterns. P1 loses to P2 when, in order:
//    its first `+` or `*` comes earlier; it ends in `*` and P2 does not; it has more `+` segments; it is
//    shorter; it is lexicographically smaller (docs: concepts/policies "Priority matching");
//  - LIST carries a trailing `/`; an exact pattern without the `/` is tried after the exact one, then
//    glob patterns against the path WITH the `/`, and only then against the path without it. The order
//    is the fix of GHSA-xp3c-3jw3-4vcr (openbao/openbao#3389, commit f58d848c13, "the most specific rule
//    wins": the earlier trimmed-first order let `foo/metadata/*` list `foo/metadata/private` past a
//    `foo/metadata/private/*` deny). sys/capabilities evaluates as a LIST (vault/policy/acl.go Capabilities);
//  - templated paths are skipped when the token has no entity (no identity engine here).
// The server side is a real `coffer server` process: policies are written through sys/policies/acl,
// a token carries them (no default policy), sys/capabilities answers a batch of paths per token, and
// a sample of paths is also requested for real (GET and LIST on a KV v1 mount, raw HTTP so `.`/`..`
// segments reach the server unnormalised by the client).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const CAPS = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
type Cap = (typeof CAPS)[number];

interface Rule {
  pattern: string;
  caps: Cap[];
}

// ---- the reference evaluator -------------------------------------------------------------------

interface Merged {
  caps: Set<Cap>;
}

/** Policies → pattern → merged capabilities (union; deny absorbs). Templated patterns are skipped. */
function mergeRules(policies: Rule[][]): Map<string, Merged> {
  const out = new Map<string, Merged>();
  for (const rules of policies) {
    for (const r of rules) {
      if (r.pattern.includes('{{')) continue;
      const m = out.get(r.pattern) ?? { caps: new Set<Cap>() };
      for (const c of r.caps) m.caps.add(c);
      out.set(r.pattern, m);
    }
  }
  return out;
}

const isGlob = (p: string) => p.endsWith('*') || p.split('/').includes('+');

/** Does the glob pattern match `path` (`+` = exactly one segment, a trailing `*` = any suffix)? */
function globMatches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  const pp = body.split('/');
  const xs = path.split('/');
  if (xs.length < pp.length || (!prefix && xs.length !== pp.length)) return false;
  return pp.every((seg, i) => seg === '+' || seg === xs[i] || (prefix && i === pp.length - 1 && xs[i]!.startsWith(seg)));
}

function firstWildcard(p: string): number {
  const segs = p.split('/');
  let at = 0;
  for (const s of segs) {
    if (s === '+') return at;
    at += s.length + 1;
  }
  return p.endsWith('*') ? p.length - 1 : p.length;
}

/** Docs' priority: true when a loses to b. */
function loses(a: string, b: string): boolean {
  const fa = firstWildcard(a);
  const fb = firstWildcard(b);
  if (fa !== fb) return fa < fb;
  const sa = a.endsWith('*');
  const sb = b.endsWith('*');
  if (sa !== sb) return sa;
  const wa = a.split('/').filter((s) => s === '+').length;
  const wb = b.split('/').filter((s) => s === '+').length;
  if (wa !== wb) return wa > wb;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

function bestGlob(rules: Map<string, Merged>, path: string): Merged | undefined {
  let best: string | undefined;
  for (const p of rules.keys()) {
    if (!isGlob(p) || !globMatches(p, path)) continue;
    if (best === undefined || loses(best, p)) best = p;
  }
  return best === undefined ? undefined : rules.get(best);
}

function decide(rules: Map<string, Merged>, path: string, list: boolean): Merged | undefined {
  const exact = (p: string) => (isGlob(p) ? undefined : rules.get(p));
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return (
    exact(path) ??
    (list ? exact(trimmed) : undefined) ??
    bestGlob(rules, path) ??
    (list && path.endsWith('/') ? bestGlob(rules, trimmed) : undefined)
  );
}

/** What sys/capabilities should report. */
function referenceCapabilities(rules: Map<string, Merged>, path: string): string[] {
  const m = decide(rules, path.replace(/^\/+/, ''), true);
  if (!m || m.caps.has('deny') || m.caps.size === 0) return ['deny'];
  return [...m.caps].sort();
}

function referenceAllows(rules: Map<string, Merged>, path: string, op: 'read' | 'list'): boolean {
  const p = op === 'list' && !path.endsWith('/') ? path + '/' : path;
  const m = decide(rules, p, op === 'list');
  return m !== undefined && !m.caps.has('deny') && m.caps.has(op);
}

// ---- generators ----------------------------------------------------------------------------------

const SEG = fc.constantFrom('a', 'b', 'ab', 'A', 'abc');
const patternArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(fc.oneof({ weight: 3, arbitrary: SEG }, { weight: 1, arbitrary: fc.constant('+') }), { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '*', '/*', '/', '+*')) },
  { weight: 1, arbitrary: fc.constant<[string[], string]>([['{{identity.entity.id}}'], '/*']) },
).map(([segs, tail]) => {
  let p = `kv/${segs.join('/')}`;
  if (tail === '+*') p = `${p}/+/*`;
  else if (tail === '*' && segs[segs.length - 1] === '+') p += '/*'; // `+*` is refused by the parser, as in Vault
  else p += tail;
  return p;
});
const ruleArb = fc.record({ pattern: patternArb, caps: fc.subarray([...CAPS], { minLength: 1, maxLength: 4 }) });
const policiesArb = fc.array(fc.array(ruleArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 });
const pathArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', 'ab', 'abc', 'A', 'x', '.', '..'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segs, slash]) => `kv/${segs.join('/')}${slash ? '/' : ''}`);
const scenarioArb = fc.record({ policies: policiesArb, paths: fc.uniqueArray(pathArb, { minLength: 40, maxLength: 40 }) });

function hcl(rules: Rule[]): string {
  return rules.map((r) => `path "${r.pattern}" {\n  capabilities = [${r.caps.map((c) => `"${c}"`).join(', ')}]\n}\n`).join('');
}

/** WHATWG URL dot-segment resolution (what the server's URL parser does to the request path). */
function resolveDots(path: string): string {
  const out: string[] = [];
  const segs = path.split('/');
  segs.forEach((s, i) => {
    const last = i === segs.length - 1;
    if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else if (s === '.') {
      if (last) out.push('');
    } else out.push(s);
  });
  return out.join('/');
}

function hasDotSegment(path: string): boolean {
  return path.split('/').some((s) => s === '.' || s === '..');
}

/** Raw HTTP, so `.`/`..` segments travel exactly as written. */
function rawRequest(url: string, method: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/x`, { method, path: `/v1/${path}`, headers: { 'X-Vault-Token': token } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const SEED = 20261124;
const SCENARIOS = 125;

describe('SEC-ACL-MODEL: server ACL decisions vs a reference evaluator', () => {
  const dir = tempDir('acl-model');
  let server: ServerProcess;
  let root: string;

  before(async () => {
    server = await startServerProcess(dir.path);
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    root = init.root_token;
    assert.equal((await http(server.url, 'POST', 'sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '1' } } })).status, 204);
  });
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('reference evaluator agrees with the documented examples (a model that cannot fail proves nothing)', () => {
    const r = (rules: Rule[]) => mergeRules([rules]);
    // The pattern whose first wildcard comes later wins: `kv/+/b` (wildcard at 3) loses to `kv/a/*` (at 5),
    // and ties with `kv/*` (at 3) go to the non-prefix pattern.
    assert.deepEqual(referenceCapabilities(r([{ pattern: 'kv/*', caps: ['read'] }, { pattern: 'kv/+/b', caps: ['list'] }]), 'kv/a/b'), ['list']);
    assert.deepEqual(referenceCapabilities(r([{ pattern: 'kv/a/*', caps: ['read'] }, { pattern: 'kv/+/b', caps: ['list'] }]), 'kv/a/b'), ['read']);
    assert.deepEqual(referenceCapabilities(r([{ pattern: 'kv/a/+', caps: ['read'] }, { pattern: 'kv/a/*', caps: ['list'] }]), 'kv/a/b'), ['read']);
    assert.deepEqual(referenceCapabilities(r([{ pattern: 'kv/a', caps: ['deny'] }, { pattern: 'kv/*', caps: ['read'] }]), 'kv/a'), ['deny']);
    assert.deepEqual(referenceCapabilities(r([{ pattern: 'kv/{{identity.entity.id}}/*', caps: ['read'] }]), 'kv/x/y'), ['deny']);
    assert.deepEqual(referenceCapabilities(mergeRules([[{ pattern: 'kv/a*', caps: ['read'] }], [{ pattern: 'kv/a*', caps: ['update'] }]]), 'kv/ab'), ['read', 'update']);
    assert.deepEqual(referenceCapabilities(mergeRules([[{ pattern: 'kv/a*', caps: ['read'] }], [{ pattern: 'kv/a*', caps: ['deny'] }]]), 'kv/ab'), ['deny']);
    // GHSA-xp3c-3jw3-4vcr, the advisory's own example: LIST of the denied directory itself is denied.
    const ghsa = r([{ pattern: 'kv/metadata/*', caps: ['list'] }, { pattern: 'kv/metadata/private/*', caps: ['deny'] }]);
    assert.equal(referenceAllows(ghsa, 'kv/metadata/private', 'list'), false);
    assert.equal(referenceAllows(ghsa, 'kv/metadata/test', 'list'), true);
    assert.equal(resolveDots('kv/a/../b'), 'kv/b');
    assert.equal(resolveDots('kv/a/./'), 'kv/a/');
  });

  it('random policies x paths: sys/capabilities and real GET/LIST match the reference', async () => {
    const scenarios = fc.sample(scenarioArb, { seed: SEED, numRuns: SCENARIOS });
    let compared = 0;
    let mismatches = 0;
    let allowedWithoutGrant = 0;
    let realRequests = 0;
    const shown: string[] = [];
    const note = (what: string) => {
      mismatches++;
      if (shown.length < 8) shown.push(what);
    };
    for (const [n, sc] of scenarios.entries()) {
      const names = sc.policies.map((_, i) => `m${n}-p${i}`);
      for (const [i, rules] of sc.policies.entries()) {
        const put = await http(server.url, 'PUT', `sys/policies/acl/${names[i]}`, { token: root, body: { policy: hcl(rules) } });
        assert.equal(put.status, 204, `policy ${hcl(rules)}: ${put.text}`);
      }
      const tok = await http(server.url, 'POST', 'auth/token/create', { token: root, body: { policies: names, no_default_policy: true } });
      assert.equal(tok.status, 200, tok.text);
      const token = tok.body.auth.client_token as string;
      const model = mergeRules(sc.policies);
      const caps = await http(server.url, 'POST', 'sys/capabilities', { token: root, body: { token, paths: sc.paths } });
      assert.equal(caps.status, 200, caps.text);
      for (const p of sc.paths) {
        compared++;
        const want = referenceCapabilities(model, p);
        const got = caps.body.data[p] as string[];
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          note(`capabilities ${p}: server ${JSON.stringify(got)}, model ${JSON.stringify(want)}\n${names.map((nm, i) => `# ${nm}\n${hcl(sc.policies[i]!)}`).join('')}`);
          if (got.some((c) => c !== 'deny' && !want.includes(c))) allowedWithoutGrant++;
        }
      }
      // Real requests for the first 8 paths whose resolved form stays on the kv/ mount.
      for (const p of sc.paths.filter((x) => resolveDots(x).startsWith('kv/') && resolveDots(x) !== 'kv/').slice(0, 8)) {
        const served = resolveDots(p);
        for (const [method, op] of [['GET', 'read'], ['LIST', 'list']] as const) {
          if (op === 'read' && served.endsWith('/')) continue; // a read of a directory-shaped path is not a KV read
          realRequests++;
          compared++;
          const status = await rawRequest(server.url, method, p, token);
          if (hasDotSegment(p)) {
            // Refused before the ACL runs (HCSEC-2026-05 hardening, as OpenBao does by default): 400, never served.
            if (status !== 400) {
              note(`${method} ${p}: status ${status}, expected 400 for a dot segment`);
              if (status !== 403) allowedWithoutGrant++;
            }
            continue;
          }
          const want = referenceAllows(model, served, op);
          const got = status !== 403;
          if (got !== want) {
            note(`${method} ${p} (served as ${served}): status ${status}, model ${want ? 'allow' : 'deny'}\n${names.map((nm, i) => `# ${nm}\n${hcl(sc.policies[i]!)}`).join('')}`);
            if (got) allowedWithoutGrant++;
          }
        }
      }
    }
    console.log(`decisions compared: ${compared}; mismatches: ${mismatches}; allowed-without-grant: ${allowedWithoutGrant} (scenarios ${SCENARIOS}, real requests ${realRequests}, seed ${SEED})`);
    assert.equal(mismatches, 0, shown.join('\n---\n'));
    assert.ok(compared >= 5000, `compared ${compared}`);
  });

  it('policy names are lower-cased: "Root", "ROOT", " root" never grant root to a non-root caller (HCSEC-2025-13)', async () => {
    for (const name of ['Root', 'ROOT']) {
      const put = await http(server.url, 'PUT', `sys/policies/acl/${name}`, { token: root, body: { policy: 'path "kv/*" { capabilities = ["read"] }' } });
      assert.equal(put.status, 400, `${name}: ${put.text}`);
    }
    const maker = 'path "auth/token/create" { capabilities = ["update"] }\n';
    assert.equal((await http(server.url, 'PUT', 'sys/policies/acl/tokmaker', { token: root, body: { policy: maker } })).status, 204);
    const parent = (await http(server.url, 'POST', 'auth/token/create', { token: root, body: { policies: ['tokmaker'] } })).body.auth.client_token as string;
    let checked = 0;
    for (const name of ['Root', 'ROOT', ' root', 'root ', 'root']) {
      checked++;
      const tok = await http(server.url, 'POST', 'auth/token/create', { token: parent, body: { policies: [name] } });
      if (tok.status !== 200) {
        assert.equal(tok.status, 400, tok.text); // "child policies must be subset of parent"
        continue;
      }
      const child = tok.body.auth.client_token as string;
      assert.ok(!(tok.body.auth.policies as string[]).includes('root'), `policy ${JSON.stringify(name)} became root`);
      assert.equal((await http(server.url, 'GET', 'sys/raw/core/keyring', { token: child })).status, 403, `policy ${JSON.stringify(name)} reads sys/raw`);
    }
    assert.equal(checked, 5);
  });
});
