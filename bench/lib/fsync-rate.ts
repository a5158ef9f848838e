// The disk anchor: 4 KiB write + fdatasync in a loop, appending to a temp file in `dir`, as a naive
// log append would. Synchronous on purpose (no event-loop noise in the latencies); it blocks the
// calling thread for durationMs. The temp directory is removed afterwards.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export async function measureFsyncRate(dir: string, durationMs: number): Promise<{ fsyncsPerSec: number; p50Ms: number; p99Ms: number }> {
  const work = mkdtempSync(join(dir, 'fsync-rate-'));
  const fd = openSync(join(work, 'probe.tmp'), 'w');
  const block = Buffer.alloc(4096, 0x61);
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(durationMs * 1e6));
  try {
    for (let now = start; now < end; ) {
      writeSync(fd, block);
      fdatasyncSync(fd);
      const after = process.hrtime.bigint();
      latenciesMs.push(Number(after - now) / 1e6);
      now = after;
    }
  } finally {
    closeSync(fd);
    rmSync(work, { recursive: true, force: true });
  }
  const elapsedMs = latenciesMs.reduce((a, b) => a + b, 0);
  latenciesMs.sort((a, b) => a - b);
  const quantile = (q: number): number => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? 0;
  return { fsyncsPerSec: Math.round((latenciesMs.length * 1000) / elapsedMs), p50Ms: quantile(0.5), p99Ms: quantile(0.99) };
}
