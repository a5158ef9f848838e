// auth/token/ over HTTP on an embedded dev node: create with a policy, lookup-self, renew, revoke,
// children revoked with their parent, num_uses exhausted → 403, expiry → 403; and node-vault's
// tokenCreate / tokenLookupSelf / tokenRevoke used unchanged.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

interface Reply {
  status: number;
  body: any;
}

describe('auth/token over HTTP', () => {
  let node: EmbeddedNode;
  const call = (method: string, path: string, token: string | null, body?: unknown) => http(node.address, method, path, { ...(token !== null ? { token } : {}), body }).then((r) => ({ status: r.status, body: r.body }));
  const root = () => node.rootToken;
  const create = async (token: string, body: Record<string, unknown>): Promise<string> => {
    const r = await call('POST', 'auth/token/create', token, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.auth.client_token as string;
  };
  const lookupSelfStatus = async (token: string) => (await call('GET', 'auth/token/lookup-self', token)).status;

  before(async () => {
    node = await startNode();
    const put = async (name: string, policy: string) => {
      const r = await call('PUT', `sys/policies/acl/${name}`, root(), { policy });
      assert.ok(r.status === 200 || r.status === 204, `policy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    };
    await put('reader', 'path "secret/*" { capabilities = ["read"] }');
    await put('minter', 'path "auth/token/create" { capabilities = ["update"] }');
  });
  after(async () => {
    await node?.close();
  });

  it('create with a policy, lookup-self with the new token, renew, revoke', async () => {
    const r = await call('POST', 'auth/token/create', root(), { policies: ['reader'], ttl: '1h', meta: { app: 'web' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.data, null);
    const auth = r.body.auth;
    assert.match(auth.client_token, /^s\.[0-9A-Za-z]{24}$/);
    assert.deepEqual(
      { ...auth, client_token: '', accessor: '' },
      { client_token: '', accessor: '', policies: ['default', 'reader'], token_policies: ['default', 'reader'], metadata: { app: 'web' }, lease_duration: 3600, renewable: true, entity_id: '', token_type: 'service', orphan: false, num_uses: 0 },
    );
    const token = auth.client_token as string;

    const look = await call('GET', 'auth/token/lookup-self', token);
    assert.equal(look.status, 200);
    assert.equal(look.body.data.id, token);
    assert.equal(look.body.data.accessor, auth.accessor);
    assert.deepEqual(look.body.data.policies, ['default', 'reader']);
    assert.equal(look.body.data.path, 'auth/token/create');
    assert.equal(look.body.data.creation_ttl, 3600);
    assert.ok(look.body.data.ttl > 3590 && look.body.data.ttl <= 3600);
    assert.equal(look.body.auth, null);

    const renewed = await call('POST', 'auth/token/renew-self', token, { increment: '2h' });
    assert.equal(renewed.status, 200);
    assert.equal(renewed.body.auth.lease_duration, 7200);
    assert.equal(renewed.body.auth.client_token, token);
    const byRoot = await call('POST', 'auth/token/renew', root(), { token, increment: 600 });
    assert.equal(byRoot.status, 200);
    assert.equal(byRoot.body.auth.lease_duration, 600);

    const byAccessor = await call('POST', 'auth/token/lookup-accessor', root(), { accessor: auth.accessor });
    assert.equal(byAccessor.status, 200);
    assert.equal(byAccessor.body.data.id, '');

    const revoked = await call('POST', 'auth/token/revoke', root(), { token });
    assert.equal(revoked.status, 204);
    const after = await call('GET', 'auth/token/lookup-self', token);
    assert.deepEqual(after, { status: 403, body: { errors: ['permission denied'] } });
  });

  it('a non-root token cannot escalate its policies', async () => {
    const minter = await create(root(), { policies: ['minter'] });
    const r = await call('POST', 'auth/token/create', minter, { policies: ['reader'] });
    assert.deepEqual(r, { status: 400, body: { errors: ['child policies must be subset of parent'] } });
    const orphan = await call('POST', 'auth/token/create', minter, { no_parent: true });
    assert.deepEqual(orphan, { status: 400, body: { errors: ['root or sudo privileges required to create orphan token'] } });
  });

  it('children (and grandchildren) are revoked with their parent', async () => {
    const parent = await create(root(), { policies: ['minter'] });
    const child = await create(parent, {});
    const grandchild = await create(child, {});
    assert.equal(await lookupSelfStatus(grandchild), 200);
    assert.equal((await call('POST', 'auth/token/revoke', root(), { token: parent })).status, 204);
    for (const t of [parent, child, grandchild]) assert.equal(await lookupSelfStatus(t), 403);
  });

  it('revoke-self and revoke-orphan (children survive as orphans)', async () => {
    const parent = await create(root(), { policies: ['minter'] });
    const child = await create(parent, {});
    assert.equal((await call('POST', 'auth/token/revoke-orphan', root(), { token: parent })).status, 204);
    assert.equal(await lookupSelfStatus(parent), 403);
    const look = await call('GET', 'auth/token/lookup-self', child);
    assert.equal(look.status, 200);
    assert.equal(look.body.data.orphan, true);
    assert.equal((await call('POST', 'auth/token/revoke-self', child)).status, 204);
    assert.equal(await lookupSelfStatus(child), 403);
  });

  it('num_uses: exhausted → 403', async () => {
    const token = await create(root(), { policies: ['reader'], num_uses: 2 });
    const first = await call('GET', 'auth/token/lookup-self', token);
    assert.equal(first.status, 200);
    assert.equal(first.body.data.num_uses, 1);
    assert.equal(await lookupSelfStatus(token), 200);
    assert.deepEqual(await call('GET', 'auth/token/lookup-self', token), { status: 403, body: { errors: ['permission denied'] } });
  });

  it('expired → 403', async () => {
    const token = await create(root(), { policies: ['reader'], ttl: '1s' });
    assert.equal(await lookupSelfStatus(token), 200);
    await sleep(1300);
    assert.deepEqual(await call('GET', 'auth/token/lookup-self', token), { status: 403, body: { errors: ['permission denied'] } });
    const byRoot = await call('POST', 'auth/token/lookup', root(), { token });
    assert.deepEqual(byRoot, { status: 403, body: { errors: ['bad token'] } });
  });

  it('LIST auth/token/accessors needs sudo', async () => {
    const list = await call('LIST', 'auth/token/accessors', root());
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.body.data.keys) && list.body.data.keys.length > 0);
    const user = await create(root(), { policies: ['minter'] });
    assert.equal((await call('LIST', 'auth/token/accessors', user)).status, 403);
  });

  it('node-vault: tokenCreate, tokenLookupSelf, tokenRevoke', async () => {
    const admin = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    const vault = nodeVault({ apiVersion: 'v1', endpoint: node.address, token: root() });
    const created = await vault.tokenCreate({ policies: ['reader'], ttl: '30m' });
    const token = created.auth.client_token as string;
    assert.deepEqual(created.auth.policies, ['default', 'reader']);
    assert.equal(vault.token, token); // node-vault switches to the token it just created
    const self = await vault.tokenLookupSelf();
    assert.equal(self.data.id, token);
    assert.equal(self.data.ttl <= 1800 && self.data.ttl > 1790, true);
    await admin.tokenRevoke({ token });
    await assert.rejects(vault.tokenLookupSelf(), (e: any) => e.response?.statusCode === 403);
  });
});
