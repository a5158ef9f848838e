// CORRUPTION (RELIABILITY.md §7.2): a bit flip or truncation in what a node keeps on disk — a Raft log
// entry, the hard state and FSM applied-index records, a barrier value in the FSM, a snapshot file — is
// detected (record checksum, GCM tag, snapshot SHA-256). A node whose own records are corrupt refuses
// to start with an error that says so (and starts again, all data intact, once the bytes are repaired);
// a corrupt value reads as an error; a corrupt snapshot is refused before anything is restored. Never a
// silent wrong read, never a committed write lost. Records are changed through LMDB (node stopped) so
// the B-tree itself stays valid and only the record's bytes differ, as after a bad sector in a value.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';
import { flipBit, initAndUnseal, openStoppedEnv, restart } from './helpers/stopped-node.js';

const WRITES = 40;

describe('CORRUPTION: on-disk corruption is detected, never read silently', () => {
  const dir = tempDir('corruption');
  let server: ServerProcess | null = null;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('log entry, hard state, applied index, FSM values and snapshot files', async () => {
    server = await startServerProcess(dir.path);
    const { rootToken: root, keys } = await initAndUnseal(server);
    assert.equal((await http(server.url, 'POST', 'sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '1' } } })).status, 204);
    const values = new Map<string, string>();
    for (let i = 0; i < WRITES; i++) {
      const v = `committed-${i}`;
      assert.equal((await http(server.url, 'PUT', `kv/c${i}`, { token: root, body: { v } })).status, 204);
      values.set(`c${i}`, v);
    }
    let corruptions = 0;
    let detected = 0;
    let silentWrong = 0;
    const lost = new Set<string>();
    /** Reads every committed value; `corrupt` names the ones whose stored bytes were damaged on purpose. */
    const readAll = async (url: string, corrupt: Set<string> = new Set()) => {
      let errors = 0;
      for (const [k, v] of values) {
        const r = await http(url, 'GET', `kv/${k}`, { token: root });
        if (r.status === 200 && r.body.data.v === v) continue;
        if (r.status === 200) silentWrong++;
        else if (corrupt.has(k)) errors++;
        else lost.add(k);
      }
      return errors;
    };

    // Snapshot files: a flipped bit and a truncation are refused before anything is restored.
    const snap = await fetch(`${server.url}/v1/sys/storage/raft/snapshot`, { headers: { 'X-Vault-Token': root } });
    assert.equal(snap.status, 200);
    const image = Buffer.from(await snap.arrayBuffer());
    assert.ok(image.length > 200, `snapshot of ${image.length} bytes`);
    for (const [what, bad] of [
      ['snapshot bit flip', flipBit(image, Math.floor(image.length * 0.6))],
      ['snapshot truncated', image.subarray(0, Math.floor(image.length * 0.7))],
    ] as const) {
      corruptions++;
      const r = await fetch(`${server.url}/v1/sys/storage/raft/snapshot`, { method: 'POST', headers: { 'X-Vault-Token': root }, body: new Uint8Array(bad) });
      const text = await r.text();
      if (r.status >= 400) detected++;
      else console.log(`${what}: accepted (${r.status} ${text})`);
    }
    await readAll(server.url);
    await server.kill();
    server = null;

    // Node records: each corrupted alone; the node must refuse to start, naming the damage.
    const recordCases: Array<{ what: string; db: 'log' | 'hard' | 'meta'; key: (env: ReturnType<typeof openStoppedEnv>) => unknown; damage: (v: Buffer) => Buffer }> = [
      { what: 'log entry bit flip', db: 'log', key: (e) => middleLogIndex(e), damage: (v) => flipBit(v, Math.floor(v.length * 0.7), 1) },
      { what: 'log entry truncated', db: 'log', key: (e) => middleLogIndex(e) + 1, damage: (v) => v.subarray(0, v.length - 3) },
      { what: 'hard state bit flip', db: 'hard', key: () => 'state', damage: (v) => flipBit(v, v.length - 1, 0) },
      { what: 'applied index bit flip', db: 'meta', key: () => 'applied', damage: (v) => flipBit(v, v.length - 1, 0) },
    ];
    for (const c of recordCases) {
      corruptions++;
      let env = openStoppedEnv(dir.path);
      const db = env.db(c.db);
      const key = c.key(env);
      const original = Buffer.from(db.get(key as never) as Buffer);
      db.putSync(key as never, c.damage(original));
      await env.close();
      let started: ServerProcess | null = null;
      let failure = '';
      try {
        started = await restart(dir.path, keys);
      } catch (err) {
        failure = String((err as Error).message);
      }
      if (started === null) {
        if (/checksum|corrupt/i.test(failure)) detected++;
        else console.log(`${c.what}: refused to start without naming the damage:\n${failure.slice(0, 2000)}`);
        // Repaired, the node starts again with everything it had committed.
        env = openStoppedEnv(dir.path);
        env.db(c.db).putSync(key as never, original);
        await env.close();
        started = await restart(dir.path, keys);
      } else console.log(`${c.what}: not detected, the node started`);
      await readAll(started.url);
      await started.kill();
    }

    // FSM values (barrier ciphertext): the node starts; the damaged values read as errors.
    const env = openStoppedEnv(dir.path);
    const fsm = env.db('fsm');
    const damaged = new Set<string>();
    const pathOf = (name: string) => [...fsm.getKeys({ start: 'logical/', end: 'logical0' })].find((k) => (k as string).endsWith(`/${name}`)) as string;
    fsm.putSync(pathOf('c3'), flipBit(Buffer.from(fsm.get(pathOf('c3'))!)));
    fsm.putSync(pathOf('c4'), Buffer.from(fsm.get(pathOf('c4'))!).subarray(0, 20));
    damaged.add('c3').add('c4');
    corruptions += 2;
    await env.close();
    server = await restart(dir.path, keys);
    detected += await readAll(server.url, damaged);

    console.log(`corruptions: ${corruptions}; detected: ${detected}; silent wrong reads: ${silentWrong}; committed writes lost: ${lost.size}`);
    assert.equal(silentWrong, 0);
    assert.equal(lost.size, 0, [...lost].join(','));
    assert.equal(detected, corruptions);
  });
});

function middleLogIndex(env: ReturnType<typeof openStoppedEnv>): number {
  const idx = [...env.db('log').getKeys()] as number[];
  assert.ok(idx.length >= 10, `log holds ${idx.length} entries`);
  return idx[Math.floor(idx.length / 2)] as number;
}
