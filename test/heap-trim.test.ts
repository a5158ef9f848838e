// Heap given back after a burst (runtime/heap-trim.ts), seen through sys/metrics of a real server
// process: after a burst of writes and reads, the handler worker and the main thread (the front) each
// run one trim once idle, report the bytes it released, and do not trim again while they stay idle;
// every secret written in the burst still reads back, and the node serves a second burst.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healthStatus, sleep, unsealWith, until } from './helpers/cluster.js';
import { sample } from './helpers/prometheus.js';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('idle heap trim', () => {
  const dir = tempDir('heap-trim');
  let proc: ServerProcess;
  let root: string;
  before(async () => {
    proc = await startServerProcess(dir.path, '', '', { COFFER_LOG_LEVEL: 'debug' });
    const init = await http(proc.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    root = init.body.root_token as string;
    await unsealWith(proc.url, init.body.keys_base64 as string[]);
    await until('node active', 30_000, async () => (await healthStatus(proc.url)) === 200);
    const mount = await http(proc.url, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } });
    assert.equal(mount.status, 204, mount.text);
  });
  after(async () => {
    await proc?.kill('SIGTERM');
    dir.remove();
  });

  const metrics = async () => (await http(proc.url, 'GET', 'sys/metrics?format=prometheus', { token: root })).text;
  const burst = async (tag: string, count: number) => {
    const value = 'v'.repeat(4096);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const w = await http(proc.url, 'POST', `secret/data/${tag}/${i}`, { token: root, body: { data: { value, i } } });
        assert.equal(w.status, 200, w.text);
        const r = await http(proc.url, 'GET', `secret/data/${tag}/${i}`, { token: root });
        assert.equal(r.body.data.data.i, i);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
  };

  it('the handler and the front trim once after a burst, not again while idle, and lose nothing', async () => {
    const threads = ['handler-0', 'main'];
    const figures = (text: string) => threads.map((a) => ({ trims: sample(text, 'coffer_actor_heap_trims_total', { actor: a }) ?? 0, released: sample(text, 'coffer_actor_heap_released_bytes_total', { actor: a }) ?? 0 }));
    const start = figures(await metrics()); // a trim after start-up may have run already
    await burst('first', 3_000);
    await until('handler-0 and main trimmed after the burst', 60_000, async () => {
      const now = figures(await metrics());
      return now.every((f, i) => f.trims > (start[i] as { trims: number }).trims) ? now : null;
    }, 500);
    const trimmed = figures(await metrics());
    const trimLog = () => proc.stderr().split('\n').filter((l) => l.includes('heap trimmed')).join('\n');
    trimmed.forEach((f, i) => assert.ok(f.released > (start[i] as { released: number }).released, `${threads[i]} released no heap after the burst:\n${trimLog()}`));
    // Idle now: the trim made the new heap size the baseline, so no GC runs again and again.
    await sleep(7_000);
    assert.deepEqual(figures(await metrics()).map((f) => f.trims), trimmed.map((f) => f.trims), 'an idle thread trimmed again');
    for (const i of [0, 1_499, 2_999]) {
      const r = await http(proc.url, 'GET', `secret/data/first/${i}`, { token: root });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.data.value.length, 4096);
    }
    await burst('second', 500);
  });
});
