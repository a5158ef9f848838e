// The SDK's typed methods for the mounts issue against an in-process dev node: KV v2 and v1, tokens,
// ACL policies, secrets engines, auth methods, capabilities; and examples/sdk.ts runs as documented.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, Client, startNode, type EmbeddedNode } from '../sdk/index.js';
import { main as runExample } from '../examples/sdk.js';

const is = (status: number) => (e: unknown) => e instanceof ApiError && e.status === status;

describe('SDK: mounts, KV, tokens, policies', () => {
  let node: EmbeddedNode;
  let c: Client;
  before(async () => {
    node = await startNode();
    c = node.client;
  });
  after(async () => node?.close());

  it('KV v2: write with cas, read versions, patch, delete/undelete/destroy, list, metadata, config', async () => {
    const m1 = await c.kvWrite('secret', 'sdk/a', { x: 1 }, { cas: 0 });
    assert.equal(m1.version, 1);
    assert.equal(m1.deletion_time, '');
    await assert.rejects(c.kvWrite('secret', 'sdk/a', { x: 2 }, { cas: 0 }), is(400));
    assert.equal((await c.kvWrite('secret', 'sdk/a', { x: 2, y: 'keep' }, { cas: 1 })).version, 2);
    assert.deepEqual((await c.kvRead('secret', 'sdk/a'))?.data, { x: 2, y: 'keep' });
    assert.deepEqual((await c.kvRead('secret', 'sdk/a', { version: 1 }))?.data, { x: 1 });
    assert.equal(await c.kvRead('secret', 'sdk/never'), null);
    assert.equal((await c.kvPatch('secret', 'sdk/a', { x: 3, y: null })).version, 3);
    assert.deepEqual((await c.kvRead('secret', 'sdk/a'))?.data, { x: 3 });
    await assert.rejects(c.kvPatch('secret', 'sdk/never', { a: 1 }), is(404));

    await c.kvDelete('secret', 'sdk/a');
    const deleted = await c.kvRead('secret', 'sdk/a');
    assert.equal(deleted?.data, null, 'a soft-deleted version reads as data: null with its metadata');
    assert.notEqual(deleted?.metadata.deletion_time, '');
    await c.kvUndelete('secret', 'sdk/a', [3]);
    assert.deepEqual((await c.kvRead('secret', 'sdk/a'))?.data, { x: 3 });
    await c.kvDeleteVersions('secret', 'sdk/a', [2]);
    await c.kvDestroy('secret', 'sdk/a', [1]);
    const meta = await c.kvReadMetadata('secret', 'sdk/a');
    assert.equal(meta?.current_version, 3);
    assert.equal(meta?.versions['1']?.destroyed, true);
    assert.notEqual(meta?.versions['2']?.deletion_time, '');

    await c.kvWriteMetadata('secret', 'sdk/a', { max_versions: 4, custom_metadata: { owner: 'sdk' } });
    const meta2 = await c.kvReadMetadata('secret', 'sdk/a');
    assert.equal(meta2?.max_versions, 4);
    assert.deepEqual(meta2?.custom_metadata, { owner: 'sdk' });

    await c.kvWrite('secret', 'sdk/dir/b', { z: true });
    assert.deepEqual(await c.kvList('secret', 'sdk'), ['a', 'dir/']);
    assert.deepEqual(await c.kvList('secret', 'nothing'), []);
    await c.kvDeleteMetadata('secret', 'sdk/a');
    assert.equal(await c.kvReadMetadata('secret', 'sdk/a'), null);
    assert.equal(await c.kvRead('secret', 'sdk/a'), null);

    const cfg = await c.kvReadConfig('secret');
    assert.equal(typeof cfg.max_versions, 'number');
    assert.equal(typeof cfg.cas_required, 'boolean');
  });

  it('mounts: enable a KV v1 engine, use it, read/tune it, list, disable; mountForPath tells the version', async () => {
    await c.mountEnable('sdk-v1', { type: 'kv', options: { version: '1' }, description: 'sdk v1' });
    const entry = await c.mountRead('sdk-v1');
    assert.equal(entry.type, 'kv');
    assert.deepEqual(entry.options, { version: '1' });
    assert.equal((await c.mountForPath('sdk-v1/some/key')).path, 'sdk-v1/');
    assert.equal((await c.mountForPath('secret/foo')).options?.['version'], '2');
    await assert.rejects(c.mountEnable('sdk-v1', { type: 'kv' }), is(400));

    await c.kv1Write('sdk-v1', 'cfg', { region: 'eu' });
    assert.deepEqual(await c.kv1Read('sdk-v1', 'cfg'), { region: 'eu' });
    assert.deepEqual(await c.kv1List('sdk-v1'), ['cfg']);
    await c.kv1Delete('sdk-v1', 'cfg');
    assert.equal(await c.kv1Read('sdk-v1', 'cfg'), null);

    await c.mountTune('sdk-v1', { default_lease_ttl: '1h', description: 'tuned' });
    const tune = await c.mountReadTune('sdk-v1');
    assert.equal(tune.default_lease_ttl, 3600);
    const list = await c.mountList();
    assert.ok(list['sdk-v1/'] && list['secret/'] && list['sys/']);
    await c.mountDisable('sdk-v1');
    assert.equal((await c.mountList())['sdk-v1/'], undefined);
    await c.mountDisable('sdk-v1'); // no error when nothing is mounted
  });

  it('auth methods: list has token/, enabling an unknown type is refused', async () => {
    const methods = await c.authList();
    assert.equal(methods['token/']?.type, 'token');
    await assert.rejects(c.authEnable('nope', { type: 'no-such-method' }), is(400));
    const tune = await c.authReadTune('token');
    assert.equal(typeof tune.max_lease_ttl, 'number');
  });

  it('policies and tokens: a token with a policy reads inside it, is refused outside; lookup, renew, revoke', async () => {
    const text = 'path "secret/data/team/*" {\n  capabilities = ["read", "update", "create"]\n}\n';
    await c.policyWrite('Team', text);
    assert.equal(await c.policyRead('team'), text, 'names are lower-cased, the text is kept verbatim');
    assert.ok((await c.policyList()).includes('team'));
    assert.equal(await c.policyRead('absent'), null);

    const auth = await c.tokenCreate({ policies: ['team'], ttl: '1h', meta: { who: 'sdk' }, display_name: 'sdk' });
    assert.deepEqual(auth.policies, ['default', 'team']);
    assert.equal(auth.lease_duration, 3600);
    const t = c.withToken(auth.client_token);
    await t.kvWrite('secret', 'team/x', { ok: true });
    assert.deepEqual((await t.kvRead('secret', 'team/x'))?.data, { ok: true });
    await assert.rejects(t.kvRead('secret', 'other/x'), is(403));
    await assert.rejects(t.policyList(), is(403));

    assert.deepEqual(await t.capabilitiesSelf(['secret/data/team/x', 'secret/data/other']), {
      'secret/data/team/x': ['create', 'read', 'update'],
      'secret/data/other': ['deny'],
    });
    assert.deepEqual((await c.capabilitiesSelf(['secret/data/anything']))['secret/data/anything'], ['root']);
    assert.deepEqual((await c.capabilities(auth.client_token, ['secret/data/team/x']))['secret/data/team/x'], ['create', 'read', 'update']);
    assert.deepEqual((await c.capabilitiesAccessor(auth.accessor, ['secret/data/team/x']))['secret/data/team/x'], ['create', 'read', 'update']);

    const look = await c.tokenLookup(auth.client_token);
    assert.equal(look.display_name, 'token-sdk');
    assert.deepEqual(look.meta, { who: 'sdk' });
    const byAcc = await c.tokenLookupAccessor(auth.accessor);
    assert.equal(byAcc.id, '');
    assert.equal((await c.tokenRenew(auth.client_token, '2h')).lease_duration, 7200);
    assert.equal((await c.tokenRenewAccessor(auth.accessor, 1800)).lease_duration, 1800);
    assert.ok((await c.tokenListAccessors()).includes(auth.accessor));

    const orphan = await c.tokenCreateOrphan({ policies: ['team'] });
    assert.equal(orphan.orphan, true);
    const parent = await c.tokenCreate({}); // inherits root's policies, so it may create children
    const child = await c.withToken(parent.client_token).tokenCreate({ policies: ['team'] });
    await c.tokenRevokeOrphan(parent.client_token);
    assert.equal((await c.tokenLookup(child.client_token)).orphan, true);
    await c.tokenRevokeAccessor(child.accessor);
    await assert.rejects(c.tokenLookup(child.client_token), (e: unknown) => e instanceof ApiError && (e.status === 403 || e.status === 400));

    await c.tokenRevoke(auth.client_token);
    await assert.rejects(t.kvRead('secret', 'team/x'), is(403));
    await c.policyDelete('team');
    assert.equal(await c.policyRead('team'), null);
  });

  it('self endpoints: lookupSelf, renewSelf, revokeSelf', async () => {
    const auth = await c.tokenCreate({ policies: ['default'], ttl: '10m' });
    const t = c.withToken(auth.client_token);
    assert.equal((await t.tokenLookupSelf()).accessor, auth.accessor);
    assert.equal((await t.tokenRenewSelf('20m')).lease_duration, 1200);
    await t.tokenRevokeSelf();
    await assert.rejects(t.tokenLookupSelf(), is(403));
  });

  it('namespaces: create, list, read, patch, delete; a client in a namespace reads and writes there only', async () => {
    const created = await c.namespaceCreate('sdk-team', { owner: 'sdk' });
    assert.equal(created.path, 'sdk-team/');
    const team = c.withNamespace('sdk-team');
    await team.namespaceCreate('inner');
    assert.deepEqual((await team.namespaceList()).keys, ['inner/']);
    assert.equal((await c.namespaceRead('sdk-team'))?.id, created.id);
    assert.equal(await c.namespaceRead('sdk-none'), null);
    assert.deepEqual((await c.namespacePatch('sdk-team', { owner: null, tier: 'gold' })).custom_metadata, { tier: 'gold' });
    await team.mountEnable('kv', { type: 'kv', options: { version: '2' } });
    await team.kvWrite('kv', 'app', { pw: 'team' });
    assert.deepEqual((await team.kvRead('kv', 'app'))?.data, { pw: 'team' });
    assert.equal(await c.kvRead('kv', 'app').catch((e: unknown) => (is(403)(e) || is(404)(e) ? null : Promise.reject(e))), null, 'not at the root');
    const key = await c.namespaceLock('sdk-team');
    await assert.rejects(team.kvRead('kv', 'app'), is(503));
    await team.namespaceUnlock('', key);
    assert.deepEqual((await team.kvRead('kv', 'app'))?.data, { pw: 'team' });
    await assert.rejects(c.namespaceDelete('sdk-team'), is(400));
    assert.equal(await team.namespaceDelete('inner'), true);
    assert.equal(await c.namespaceDelete('sdk-team'), true);
    assert.equal(await c.namespaceDelete('sdk-team'), false);
  });

  it('examples/sdk.ts runs and prints what docs/sdk.md shows', async () => {
    const lines: string[] = [];
    await runExample((l) => lines.push(l));
    assert.match(lines[0] as string, /^version 2: password=rotated, version 1 had s3cret$/);
    assert.ok(lines.includes('as the app: password=rotated'), lines.join('\n'));
    assert.ok(lines.includes('as the app: write refused (403 permission denied)'), lines.join('\n'));
    assert.ok(lines.includes('legacy/config: {"region":"eu"}'), lines.join('\n'));
  });
});
