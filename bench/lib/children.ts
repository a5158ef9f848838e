// This process's direct children, from /proc. Every one of them is a process the bench started, so
// stopping them by PID is safe even when the helper that spawned one lost track of it (a start that
// timed out, a signal mid-bring-up).
import { readdirSync, readFileSync } from 'node:fs';

export function childPids(match?: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      if (match && !readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(match)) continue;
      pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** SIGTERM the children (those whose command line contains `match`, if given), SIGKILL what is left after `graceMs`. */
export async function stopChildren(match?: string, graceMs = 5000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  childPids(match).forEach((pid) => signal(pid, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (childPids(match).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  childPids(match).forEach((pid) => signal(pid, 'SIGKILL'));
}
