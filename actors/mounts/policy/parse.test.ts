import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../../runtime/errors.js';
import { assertPolicyDeletable, assertPolicyWritable, decodePolicyBody, durationSeconds, normalizePolicyName, parsePolicy } from './parse.js';
import { DEFAULT_POLICY_HCL, RESPONSE_WRAPPING_POLICY_HCL } from './builtin.js';

async function parseError(text: string): Promise<string> {
  try {
    await parsePolicy('x', text);
  } catch (e) {
    assert.ok(e instanceof CofferError, `expected CofferError, got ${String(e)}`);
    assert.equal(e.value.code, 'COFFER_ERR_INVALID_REQUEST');
    assert.equal(e.value.messages.length, 1);
    return e.value.messages[0]!;
  }
  assert.fail(`expected a parse error for ${JSON.stringify(text)}`);
}

const HCL = `
# team policy
path "secret/data/*" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "Foo" = ["a", "b*"]
    "*"   = []
  }
  denied_parameters = { "bar" = [] }
  required_parameters = ["id"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
}

path "/sys/audit" {
  policy = "sudo"
}

path "secret/+/deny" {
  capabilities = ["read", "deny"]
}
`;
const JSON_TEXT = JSON.stringify({
  path: {
    'secret/data/*': {
      capabilities: ['create', 'read', 'update'],
      allowed_parameters: { Foo: ['a', 'b*'], '*': [] },
      denied_parameters: { bar: [] },
      required_parameters: ['id'],
      min_wrapping_ttl: '1s',
      max_wrapping_ttl: 90,
    },
    '/sys/audit': { policy: 'sudo' },
    'secret/+/deny': { capabilities: ['read', 'deny'] },
  },
}, null, 2);

test('HCL and JSON forms parse to the same rules', async () => {
  const h = await parsePolicy('Team', HCL);
  const j = await parsePolicy('team', JSON_TEXT);
  assert.deepEqual(h.rules, j.rules);
  assert.equal(h.name, 'team');
  assert.equal(h.raw, HCL);
  assert.equal(j.raw, JSON_TEXT);
  assert.deepEqual(h.rules, [
    {
      path: 'secret/data/*',
      capabilities: ['create', 'read', 'update'],
      allowed_parameters: { foo: ['a', 'b*'], '*': [] },
      denied_parameters: { bar: [] },
      required_parameters: ['id'],
      min_wrapping_ttl: 1,
      max_wrapping_ttl: 90,
    },
    { path: 'sys/audit', policy: 'sudo', capabilities: ['create', 'read', 'update', 'delete', 'list', 'sudo'] },
    { path: 'secret/+/deny', capabilities: ['deny'] },
  ]);
});

test('JSON list form and duplicate HCL blocks', async () => {
  const j = await parsePolicy('a', JSON.stringify({ path: [{ x: { capabilities: ['read'] } }, { x: { capabilities: ['list'] } }] }));
  const h = await parsePolicy('a', 'path "x" {\n capabilities = ["read"]\n}\npath "x" {\n capabilities = ["list"]\n}\n');
  assert.deepEqual(j.rules, h.rules);
  assert.equal(h.rules.length, 2);
});

test('legacy policy values map as Vault maps them', async () => {
  const map = async (v: string): Promise<string[]> => (await parsePolicy('l', `path "a" {\n policy = "${v}"\n}`)).rules[0]!.capabilities;
  assert.deepEqual(await map('read'), ['read', 'list']);
  assert.deepEqual(await map('write'), ['create', 'read', 'update', 'delete', 'list']);
  assert.deepEqual(await map('sudo'), ['create', 'read', 'update', 'delete', 'list', 'sudo']);
  assert.deepEqual(await map('deny'), ['deny']);
  // legacy combines with capabilities (appended), except deny which replaces
  const both = await parsePolicy('l', 'path "a" {\n capabilities = ["patch"]\n policy = "read"\n}');
  assert.deepEqual(both.rules[0]!.capabilities, ['patch', 'read', 'list']);
  assert.equal(await parseError('path "/" {\n policy = "banana"\n}'), 'failed to parse policy: path "/": invalid policy "banana"');
});

test('deny collapses the capability list; later entries are not validated (as in OpenBao)', async () => {
  const p = await parsePolicy('d', 'path "a" {\n capabilities = ["read", "deny", "bogus"]\n}');
  assert.deepEqual(p.rules[0]!.capabilities, ['deny']);
});

test('unknown capability rejected with Vault wording', async () => {
  assert.equal(await parseError('path "/" {\n capabilities = ["read", "banana"]\n}'), 'failed to parse policy: path "/": invalid capability "banana"');
  assert.equal(await parseError('path "a" {\n capabilities = ["root"]\n}'), 'failed to parse policy: path "a": invalid capability "root"');
});

test('invalid keys are reported with their line', async () => {
  assert.equal(
    await parseError('path "/" {\n  capabilites = ["read"]\n}'),
    'failed to parse policy: path "/": invalid key "capabilites" on line 2',
  );
  assert.equal(
    await parseError('name = "x"\nbad = "y"\nnope = "z"\n'),
    'failed to parse policy: invalid key "bad" on line 2, invalid key "nope" on line 3',
  );
});

test('bad HCL is rejected with the parser message', async () => {
  const m = await parseError('path "x" { capabilities = [ }');
  assert.match(m, /^failed to parse policy: At 1:\d+: /);
  const m2 = await parseError('path "x" {\n capabilities = ["read"]\n');
  assert.match(m2, /^failed to parse policy: /);
  const m3 = await parseError('{"path": {"x": ');
  assert.match(m3, /^failed to parse policy: /);
  // like Vault, only text starting with `{` is JSON; anything else goes to the HCL parser
  assert.match(await parseError('[1, 2]'), /^failed to parse policy: At 1:1: /);
});

test('wrong value types are rejected', async () => {
  assert.match(await parseError('path "x" {\n capabilities = "read"\n}'), /^failed to parse policy: path "x": capabilities: expected a list of strings$/);
  assert.match(await parseError('path "x" {\n capabilities = [read]\n}'), /invalid capability/);
  assert.match(await parseError('{"path": {"x": 5}}'), /path "x": expected an object/);
});

test('+* is forbidden', async () => {
  assert.equal(await parseError('path "foo/+*" {\n capabilities = ["read"]\n}'), `failed to parse policy: path "foo/+*": invalid use of wildcards ('+*' is forbidden)`);
});

test('wrapping TTLs', async () => {
  assert.equal(await parseError('path "x" {\n capabilities = ["read"]\n min_wrapping_ttl = "2h"\n max_wrapping_ttl = "1h"\n}'), 'failed to parse policy: max_wrapping_ttl cannot be less than min_wrapping_ttl');
  assert.match(await parseError('path "x" {\n capabilities = ["read"]\n min_wrapping_ttl = "soon"\n}'), /^failed to parse policy: error parsing min_wrapping_ttl: /);
  assert.equal(durationSeconds('1h30m', 't'), 5400);
  assert.equal(durationSeconds('90', 't'), 90);
  assert.equal(durationSeconds(15, 't'), 15);
  assert.equal(durationSeconds('2d', 't'), 172800);
  assert.equal(durationSeconds('1.5s', 't'), 1.5);
});

test('templating is detected and validated', async () => {
  const p = await parsePolicy('t', 'path "kv/{{identity.entity.id}}/*" {\n capabilities = ["read"]\n}');
  assert.equal(p.templated, true);
  assert.equal(p.rules[0]!.templated, true);
  assert.match(await parseError('path "kv/{{identity.entity.id}/*" {\n capabilities = ["read"]\n}'), /failed to validate policy templating/);
  assert.match(await parseError('path "kv/{{foo}}/*" {\n capabilities = ["read"]\n}'), /failed to validate policy templating/);
});

test('empty policy and comments only are valid and grant nothing', async () => {
  assert.deepEqual((await parsePolicy('e', '')).rules, []);
  assert.deepEqual((await parsePolicy('e', '# nothing\n// here\n/* or here */\n')).rules, []);
  assert.deepEqual((await parsePolicy('e', '{}')).rules, []);
});

test('built-in policies parse', async () => {
  const d = await parsePolicy('default', DEFAULT_POLICY_HCL);
  assert.equal(d.name, 'default');
  assert.equal(d.templated, true);
  assert.ok(d.rules.length >= 16);
  assert.ok(d.rules.some((r) => r.path === 'cubbyhole/*' && r.capabilities.includes('list')));
  const w = await parsePolicy('response-wrapping', RESPONSE_WRAPPING_POLICY_HCL);
  assert.equal(w.rules.length, 2);
});

test('names: normalised, root/response-wrapping immutable, default undeletable', () => {
  assert.equal(normalizePolicyName('  Dev-Team '), 'dev-team');
  assert.equal(assertPolicyWritable('Dev'), 'dev');
  assert.throws(() => assertPolicyWritable('ROOT'), (e: unknown) => e instanceof CofferError && e.value.messages[0] === 'cannot update "root" policy');
  assert.throws(() => assertPolicyWritable('response-wrapping'), /cannot update "response-wrapping" policy/);
  assert.equal(assertPolicyWritable('default'), 'default');
  assert.throws(() => assertPolicyDeletable('root'), /cannot delete "root" policy/);
  assert.throws(() => assertPolicyDeletable('Default'), (e: unknown) => e instanceof CofferError && e.value.messages[0] === 'cannot delete default policy');
  assert.equal(assertPolicyDeletable('dev'), 'dev');
});

test('base64 policy bodies are decoded like Vault does', () => {
  const text = 'path "x" { capabilities = ["read"] }';
  assert.equal(decodePolicyBody(Buffer.from(text).toString('base64')), text);
  assert.equal(decodePolicyBody(text), text);
});
