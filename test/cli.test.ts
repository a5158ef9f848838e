// The `coffer` CLI as a user runs it: a dev server, then operator init/unseal/seal and status against a
// configured server, operator key-status/rotate/step-down, with Vault's single-dash flags, VAULT_ADDR, -format=json and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { COFFER_BIN, http, spawnCoffer, startServerProcess, tempDir } from './helpers/server-process.js';

function coffer(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [COFFER_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('coffer CLI', () => {
  const dir = tempDir('cli');
  after(() => dir.remove());

  it('server -dev starts unsealed with the chosen root token', async () => {
    const dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=devroot'], /export VAULT_ADDR='(\S+)'/);
    try {
      const st = await http(dev.url, 'GET', 'sys/seal-status');
      assert.equal(st.body.sealed, false);
      assert.equal(st.body.t, 1);
      assert.equal((await http(dev.url, 'PUT', 'sys/raw/x', { token: 'devroot', body: { value: 'y' } })).status, 204);
      const status = coffer(['status', '-format=json'], { VAULT_ADDR: dev.url });
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).sealed, false);
      // Dev mode keeps nothing: its storage directory is removed when the server stops (SIGTERM).
      const storage = /Storage: (\S+)/.exec(dev.stdout())?.[1];
      assert.ok(storage !== undefined && existsSync(storage), `dev storage printed and present: ${dev.stdout()}`);
      await dev.kill('SIGTERM');
      assert.equal(dev.child.exitCode, 0, dev.stderr());
      assert.equal(existsSync(storage), false, `${storage} removed at shutdown`);
    } finally {
      await dev.kill();
    }
  });

  it('operator init, unseal, seal and status against a configured server', async () => {
    const server = await startServerProcess(dir.path);
    const env = { VAULT_ADDR: server.url };
    try {
      const init = coffer(['operator', 'init', '-key-shares=3', '-key-threshold=2', '-format=json'], env);
      assert.equal(init.code, 0, init.stderr);
      const out = JSON.parse(init.stdout);
      assert.equal(out.unseal_keys_b64.length, 3);
      assert.match(out.root_token, /^s\./);

      const sealed = coffer(['status'], env);
      assert.equal(sealed.code, 2, 'status exits 2 while sealed');
      assert.match(sealed.stdout, /Sealed\s+true/);
      assert.match(sealed.stdout, /Unseal Progress\s+0\/2/);

      const first = coffer(['operator', 'unseal', out.unseal_keys_b64[0]], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /Unseal Progress\s+1\/2/);
      coffer(['operator', 'unseal', out.unseal_keys_hex[1]], env);
      const open = coffer(['status'], env);
      assert.equal(open.code, 0);
      assert.match(open.stdout, /Sealed\s+false/);

      const denied = coffer(['operator', 'seal'], { ...env, VAULT_TOKEN: 'bogus' });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /permission denied/);
      const seal = coffer(['operator', 'seal'], { ...env, COFFER_TOKEN: out.root_token });
      assert.equal(seal.code, 0, seal.stderr);
      assert.equal(coffer(['status'], env).code, 2);

      const again = coffer(['operator', 'init'], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already initialized/);
    } finally {
      await server.kill();
    }
  });

  it('operator key-status, rotate and step-down', async () => {
    const dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=keysroot'], /export VAULT_ADDR='(\S+)'/);
    const env = { VAULT_ADDR: dev.url, VAULT_TOKEN: 'keysroot' };
    try {
      const before = coffer(['operator', 'key-status', '-format=json'], env);
      assert.equal(before.code, 0, before.stderr);
      const term = JSON.parse(before.stdout).term as number;
      const rotated = coffer(['operator', 'rotate'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /Success! Rotated key/);
      assert.match(rotated.stdout, new RegExp(`Key Term\\s+${term + 1}\\b`));
      assert.match(coffer(['operator', 'key-status'], env).stdout, /Encryption Count\s+\d+/);
      const down = coffer(['operator', 'step-down'], env);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, /Success! Stepped down/);
      const denied = coffer(['operator', 'rotate'], { ...env, VAULT_TOKEN: 'bogus' });
      assert.equal(denied.code, 2);
      assert.match(denied.stderr, /permission denied/);
    } finally {
      await dev.kill();
    }
  });

  it('refuses a config file that is not valid HCL', async () => {
    const bad = tempDir('cli-bad');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${bad.path}/bad.hcl`, 'storage "raft" {\n  path = \n');
      const r = coffer(['server', `-config=${bad.path}/bad.hcl`], {});
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not valid HCL/);
      // A staleness bound shorter than two heartbeats would make healthy standbys refuse reads.
      writeFileSync(`${bad.path}/stale.hcl`, `storage "raft" {\n  path = "${bad.path}/data"\n}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nmax_standby_staleness = "50ms"\n`);
      const s = coffer(['server', `-config=${bad.path}/stale.hcl`], {});
      assert.equal(s.code, 1);
      assert.match(s.stderr, /max_standby_staleness must be at least 200ms/);
    } finally {
      bad.remove();
    }
  });
});
