// SEC-TAMPER (RELIABILITY.md §7.2, threat model §5.1: the storage backend is untrusted; tampering must be
// detected and abort the operation). With the node stopped, the test edits its LMDB file directly:
//  - flips one byte of a secret's barrier ciphertext (nonce, body and tag positions);
//  - swaps the ciphertexts of two secrets (the storage path is the GCM AAD, so a moved value fails);
// then restarts and reads every secret through the API: an error each time, never someone's plaintext.
// Same-path rollback (an older ciphertext of the SAME path put back) is out of scope per the threat
// model ("an attacker with arbitrary control of the storage backend can ... roll back"): the test
// shows and reports that it returns the old value, so the limit is documented, not hidden.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';
import { flipBit, initAndUnseal, openStoppedEnv, restart } from './helpers/stopped-node.js';

const FLIPS = 12;
const SWAP_PAIRS = 6;

describe('SEC-TAMPER: tampered ciphertexts are detected, never decrypted to wrong plaintext', () => {
  const dir = tempDir('tamper');
  let server: ServerProcess | null = null;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('byte flips and cross-path swaps fail; same-path rollback is reported as out of scope', async () => {
    server = await startServerProcess(dir.path);
    const { rootToken: root, keys } = await initAndUnseal(server);
    assert.equal((await http(server.url, 'POST', 'sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '1' } } })).status, 204);
    const values = new Map<string, string>();
    for (let i = 0; i < FLIPS + 2 * SWAP_PAIRS + 2; i++) {
      const v = `plain-${i}-${'x'.repeat(i * 7)}`;
      values.set(`s${i}`, v);
      assert.equal((await http(server.url, 'PUT', `kv/s${i}`, { token: root, body: { v } })).status, 204);
    }
    const rollbackKey = `s${FLIPS + 2 * SWAP_PAIRS}`;
    await server.kill();
    server = null;

    // The old ciphertext of the rollback key, kept before it is overwritten.
    let env = openStoppedEnv(dir.path);
    let fsm = env.db('fsm');
    const pathOf = new Map<string, string>();
    for (const key of fsm.getKeys({ start: 'logical/', end: 'logical0' })) {
      const m = /\/(s\d+)$/.exec(key as string);
      if (m) pathOf.set(m[1] as string, key as string);
    }
    assert.equal(pathOf.size, values.size, `found the stored secrets: ${[...pathOf.keys()].join(',')}`);
    const oldCiphertext = Buffer.from(fsm.get(pathOf.get(rollbackKey)!)!);
    await env.close();

    server = await restart(dir.path, keys);
    const newer = 'rolled-forward-value';
    assert.equal((await http(server.url, 'PUT', `kv/${rollbackKey}`, { token: root, body: { v: newer } })).status, 204);
    await server.kill();
    server = null;

    // Tamper.
    env = openStoppedEnv(dir.path);
    fsm = env.db('fsm');
    const tampered: string[] = [];
    for (let i = 0; i < FLIPS; i++) {
      const path = pathOf.get(`s${i}`)!;
      const blob = Buffer.from(fsm.get(path)!);
      // Spread over the framing: term/version header, nonce, body, and the final tag byte.
      const at = [0, 4, 6, 12, 17, 20, blob.length - 1, blob.length - 16, Math.floor(blob.length / 2), 25, 30, blob.length - 5][i]! % blob.length;
      fsm.putSync(path, flipBit(blob, at, i % 8));
      tampered.push(`s${i}`);
    }
    for (let p = 0; p < SWAP_PAIRS; p++) {
      const a = pathOf.get(`s${FLIPS + 2 * p}`)!;
      const b = pathOf.get(`s${FLIPS + 2 * p + 1}`)!;
      const va = Buffer.from(fsm.get(a)!);
      const vb = Buffer.from(fsm.get(b)!);
      fsm.putSync(a, vb);
      fsm.putSync(b, va);
      tampered.push(`s${FLIPS + 2 * p}`, `s${FLIPS + 2 * p + 1}`);
    }
    fsm.putSync(pathOf.get(rollbackKey)!, oldCiphertext);
    await env.close();

    server = await restart(dir.path, keys);
    let detected = 0;
    let wrong = 0;
    for (const name of tampered) {
      const r = await http(server.url, 'GET', `kv/${name}`, { token: root });
      if (r.status === 200) {
        wrong++;
        continue;
      }
      assert.ok(Array.isArray(r.body?.errors), `Vault error shape for ${name}: ${r.text}`);
      for (const v of values.values()) assert.ok(!r.text.includes(v), `error for ${name} carries plaintext`);
      detected++;
    }
    // Untouched secrets still read back: detection is per record, not a broken node.
    const untouched = `s${FLIPS + 2 * SWAP_PAIRS + 1}`;
    const ok = await http(server.url, 'GET', `kv/${untouched}`, { token: root });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.data.v, values.get(untouched));
    // Out of scope: a same-path rollback decrypts (the AAD is the path, which did not change).
    const rb = await http(server.url, 'GET', `kv/${rollbackKey}`, { token: root });
    const rolledBack = rb.status === 200 && rb.body.data.v === values.get(rollbackKey);
    console.log(`tampered records detected: ${detected} of ${tampered.length}; wrong plaintext returned: ${wrong}`);
    console.log(`same-path rollback (out of scope, threat model §5.1): ${rolledBack ? 'old value returned' : `not returned (status ${rb.status})`}`);
    assert.equal(wrong, 0);
    assert.equal(detected, tampered.length);
    assert.ok(rb.status === 200 || rb.status >= 400, rb.text);
  });
});
