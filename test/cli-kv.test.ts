// `coffer kv ...` as a user runs it: real CLI processes against a real `coffer server -dev` process.
// KV v2 round trips (put/get/patch/delete/undelete/destroy/list/metadata), -cas, -format=json, then a
// KV v1 mount enabled with `secrets enable -version=1` and the same commands on it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type ServerProcess, spawnCoffer, tempDir } from './helpers/server-process.js';

const ROOT = 'kv-cli-root';

describe('coffer kv', () => {
  let dev: ServerProcess;
  const home = tempDir('cli-kv-home');
  let env: Record<string, string>;
  const kv = async (args: string[], stdin?: string) => runCli(['kv', ...args], env, stdin);
  const ok = async (args: string[], stdin?: string) => {
    const r = await kv(args, stdin);
    assert.equal(r.code, 0, `coffer kv ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-format=json']));

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    env = { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT, HOME: home.path };
  });
  after(async () => {
    await dev?.kill();
    home.remove();
  });

  it('put and get with the path form and with -mount, table and JSON output', async () => {
    const put = await ok(['put', 'secret/app/db', 'user=alice', 'password=s3cret']);
    assert.match(put, /== Secret Path ==\nsecret\/data\/app\/db/);
    assert.match(put, /version\s+1\b/);
    const table = await ok(['get', 'secret/app/db']);
    assert.match(table, /=+ Metadata =+/);
    assert.match(table, /=+ Data =+/);
    assert.match(table, /^user\s+alice$/m);
    assert.match(table, /^password\s+s3cret$/m);
    assert.match(table, /^deletion_time\s+n\/a$/m);
    const body = await json(['get', '-mount=secret', 'app/db']);
    assert.deepEqual(body.data.data, { user: 'alice', password: 's3cret' });
    assert.equal(body.data.metadata.version, 1);
    assert.equal(typeof body.request_id, 'string');
    assert.equal((await ok(['get', '-field=password', 'secret/app/db'])).trim(), 's3cret');
  });

  it('key=@file, key=- (stdin) and a JSON object from stdin', async () => {
    const file = join(home.path, 'cert.pem');
    writeFileSync(file, '-----BEGIN-----\nabc\n-----END-----\n');
    await ok(['put', 'secret/files', `cert=@${file}`, 'note=-'], 'from stdin\n');
    const got = await json(['get', 'secret/files']);
    assert.equal(got.data.data.cert, '-----BEGIN-----\nabc\n-----END-----\n');
    assert.equal(got.data.data.note, 'from stdin');
    await ok(['put', 'secret/jsonin', '-'], '{"n": 1, "nested": {"a": true}}');
    assert.deepEqual((await json(['get', 'secret/jsonin'])).data.data, { n: 1, nested: { a: true } });
  });

  it('-cas: 0 only creates, N must be the current version; a mismatch exits 2 with the server error', async () => {
    await ok(['put', '-cas=0', 'secret/cas', 'v=1']);
    const again = await kv(['put', '-cas=0', 'secret/cas', 'v=2']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Error writing data to secret\/data\/cas: Error making API request\./);
    assert.match(again.stderr, /URL: PUT http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/cas/);
    assert.match(again.stderr, /check-and-set parameter did not match the current version/);
    await ok(['put', '-cas=1', 'secret/cas', 'v=2']);
    assert.equal((await json(['get', 'secret/cas'])).data.metadata.version, 2);
  });

  it('patch merges into the latest version (HTTP PATCH and -method=rw)', async () => {
    await ok(['put', 'secret/patchme', 'a=1', 'b=2']);
    await ok(['patch', 'secret/patchme', 'b=3', 'c=4']);
    assert.deepEqual((await json(['get', 'secret/patchme'])).data.data, { a: '1', b: '3', c: '4' });
    await ok(['patch', '-method=rw', '-mount=secret', 'patchme', 'a=9']);
    const got = await json(['get', 'secret/patchme']);
    assert.deepEqual(got.data.data, { a: '9', b: '3', c: '4' });
    assert.equal(got.data.metadata.version, 3);
    const missing = await kv(['patch', 'secret/never-written', 'a=1']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No value found at secret\/data\/never-written/);
  });

  it('versions: get -version, delete, undelete, destroy, metadata get/put/delete', async () => {
    await ok(['put', 'secret/ver', 'n=1']);
    await ok(['put', 'secret/ver', 'n=2']);
    await ok(['put', 'secret/ver', 'n=3']);
    assert.equal((await ok(['get', '-version=1', '-field=n', 'secret/ver'])).trim(), '1');

    assert.match(await ok(['delete', 'secret/ver']), /Success! Data deleted \(if it existed\) at: secret\/data\/ver/);
    // A soft-deleted latest version: Vault prints its metadata (deletion_time set) and no data.
    const deleted = await ok(['get', 'secret/ver']);
    assert.doesNotMatch(deleted, /=+ Data =+/);
    assert.doesNotMatch(deleted, /^deletion_time\s+n\/a$/m);
    assert.equal((await json(['get', 'secret/ver'])).data.data, null);

    await ok(['delete', '-versions=1', 'secret/ver']);
    assert.match(await ok(['undelete', '-versions=1,3', 'secret/ver']), /Success! Data written to: secret\/undelete\/ver/);
    assert.equal((await ok(['get', '-field=n', 'secret/ver'])).trim(), '3');
    assert.equal((await ok(['get', '-version=1', '-field=n', 'secret/ver'])).trim(), '1');

    assert.match(await ok(['destroy', '-versions=2', 'secret/ver']), /Success! Data written to: secret\/destroy\/ver/);
    const meta = await json(['metadata', 'get', 'secret/ver']);
    assert.equal(meta.data.current_version, 3);
    assert.equal(meta.data.versions['2'].destroyed, true);
    assert.equal(meta.data.versions['1'].destroyed, false);
    const metaTable = await ok(['metadata', 'get', 'secret/ver']);
    assert.match(metaTable, /== Metadata Path ==\nsecret\/metadata\/ver/);
    assert.match(metaTable, /=+ Version 2 =+/);

    await ok(['metadata', 'put', '-max-versions=7', '-cas-required=true', '-custom-metadata=owner=ops', '-custom-metadata=env=prod', 'secret/ver']);
    const meta2 = await json(['metadata', 'get', '-mount=secret', 'ver']);
    assert.equal(meta2.data.max_versions, 7);
    assert.equal(meta2.data.cas_required, true);
    assert.deepEqual(meta2.data.custom_metadata, { owner: 'ops', env: 'prod' });
    const noCas = await kv(['put', 'secret/ver', 'n=4']);
    assert.equal(noCas.code, 2, 'cas_required on the key: a write without -cas is refused');
    assert.match(noCas.stderr, /check-and-set parameter required/);

    const missingVersions = await kv(['undelete', 'secret/ver']);
    assert.equal(missingVersions.code, 1, 'a local usage error exits 1');
    assert.match(missingVersions.stderr, /Missing -versions flag/);

    assert.match(await ok(['metadata', 'delete', 'secret/ver']), /Success! Data deleted \(if it existed\) at: secret\/metadata\/ver/);
    const gone = await kv(['get', 'secret/ver']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /No value found at secret\/data\/ver/);
  });

  it('list: keys and folders, JSON body, 2 for an empty folder', async () => {
    await ok(['put', 'secret/tree/a', 'x=1']);
    await ok(['put', 'secret/tree/sub/b', 'x=1']);
    const out = await ok(['list', 'secret/tree']);
    assert.equal(out, 'Keys\n----\na\nsub/\n');
    assert.deepEqual((await json(['list', '-mount=secret', 'tree'])).data.keys, ['a', 'sub/']);
    const none = await kv(['list', 'secret/nothing-here']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No value found at secret\/metadata\/nothing-here\//);
  });

  it('a KV v1 mount from `secrets enable -version=1 kv`: put, get (with its lease), list, delete', async () => {
    const en = await runCli(['secrets', 'enable', '-path=kv1', '-version=1', '-description=v1 store', 'kv'], env);
    assert.equal(en.code, 0, en.stderr);
    assert.match(en.stdout, /Success! Enabled the kv secrets engine at: kv1\//);
    const list = JSON.parse((await runCli(['secrets', 'list', '-format=json'], env)).stdout);
    assert.deepEqual(list.data['kv1/'].options, { version: '1' });
    assert.equal(list.data['kv1/'].description, 'v1 store');

    assert.match(await ok(['put', 'kv1/app', 'user=bob']), /Success! Data written to: kv1\/app/);
    const table = await ok(['get', 'kv1/app']);
    assert.match(table, /^refresh_interval\s+768h$/m);
    assert.match(table, /^user\s+bob$/m);
    assert.doesNotMatch(table, /Metadata/);
    const body = await json(['get', '-mount=kv1', 'app']);
    assert.deepEqual(body.data, { user: 'bob' });
    assert.equal(body.lease_duration, 2764800);
    assert.equal((await ok(['list', 'kv1/'])).trim(), 'Keys\n----\napp');
    const cas = await kv(['put', '-cas=0', 'kv1/app', 'a=b']);
    assert.equal(cas.code, 1);
    const meta = await kv(['metadata', 'get', 'kv1/app']);
    assert.equal(meta.code, 1);
    assert.match(meta.stderr, /not supported on KV version 1/);
    assert.match(await ok(['delete', 'kv1/app']), /Success! Data deleted \(if it existed\) at: kv1\/app/);
    assert.equal((await kv(['get', 'kv1/app'])).code, 2);
  });

  it('errors: usage exits 1, a server error exits 2, an unreachable server exits 2', async () => {
    const usage = await kv(['put', 'secret/x', 'novalue']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /format must be key=value/);
    const denied = await runCli(['kv', 'get', 'secret/app/db'], { ...env, VAULT_TOKEN: 'not-a-token' });
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /permission denied|403/);
    const down = await runCli(['kv', 'get', 'secret/x'], { ...env, VAULT_ADDR: 'http://127.0.0.1:1' });
    assert.equal(down.code, 2);
  });
});
