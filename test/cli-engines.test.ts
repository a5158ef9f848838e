// `coffer login -method=userpass|approle`, the generic `read|write|delete|list`, `-wrap-ttl` and
// `unwrap`, as a user runs them: real CLI processes against a real dev server, temp HOME.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, runCli, type ServerProcess, spawnCoffer, tempDir } from './helpers/server-process.js';

const ROOT = 'engines-cli-root';

describe('coffer login -method / read / write / delete / list / unwrap', () => {
  let dev: ServerProcess;
  const home = tempDir('cli-engines-home');
  let env: Record<string, string>;
  const ok = async (args: string[], extra: Record<string, string> = {}, stdin?: string) => {
    const r = await runCli(args, { ...env, ...extra }, stdin);
    assert.equal(r.code, 0, `coffer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const root = (method: string, path: string, body?: unknown) => http(dev.url, method, path, { token: ROOT, body });

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
    env = { VAULT_ADDR: dev.url, VAULT_TOKEN: ROOT, HOME: home.path };
  });
  after(async () => {
    await dev?.kill();
    home.remove();
  });

  it('login -method=userpass: password as an argument or from stdin; token stored and used; wrong password exit 2', async () => {
    await ok(['auth', 'enable', 'userpass']);
    assert.equal((await root('PUT', 'sys/policies/acl/app-read', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' })).status, 204);
    assert.match(await ok(['write', 'auth/userpass/users/alice', 'password=s3cret-pw', 'token_policies=app-read']), /Success! Data written to: auth\/userpass\/users\/alice/);
    await ok(['kv', 'put', 'secret/app/db', 'password=db-pw']);

    const loginHome = tempDir('cli-engines-login');
    try {
      const noToken = { VAULT_ADDR: dev.url, HOME: loginHome.path };
      const out = await ok(['login', '-method=userpass', 'username=alice', 'password=s3cret-pw'], noToken);
      assert.match(out, /Success! You are now authenticated/);
      assert.match(out, /token_policies\s+\["app-read" "default"\]|token_policies\s+\["default" "app-read"\]/);
      assert.match(out, /token_meta_username\s+alice/);
      const file = join(loginHome.path, '.coffer-token');
      const token = readFileSync(file, 'utf8');
      assert.match(token, /^s\./);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(out.includes(token), 'the printed table shows the stored token');
      // The stored token is used by later commands: inside its policy 200, outside 403 (exit 2).
      assert.equal((await ok(['kv', 'get', '-field=password', 'secret/app/db'], noToken)).trim(), 'db-pw');
      const denied = await runCli(['read', 'sys/mounts'], noToken);
      assert.equal(denied.code, 2);
      assert.match(denied.stderr, /permission denied/);

      // Password from stdin; -format=json prints the login response (auth block).
      const json = JSON.parse(await ok(['login', '-method=userpass', '-format=json', 'username=alice'], noToken, 's3cret-pw\n'));
      assert.match(json.auth.client_token, /^s\./);
      assert.deepEqual(json.auth.metadata, { username: 'alice' });
      assert.equal(readFileSync(file, 'utf8'), json.auth.client_token);

      const bad = await runCli(['login', '-method=userpass', 'username=alice', 'password=wrong'], noToken);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Error authenticating: Error making API request\.[\s\S]*Code: 400\. Errors:\n\n\* invalid username or password/);
      assert.equal(readFileSync(file, 'utf8'), json.auth.client_token, 'a failed login keeps the stored token');
      const noUser = await runCli(['login', '-method=userpass', 'password=x'], noToken);
      assert.equal(noUser.code, 1);
      // `coffer login TOKEN` still works.
      assert.match(await ok(['login', ROOT], noToken), /token_policies\s+\["root"\]/);
      assert.equal(readFileSync(file, 'utf8'), ROOT);
    } finally {
      loginHome.remove();
    }
  });

  it('login -method=approle with a role and secret ID created over HTTP', async () => {
    assert.equal((await root('POST', 'sys/auth/approle', { type: 'approle' })).status, 204);
    assert.equal((await root('POST', 'auth/approle/role/ci', { token_policies: 'app-read', secret_id_num_uses: 1 })).status, 204);
    const roleId = (await root('GET', 'auth/approle/role/ci/role-id')).body.data.role_id as string;
    const secretId = (await root('POST', 'auth/approle/role/ci/secret-id')).body.data.secret_id as string;
    const loginHome = tempDir('cli-engines-approle');
    try {
      const noToken = { VAULT_ADDR: dev.url, HOME: loginHome.path };
      const out = await ok(['login', '-method=approle', `role_id=${roleId}`, `secret_id=${secretId}`], noToken);
      assert.match(out, /token_meta_role_name\s+ci/);
      assert.match(out, /"app-read"/);
      assert.equal((await ok(['kv', 'get', '-field=password', 'secret/app/db'], noToken)).trim(), 'db-pw');
      // The secret ID had one use.
      const again = await runCli(['login', '-method=approle', `role_id=${roleId}`, `secret_id=${secretId}`], noToken);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /\* invalid role or secret ID/);
    } finally {
      loginHome.remove();
    }
  });

  it('transit: secrets enable, write keys, encrypt / decrypt round trip with write; read, list, delete', async () => {
    assert.match(await ok(['secrets', 'enable', 'transit']), /Success! Enabled the transit secrets engine at: transit\//);
    assert.equal((await runCli(['write', 'transit/keys/app'], env)).code, 1, 'no data without -force');
    await ok(['write', '-force', 'transit/keys/app']);
    assert.match(await ok(['read', 'transit/keys/app']), /type\s+aes256-gcm96/);
    assert.deepEqual((await ok(['list', 'transit/keys'])).trim().split('\n'), ['Keys', '----', 'app']);

    const plaintext = Buffer.from('attack at dawn, 100%').toString('base64');
    const ciphertext = (await ok(['write', '-field=ciphertext', 'transit/encrypt/app', `plaintext=${plaintext}`])).trim();
    assert.match(ciphertext, /^vault:v1:/);
    const table = await ok(['write', 'transit/decrypt/app', `ciphertext=${ciphertext}`]);
    assert.match(table, new RegExp(`plaintext\\s+${plaintext.replace(/[+/]/g, '\\$&')}`));
    const decrypted = JSON.parse(await ok(['write', '-format=json', 'transit/decrypt/app', `ciphertext=${ciphertext}`]));
    assert.equal(Buffer.from(decrypted.data.plaintext, 'base64').toString(), 'attack at dawn, 100%');
    // JSON body from stdin.
    const fromStdin = (await ok(['write', '-field=plaintext', 'transit/decrypt/app', '-'], {}, JSON.stringify({ ciphertext }))).trim();
    assert.equal(fromStdin, plaintext);

    const tampered = await runCli(['write', 'transit/decrypt/app', `ciphertext=${ciphertext.slice(0, -4)}AAAA`], env);
    assert.equal(tampered.code, 2);
    assert.match(tampered.stderr, /Error writing data to transit\/decrypt\/app: Error making API request\./);

    await ok(['write', 'transit/keys/app/config', 'deletion_allowed=true']);
    assert.match(await ok(['delete', 'transit/keys/app']), /Success! Data deleted \(if it existed\) at: transit\/keys\/app/);
    const gone = await runCli(['read', 'transit/keys/app'], env);
    assert.equal(gone.code, 2);
  });

  it('-wrap-ttl on read prints wrap_info; unwrap once succeeds, the second time exits 2 with Vault\'s error', async () => {
    await ok(['kv', 'put', 'secret/app/wrapped', 'api_key=k-123']);
    const table = await ok(['read', '-wrap-ttl=2m', 'secret/data/app/wrapped']);
    assert.match(table, /wrapping_token:\s+s\.\S+/);
    assert.match(table, /wrapping_token_ttl:\s+2m/);
    assert.match(table, /wrapping_token_creation_path:\s+secret\/data\/app\/wrapped/);
    const wrapped = JSON.parse(await ok(['read', '-wrap-ttl=120', '-format=json', 'secret/data/app/wrapped']));
    assert.equal(wrapped.data, null);
    const token = wrapped.wrap_info.token as string;
    assert.equal(wrapped.wrap_info.ttl, 120);

    const first = JSON.parse(await ok(['unwrap', '-format=json', token]));
    assert.deepEqual(first.data.data, { api_key: 'k-123' });
    const second = await runCli(['unwrap', token], env);
    assert.equal(second.code, 2);
    assert.equal(
      second.stderr,
      `Error unwrapping: Error making API request.\n\nURL: PUT ${dev.url}/v1/sys/wrapping/unwrap\nCode: 400. Errors:\n\n* wrapping token is not valid or does not exist\n`,
    );

    // -wrap-ttl on write (a response with data), and unwrap with the wrapping token as the client token.
    const wt = (await ok(['write', '-wrap-ttl=1m', '-field=wrapping_token', 'auth/token/create', 'policies=default'])).trim();
    const unwrapped = await ok(['unwrap'], { VAULT_TOKEN: wt });
    assert.match(unwrapped, /token_policies\s+\["default"\]/);
    assert.equal((await runCli(['unwrap'], { ...env, VAULT_TOKEN: wt })).code, 2);
  });

  it('lease lookup / renew -increment / revoke (-sync, -prefix, -force needs -prefix), as Vault prints them', async () => {
    assert.equal((await root('POST', 'sys/mounts/leased', { type: 'kv', options: { version: '1', leased_passthrough: 'true' } })).status, 204);
    assert.equal((await root('PUT', 'leased/app', { user: 'web', ttl: '1h' })).status, 204);
    const leaseOf = async () => (await root('GET', 'leased/app')).body.lease_id as string;
    const id = await leaseOf();
    const looked = await ok(['lease', 'lookup', id]);
    assert.match(looked, new RegExp(`id\\s+${id}`));
    assert.match(looked, /renewable\s+true/);
    const renewed = await ok(['lease', 'renew', '-increment=2h', id]);
    assert.match(renewed, new RegExp(`lease_id\\s+${id}`));
    assert.match(renewed, /lease_duration\s+2h/);
    assert.equal(JSON.parse(await ok(['lease', 'lookup', '-format=json', id])).data.ttl > 7000, true);
    assert.match(await ok(['lease', 'revoke', '-sync', id]), /Success! Revoked lease: /);
    const gone = await runCli(['lease', 'lookup', id], env);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /invalid lease/);
    // Two more leases under one prefix: queued revocation by prefix takes both.
    const [a, b] = [await leaseOf(), await leaseOf()];
    assert.equal((await runCli(['lease', 'revoke', '-force', 'leased/'], env)).code, 1);
    assert.match(await ok(['lease', 'revoke', '-prefix', 'leased/app']), /All revocation operations queued successfully!/);
    for (const l of [a, b]) assert.equal((await root('PUT', 'sys/leases/lookup', { lease_id: l })).status, 400);
  });
});
