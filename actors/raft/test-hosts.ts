// Tests: three RaftHosts (n1, n2, n3) in one process, wired by a switchboard that encodes every message
// as the TCP transport does and delivers it on a later turn. A test drops messages with `drop`. n1
// campaigns first (a short tick) and leads before the others start, so the test begins from a known leader.
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import { until as untilProbe } from '../../test/helpers/cluster.js';
import { tempDir } from '../storage/test-util.js';
import { encodeWriteSet } from '../storage/write-set.js';
import type { RaftMessage } from './core/types.js';
import { RaftHost, type RaftHostOptions } from './host.js';

export const THREE_IDS = ['n1', 'n2', 'n3'];

/** Polls a synchronous condition every 10 ms, for up to 20 s. */
export const untilTrue = (what: string, cond: () => boolean) => untilProbe(what, 20_000, async () => cond(), 10);

/** A write-set of one put, as a log entry's data. */
export const putOne = (key: string, value: string) => encodeWriteSet({ ops: [{ t: 'put', key, value: Buffer.from(value) }] });

/** A key's value in a host's FSM as text (a fresh read snapshot), undefined when absent. */
export const fsmValue = (h: RaftHost, key: string) => {
  h.env.root.resetReadTxn();
  return h.env.fsm.get(key)?.toString();
};

export interface ThreeHostsOptions {
  /** Temp directory prefix per host. */
  name: string;
  /** True: the message is lost. */
  drop?: (msg: RaftMessage) => boolean;
  /** Extra options per host id. */
  options?: (id: string) => Partial<RaftHostOptions>;
}

/** Opens the three hosts (closed when the test ends) and returns them once n1 leads. */
export async function threeHostsLedByN1(t: TestContext, opts: ThreeHostsOptions): Promise<[RaftHost, RaftHost, RaftHost]> {
  const hosts = new Map<string, RaftHost>();
  const send = (msg: RaftMessage) => {
    if (opts.drop?.(msg) === true) return;
    const bytes = encode(msg);
    setImmediate(() => hosts.get(msg.to)?.step(decode<RaftMessage>(bytes)));
  };
  const log = pino({ level: 'silent' });
  for (const id of THREE_IDS) {
    const own = { id, dataDir: tempDir(t, `coffer-${opts.name}-${id}-`), voters: THREE_IDS, send, log, tickMs: id === 'n1' ? 5 : 20, compactAt: 10_000 };
    hosts.set(id, await RaftHost.open({ ...own, ...(opts.options?.(id) ?? {}) }));
  }
  t.after(() => Promise.all([...hosts.values()].map((h) => h.close().catch(() => undefined))));
  const [n1, n2, n3] = THREE_IDS.map((id) => hosts.get(id)!) as [RaftHost, RaftHost, RaftHost];
  n1.start();
  await untilTrue('n1 leads', () => n1.status().role === 'leader');
  n2.start();
  n3.start();
  return [n1, n2, n3];
}
