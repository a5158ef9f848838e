// Acknowledged writes survive SIGKILL: a real server process is killed in the middle of a stream of
// writes; after restart it is sealed, and once unsealed every acknowledged write is there.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir } from './helpers/server-process.js';

describe('durability under SIGKILL', () => {
  const dir = tempDir('durability');
  after(() => dir.remove());

  it('loses no acknowledged write, and restarts sealed', async () => {
    let server = await startServerProcess(dir.path);
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } })).body;
    for (const k of init.keys.slice(0, 2)) await http(server.url, 'PUT', 'sys/unseal', { body: { key: k } });
    const root: string = init.root_token;

    const acked = new Map<string, string>();
    let attempted = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `stream/w${w}/k${i}`;
        const value = `v-${w}-${i}-${'x'.repeat(i % 50)}`;
        attempted++;
        try {
          const r = await http(server.url, 'PUT', `sys/raw/${key}`, { token: root, body: { value } });
          if (r.status === 204) acked.set(key, value);
        } catch {
          return; // connection refused or reset: the process is gone
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    // Kill once a good number of writes are acknowledged, while writes are still in flight.
    while (acked.size < 1500) await new Promise((r) => setTimeout(r, 20));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.size >= 1500, `acknowledged ${acked.size}`);
    assert.ok(attempted > acked.size, 'some writes were in flight when the process died');

    server = await startServerProcess(dir.path);
    try {
      const st = (await http(server.url, 'GET', 'sys/seal-status')).body;
      assert.equal(st.initialized, true);
      assert.equal(st.sealed, true, 'a restarted node is sealed until unsealed');
      assert.equal((await http(server.url, 'GET', 'sys/raw/stream/w0/k0', { token: root })).status, 503);
      for (const k of init.keys.slice(1, 3)) await http(server.url, 'PUT', 'sys/unseal', { body: { key: k } });
      let lost = 0;
      for (const [key, value] of acked) {
        const r = await http(server.url, 'GET', `sys/raw/${key}`, { token: root });
        if (r.status !== 200 || r.body.data.value !== value) lost++;
      }
      process.stdout.write(`# acked writes lost: ${lost} of ${acked.size} (${attempted} attempted)\n`);
      assert.equal(lost, 0);
    } finally {
      await server.kill();
    }
  });
});
