// The npm node-vault client, used unchanged, manages audit devices (issue #6): enableAudit, audits,
// disableAudit against a real `coffer server` whose config allows API audit creation; writes and reads
// made with node-vault show up in the device HMAC'd; a refused enable surfaces as node-vault's error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const require = createRequire(import.meta.url);
const nodeVault = require('node-vault') as (opts: { apiVersion?: string; endpoint: string; token?: string }) => any;

describe('node-vault: audit devices', () => {
  const dir = tempDir('node-vault-audit');
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess(dir.path, 'unsafe_allow_api_audit_creation = true\n');
  });
  after(async () => {
    await server.kill();
    dir.remove();
  });

  it('enableAudit, audits, traffic logged with secrets HMACd, disableAudit', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: server.url });
    const init = await vault.init({ secret_shares: 1, secret_threshold: 1 });
    vault.token = init.root_token;
    await vault.unseal({ key: init.keys[0] });

    const log = join(dir.path, 'node-vault-audit.log');
    await vault.enableAudit({ name: 'file', type: 'file', description: 'via node-vault', options: { file_path: log } });
    const list = await vault.audits();
    assert.equal(list.data['file/'].type, 'file');
    assert.equal(list.data['file/'].description, 'via node-vault');
    assert.equal(list.data['file/'].options.file_path, log);

    const secret = 'node-vault-audit-secret-91ab';
    await vault.write('sys/raw/app/key', { value: secret });
    assert.equal((await vault.read('sys/raw/app/key')).data.value, secret);
    const text = readFileSync(log, 'utf8');
    const paths = text.trim().split('\n').map((l) => JSON.parse(l).request.path);
    assert.ok(paths.filter((p: string) => p === 'sys/raw/app/key').length >= 4, `request and response for the write and the read: ${paths.join(',')}`);
    assert.ok(!text.includes(secret) && !text.includes(init.root_token), 'no secret or token in clear');

    await assert.rejects(vault.enableAudit({ name: 'bad', type: 'socket', options: {} }), (e: any) => e.response?.statusCode === 400);

    await vault.disableAudit({ name: 'file' });
    assert.deepEqual(Object.keys((await vault.audits()).data ?? {}), []);
    const before = readFileSync(log, 'utf8').length;
    await vault.read('sys/raw/app/key');
    assert.equal(readFileSync(log, 'utf8').length, before, 'a disabled device writes nothing more');
  });
});
