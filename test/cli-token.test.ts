// `coffer token`, `policy`, `secrets`, `auth` and `login` as a user runs them: real CLI processes
// against a real dev server. A token made with a policy is refused outside it (403, exit 2); a policy
// file reads back verbatim; login verifies the token and writes ~/.coffer-token (temp HOME).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type ServerProcess, spawnCoffer, tempDir } from './helpers/server-process.js';

const ROOT = 'token-cli-root';

const POLICY = `# read-only access to app secrets
path "secret/data/app/*" {
  capabilities = ["read", "list"]
}

path "secret/metadata/app/*" {
  capabilities = ["list"]
}
`;

describe('coffer token / policy / secrets / auth / login', () => {
  let dev: ServerProcess;
  const home = tempDir('cli-token-home');
  let env: Record<string, string>;
  const ok = async (args: string[], extra: Record<string, string> = {}, stdin?: string) => {
    const r = await runCli(args, { ...env, ...extra }, stdin);
    assert.equal(r.code, 0, `coffer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    env = { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT, HOME: home.path };
  });
  after(async () => {
    await dev?.kill();
    home.remove();
  });

  it('policy write from a file, read back verbatim, list, delete; stdin with -', async () => {
    const file = join(home.path, 'app-read.hcl');
    writeFileSync(file, POLICY);
    assert.match(await ok(['policy', 'write', 'app-read', file]), /Success! Uploaded policy: app-read/);
    assert.equal(await ok(['policy', 'read', 'app-read']), POLICY);
    assert.equal(JSON.parse(await ok(['policy', 'read', '-format=json', 'app-read'])).data.policy, POLICY);
    const names = (await ok(['policy', 'list'])).trim().split('\n');
    assert.ok(names.includes('app-read') && names.includes('default') && names.includes('root'), names.join(','));
    await ok(['policy', 'write', 'tmp', '-'], {}, 'path "x/*" { capabilities = ["read"] }\n');
    assert.match(await ok(['policy', 'read', 'tmp']), /path "x\/\*"/);
    assert.match(await ok(['policy', 'delete', 'tmp']), /Success! Deleted policy: tmp/);
    const gone = await runCli(['policy', 'read', 'tmp'], env);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /No policy named: tmp/);
    const bad = await runCli(['policy', 'write', 'broken', '-'], env, 'path "x" { capabilities = ');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /failed to parse policy/);
  });

  it('token create with a policy: allowed inside it, 403 (exit 2) outside it; lookup, renew, revoke', async () => {
    await ok(['kv', 'put', 'secret/app/db', 'password=s3cret']);
    await ok(['kv', 'put', 'secret/other/db', 'password=hidden']);
    const created = JSON.parse(await ok(['token', 'create', '-policy=app-read', '-ttl=1h', '-display-name=ci', '-metadata', 'team=payments', '-format=json']));
    const token: string = created.auth.client_token;
    assert.match(token, /^s\./);
    assert.deepEqual(created.auth.policies, ['app-read', 'default']);
    assert.equal(created.auth.lease_duration, 3600);
    assert.deepEqual(created.auth.metadata, { team: 'payments' });

    const as = { VAULT_TOKEN: token };
    assert.equal((await ok(['kv', 'get', '-field=password', 'secret/app/db'], as)).trim(), 's3cret');
    const outside = await runCli(['kv', 'get', 'secret/other/db'], { ...env, ...as });
    assert.equal(outside.code, 2, outside.stderr);
    assert.match(outside.stderr, /403|permission denied/);
    const write = await runCli(['kv', 'put', 'secret/app/db', 'password=x'], { ...env, ...as });
    assert.equal(write.code, 2);
    assert.match(write.stderr, /Code: 403/);
    assert.match(write.stderr, /permission denied/);

    const lookup = JSON.parse(await ok(['token', 'lookup', '-format=json', token]));
    assert.equal(lookup.data.display_name, 'token-ci');
    assert.deepEqual(lookup.data.policies, ['app-read', 'default']);
    const byAccessor = await ok(['token', 'lookup', '-accessor', created.auth.accessor]);
    assert.match(byAccessor, /^display_name\s+token-ci$/m);
    assert.match(await ok(['token', 'capabilities', token, 'secret/data/app/db']), /list, read|read, list/);

    const renewed = await ok(['token', 'renew', '-increment=2h', token]);
    assert.match(renewed, /^token_duration\s+2h$/m);
    assert.match(await ok(['token', 'revoke', token]), /Success! Revoked token \(if it existed\)/);
    const dead = await runCli(['kv', 'get', 'secret/app/db'], { ...env, ...as });
    assert.equal(dead.code, 2);
  });

  it('token create table output, -orphan, -num-uses, revoke -accessor and -mode=orphan', async () => {
    const table = await ok(['token', 'create', '-policy=app-read', '-policy=default']);
    assert.match(table, /^token\s+s\./m);
    assert.match(table, /^token_policies\s+\["app-read" "default"\]$/m);
    assert.match(table, /^token_duration\s+768h$/m);
    const orphan = JSON.parse(await ok(['token', 'create', '-orphan', '-num-uses=5', '-format=json']));
    assert.equal(orphan.auth.orphan, true);
    assert.equal(orphan.auth.num_uses, 5);
    const parent = (await ok(['token', 'create', '-field=token'])).trim();
    const child = JSON.parse(await ok(['token', 'create', '-format=json'], { VAULT_TOKEN: parent }));
    assert.match(await ok(['token', 'revoke', '-mode=orphan', parent]), /Revoked/);
    const childLookup = JSON.parse(await ok(['token', 'lookup', '-format=json', child.auth.client_token]));
    assert.equal(childLookup.data.orphan, true, 'the child survives its parent, as an orphan');
    await ok(['token', 'revoke', '-accessor', child.auth.accessor]);
    const gone = await runCli(['token', 'lookup', child.auth.client_token], env);
    assert.equal(gone.code, 2);
    const usage = await runCli(['token', 'revoke'], env);
    assert.equal(usage.code, 1);
  });

  it('secrets enable/list/tune/disable and auth list', async () => {
    assert.match(await ok(['secrets', 'enable', '-path=team-kv', '-version=2', '-description=team secrets', 'kv']), /Enabled the kv secrets engine at: team-kv\//);
    const table = await ok(['secrets', 'list']);
    assert.match(table, /^team-kv\/\s+kv\s+kv_\w+\s+team secrets$/m);
    assert.match(table, /^secret\/\s+kv\s+/m);
    await ok(['kv', 'put', 'team-kv/a', 'x=1']);
    assert.equal(JSON.parse(await ok(['kv', 'get', '-format=json', 'team-kv/a'])).data.metadata.version, 1, 'KV v2 at the new path');
    const dup = await runCli(['secrets', 'enable', '-path=team-kv', 'kv'], env);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /path is already in use/);
    assert.match(await ok(['secrets', 'tune', '-default-lease-ttl=1h', '-max-lease-ttl=2h', 'team-kv']), /Tuned the secrets engine at: team-kv\//);
    const detailed = await ok(['secrets', 'list', '-detailed']);
    assert.match(detailed, /^team-kv\/\s+kv\s+kv_\w+\s+1h\s+2h\s/m);
    assert.match(await ok(['secrets', 'disable', 'team-kv']), /Disabled the secrets engine \(if it existed\) at: team-kv\//);
    assert.equal(JSON.parse(await ok(['secrets', 'list', '-format=json'])).data['team-kv/'], undefined);
    const auth = JSON.parse(await ok(['auth', 'list', '-format=json']));
    assert.equal(auth.data['token/'].type, 'token');
    assert.match(await ok(['auth', 'list']), /^token\/\s+token\s+/m);
  });

  it('login verifies the token, writes ~/.coffer-token (0600) and later commands use it; ~/.vault-token is read too', async () => {
    const loginHome = tempDir('cli-login-home');
    try {
      const noToken = { VAULT_ADDR: dev.url, HOME: loginHome.path };
      const bad = await runCli(['login', 'not-a-token'], noToken);
      assert.equal(bad.code, 2);
      assert.equal(existsSync(join(loginHome.path, '.coffer-token')), false);

      const token = (await ok(['token', 'create', '-policy=app-read', '-field=token'])).trim();
      const out = await ok(['login', token], noToken);
      assert.match(out, /Success! You are now authenticated/);
      assert.match(out, /^token_policies\s+\["app-read" "default"\]$/m);
      const file = join(loginHome.path, '.coffer-token');
      assert.equal(readFileSync(file, 'utf8'), token);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      // No VAULT_TOKEN: the stored token is used (and is limited by its policy).
      assert.equal((await ok(['kv', 'get', '-field=password', 'secret/app/db'], noToken)).trim(), 's3cret');
      assert.equal((await runCli(['kv', 'get', 'secret/other/db'], noToken)).code, 2);

      // Only ~/.vault-token (as written by Vault's own CLI): also used.
      const vaultHome = tempDir('cli-vault-home');
      try {
        writeFileSync(join(vaultHome.path, '.vault-token'), `${ROOT}\n`);
        assert.equal((await ok(['kv', 'get', '-field=password', 'secret/other/db'], { VAULT_ADDR: dev.url, HOME: vaultHome.path })).trim(), 'hidden');
      } finally {
        vaultHome.remove();
      }
      // From stdin, with -no-store.
      const other = tempDir('cli-login-nostore');
      try {
        await ok(['login', '-no-store', '-'], { VAULT_ADDR: dev.url, HOME: other.path }, `${token}\n`);
        assert.equal(existsSync(join(other.path, '.coffer-token')), false);
      } finally {
        other.remove();
      }
    } finally {
      loginHome.remove();
    }
  });
});
