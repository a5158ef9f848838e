// sys/host-info (Vault's handleHostInfo, gopsutil's shapes where Node can fill them): the CPUs, their times,
// memory, the disk holding the data directory and the host, for support and capacity checks. Local to the
// node that answers (never forwarded). Fields Node cannot read are left out rather than invented.
import { statfsSync } from 'node:fs';
import { arch, cpus, freemem, hostname, platform, release, totalmem, uptime, type } from 'node:os';

export function hostInfo(dataDir: string, nowMs: number): Record<string, unknown> {
  const list = cpus();
  const total = totalmem();
  const free = freemem();
  const data: Record<string, unknown> = {
    timestamp: new Date(nowMs).toISOString(),
    cpu: list.map((c, i) => ({ cpu: i, modelName: c.model, mhz: c.speed })),
    // Node reports milliseconds; gopsutil reports seconds.
    cpu_times: list.map((c, i) => ({ cpu: `cpu${i}`, user: c.times.user / 1000, system: c.times.sys / 1000, idle: c.times.idle / 1000, nice: c.times.nice / 1000, irq: c.times.irq / 1000 })),
    memory: { total, free, available: free, used: total - free, usedPercent: total > 0 ? ((total - free) / total) * 100 : 0 },
    host: { hostname: hostname(), uptime: Math.floor(uptime()), bootTime: Math.floor(nowMs / 1000 - uptime()), os: platform(), platform: type(), kernelVersion: release(), kernelArch: arch() },
  };
  try {
    const fs = statfsSync(dataDir);
    const size = fs.blocks * fs.bsize;
    const avail = fs.bavail * fs.bsize;
    const used = size - fs.bfree * fs.bsize;
    data['disk'] = [{ path: dataDir, total: size, free: avail, used, usedPercent: size > 0 ? (used / size) * 100 : 0, inodesTotal: fs.files, inodesFree: fs.ffree, inodesUsed: fs.files - fs.ffree }];
  } catch {
    // A data directory gone or unreadable: the rest still answers.
  }
  return data;
}
