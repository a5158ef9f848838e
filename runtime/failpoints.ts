// Failpoints (RELIABILITY.md §7.1, the gofail equivalent): named points in the storage and Raft write path
// where a test build can make the process crash, throw or stall, chosen by one environment variable read
// once when this module loads (in every thread: workers inherit the environment):
//   COFFER_FAILPOINTS=name=action[,name=action...]     action = exit | throw | sleep(ms), optionally @N
// `@N` arms the action from the N-th time the point is reached (1-based; default 1), so a test can let a
// node boot and take load before it dies at, say, the 40th log append. `exit` writes one line to stderr
// and SIGKILLs the whole process (not just the calling worker thread): no exit handlers, no flush of
// anything still in user space, as a crash. `throw` raises a FailpointError where the point is (the code
// around it treats it like a storage error: fail-stop). `sleep(ms)` blocks the calling thread.
// Unset, failpoint() is one comparison against null. The list of points is FAILPOINTS below and
// docs/faults.md; an unknown name in the variable is an error at load, so a typo cannot pass silently.
import { writeSync } from 'node:fs';

export const FAILPOINTS = [
  'raft-log-before-append',
  'raft-log-before-fsync',
  'raft-log-after-fsync',
  'raft-before-commit',
  'raft-after-commit',
  'fsm-apply-before-index',
  'fsm-apply-after-index',
  'snapshot-before-save',
  'snapshot-after-save',
  'snapshot-before-truncate',
  'snapshot-after-truncate',
  'snapshot-install-after-save',
  'snapshot-install-after-truncate',
  'snapshot-install-after-restore',
  'keyring-rotate-before-commit',
  'keyring-rotate-after-commit',
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];

type Action = { t: 'exit' } | { t: 'throw' } | { t: 'sleep'; ms: number };

interface Armed {
  action: Action;
  /** Hit number from which the action fires. */
  from: number;
  hits: number;
}

export class FailpointError extends Error {
  constructor(readonly point: string) {
    super(`failpoint ${point}: throw`);
    this.name = 'FailpointError';
  }
}

/** Parses the variable's value; throws on anything it does not understand. */
export function parseFailpoints(spec: string): Map<string, Armed> {
  const armed = new Map<string, Armed>();
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z0-9-]+)=(exit|throw|sleep\((\d+)\))(?:@(\d+))?$/.exec(part);
    if (m === null) throw new Error(`COFFER_FAILPOINTS: cannot parse "${part}" (want name=exit|throw|sleep(ms)[@N])`);
    const name = m[1]!;
    if (!(FAILPOINTS as readonly string[]).includes(name)) throw new Error(`COFFER_FAILPOINTS: unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`);
    const action: Action = m[2] === 'exit' ? { t: 'exit' } : m[2] === 'throw' ? { t: 'throw' } : { t: 'sleep', ms: Number(m[3]) };
    const from = m[4] === undefined ? 1 : Number(m[4]);
    if (!(from >= 1)) throw new Error(`COFFER_FAILPOINTS: "${part}": @N must be >= 1`);
    armed.set(name, { action, from, hits: 0 });
  }
  return armed;
}

const spec = process.env.COFFER_FAILPOINTS;
const armed: Map<string, Armed> | null = spec === undefined || spec.trim() === '' ? null : parseFailpoints(spec);

/** A named point in the write path; does nothing unless COFFER_FAILPOINTS names it. */
export function failpoint(name: FailpointName): void {
  if (armed === null) return;
  fire(name, armed);
}

function fire(name: string, points: Map<string, Armed>): void {
  const p = points.get(name);
  if (p === undefined || ++p.hits < p.from) return;
  switch (p.action.t) {
    case 'exit':
      // One synchronous line the crash tests look for, then the whole process dies at once.
      writeSync(2, `failpoint ${name}: exit (hit ${p.hits})\n`);
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL to ourselves is delivered before kill() returns on Linux; block in case it is not.
      for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    case 'throw':
      throw new FailpointError(name);
    case 'sleep':
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, p.action.ms);
      return;
  }
}
