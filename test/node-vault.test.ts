// A third-party Vault client (the npm package node-vault), used unchanged, drives the lifecycle:
// init, unseal, status, health, storage writes and reads through sys/raw, rotate, seal.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

describe('node-vault against a Coffer server', () => {
  const dir = tempDir('node-vault');
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess(dir.path);
  });
  after(async () => {
    await server.kill();
    dir.remove();
  });

  it('initialises, unseals, reads and writes, rotates and seals', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    assert.deepEqual(await vault.initialized(), { initialized: false });
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.keys.length, 3);
    vault.token = init.root_token;
    let status = await vault.status();
    assert.equal(status.sealed, true);
    status = await vault.unseal({ key: init.keys[0] });
    assert.equal(status.progress, 1);
    status = await vault.unseal({ key: init.keys[2] });
    assert.equal(status.sealed, false);
    const health = await vault.health();
    assert.equal(health.initialized, true);
    assert.equal(health.sealed, false);

    await vault.write('sys/raw/apps/web', { value: 'token-for-web' });
    await vault.write('sys/raw/apps/api', { value: 'token-for-api' });
    assert.equal((await vault.read('sys/raw/apps/web')).data.value, 'token-for-web');
    assert.deepEqual((await vault.list('sys/raw/apps')).data.keys, ['api', 'web']);
    await vault.delete('sys/raw/apps/web');
    await assert.rejects(vault.read('sys/raw/apps/web'), (e: any) => e.response?.statusCode === 404);
    await vault.rotate();
    assert.equal((await vault.read('sys/key-status')).data.term, 2);

    const stranger = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: 's.notarealtoken0000000000' });
    await assert.rejects(stranger.read('sys/raw/apps/api'), (e: any) => e.response?.statusCode === 403 && /permission denied/.test(e.message));

    await vault.seal();
    assert.equal((await vault.status()).sealed, true);
    await assert.rejects(vault.read('sys/raw/apps/api'), (e: any) => e.response?.statusCode === 503 && /Vault is sealed/.test(e.message));
  });
});
