import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { DEFAULT_POLICY_HCL } from '../policy/builtin.js';
import { policyKey, type StoredPolicy } from './policy-store.js';
import { getJson, putPlain, seededSys } from './test-seed.js';

async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CofferError, `expected a CofferError, got ${String(e)}`);
    assert.equal(e.value.code, code);
    if (message !== undefined) assert.deepEqual(e.value.messages, message === '' ? [] : [message]);
    return true;
  });
}

const HCL = `# app policy
path "secret/data/app/*" {
  capabilities = ["read", "list"]
}
`;

describe('sys/policies/acl', () => {
  it('writes (204), reads verbatim, lists with default and root, deletes', async () => {
    const sys = seededSys();
    putPlain(sys.physical, policyKey('default'), JSON.stringify({ name: 'default', raw: DEFAULT_POLICY_HCL, type: 'acl' }));
    const w = await sys.request('update', 'policies/acl/app', { policy: HCL });
    assert.equal(w.result, null);
    const stored = getJson<StoredPolicy>(sys.physical, policyKey('app'));
    assert.equal(stored?.raw, HCL);
    assert.equal(stored?.version, 1);
    const r = await sys.request('read', 'policies/acl/app');
    const d = r.result?.data as Record<string, unknown>;
    assert.equal(d.name, 'app');
    assert.equal(d.policy, HCL);
    assert.equal(r.result?.injectData, undefined);
    // LIST arrives with a trailing slash; both forms route
    for (const p of ['policies/acl/', 'policies/acl']) {
      const l = await sys.request('list', p);
      assert.deepEqual(l.result?.data, { keys: ['app', 'default', 'root'] });
    }
    assert.equal((await sys.request('delete', 'policies/acl/app')).result, null);
    await rejects(sys.request('read', 'policies/acl/app'), 'COFFER_ERR_NOT_FOUND', '');
    assert.deepEqual((await sys.request('list', 'policies/acl/')).result?.data, { keys: ['default', 'root'] });
  });

  it('root is listed last (appended after the stored names, as Vault does)', async () => {
    const sys = seededSys();
    await sys.request('update', 'policies/acl/zeta', { policy: HCL });
    assert.deepEqual((await sys.request('list', 'policies/acl/')).result?.data, { keys: ['default', 'zeta', 'root'] });
  });

  it('accepts JSON and base64 bodies; stores the decoded text', async () => {
    const sys = seededSys();
    const json = '{"path": {"secret/*": {"capabilities": ["read"]}}}';
    await sys.request('update', 'policies/acl/j', { policy: json });
    assert.equal(((await sys.request('read', 'policies/acl/j')).result?.data as Record<string, unknown>).policy, json);
    await sys.request('update', 'policies/acl/b', { policy: Buffer.from(HCL).toString('base64') });
    assert.equal(((await sys.request('read', 'policies/acl/b')).result?.data as Record<string, unknown>).policy, HCL);
  });

  it('lower-cases names with a warning', async () => {
    const sys = seededSys();
    const w = await sys.request('update', 'policies/acl/MixedCase', { policy: HCL });
    assert.deepEqual(w.result?.warnings, ['policy name was converted to mixedcase']);
    assert.ok(getJson<StoredPolicy>(sys.physical, policyKey('mixedcase')));
    assert.equal(((await sys.request('read', 'policies/acl/MIXEDCASE')).result?.data as Record<string, unknown>).name, 'mixedcase');
  });

  it('refuses invalid HCL and stores nothing', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'policies/acl/bad', { policy: 'path "x" { capabilities = ["read"' }), 'COFFER_ERR_INVALID_REQUEST');
    await assert.rejects(sys.request('update', 'policies/acl/bad', { policy: 'path "x" { capabilities = ["fly"] }' }), (e: unknown) => {
      assert.ok(e instanceof CofferError);
      assert.match(e.value.messages[0] as string, /^failed to parse policy: /);
      return true;
    });
    assert.equal(getJson(sys.physical, policyKey('bad')), undefined);
    assert.equal([...sys.physical.data.keys()].filter((k) => k.startsWith('sys/policy/')).length, 0);
  });

  it('root cannot be written or deleted, default cannot be deleted, empty policy refused', async () => {
    const sys = seededSys();
    await rejects(sys.request('update', 'policies/acl/root', { policy: HCL }), 'COFFER_ERR_INVALID_REQUEST', 'cannot update "root" policy');
    await rejects(sys.request('update', 'policies/acl/response-wrapping', { policy: HCL }), 'COFFER_ERR_INVALID_REQUEST', 'cannot update "response-wrapping" policy');
    await rejects(sys.request('delete', 'policies/acl/root'), 'COFFER_ERR_INVALID_REQUEST', 'cannot delete "root" policy');
    await rejects(sys.request('delete', 'policies/acl/default'), 'COFFER_ERR_INVALID_REQUEST', 'cannot delete default policy');
    await rejects(sys.request('update', 'policies/acl/p', {}), 'COFFER_ERR_INVALID_REQUEST', "'policy' parameter not supplied or empty");
    // default is writable
    assert.equal((await sys.request('update', 'policies/acl/default', { policy: HCL })).result, null);
    assert.equal(((await sys.request('read', 'policies/acl/default')).result?.data as Record<string, unknown>).policy, HCL);
  });

  it('reads root as an empty policy and default from the built-in text when never stored', async () => {
    const sys = seededSys();
    assert.equal(((await sys.request('read', 'policies/acl/root')).result?.data as Record<string, unknown>).policy, '');
    assert.equal(((await sys.request('read', 'policies/acl/default')).result?.data as Record<string, unknown>).policy, DEFAULT_POLICY_HCL);
  });

  it('GET sys/policies/acl (no name) is unsupported (405): only LIST lists', async () => {
    const sys = seededSys();
    await rejects(sys.request('read', 'policies/acl'), 'COFFER_ERR_METHOD_NOT_ALLOWED');
  });

  it('[OB] check-and-set', async () => {
    const sys = seededSys();
    await sys.request('update', 'policies/acl/c', { policy: HCL, cas: -1 });
    await rejects(sys.request('update', 'policies/acl/c', { policy: HCL, cas: -1 }), 'COFFER_ERR_INVALID_REQUEST', 'check-and-set parameter set to -1 on existing entry');
    await rejects(sys.request('update', 'policies/acl/c', { policy: HCL, cas: 5 }), 'COFFER_ERR_INVALID_REQUEST', 'check-and-set parameter did not match the current version');
    await sys.request('update', 'policies/acl/c', { policy: HCL, cas: 1, cas_required: true });
    await rejects(sys.request('update', 'policies/acl/c', { policy: HCL }), 'COFFER_ERR_INVALID_REQUEST', 'check-and-set parameter required for this call');
    assert.equal(((await sys.request('read', 'policies/acl/c')).result?.data as Record<string, unknown>).version, 2);
  });

  it('[OB] PATCH keeps the old text when none is given and needs an existing policy', async () => {
    const sys = seededSys();
    await rejects(sys.request('patch', 'policies/acl/none', { policy: HCL }), 'COFFER_ERR_NOT_FOUND', 'policy not found');
    await sys.request('update', 'policies/acl/p', { policy: HCL });
    await sys.request('patch', 'policies/acl/p', { cas_required: true });
    const s = getJson<StoredPolicy>(sys.physical, policyKey('p'));
    assert.equal(s?.raw, HCL);
    assert.equal(s?.cas_required, true);
  });
});

describe('legacy sys/policy', () => {
  it('GET lists keys and policies (injected); GET <name> returns rules (injected)', async () => {
    const sys = seededSys();
    await sys.request('update', 'policy/legacy', { rules: HCL });
    const l = await sys.request('read', 'policy');
    assert.equal(l.result?.injectData, true);
    assert.deepEqual(l.result?.data, { keys: ['default', 'legacy', 'root'], policies: ['default', 'legacy', 'root'] });
    const r = await sys.request('read', 'policy/legacy');
    assert.equal(r.result?.injectData, true);
    const d = r.result?.data as Record<string, unknown>;
    assert.equal(d.rules, HCL);
    assert.equal(d.name, 'legacy');
    assert.ok(!('policy' in d));
  });

  it('PUT with rules warns about the deprecation; with policy it does not', async () => {
    const sys = seededSys();
    const a = await sys.request('update', 'policy/a', { rules: HCL });
    assert.deepEqual(a.result?.warnings, ["'rules' is deprecated, please use 'policy' instead"]);
    assert.equal((await sys.request('update', 'policy/b', { policy: HCL })).result, null);
    assert.equal((await sys.request('delete', 'policy/b')).result, null);
    await rejects(sys.request('read', 'policy/b'), 'COFFER_ERR_NOT_FOUND', '');
    await rejects(sys.request('delete', 'policy/default'), 'COFFER_ERR_INVALID_REQUEST', 'cannot delete default policy');
  });
});
