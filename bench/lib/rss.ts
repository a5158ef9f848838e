// Peak resident memory of processes over a stretch of time (one scenario). Linux keeps a peak (VmHWM)
// per process; writing "5" to /proc/PID/clear_refs resets it, which we may do for processes we started.
// Where the reset is refused, VmRSS sampled every 100 ms stands in (it can miss a short spike).
import { readFileSync, writeFileSync } from 'node:fs';

export interface MemoryReading {
  rssMiB: number;
  peakRssMiB: number;
  /** Anonymous (heap) and file-backed (e.g. LMDB's map) parts of VmRSS. */
  anonMiB: number;
  fileMiB: number;
}

export function readMemory(pid: number): MemoryReading | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const mib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN') / 1024;
  return { rssMiB: mib('VmRSS'), peakRssMiB: mib('VmHWM'), anonMiB: mib('RssAnon'), fileMiB: mib('RssFile') };
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface PeakWatch {
  /** Stops sampling; the peak RSS (MiB) per PID, in the order given. */
  stop(): number[];
}

export function watchPeakRss(pids: number[]): PeakWatch {
  const reset = pids.map(resetPeak);
  const sampled = pids.map(() => 0);
  const sample = () =>
    pids.forEach((pid, i) => {
      const m = readMemory(pid);
      if (m && m.rssMiB > (sampled[i] as number)) sampled[i] = m.rssMiB;
    });
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return pids.map((pid, i) => {
        const hwm = reset[i] ? (readMemory(pid)?.peakRssMiB ?? 0) : 0;
        return Math.max(hwm, sampled[i] as number);
      });
    },
  };
}
