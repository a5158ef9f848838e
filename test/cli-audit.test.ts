// `coffer audit enable|list|disable` as a user runs it (real CLI processes, a real dev server, which
// allows API audit creation): Vault's argument shape `audit enable file file_path=...`, -path,
// -description, `audit list` (table, -detailed, -format=json, exit 2 when none), `audit disable`, and
// the device really logging what the CLI then does, with secrets HMAC'd.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, spawnCoffer, tempDir, type ServerProcess } from './helpers/server-process.js';

const ROOT = 'audit-cli-root';

describe('coffer audit', () => {
  let dev: ServerProcess;
  const home = tempDir('cli-audit');
  let env: Record<string, string>;
  const ok = async (args: string[]) => {
    const r = await runCli(args, env);
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

  it('list with none enabled says so (exit 2)', async () => {
    const r = await runCli(['audit', 'list'], env);
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /No audit devices are enabled\./);
  });

  it('enable file file_path=..., list (table, -detailed, json), the device logs CLI traffic HMACd, disable', async () => {
    const log = join(home.path, 'audit.log');
    assert.match(await ok(['audit', 'enable', '-description=primary log', 'file', `file_path=${log}`]), /Success! Enabled the file audit device at: file\//);
    assert.match(await ok(['audit', 'enable', '-path=second', 'file', `file_path=${join(home.path, 'second.log')}`, 'hmac_accessor=false']), /Success! Enabled the file audit device at: second\//);

    const table = await ok(['audit', 'list']);
    assert.match(table, /^Path\s+Type\s+Description/m);
    assert.match(table, /^file\/\s+file\s+primary log$/m);
    assert.match(table, /^second\/\s+file\s*$/m);
    const detailed = await ok(['audit', 'list', '-detailed']);
    assert.match(detailed, /Replication\s+Options/);
    assert.ok(detailed.includes(`map[file_path:${log}]`), detailed);
    assert.match(detailed, /second\/.*replicated.*hmac_accessor:false/);
    const json = JSON.parse(await ok(['audit', 'list', '-format=json']));
    assert.deepEqual(Object.keys(json.data).sort(), ['file/', 'second/']);
    assert.equal(json.data['file/'].options.file_path, log);

    const secret = 'cli-audit-secret-6d0c1e';
    await ok(['kv', 'put', 'secret/app', `password=${secret}`]);
    const text = readFileSync(log, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.type === 'request' && l.request.path === 'secret/data/app'), 'the kv put is in the log');
    assert.ok(!text.includes(secret) && !text.includes(ROOT), 'no secret or token in clear');

    assert.match(await ok(['audit', 'disable', 'second']), /Success! Disabled audit device \(if it was enabled\) at: second\//);
    const after = await ok(['audit', 'list']);
    assert.ok(!after.includes('second/') && after.includes('file/'), after);
    assert.ok(existsSync(join(home.path, 'second.log')), 'disabling leaves the log file in place');
  });

  it('refuses bad input with the server message (exit 2) and bad arguments locally', async () => {
    const badFormat = await runCli(['audit', 'enable', '-path=bad', 'file', `file_path=${join(home.path, 'x.log')}`, 'format=xml'], env);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /Error enabling audit device/);
    assert.match(badFormat.stderr, /unknown format type/);
    const notPair = await runCli(['audit', 'enable', 'file', 'file_path'], env);
    assert.notEqual(notPair.code, 0);
    assert.match(notPair.stderr, /expected key=value/);
    const inUse = await runCli(['audit', 'enable', 'file', `file_path=${join(home.path, 'y.log')}`], env);
    assert.equal(inUse.code, 2, 'file/ is already enabled');
  });
});
