// Ring vs MessagePort between the main thread and one worker: round trips/s (one ask in flight,
// request of N payload bytes, small reply) and one-way messages/s (main produces, worker consumes and
// decodes every message). Ring messages are msgpackr frames (runtime/codec) through runtime/ring
// (Ring + RingInbox + RingOutbox, the actor runtime's primitives); port messages are the same plain
// objects sent with postMessage (structured clone). Each case: warm-up, then a fixed measured window.
// Usage: node dist/bench/ring.js   (env: BENCH_SECONDS=2 WARMUP_SECONDS=0.5 RING_SPIN_US=<µs> RING_SIZES=64,1024 RING_KINDS=oneway,rtt)
// Writes docs/bench/ring.md and docs/bench/ring.svg.
import { MessageChannel, type MessagePort, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { decodeRange, encode } from '../runtime/codec.js';
import { ringLimits } from '../runtime/limits.js';
import { Ring, RingInbox, RingOutbox } from '../runtime/ring/index.js';
import { barChartSvg, markdownTable, formatNumber } from './lib/chart.js';

type Mode = 'ring' | 'port';
type Kind = 'rtt' | 'oneway';
interface Msg {
  t: 'req';
  i: number;
  path: string;
  p: Uint8Array;
}
type Ctl = { t: 'mark' } | { t: 'stop' };
interface Setup {
  mode: Mode;
  kind: Kind;
  requestSab: SharedArrayBuffer;
  replySab: SharedArrayBuffer;
  port: MessagePort;
  spinUs: number;
}

const RING_BYTES = 4 * 1024 * 1024;
const PORT_WINDOW = 4096; // one-way postMessage: max messages in flight (the ring is bounded too)
const ACK_EVERY = 512;

const mkMsg = (i: number, payload: Uint8Array): Msg => ({ t: 'req', i, path: 'secret/data/payments/db', p: payload });

// ------------------------------------------------------------------ worker side
function workerMain(s: Setup): void {
  const reply = new RingOutbox(Ring.attach(s.replySab));
  let count = 0;
  const onMsg = (m: Msg | Ctl, send: (v: unknown) => void) => {
    if (m.t === 'req') {
      count++;
      if (s.kind === 'rtt') send({ t: 'ok', i: m.i });
      else if (s.mode === 'port' && count % ACK_EVERY === 0) send({ t: 'ack', n: count });
    } else if (m.t === 'mark') {
      count = 0;
      send({ t: 'marked' });
    } else {
      send({ t: 'count', n: count });
    }
  };
  if (s.mode === 'ring') {
    const send = (v: unknown) => reply.push(encode(v));
    const inbox = new RingInbox(Ring.attach(s.requestSab), { onFrame: (b, start, end) => onMsg(decodeRange<Msg | Ctl>(b, start, end), send), onError: (e) => { throw e; } }, s.spinUs);
    inbox.start();
  } else {
    s.port.on('message', (m: Msg | Ctl) => onMsg(m, (v) => s.port.postMessage(v)));
  }
  parentPort?.on('message', () => process.exit(0)); // ref'd handle: keeps this worker serving
}

// ------------------------------------------------------------------ main side
interface Result {
  perSecond: number;
  usPerOp: number;
}

class Client {
  private waiter: ((v: { t: string; i?: number; n?: number }) => void) | undefined;
  private acked = 0;
  private ackWaiter: (() => void) | undefined;
  private readonly request: Ring;
  private readonly outbox: RingOutbox;
  private readonly inbox: RingInbox | undefined;
  constructor(readonly s: Setup) {
    this.request = Ring.attach(s.requestSab);
    this.outbox = new RingOutbox(this.request);
    const onReply = (v: { t: string; i?: number; n?: number }) => {
      if (v.t === 'ack') {
        this.acked = v.n as number;
        this.ackWaiter?.();
        return;
      }
      const w = this.waiter;
      this.waiter = undefined;
      w?.(v);
    };
    if (s.mode === 'ring') {
      this.inbox = new RingInbox(Ring.attach(s.replySab), { onFrame: (b, start, end) => onReply(decodeRange(b, start, end)), onError: (e) => { throw e; } }, s.spinUs);
      this.inbox.start();
    } else {
      s.port.on('message', onReply);
    }
  }
  close(): void {
    this.inbox?.close();
    this.s.port.close();
  }
  private next(): Promise<{ t: string; i?: number; n?: number }> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
  /** Send one message; for the ring, through the outbox (flushed on a microtask, waits for space, never drops). */
  async send(m: Msg | Ctl): Promise<void> {
    if (this.s.mode === 'port') {
      this.s.port.postMessage(m);
      return;
    }
    this.outbox.push(encode(m)); // keeps order behind any frames still waiting for space
  }
  async ctl(m: Ctl): Promise<{ t: string; n?: number }> {
    const r = this.next();
    await this.send(m);
    return r;
  }
  async roundTrips(payload: Uint8Array, ms: number): Promise<Result> {
    const t0 = performance.now();
    const end = t0 + ms;
    let i = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 16; k++) {
        const r = this.next();
        await this.send(mkMsg(++i, payload));
        const v = await r;
        if (v.i !== i) throw new Error(`reply ${v.i} for request ${i}`);
      }
    }
    const el = performance.now() - t0;
    return { perSecond: (i * 1000) / el, usPerOp: (el * 1000) / i };
  }
  async oneWay(payload: Uint8Array, ms: number): Promise<Result> {
    await this.ctl({ t: 'mark' });
    this.acked = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    let i = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 64; k++) {
        if (this.s.mode === 'port') {
          while (i - this.acked >= PORT_WINDOW) await new Promise<void>((r) => (this.ackWaiter = r));
          this.s.port.postMessage(mkMsg(++i, payload));
        } else {
          this.outbox.push(encode(mkMsg(++i, payload))); // published once per batch, on a microtask
        }
      }
      if (this.s.mode === 'ring') {
        await null; // let the outbox flush this batch of 64
        while (this.outbox.depth > 256) await new Promise((r) => setImmediate(r)); // ring full: outbox waits for space
      }
    }
    const r = await this.ctl({ t: 'stop' });
    const el = performance.now() - t0;
    if (r.n !== i) throw new Error(`consumer saw ${r.n} of ${i} messages`);
    return { perSecond: (i * 1000) / el, usPerOp: (el * 1000) / i };
  }
}

async function runCase(mode: Mode, kind: Kind, size: number, spinUs: number, warmMs: number, measureMs: number): Promise<Result> {
  const { port1, port2 } = new MessageChannel();
  const s: Setup = { mode, kind, requestSab: Ring.create(RING_BYTES).sab, replySab: Ring.create(RING_BYTES).sab, port: port2, spinUs };
  const worker = new Worker(new URL(import.meta.url), { workerData: s, transferList: [port2] });
  worker.once('error', (e) => {
    console.error(e);
    process.exit(1);
  });
  const client = new Client({ ...s, port: port1 });
  await client.ctl({ t: 'mark' }); // worker is up
  const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
  const run = (ms: number) => (kind === 'rtt' ? client.roundTrips(payload, ms) : client.oneWay(payload, ms));
  await run(warmMs);
  const r = await run(measureMs);
  client.close();
  await worker.terminate();
  return r;
}

async function main(): Promise<void> {
  const measureMs = Number(process.env.BENCH_SECONDS ?? 2) * 1000;
  const warmMs = Number(process.env.WARMUP_SECONDS ?? 0.5) * 1000;
  const spinUs = Number(process.env.RING_SPIN_US ?? ringLimits.ringSpinUs);
  // RING_SIZES=1024 RING_KINDS=oneway: one case only (for profiling with --cpu-prof).
  const sizes = (process.env.RING_SIZES ?? '64,1024,16384').split(',').map(Number);
  const kinds = (process.env.RING_KINDS ?? 'oneway,rtt').split(',') as Kind[];
  const label = (k: Kind) => (k === 'rtt' ? 'round trips/s' : 'one-way msgs/s');
  const target = (k: Kind, size: number) => (size > 1024 ? undefined : k === 'rtt' ? 2 : 2.5);
  console.log(`ring bench: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${measureMs / 1000} s per case after ${warmMs / 1000} s warm-up, ring spin ${spinUs} µs`);
  const rows: (string | number)[][] = [];
  const groups: { label: string; bars: { label: string; value: number }[] }[] = [];
  let misses = 0;
  for (const kind of kinds) {
    for (const size of sizes) {
      const res: Record<Mode, Result> = {} as Record<Mode, Result>;
      for (const mode of ['ring', 'port'] as Mode[]) {
        process.stdout.write(`  ${label(kind)} ${size} B via ${mode === 'ring' ? 'ring' : 'postMessage'} ... `);
        res[mode] = await runCase(mode, kind, size, spinUs, warmMs, measureMs);
        console.log(`${formatNumber(res[mode].perSecond)}/s (${res[mode].usPerOp.toFixed(2)} µs/op)`);
      }
      const ratio = res.ring.perSecond / res.port.perSecond;
      const t = target(kind, size);
      const verdict = t === undefined ? 'n/a' : ratio >= t ? 'PASS' : 'MISS';
      if (verdict === 'MISS') misses++;
      rows.push([label(kind), `${size} B`, res.ring.perSecond, res.port.perSecond, `${ratio.toFixed(2)}×`, t === undefined ? '–' : `≥ ${t}×`, verdict, res.ring.usPerOp.toFixed(2), res.port.usPerOp.toFixed(2)]);
      groups.push({ label: `${label(kind)}, ${size} B`, bars: [{ label: 'SAB ring (msgpackr)', value: res.ring.perSecond }, { label: 'postMessage (clone)', value: res.port.perSecond }] });
    }
  }
  const table = markdownTable(['measure', 'payload', 'ring /s', 'postMessage /s', 'ring / postMessage', 'target', 'verdict', 'ring µs/op', 'postMessage µs/op'], rows);
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`;
  console.log('\n' + table + '\n');
  console.log(misses === 0 ? 'all targets met' : `${misses} target(s) missed`);
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync(
    'docs/bench/ring.md',
    [
      '# Ring vs postMessage (main thread ↔ one worker)',
      '',
      `Run ${new Date().toISOString()} by \`node dist/bench/ring.js\` on ${machine}.`,
      `Each case: ${warmMs / 1000} s warm-up, then ${measureMs / 1000} s measured; consumer spin before sleeping: ${spinUs} µs.`,
      '',
      '- **one-way**: main encodes `{t, i, path, p: <payload bytes>}` and pushes it (ring: through a RingOutbox, one publish per 64-message batch); the worker decodes every message. The ring is 4 MiB; postMessage is windowed to 4096 messages in flight (acks every 512).',
      '- **round trip**: one request in flight; the worker decodes it and replies `{t, i}`.',
      '- Ring = `runtime/ring` (Ring + RingInbox + RingOutbox, msgpackr frames, copy-out before decode). postMessage = the same plain object, structured clone over a MessageChannel.',
      '- Targets: one-way ≥ 2.5× and round trip ≥ 2× postMessage for 64 B and 1 KiB. Two vCPUs shared by both threads: compare ratios, not absolute figures across runs.',
      '',
      table,
      '',
      '![chart](ring.svg)',
      '',
    ].join('\n'),
  );
  writeFileSync('docs/bench/ring.svg', barChartSvg({ title: `SAB ring vs postMessage — ${machine}`, unit: '/s', groups }));
  console.log('wrote docs/bench/ring.md and docs/bench/ring.svg');
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  workerMain(workerData as Setup);
}
