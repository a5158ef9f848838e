import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl } from './acl.js';
import { parsePolicy } from './parse.js';
import { DEFAULT_POLICY_HCL, RESPONSE_WRAPPING_POLICY_HCL, isSysRootPath } from './builtin.js';
import type { Operation, TemplateIdentity } from './types.js';

/** Compile policies given as [name, hcl] pairs, or bare hcl (named p0, p1, ...). */
async function acl(texts: Array<string | [string, string]>, identity?: TemplateIdentity): Promise<Acl> {
  const ps = await Promise.all(texts.map((t, i) => (typeof t === 'string' ? parsePolicy(`p${i}`, t) : parsePolicy(t[0], t[1]))));
  return Acl.compile(ps, identity ? { identity } : {});
}
const rule = (path: string, ...caps: string[]): string => `path "${path}" { capabilities = ${JSON.stringify(caps)} }\n`;

interface Case { name: string; policies: string[]; path: string; op: Operation; allowed: boolean; sudo?: boolean }

const cases: Case[] = [
  // exact vs glob
  { name: 'exact match beats a broader glob deny', policies: [rule('secret/foo', 'read') + rule('secret/*', 'deny')], path: 'secret/foo', op: 'read', allowed: true },
  { name: 'glob deny applies to non-exact paths', policies: [rule('secret/foo', 'read') + rule('secret/*', 'deny')], path: 'secret/bar', op: 'read', allowed: false },
  { name: 'exact pattern does not match a longer path', policies: [rule('secret/foo', 'read')], path: 'secret/foo/bar', op: 'read', allowed: false },
  { name: 'exact pattern does not match a shorter path', policies: [rule('secret/foo', 'read')], path: 'secret/fo', op: 'read', allowed: false },
  // * suffix glob
  { name: '* is a prefix glob across segments', policies: [rule('secret/zip-*', 'read')], path: 'secret/zip-zap/zong', op: 'read', allowed: true },
  { name: '* matches the empty rest', policies: [rule('secret/zip-*', 'read')], path: 'secret/zip-', op: 'read', allowed: true },
  { name: '* glob needs its prefix', policies: [rule('secret/zip-*', 'read')], path: 'secret/zip', op: 'read', allowed: false },
  { name: 'a lone * matches everything', policies: [rule('*', 'read')], path: 'sys/anything/at/all', op: 'read', allowed: true },
  { name: '* in the middle is a literal character', policies: [rule('secret/*/foo', 'read')], path: 'secret/x/foo', op: 'read', allowed: false },
  { name: '* in the middle matches itself literally', policies: [rule('secret/*/foo', 'read')], path: 'secret/*/foo', op: 'read', allowed: true },
  { name: 'longest prefix glob wins (deny)', policies: [rule('secret/*', 'read') + rule('secret/a/*', 'deny')], path: 'secret/a/b', op: 'read', allowed: false },
  { name: 'longest prefix glob wins (allow)', policies: [rule('secret/*', 'deny') + rule('secret/a/*', 'read')], path: 'secret/a/b', op: 'read', allowed: true },
  { name: 'shorter glob still applies elsewhere', policies: [rule('secret/*', 'read') + rule('secret/a/*', 'deny')], path: 'secret/b', op: 'read', allowed: true },
  // + segment wildcard
  { name: '+ matches one segment', policies: [rule('secret/+/teamb', 'read')], path: 'secret/x/teamb', op: 'read', allowed: true },
  { name: '+ does not match two segments', policies: [rule('secret/+/teamb', 'read')], path: 'secret/x/y/teamb', op: 'read', allowed: false },
  { name: '+ does not match zero segments', policies: [rule('secret/+/teamb', 'read')], path: 'secret/teamb', op: 'read', allowed: false },
  { name: '+ at the start', policies: [rule('+/config', 'read')], path: 'kv/config', op: 'read', allowed: true },
  { name: '+ then * prefix', policies: [rule('secret/+/team-*', 'read')], path: 'secret/x/team-a/deep', op: 'read', allowed: true },
  { name: '+ then * prefix, wrong literal', policies: [rule('secret/+/team-*', 'read')], path: 'secret/x/tea', op: 'read', allowed: false },
  { name: 'lone + matches a single segment path', policies: [rule('+', 'read')], path: 'foo', op: 'read', allowed: true },
  { name: 'lone + does not match two segments', policies: [rule('+', 'read')], path: 'foo/bar', op: 'read', allowed: false },
  // priority (a): first wildcard position
  { name: '(a) foo/a* beats foo/+ (later wildcard wins)', policies: [rule('foo/a*', 'read') + rule('foo/+', 'deny')], path: 'foo/ab', op: 'read', allowed: true },
  { name: '(a) foo/bar/+/baz beats foo/+/bar/baz', policies: [rule('foo/bar/+/baz', 'read') + rule('foo/+/bar/baz', 'deny')], path: 'foo/bar/bar/baz', op: 'read', allowed: true },
  { name: '(a) beats (b): later + over earlier exact-length', policies: [rule('foo/+/bar', 'deny') + rule('foo/x/b*', 'read')], path: 'foo/x/bar', op: 'read', allowed: true },
  // (b) non-prefix beats prefix
  { name: '(b) foo/+/bar beats foo/+/ba*', policies: [rule('foo/+/bar', 'deny') + rule('foo/+/ba*', 'read')], path: 'foo/x/bar', op: 'read', allowed: false },
  { name: '(b) foo/+ beats foo/*', policies: [rule('foo/+', 'read') + rule('foo/*', 'deny')], path: 'foo/x', op: 'read', allowed: true },
  { name: '(b) foo/* still applies deeper', policies: [rule('foo/+', 'read') + rule('foo/*', 'deny')], path: 'foo/x/y', op: 'read', allowed: false },
  // (c) fewer + segments
  { name: '(c) foo/+/bar/baz beats foo/+/+/baz', policies: [rule('foo/+/bar/baz', 'read') + rule('foo/+/+/baz', 'deny')], path: 'foo/x/bar/baz', op: 'read', allowed: true },
  // (d) longer
  { name: '(d) foo/+/bar/ba* beats foo/+/bar/b*', policies: [rule('foo/+/bar/ba*', 'read') + rule('foo/+/bar/b*', 'deny')], path: 'foo/x/bar/bat', op: 'read', allowed: true },
  // (e) lexicographically larger wins
  { name: '(e) +/a/+ beats +/+/a', policies: [rule('+/a/+', 'read') + rule('+/+/a', 'deny')], path: 'x/a/a', op: 'read', allowed: true },
  // union and deny
  { name: 'same pattern in two policies: union', policies: [rule('secret/x', 'read'), rule('secret/x', 'update')], path: 'secret/x', op: 'update', allowed: true },
  { name: 'same pattern in two policies: union (read)', policies: [rule('secret/x', 'read'), rule('secret/x', 'update')], path: 'secret/x', op: 'read', allowed: true },
  { name: 'same pattern twice in one policy: union', policies: [rule('secret/x', 'read') + rule('secret/x', 'delete')], path: 'secret/x', op: 'delete', allowed: true },
  { name: 'deny in any policy on the winning pattern wins', policies: [rule('secret/*', 'read', 'update'), rule('secret/*', 'deny')], path: 'secret/y', op: 'read', allowed: false },
  { name: 'deny first, then grants: still deny', policies: [rule('secret/*', 'deny'), rule('secret/*', 'read')], path: 'secret/y', op: 'read', allowed: false },
  { name: 'deny overrides sudo in the same list', policies: [rule('sys/audit', 'sudo', 'read', 'deny')], path: 'sys/audit', op: 'read', allowed: false },
  { name: 'no union across patterns', policies: [rule('secret/*', 'read'), rule('secret/foo*', 'update')], path: 'secret/foo', op: 'read', allowed: false },
  { name: 'no union across patterns (winner grants)', policies: [rule('secret/*', 'read'), rule('secret/foo*', 'update')], path: 'secret/foo', op: 'update', allowed: true },
  { name: 'exact and prefix of the same text are different patterns', policies: [rule('secret/foo', 'read'), rule('secret/foo*', 'deny')], path: 'secret/foo', op: 'read', allowed: true },
  // create vs update, other ops
  { name: 'update does not grant create', policies: [rule('secret/x', 'update')], path: 'secret/x', op: 'create', allowed: false },
  { name: 'create does not grant update', policies: [rule('secret/x', 'create')], path: 'secret/x', op: 'update', allowed: false },
  { name: 'create granted', policies: [rule('secret/x', 'create')], path: 'secret/x', op: 'create', allowed: true },
  { name: 'patch needs patch', policies: [rule('secret/x', 'update')], path: 'secret/x', op: 'patch', allowed: false },
  { name: 'delete', policies: [rule('secret/x', 'delete')], path: 'secret/x', op: 'delete', allowed: true },
  { name: 'nothing matches: denied', policies: [rule('secret/x', 'read')], path: 'other/x', op: 'read', allowed: false },
  { name: 'no policies: denied', policies: [], path: 'secret/x', op: 'read', allowed: false },
  // LIST and the trailing slash
  { name: 'LIST adds /: foo/ glob matches foo/', policies: [rule('secret/foo/*', 'list')], path: 'secret/foo', op: 'list', allowed: true },
  { name: 'LIST on exact pattern with slash', policies: [rule('secret/foo/', 'list')], path: 'secret/foo/', op: 'list', allowed: true },
  { name: 'LIST falls back to exact pattern without slash', policies: [rule('secret/foo', 'list')], path: 'secret/foo', op: 'list', allowed: true },
  { name: 'LIST exact-without-slash beats a glob on the slashed path', policies: [rule('secret/foo', 'list') + rule('secret/*', 'deny')], path: 'secret/foo/', op: 'list', allowed: true },
  { name: 'LIST: + glob retried without the slash', policies: [rule('secret/+', 'list')], path: 'secret/x/', op: 'list', allowed: true },
  { name: 'LIST: glob on slashed path beats the trimmed fallback', policies: [rule('secret/x/*', 'deny') + rule('secret/+', 'list')], path: 'secret/x', op: 'list', allowed: false },
  { name: 'read has no slash fallback', policies: [rule('secret/foo/', 'read')], path: 'secret/foo', op: 'read', allowed: false },
  { name: 'read of slashed path does not use exact without slash', policies: [rule('secret/foo', 'read')], path: 'secret/foo/', op: 'read', allowed: false },
  { name: 'list capability needed for LIST', policies: [rule('secret/*', 'read')], path: 'secret/', op: 'list', allowed: false },
  // sudo
  { name: 'sudo path without sudo capability', policies: [rule('sys/audit', 'read')], path: 'sys/audit', op: 'read', sudo: true, allowed: false },
  { name: 'sudo path with sudo capability', policies: [rule('sys/audit', 'read', 'sudo')], path: 'sys/audit', op: 'read', sudo: true, allowed: true },
  { name: 'sudo alone grants no operation', policies: [rule('sys/audit', 'sudo')], path: 'sys/audit', op: 'read', sudo: true, allowed: false },
  // leading slashes
  { name: 'leading / in the pattern is stripped', policies: [rule('/secret/x', 'read')], path: 'secret/x', op: 'read', allowed: true },
  { name: 'leading / in the path is stripped', policies: [rule('secret/x', 'read')], path: '//secret/x', op: 'read', allowed: true },
  // legacy policy
  { name: 'legacy write grants create', policies: ['path "secret/*" { policy = "write" }'], path: 'secret/a', op: 'create', allowed: true },
  { name: 'legacy write has no sudo', policies: ['path "sys/audit" { policy = "write" }'], path: 'sys/audit', op: 'update', sudo: true, allowed: false },
  { name: 'legacy sudo has sudo', policies: ['path "sys/audit" { policy = "sudo" }'], path: 'sys/audit', op: 'update', sudo: true, allowed: true },
  { name: 'legacy read grants list', policies: ['path "secret/*" { policy = "read" }'], path: 'secret/', op: 'list', allowed: true },
  { name: 'legacy read has no update', policies: ['path "secret/*" { policy = "read" }'], path: 'secret/a', op: 'update', allowed: false },
  { name: 'legacy deny', policies: ['path "secret/*" { policy = "deny" }', rule('secret/*', 'read')], path: 'secret/a', op: 'read', allowed: false },
];

for (const c of cases) {
  test(`acl table: ${c.name}`, async () => {
    const a = await acl(c.policies);
    assert.equal(a.allows(c.path, c.op, { sudo: c.sudo ?? false }), c.allowed, `${c.op} ${c.path}`);
  });
}

test('root policy allows everything and reports ["root"]', async () => {
  const a = await acl([['root', ''], rule('secret/*', 'deny')]);
  assert.equal(a.isRoot, true);
  assert.equal(a.allows('secret/x', 'delete', { sudo: true }), true);
  assert.equal(a.allows('sys/raw/x', 'read', { sudo: true }), true);
  assert.deepEqual(a.capabilities('anything'), ['root']);
  assert.equal(a.check('x', 'read').rootPrivs, true);
  const b = Acl.compile([{ name: 'root', rules: [], raw: '' }]);
  assert.equal(b.isRoot, true);
});

test('capabilities(): sorted, deny when none or deny, list fallbacks apply', async () => {
  const a = await acl([
    rule('secret/*', 'update', 'read', 'sudo', 'list', 'create', 'delete', 'patch'),
    rule('secret/no', 'deny'),
    rule('secret/dir', 'list'),
  ]);
  assert.deepEqual(a.capabilities('secret/a'), ['create', 'delete', 'list', 'patch', 'read', 'sudo', 'update']);
  assert.deepEqual(a.capabilities('secret/no'), ['deny']);
  assert.deepEqual(a.capabilities('other'), ['deny']);
  assert.deepEqual(a.capabilities('secret/dir/'), ['list']);
  assert.deepEqual(a.capabilities('/secret/a'), ['create', 'delete', 'list', 'patch', 'read', 'sudo', 'update']);
  assert.deepEqual(Acl.compile([]).capabilities('x'), ['deny']);
  const p = await acl([rule('x', 'read'), rule('x', 'update')]);
  assert.deepEqual(p.capabilities('x'), ['read', 'update']);
});

test('check() reports the matched pattern and the granting policies', async () => {
  const a = await acl([['alpha', rule('secret/+/x', 'read')], ['beta', rule('secret/+/x', 'read', 'update')]]);
  const r = a.check('secret/q/x', 'read');
  assert.equal(r.allowed, true);
  assert.equal(r.matchedPattern, 'secret/+/x');
  assert.deepEqual(r.grantingPolicies, ['alpha', 'beta']);
  assert.deepEqual(a.check('secret/q/x', 'update').grantingPolicies, ['beta']);
});

test('default policy parses, compiles, and grants what Vault grants', async () => {
  const a = await acl([['default', DEFAULT_POLICY_HCL]]);
  assert.equal(a.allows('auth/token/lookup-self', 'read'), true);
  assert.equal(a.allows('auth/token/renew-self', 'update'), true);
  assert.equal(a.allows('auth/token/revoke-self', 'update'), true);
  assert.equal(a.allows('sys/capabilities-self', 'update'), true);
  assert.equal(a.allows('cubbyhole/foo', 'create'), true);
  assert.equal(a.allows('cubbyhole/', 'list'), true);
  assert.equal(a.allows('sys/wrapping/unwrap', 'update'), true);
  assert.equal(a.allows('sys/tools/hash/sha2-256', 'update'), true);
  assert.equal(a.allows('sys/internal/ui/resultant-acl', 'read'), true);
  assert.equal(a.allows('identity/oidc/provider/p1/authorize', 'read'), true);
  assert.equal(a.allows('secret/data/x', 'read'), false);
  assert.equal(a.allows('auth/token/lookup-self', 'update'), false);
  // templated entity paths: skipped without an identity, resolved with one
  assert.equal(a.allows('identity/entity/id/e1', 'read'), false);
  const b = await acl([['default', DEFAULT_POLICY_HCL]], { entity: { id: 'e1', name: 'alice' } });
  assert.equal(b.allows('identity/entity/id/e1', 'read'), true);
  assert.equal(b.allows('identity/entity/name/alice', 'read'), true);
  assert.equal(b.allows('identity/entity/id/e2', 'read'), false);
  const w = await acl([['response-wrapping', RESPONSE_WRAPPING_POLICY_HCL]]);
  assert.equal(w.allows('cubbyhole/response', 'read'), true);
  assert.equal(w.allows('cubbyhole/response', 'update'), false);
});

test('templated values with / or wildcards are not substituted', async () => {
  const a = await acl([rule('kv/{{identity.entity.metadata.team}}/*', 'read')], { entity: { id: 'e', name: 'n', metadata: { team: 'a/b' } } });
  assert.equal(a.allows('kv/a/b/x', 'read'), false);
  const b = await acl([rule('kv/{{identity.entity.metadata.team}}/*', 'read')], { entity: { id: 'e', name: 'n', metadata: { team: 'red' } } });
  assert.equal(b.allows('kv/red/x', 'read'), true);
});

test('parameter constraints', async () => {
  const a = await acl([
    `path "p/allow" {
       capabilities = ["create", "update"]
       allowed_parameters = { "Name" = [], "color" = ["red", "bl*"] }
     }
     path "p/deny" {
       capabilities = ["update"]
       denied_parameters = { "secret" = [] , "mode" = ["*admin*"] }
     }
     path "p/star" {
       capabilities = ["update"]
       allowed_parameters = { "*" = [], "color" = ["red"] }
     }
     path "p/req" {
       capabilities = ["update"]
       required_parameters = ["id"]
     }
     path "p/none" {
       capabilities = ["update"]
       denied_parameters = { "*" = [] }
     }`,
  ]);
  const ok = (p: string, data: Record<string, unknown>): boolean => a.allows(p, 'update', { data });
  assert.equal(ok('p/allow', { name: 'x' }), true);
  assert.equal(ok('p/allow', { color: 'blue' }), true);
  assert.equal(ok('p/allow', { color: 'green' }), false);
  assert.equal(ok('p/allow', { other: 1 }), false);
  assert.equal(ok('p/allow', {}), true);
  assert.equal(ok('p/deny', { secret: 'x' }), false);
  assert.equal(ok('p/deny', { mode: 'superadmin1' }), false);
  assert.equal(ok('p/deny', { mode: 'user' }), true);
  assert.equal(ok('p/star', { anything: 1 }), true);
  assert.equal(ok('p/star', { color: 'blue' }), false);
  assert.equal(ok('p/req', { id: 1 }), true);
  assert.equal(ok('p/req', { other: 1 }), false);
  assert.equal(ok('p/req', {}), false);
  assert.equal(ok('p/none', {}), true);
  assert.equal(ok('p/none', { a: 1 }), false);
});

test('merged parameter constraints: an empty list absorbs values', async () => {
  const a = await acl([
    'path "p" { \n capabilities = ["update"]\n allowed_parameters = { "c" = ["red"] }\n }',
    'path "p" { \n capabilities = ["update"]\n allowed_parameters = { "c" = ["blue"], "d" = [] }\n }',
    'path "q" { \n capabilities = ["update"]\n allowed_parameters = { "c" = ["red"] }\n }',
    'path "q" { \n capabilities = ["update"]\n allowed_parameters = { "c" = [] }\n }',
  ]);
  assert.equal(a.allows('p', 'update', { data: { c: 'red' } }), true);
  assert.equal(a.allows('p', 'update', { data: { c: 'blue' } }), true);
  assert.equal(a.allows('p', 'update', { data: { c: 'green' } }), false);
  assert.equal(a.allows('p', 'update', { data: { d: 'any' } }), true);
  assert.equal(a.allows('q', 'update', { data: { c: 'green' } }), true);
});

test('wrapping TTL bounds', async () => {
  const a = await acl(['path "w" {\n capabilities = ["update"]\n min_wrapping_ttl = "1m"\n max_wrapping_ttl = "1h"\n }']);
  assert.equal(a.allows('w', 'update'), false, 'no wrapping requested');
  assert.equal(a.allows('w', 'update', { wrapTtlSeconds: 30 }), false);
  assert.equal(a.allows('w', 'update', { wrapTtlSeconds: 300 }), true);
  assert.equal(a.allows('w', 'update', { wrapTtlSeconds: 7200 }), false);
});

test('pagination limit on list', async () => {
  const a = await acl(['path "kv/*" {\n capabilities = ["list"]\n pagination_limit = 10\n }']);
  assert.equal(a.check('kv/', 'list').paginationLimit, 10);
  assert.equal(a.allows('kv/', 'list', { data: { limit: '5' } }), true);
  assert.equal(a.allows('kv/', 'list', { data: { limit: 50 } }), false);
  assert.equal(a.allows('kv/', 'list', { data: { limit: 'max' } }), true);
  assert.equal(a.allows('kv/', 'list', { data: { limit: -1 } }), false);
});

test('expired rules are ignored at compile time', async () => {
  const p = await parsePolicy('e', 'path "x" {\n capabilities = ["read"]\n expiration = "2999-01-01T00:00:00Z"\n }');
  assert.equal(Acl.compile([p]).allows('x', 'read'), true);
  assert.equal(Acl.compile([p], { now: Date.parse('3000-01-01T00:00:00Z') }).allows('x', 'read'), false);
  const gone = await parsePolicy('e', 'path "x" {\n capabilities = ["read"]\n expiration = "2000-01-01T00:00:00Z"\n }');
  assert.equal(gone.rules.length, 0);
});

test('isSysRootPath', () => {
  assert.equal(isSysRootPath('sys/audit'), true);
  assert.equal(isSysRootPath('sys/audit/file'), true);
  assert.equal(isSysRootPath('sys/auth/userpass'), true);
  assert.equal(isSysRootPath('sys/auth'), false);
  assert.equal(isSysRootPath('sys/mounts'), false);
  assert.equal(isSysRootPath('sys/leases/lookup/x'), true);
  assert.equal(isSysRootPath('sys/leases/lookup'), false);
});
