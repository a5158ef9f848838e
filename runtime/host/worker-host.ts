// Inside an actor's worker thread: binds a handler to the rings the ActorSystem handed over.
// Lifecycle: attach rings -> run init(ctx) -> start serving -> post READY. The parentPort 'message'
// listener (control plane) is the ref'd handle that keeps this thread alive while it serves:
// Atomics.waitAsync alone would not. An error thrown by init or escaping a timer crashes the worker,
// and the ActorSystem applies the actor's supervision policy.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { assert, assertNever } from '../assert.js';
import { trimThisThreadWhenIdle } from '../heap-trim.js';
import { CofferError } from '../errors.js';
import { limits } from '../limits.js';
import { Ring } from '../ring/index.js';
import { AskClient, serveRequests, type RequestServer } from './channel.js';
import type { BootData, ControlIn, ControlOut } from './protocol.js';

export interface PeerRef<In, Out> {
  ask(msg: In, timeoutMs?: number): Promise<Out>;
  tell(msg: In): void;
}

export interface ActorContext {
  workerData: unknown;
  log: Logger;
  peer<In, Out>(name: string): PeerRef<In, Out>;
}

export function serveActor<In, Out>(
  handler: (msg: In, ctx: ActorContext) => Out | Promise<Out>,
  opts: { init?: (ctx: ActorContext) => Promise<void> | void } = {},
): void {
  assert(!isMainThread && parentPort !== null, 'serveActor must run inside a worker spawned by ActorSystem');
  const port = parentPort;
  const boot = (workerData as BootData).coffer;
  assert(boot !== undefined, 'worker was not started by ActorSystem (no boot data)');
  // stderr, as the main thread's logger (actors/node/node.ts): stdout is for command output.
  const log = pino({ name: boot.name, level: boot.logLevel }, pino.destination(2));
  const clients = new Map<string, AskClient>(); // peers this actor asks
  const linkedOnce = new Set<string>();
  const servers = new Map<string, RequestServer>(); // peers that ask this actor

  const peer = <PIn, POut>(name: string): PeerRef<PIn, POut> => ({
    ask(msg: PIn, timeoutMs: number = limits.askTimeoutMs): Promise<POut> {
      const c = clients.get(name);
      if (c) return c.ask<POut>(msg, timeoutMs);
      return Promise.reject(notLinked(name));
    },
    tell(msg: PIn): void {
      const c = clients.get(name);
      if (!c) throw notLinked(name);
      c.tell(msg);
    },
  });
  const notLinked = (name: string) =>
    linkedOnce.has(name)
      ? new CofferError('COFFER_ERR_ACTOR_CRASHED', `peer ${name} is restarting`)
      : new CofferError('COFFER_ERR_INTERNAL', `actor ${boot.name} is not linked to ${name}`);

  const ctx: ActorContext = { workerData: (workerData as BootData).user, log, peer };
  const handle = (msg: unknown) => handler(msg as In, ctx);
  const send = (m: ControlOut) => port.postMessage(m);

  const onControl = (m: ControlIn) => {
    switch (m.t) {
      case 'peer-up': {
        clients.get(m.peer)?.close(new CofferError('COFFER_ERR_ACTOR_CRASHED', `link to ${m.peer} replaced`));
        clients.set(m.peer, new AskClient(m.peer, Ring.attach(m.requestSab), Ring.attach(m.replySab), log, boot.spinUs));
        linkedOnce.add(m.peer);
        send({ t: 'ack', linkId: m.linkId });
        return;
      }
      case 'peer-down': {
        clients.get(m.peer)?.close(new CofferError('COFFER_ERR_ACTOR_CRASHED', `peer ${m.peer} crashed`));
        clients.delete(m.peer);
        return;
      }
      case 'serve-peer': {
        servers.get(m.peer)?.close();
        servers.set(m.peer, serveRequests(Ring.attach(m.requestSab), Ring.attach(m.replySab), handle, log, boot.spinUs));
        send({ t: 'ack', linkId: m.linkId });
        return;
      }
      case 'unserve-peer': {
        servers.get(m.peer)?.close();
        servers.delete(m.peer);
        return;
      }
      default:
        assertNever(m);
    }
  };
  port.on('message', onControl);

  const start = async () => {
    await opts.init?.(ctx);
    serveRequests(Ring.attach(boot.requestSab), Ring.attach(boot.replySab), handle, log, boot.spinUs);
    send({ t: 'ready' });
    trimThisThreadWhenIdle((e) => send({ t: 'heap-trim', ...e }));
  };
  start().catch((err: unknown) => {
    log.error({ err }, 'actor init failed');
    process.nextTick(() => {
      throw err; // crash the worker: the ActorSystem sees it and applies supervision
    });
  });
}
