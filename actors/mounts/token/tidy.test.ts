// auth/token/tidy through the real router on an in-memory store, with the damage planted by hand (Coffer's
// own revocations leave none): an accessor index and a parent index pointing at deleted tokens are removed,
// and a subtree under a deleted parent is revoked, never brought back as orphans.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenAccessorKey, tokenIdKey, tokenParentKey } from '../../core/tokens.js';
import { SALT, setup } from './test-env.js';

describe('auth/token/tidy', () => {
  it('removes dangling indexes and revokes the subtree of a missing parent; answers 202 with a warning', async () => {
    const env = setup();
    const data = env.t.physical.data;
    const keep = await env.create(env.root, { policies: ['p'] });
    const gone = await env.create(env.root, { policies: ['p'] });
    const parent = await env.create(env.root, { policies: ['p'] });
    const child = await env.create(parent.client_token);
    const grandchild = await env.create(child.client_token);
    const lostChild = await env.create(keep.client_token);

    // The damage: `gone`'s entry and `parent`'s entry vanish without their indexes; `lostChild`'s entry
    // vanishes but its parent index under `keep` stays.
    data.delete(tokenIdKey(SALT, gone.client_token));
    data.delete(tokenIdKey(SALT, parent.client_token));
    data.delete(tokenIdKey(SALT, lostChild.client_token));
    assert.ok(data.has(tokenAccessorKey(SALT, gone.accessor)));
    assert.ok(data.has(tokenParentKey(SALT, keep.client_token, lostChild.client_token)));
    // A token with a missing ancestor is already refused.
    assert.equal(env.resolves(child.client_token), false);

    const r = await env.t.request('update', 'tidy', {}, env.as(env.root));
    assert.equal(r.result?.statusCode, 202);
    assert.deepEqual(r.result?.warnings, ['Tidy operation successfully started. Any information from the operation will be printed to the server logs.']);

    assert.equal(data.has(tokenAccessorKey(SALT, gone.accessor)), false, 'accessor of a missing token removed');
    assert.equal(data.has(tokenParentKey(SALT, keep.client_token, lostChild.client_token)), false, 'index of a missing child removed');
    for (const t of [child, grandchild]) {
      assert.equal(data.has(tokenIdKey(SALT, t.client_token)), false, 'the subtree of a missing parent is revoked');
      assert.equal(data.has(tokenAccessorKey(SALT, t.accessor)), false);
      assert.equal(env.resolves(t.client_token), false);
    }
    assert.equal(data.has(tokenParentKey(SALT, parent.client_token, child.client_token)), false);
    // Live tokens and their indexes are untouched; a second run changes nothing.
    assert.ok(env.resolves(keep.client_token) && data.has(tokenAccessorKey(SALT, keep.accessor)));
    const before = [...data.keys()].sort();
    const again = await env.t.request('update', 'tidy', {}, env.as(env.root));
    assert.equal(again.index, null, 'nothing left to write');
    assert.deepEqual([...data.keys()].sort(), before);
  });
});
