// No plaintext at rest: after writing a secret, the node is stopped and its LMDB files are opened
// with the lmdb package directly (and read as raw bytes): neither the secret, nor the root token, nor
// the unseal key appears anywhere.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';
import { http, startServerProcess, tempDir } from './helpers/server-process.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('secrets at rest', () => {
  const dir = tempDir('at-rest');
  after(() => dir.remove());

  it('stores no secret, token or key in plaintext', async () => {
    const server = await startServerProcess(dir.path);
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    const secret = 'correct-horse-battery-staple-4f1c2a';
    const path = 'app/database/password';
    assert.equal((await http(server.url, 'PUT', `sys/raw/${path}`, { token: init.root_token, body: { value: secret } })).status, 204);
    assert.equal((await http(server.url, 'PUT', 'sys/rotate', { token: init.root_token })).status, 204);
    await server.kill('SIGTERM');

    const needles = [
      Buffer.from(secret),
      Buffer.from(init.root_token),
      Buffer.from(init.root_token.slice(2)),
      Buffer.from(init.keys[0], 'hex'),
      Buffer.from(init.keys[0]),
      Buffer.from(init.keys_base64[0]),
    ];
    const files = filesUnder(join(dir.path, 'data'));
    assert.ok(files.length > 0, 'the node wrote its storage under the configured path');
    let bytesScanned = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      bytesScanned += bytes.length;
      for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${f} contains a secret in plaintext`);
    }
    // The same through lmdb itself, value by value, for every named database of every environment.
    const envs = files.filter((f) => f.endsWith('.mdb'));
    assert.ok(envs.length >= 1, 'found the LMDB environment');
    let values = 0;
    for (const f of envs) {
      const env = open({ path: f, noSubdir: true, readOnly: true, encoding: 'binary', keyEncoding: 'binary' });
      // The main database lists the named databases (fsm, meta, log, hard); scan each one's entries.
      const dbNames = [...env.getKeys()].map((k) => Buffer.from(k as Buffer).toString('utf8').replace(/\0+$/, ''));
      assert.ok(dbNames.includes('fsm'), `named databases: ${dbNames.join(', ')}`);
      for (const name of dbNames) {
        const db = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' });
        for (const { key, value } of db.getRange()) {
          values++;
          const k = Buffer.from(key as Buffer);
          const v = Buffer.from(value as Buffer);
          for (const n of needles) {
            assert.equal(k.indexOf(n), -1, `a key in ${f}:${name} contains a secret`);
            assert.equal(v.indexOf(n), -1, `a value in ${f}:${name} contains a secret`);
          }
        }
      }
      await env.close();
    }
    assert.ok(values > 5, `read ${values} values through lmdb`);
    assert.ok(bytesScanned > 0);
  });
});
