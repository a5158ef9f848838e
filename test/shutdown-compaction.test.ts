// A graceful shutdown (SIGTERM) snapshots the FSM and compacts a long Raft log, so the next start reads
// an empty log instead of mapping most of the data file (docs/performance.md, idle RSS with 100k
// secrets). Checked through the server process: the shutdown says so in its log, the snapshot image is
// on disk, the restart opens with nothing to replay, and every secret written before reads back exactly.
// A short log is left alone (the shutdown stays fast), and a SIGKILL, which skips all this, loses nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const SECRETS = 1_300; // above raftLimits.shutdownCompactMinEntries (1,024), below the 20k compaction point
const INFO = { COFFER_LOG_LEVEL: 'info' };

describe('graceful shutdown compacts a long Raft log', { timeout: 180_000 }, () => {
  const dir = tempDir('shutdown-compaction');
  after(() => dir.remove());
  let keys: string[] = [];
  let root = '';

  async function start(): Promise<ServerProcess> {
    const p = await startServerProcess(dir.path, '', '', INFO);
    if (keys.length > 0) for (const k of keys) assert.equal((await http(p.url, 'PUT', 'sys/unseal', { body: { key: k } })).status, 200);
    return p;
  }
  const images = () => {
    const d = join(dir.path, 'data', 'raft-snapshot');
    return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.img')) : [];
  };
  /** logEntries of the last start's "raft: storage opened" line (what it read from the log at open). */
  function openedLogEntries(p: ServerProcess): number {
    const line = p.stderr().split('\n').find((l) => l.includes('raft: storage opened'));
    assert.ok(line, p.stderr());
    return (JSON.parse(line) as { logEntries: number }).logEntries;
  }
  async function readAll(p: ServerProcess, n: number): Promise<number> {
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const r = await http(p.url, 'GET', `secret/data/s${i}`, { token: root });
      if (r.status !== 200 || r.body.data.data.v !== `value-${i}`) wrong++;
    }
    return wrong;
  }

  it('SIGTERM after 1,300 writes: compacted, restart replays nothing, every secret reads back', async () => {
    let p = await start();
    const init = (await http(p.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    keys = init.keys_base64;
    root = init.root_token;
    assert.equal((await http(p.url, 'PUT', 'sys/unseal', { body: { key: keys[0] } })).status, 200);
    assert.equal((await http(p.url, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < SECRETS; i = next++) {
          const w = await http(p.url, 'PUT', `secret/data/s${i}`, { token: root, body: { data: { v: `value-${i}` } } });
          assert.equal(w.status, 200, w.text);
        }
      }),
    );
    assert.deepEqual(images(), [], 'no snapshot before the shutdown (the log is below the compaction point)');
    await p.kill('SIGTERM');
    assert.equal(p.child.exitCode, 0, p.stderr());
    assert.match(p.stderr(), /shutdown: raft log compacted, storage closed/);
    const logLine = p.stderr().split('\n').find((l) => l.includes('shutdown: raft log compacted')) ?? '';
    const logEntries = (JSON.parse(logLine) as { logEntries: number }).logEntries;
    assert.ok(logEntries > SECRETS, `the log held ${logEntries} entries at shutdown`);
    assert.equal(images().length, 1, `one snapshot image: ${images().join(', ')}`);

    p = await start();
    try {
      assert.equal(openedLogEntries(p), 0, 'the restart read no log entries');
      assert.equal(await readAll(p, SECRETS), 0, 'secrets missing or wrong after the restart');
      const w = await http(p.url, 'PUT', 'secret/data/after', { token: root, body: { data: { v: 'after' } } });
      assert.equal(w.status, 200, w.text);
      assert.equal(w.body.data.version, 1);
    } finally {
      await p.kill('SIGTERM');
    }
    // A handful of writes since the compaction: the log is short, nothing is compacted.
    assert.equal(p.child.exitCode, 0, p.stderr());
    assert.match(p.stderr(), /shutdown: raft log short, not compacted/);
    assert.equal(images().length, 1);
  });

  it('after SIGKILL (no compaction) the log is replayed and nothing is lost', async () => {
    let p = await start();
    for (let i = SECRETS; i < SECRETS + 200; i++) {
      const w = await http(p.url, 'PUT', `secret/data/s${i}`, { token: root, body: { data: { v: `value-${i}` } } });
      assert.equal(w.status, 200, w.text);
    }
    await p.kill('SIGKILL');
    p = await start();
    try {
      assert.ok(openedLogEntries(p) >= 200, `the restart replays the log: ${openedLogEntries(p)} entries`);
      assert.equal(await readAll(p, SECRETS + 200), 0);
      assert.equal((await http(p.url, 'GET', 'secret/data/after', { token: root })).body.data.data.v, 'after');
    } finally {
      await p.kill('SIGTERM');
    }
  });
});
