// Main-thread side of the actor runtime: spawns actors on worker threads, gives each a request ring
// and a reply ring (SPSC, one per direction), wires peer links (a fresh ring pair per link), and
// supervises: a crashed worker fails its pending asks with COFFER_ERR_ACTOR_CRASHED, is logged, then
// is restarted with fresh rings ('restart', with a crash-loop guard) or reported ('fail-stop').
// Running Worker objects are ref'd handles, so the process stays alive while actors serve;
// shutdown() terminates them all and releases everything.
import { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { assert, assertNever } from '../assert.js';
import { CofferError } from '../errors.js';
import { limits, ringLimits } from '../limits.js';
import { Ring } from '../ring/index.js';
import { exposeGc, type HeapTrimTotals } from '../heap-trim.js';
import { AskClient } from './channel.js';
import type { BootData, ControlIn, ControlOut } from './protocol.js';

export type Supervision = 'restart' | 'fail-stop';

export interface ActorSpec {
  name: string;
  workerFile: URL;
  supervision: Supervision;
  workerData?: unknown;
  ringBytes?: number;
  /** V8 limits for this actor's worker (e.g. a small young generation for a mostly idle actor). */
  resourceLimits?: import('node:worker_threads').ResourceLimits;
}

export interface ActorRef<In, Out> {
  readonly name: string;
  ask(msg: In, timeoutMs?: number): Promise<Out>;
  tell(msg: In): void;
}

type CellState = 'starting' | 'running' | 'failed' | 'stopped';

interface Cell {
  spec: ActorSpec;
  state: CellState;
  everReady: boolean;
  worker: Worker | undefined;
  client: AskClient | undefined;
  restartTimesMs: number[];
  acks: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
  /** The main thread's ring pair with this actor (for stats()). */
  rings?: { request: Ring; reply: Ring };
  /** Heap trims the worker reported (runtime/heap-trim.ts), over all its restarts. */
  heapTrims: HeapTrimTotals;
}

/** Observability figures of one actor, as seen from the main thread (stats()). */
export interface ActorStats {
  name: string;
  state: CellState;
  /** Asks from the main thread awaiting a reply. */
  pendingAsks: number;
  /** Bytes not yet consumed in the main->actor request ring and the actor->main reply ring. */
  requestRingBytes: number;
  replyRingBytes: number;
  ringCapacityBytes: number;
  /** Restarts within the supervisor's crash-loop window. */
  restarts: number;
  /** The worker's cumulative event-loop active and idle time (ms). */
  eluActiveMs: number;
  eluIdleMs: number;
  /** Times the worker gave heap back after a burst, and the bytes it released. */
  heapTrims: HeapTrimTotals;
}

interface Link {
  from: string;
  to: string;
}

export class ActorSystem {
  private readonly log: Logger;
  private readonly onFailStop: (name: string, err: Error) => void;
  private readonly cells = new Map<string, Cell>();
  private readonly links: Link[] = [];
  private nextLinkId = 1;
  private stopping = false;

  constructor(opts: { logger?: Logger; onFailStop?: (name: string, err: Error) => void } = {}) {
    this.log = opts.logger ?? pino({ name: 'coffer-runtime' });
    this.onFailStop =
      opts.onFailStop ??
      ((name, err) => {
        this.log.fatal({ actor: name, err }, 'fail-stop actor died; exiting');
        process.exit(70);
      });
  }

  async spawn<In, Out>(spec: ActorSpec): Promise<ActorRef<In, Out>> {
    assert(!this.stopping, 'spawn after shutdown');
    assert(!this.cells.has(spec.name), `actor ${spec.name} already exists`);
    const cell: Cell = { spec, state: 'starting', everReady: false, worker: undefined, client: undefined, restartTimesMs: [], acks: new Map(), heapTrims: { trims: 0, bytesReleased: 0 } };
    this.cells.set(spec.name, cell);
    try {
      await this.startWorker(cell);
    } catch (err) {
      this.cells.delete(spec.name);
      throw err;
    }
    const crashed = () => new CofferError('COFFER_ERR_ACTOR_CRASHED', `actor ${spec.name} is not running`);
    return {
      name: spec.name,
      ask: (msg: In, timeoutMs?: number) => (cell.client ? cell.client.ask<Out>(msg, timeoutMs) : Promise.reject(crashed())),
      tell: (msg: In) => {
        if (!cell.client) throw crashed();
        cell.client.tell(msg);
      },
    };
  }

  /** Let actor `from` ask/tell actor `to` from inside its worker; kept across restarts of either. */
  async link(from: string, to: string): Promise<void> {
    assert(this.cells.has(from) && this.cells.has(to), `link ${from} -> ${to}: unknown actor`);
    assert(from !== to, 'an actor cannot link to itself');
    let link = this.links.find((l) => l.from === from && l.to === to);
    if (!link) {
      link = { from, to };
      this.links.push(link);
    }
    await this.establish(link);
  }

  /** Cheap per-actor figures for metrics (no message to any worker). */
  stats(): ActorStats[] {
    const out: ActorStats[] = [];
    for (const [name, cell] of this.cells) {
      const elu = cell.worker?.performance.eventLoopUtilization();
      out.push({
        name,
        state: cell.state,
        pendingAsks: cell.client?.inFlight ?? 0,
        requestRingBytes: cell.rings?.request.usedBytes() ?? 0,
        replyRingBytes: cell.rings?.reply.usedBytes() ?? 0,
        ringCapacityBytes: cell.rings?.request.capacityBytes ?? 0,
        restarts: cell.restartTimesMs.length,
        eluActiveMs: elu?.active ?? 0,
        eluIdleMs: elu?.idle ?? 0,
        heapTrims: { ...cell.heapTrims },
      });
    }
    return out;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const err = new CofferError('COFFER_ERR_ACTOR_CRASHED', 'actor system shut down');
    const exits: Promise<number>[] = [];
    for (const cell of this.cells.values()) {
      cell.state = 'stopped';
      cell.client?.close(err);
      for (const a of cell.acks.values()) a.reject(err);
      cell.acks.clear();
      if (cell.worker) exits.push(cell.worker.terminate());
    }
    await Promise.allSettled(exits);
    this.cells.clear();
    this.links.length = 0;
  }

  // ---- internals ----

  private startWorker(cell: Cell): Promise<void> {
    const { spec } = cell;
    const ringBytes = spec.ringBytes ?? limits.ringBytes;
    const requestRing = Ring.create(ringBytes);
    const replyRing = Ring.create(ringBytes);
    // Asks made while the worker boots wait in the fresh request ring until it starts serving.
    cell.client = new AskClient(spec.name, requestRing, replyRing, this.log, ringLimits.ringSpinUs);
    cell.rings = { request: requestRing, reply: replyRing };
    cell.state = 'starting';
    const boot: BootData = {
      coffer: { name: spec.name, requestSab: requestRing.sab, replySab: replyRing.sab, logLevel: this.log.level, spinUs: ringLimits.ringSpinUs },
      user: spec.workerData,
    };
    exposeGc(); // before the worker exists: its idle heap trim only reads the flag (runtime/heap-trim.ts)
    const worker = new Worker(spec.workerFile, { workerData: boot, ...(spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {}) });
    cell.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let error: Error | undefined;
      const startTimer = setTimeout(() => {
        error = new Error(`actor ${spec.name} did not signal READY within ${ringLimits.actorStartTimeoutMs} ms`);
        void worker.terminate();
      }, ringLimits.actorStartTimeoutMs);
      worker.on('message', (m: ControlOut) => {
        switch (m.t) {
          case 'ready':
            ready = true;
            clearTimeout(startTimer);
            cell.state = 'running';
            cell.everReady = true;
            resolve();
            return;
          case 'ack': {
            const a = cell.acks.get(m.linkId);
            cell.acks.delete(m.linkId);
            a?.resolve();
            return;
          }
          case 'heap-trim':
            cell.heapTrims.trims++;
            cell.heapTrims.bytesReleased += Math.max(0, m.heapBytesBefore - m.heapBytesAfter);
            this.log.debug({ actor: spec.name, heapBytesBefore: m.heapBytesBefore, heapBytesAfter: m.heapBytesAfter }, 'actor heap trimmed');
            return;
          default:
            assertNever(m);
        }
      });
      worker.on('error', (err) => {
        error = err;
      });
      worker.on('exit', (code) => {
        clearTimeout(startTimer);
        if (cell.worker !== worker || this.stopping) return;
        const err = error ?? new Error(`actor ${spec.name} worker exited with code ${code}`);
        if (!ready) reject(err);
        this.onCrash(cell, err);
      });
    });
  }

  private onCrash(cell: Cell, err: Error): void {
    const name = cell.spec.name;
    cell.worker = undefined;
    cell.client?.close(new CofferError('COFFER_ERR_ACTOR_CRASHED', `actor ${name} crashed`));
    cell.client = undefined;
    for (const a of cell.acks.values()) a.reject(new CofferError('COFFER_ERR_ACTOR_CRASHED', `actor ${name} crashed`));
    cell.acks.clear();
    this.log.error({ actor: name, err, supervision: cell.spec.supervision }, 'actor crashed');
    for (const l of this.links) {
      if (l.to === name) this.post(l.from, { t: 'peer-down', peer: name });
      if (l.from === name) this.post(l.to, { t: 'unserve-peer', peer: name });
    }
    if (!cell.everReady) {
      cell.state = 'failed'; // crashed during its first bootstrap: spawn() rejects, no supervision
      return;
    }
    const policy = cell.spec.supervision;
    switch (policy) {
      case 'restart': {
        const now = performance.now();
        cell.restartTimesMs = cell.restartTimesMs.filter((t) => now - t < ringLimits.actorRestartWindowMs);
        cell.restartTimesMs.push(now);
        if (cell.restartTimesMs.length > ringLimits.actorRestartsMax) {
          const loop = new Error(`actor ${name} crash loop: more than ${ringLimits.actorRestartsMax} restarts in ${ringLimits.actorRestartWindowMs} ms; last: ${err.message}`);
          this.failStop(cell, loop);
          return;
        }
        this.log.warn({ actor: name }, 'restarting actor');
        this.startWorker(cell).then(
          () => this.relink(name),
          () => {}, // a crash during the restart's bootstrap comes back through onCrash and the guard
        );
        return;
      }
      case 'fail-stop':
        this.failStop(cell, err);
        return;
      default:
        assertNever(policy);
    }
  }

  private failStop(cell: Cell, err: Error): void {
    cell.state = 'failed';
    this.onFailStop(cell.spec.name, err);
  }

  private post(name: string, m: ControlIn): void {
    const cell = this.cells.get(name);
    if (cell?.worker && cell.state === 'running') cell.worker.postMessage(m);
  }

  private relink(name: string): void {
    for (const l of this.links) {
      if (l.from !== name && l.to !== name) continue;
      this.establish(l).catch((err: unknown) => this.log.error({ link: l, err }, 're-link failed'));
    }
  }

  /** Give both ends of a link a fresh ring pair; resolves when both acknowledged. */
  private async establish(link: Link): Promise<void> {
    const client = this.cells.get(link.from);
    const server = this.cells.get(link.to);
    if (!client?.worker || client.state !== 'running' || !server?.worker || server.state !== 'running') return; // done on READY
    const linkId = this.nextLinkId++;
    const ringBytes = server.spec.ringBytes ?? limits.ringBytes;
    const requestRing = Ring.create(ringBytes);
    const replyRing = Ring.create(ringBytes);
    const ack = (cell: Cell) => new Promise<void>((resolve, reject) => cell.acks.set(linkId, { resolve, reject }));
    const acks = [ack(server), ack(client)];
    server.worker.postMessage({ t: 'serve-peer', peer: link.from, linkId, requestSab: requestRing.sab, replySab: replyRing.sab } satisfies ControlIn);
    client.worker.postMessage({ t: 'peer-up', peer: link.to, linkId, requestSab: requestRing.sab, replySab: replyRing.sab } satisfies ControlIn);
    await Promise.all(acks);
  }
}
