// FSYNC-EIO (RELIABILITY.md §7.2): fsync returns EIO once, under write load. Lesson of "fsyncgate": after a
// failed fsync the kernel may have dropped the dirty pages, so retrying and carrying on would acknowledge
// writes that are not on disk. Coffer must stop acknowledging: the failed LMDB commit fail-stops the raft
// actor, the node exits, and on restart every write acknowledged before the failure is there.
// The fault is an LD_PRELOAD shim (test/native/fsync-eio.c, built here with gcc) that fails the first
// fsync/fdatasync after a trigger file appears, in whatever thread makes it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir } from './helpers/server-process.js';

const SHIM_SOURCE = fileURLToPath(new URL('../../test/native/fsync-eio.c', import.meta.url));
const WRITERS = 8;
const ACKS_BEFORE_FAULT = 300;

describe('FSYNC-EIO: a failed fsync stops acknowledgements; nothing acknowledged is lost', { timeout: 60_000 }, () => {
  const dir = tempDir('fsync-eio');
  after(() => dir.remove());

  it('fdatasync EIO under write load: the node stops, no write sent after the error is acknowledged, restart loses nothing', async () => {
    const shim = join(dir.path, 'fsync-eio.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, SHIM_SOURCE, '-ldl']);
    const trigger = join(dir.path, 'eio-trigger');
    let server = await startServerProcess(dir.path, '', '', { LD_PRELOAD: shim, COFFER_TEST_FSYNC_EIO: trigger });
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    const key: string = init.keys_base64[0];
    const root: string = init.root_token;
    assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { key } })).status, 200);

    /** key -> {sentAt, ackedAt} of every write answered 204. */
    const acked = new Map<string, { sentAt: number; ackedAt: number }>();
    const failures: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const k = `eio/w${w}/k${i}`;
        const sentAt = Date.now();
        try {
          const r = await http(server.url, 'PUT', `sys/raw/${k}`, { token: root, body: { value: `v-${k}` } });
          if (r.status === 204) acked.set(k, { sentAt, ackedAt: Date.now() });
          else failures.push(`${r.status} ${r.text.slice(0, 100)}`);
        } catch {
          return; // the node is gone
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    while (acked.size < ACKS_BEFORE_FAULT) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(trigger, '');
    // Fail-stop: the process exits by itself.
    const exited = await Promise.race([new Promise<boolean>((r) => server.child.once('exit', () => r(true))), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    stop = true;
    await Promise.all(writers);
    assert.ok(exited, `the node kept running after the fsync error; stderr:\n${server.stderr().slice(-2000)}`);
    assert.notEqual(server.child.exitCode, 0, 'a fail-stop is not a clean exit');
    assert.ok(existsSync(`${trigger}.done`), 'the shim never failed a sync');
    const fault = JSON.parse(readFileSync(`${trigger}.done`, 'utf8')) as { ms: number; call: string };
    const sentAfter = [...acked.values()].filter((a) => a.sentAt > fault.ms).length;
    assert.match(server.stderr(), /Commit failed|fail-stop/);

    server = await startServerProcess(dir.path);
    try {
      assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { key } })).status, 200);
      let lost = 0;
      for (const [k] of acked) {
        const r = await http(server.url, 'GET', `sys/raw/${k}`, { token: root });
        if (r.status !== 200 || r.body.data.value !== `v-${k}`) lost++;
      }
      const line = `fsync error: ${fault.call} EIO after ${acked.size} acks; writes acked after fsync error (sent after it): ${sentAfter}; non-2xx answers: ${failures.length}; acked writes lost after restart: ${lost} of ${acked.size}`;
      process.stdout.write(`# ${line}\n`);
      assert.equal(sentAfter, 0, line);
      assert.equal(lost, 0, line);
      // The node works again after the restart.
      assert.equal((await http(server.url, 'PUT', 'sys/raw/eio/after', { token: root, body: { value: 'after' } })).status, 204);
    } finally {
      await server.kill();
    }
  });
});
