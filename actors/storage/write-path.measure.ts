// Durable submits/s through LocalWritePath at 1 and 64 concurrent submitters, against the disk's
// fsync rate measured in the same run (ratios only: the load shares the cores).
// Usage: node dist/actors/storage/write-path.measure.js [durationMs=3000] [dir=os.tmpdir()]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureFsyncRate } from '../../bench/lib/fsync-rate.js';
import { LocalWritePath } from './write-path.js';

const durationMs = Number(process.argv[2] ?? 3000);
const baseDir = process.argv[3] ?? tmpdir();

async function measureSubmits(concurrency: number): Promise<{ concurrency: number; submitsPerSec: number; writeSetsPerFlush: number; p50Ms: number; p99Ms: number }> {
  const dir = mkdtempSync(join(baseDir, 'coffer-measure-'));
  const wp = LocalWritePath.open(dir);
  const value = Buffer.alloc(160, 0x5a); // about one barrier-encrypted small secret
  const latenciesMs: number[] = [];
  let n = 0;
  const end = performance.now() + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const start = performance.now();
      await wp.submit({ ops: [{ t: 'put', key: `bench/${n++ % 100_000}`, value }] });
      latenciesMs.push(performance.now() - start);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = performance.now() - t0;
  const stats = wp.stats();
  await wp.close();
  rmSync(dir, { recursive: true, force: true });
  latenciesMs.sort((a, b) => a - b);
  const q = (p: number): number => Number((latenciesMs[Math.floor(p * (latenciesMs.length - 1))] ?? 0).toFixed(3));
  return {
    concurrency,
    submitsPerSec: Math.round((stats.writeSets * 1000) / elapsedMs),
    writeSetsPerFlush: Number((stats.writeSets / stats.flushes).toFixed(1)),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

const fsync = await measureFsyncRate(baseDir, durationMs);
const rows = [];
for (const concurrency of [1, 64]) rows.push(await measureSubmits(concurrency));
const fsyncAfter = await measureFsyncRate(baseDir, durationMs);
console.log(JSON.stringify({ fsync, fsyncAfter, rows }));
for (const r of rows) {
  console.log(`| ${r.concurrency} | ${r.submitsPerSec} | ${(r.submitsPerSec / fsync.fsyncsPerSec).toFixed(2)} | ${r.writeSetsPerFlush} | ${r.p50Ms} | ${r.p99Ms} |`);
}
