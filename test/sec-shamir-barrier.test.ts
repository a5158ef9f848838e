// SEC-SHAMIR-BARRIER (RELIABILITY.md §7.2): over HTTP on a real `coffer server`, 5 shares / threshold 3:
// every ordered choice of 3 distinct shares unseals; every 2 shares leave the node sealed at progress 2;
// a random share, a short share and a duplicate never unseal and (wrong share) reset the progress; reset
// clears it; keyring rotations keep data written under every older term readable, also after seal/unseal.
// test/lifecycle.test.ts covers the single cases and Vault's messages; this one covers the subsets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const N = 5;
const T = 3;

describe('SEC-SHAMIR-BARRIER: share subsets and keyring terms', () => {
  const dir = tempDir('shamir');
  let server: ServerProcess;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('any k of n unseal, k-1 do not, wrong/short/duplicate shares never do; rotation keeps old terms readable', async () => {
    server = await startServerProcess(dir.path);
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: N, secret_threshold: T } })).body;
    const shares = init.keys as string[];
    const root = init.root_token as string;
    const put = (key: string) => http(server.url, 'PUT', 'sys/unseal', { body: { key } });
    const status = async () => (await http(server.url, 'GET', 'sys/seal-status')).body;
    const seal = async () => assert.equal((await http(server.url, 'PUT', 'sys/seal', { token: root })).status, 204);
    let tested = 0;
    let wrong = 0;

    // Every ordered triple of distinct shares (60): sealed until the third, unsealed after it.
    for (let a = 0; a < N; a++)
      for (let b = 0; b < N; b++)
        for (let c = 0; c < N; c++) {
          if (a === b || b === c || a === c) continue;
          tested++;
          const r1 = (await put(shares[a]!)).body;
          const r2 = (await put(shares[b]!)).body;
          const r3 = (await put(shares[c]!)).body;
          if (!r1.sealed || !r2.sealed || r2.progress !== 2 || r3.sealed) wrong++;
          if (!r3.sealed) await seal();
        }

    // Every pair, then: a duplicate (ignored), a random share (fails, resets), a short share (400).
    for (let a = 0; a < N; a++)
      for (let b = a + 1; b < N; b++) {
        tested++;
        await put(shares[a]!);
        const two = (await put(shares[b]!)).body;
        const dup = (await put(shares[a]!)).body;
        if (!two.sealed || two.progress !== 2 || !dup.sealed || dup.progress !== 2) wrong++;
        const foreign = await put(randomBytes(33).toString('hex'));
        const after = await status();
        if (!after.sealed) wrong++;
        assert.ok(foreign.status === 400 || (foreign.status === 200 && foreign.body.sealed), foreign.text);
        assert.equal(after.progress, 0, 'a failed combination resets the progress');
      }
    tested++;
    await put(shares[0]!);
    const short = await put(randomBytes(8).toString('hex'));
    assert.equal(short.status, 400, short.text);
    assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { reset: true } })).body.progress, 0);
    if (!(await status()).sealed) wrong++;

    // Rotation: a secret under each term stays readable, including after seal and unseal.
    for (const s of shares.slice(0, T)) await put(s);
    const written: Array<[string, string]> = [];
    for (let term = 1; term <= 4; term++) {
      const v = `value-under-term-${term}`;
      assert.equal((await http(server.url, 'PUT', `sys/raw/t/${term}`, { token: root, body: { value: v } })).status, 204);
      written.push([`t/${term}`, v]);
      assert.equal((await http(server.url, 'PUT', 'sys/rotate', { token: root })).status, 204);
    }
    assert.equal((await http(server.url, 'GET', 'sys/key-status', { token: root })).body.data.term, 5);
    await seal();
    for (const s of shares.slice(2, 2 + T)) await put(s);
    for (const [p, v] of written) {
      const r = await http(server.url, 'GET', `sys/raw/${p}`, { token: root });
      assert.equal(r.body?.data?.value, v, `${p} after rotation and unseal`);
    }
    console.log(`share subsets tested: ${tested}; wrong unseals: ${wrong}`);
    assert.equal(wrong, 0);
  });
});
