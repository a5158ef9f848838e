// The two ends of one ring pair. AskClient: ask/tell with correlation ids and timeouts, replies read
// from the reply ring. serveRequests: drains the request ring, runs the handler (many asks may be in
// flight at once; nothing is serialised), and writes replies through an outbox flushed per batch.
import type { Logger } from 'pino';
import { assert, assertNever } from '../assert.js';
import { decodeRange, encode } from '../codec.js';
import { CofferError, errorValue, isErrorValue, type ErrorValue } from '../errors.js';
import { limits } from '../limits.js';
import { Ring, RingInbox, RingOutbox } from '../ring/index.js';
import type { Envelope } from './protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class AskClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: CofferError | undefined;
  private readonly outbox: RingOutbox;
  private readonly inbox: RingInbox;

  constructor(
    readonly peerName: string,
    requestRing: Ring,
    replyRing: Ring,
    private readonly log: Logger,
    spinUs: number,
  ) {
    this.outbox = new RingOutbox(requestRing, (err) => log.warn({ peer: peerName, err: err.message }, 'request ring stalled'));
    this.inbox = new RingInbox(
      replyRing,
      { onFrame: (b, start, end) => this.onReply(decodeRange<Envelope>(b, start, end)), onError: (err) => log.fatal({ err }, 'reply loop failed') },
      spinUs,
      () => this.pending.size > 0, // spin for a reply only while one is expected
    );
    this.inbox.start();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  ask<Out>(msg: unknown, timeoutMs: number = limits.askTimeoutMs): Promise<Out> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.pending.size >= limits.pendingAsksMax) {
      return Promise.reject(new CofferError('COFFER_ERR_BACKPRESSURE', `${this.peerName}: ${limits.pendingAsksMax} asks pending`));
    }
    const id = this.nextId++;
    let frame: Buffer;
    try {
      frame = encode({ t: 'ask', id, m: msg } satisfies Envelope);
      this.outbox.push(frame);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Out>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CofferError('COFFER_ERR_TIMEOUT', `ask to ${this.peerName} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  tell(msg: unknown): void {
    if (this.closed) throw this.closed;
    this.outbox.push(encode({ t: 'tell', m: msg } satisfies Envelope));
  }

  private onReply(env: Envelope): void {
    if (env.t !== 'ok' && env.t !== 'err') {
      this.log.error({ peer: this.peerName, t: env.t }, 'unexpected frame on a reply ring');
      return;
    }
    const p = this.pending.get(env.id);
    if (!p) return; // timed out already
    this.pending.delete(env.id);
    clearTimeout(p.timer);
    if (env.t === 'ok') p.resolve(env.v);
    else p.reject(CofferError.fromValue(env.e));
  }

  /** Fail every pending ask and refuse new ones with `err`; stop the reply loop. */
  close(err: CofferError): void {
    if (this.closed) return;
    this.closed = err;
    this.outbox.close();
    this.inbox.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new CofferError(err.value.code, ...err.value.messages));
    }
    this.pending.clear();
  }
}

export type Handler = (msg: unknown) => unknown;

/** CofferError keeps its ErrorValue; anything else becomes COFFER_ERR_INTERNAL (and is logged). */
export function toErrorValue(err: unknown, log: Logger): ErrorValue {
  if (err instanceof CofferError) return err.value;
  if (isErrorValue(err)) return err;
  log.error({ err }, 'actor handler failed');
  return errorValue('COFFER_ERR_INTERNAL');
}

export interface RequestServer {
  close(): void;
}

/** Serve asks and tells arriving on requestRing; replies go out on replyRing. */
export function serveRequests(requestRing: Ring, replyRing: Ring, handler: Handler, log: Logger, spinUs: number): RequestServer {
  const outbox = new RingOutbox(replyRing, (err) => log.warn({ err: err.message }, 'reply ring stalled'));
  const reply = (env: Envelope) => {
    let frame: Buffer;
    try {
      frame = encode(env);
    } catch (err) {
      assert(env.t === 'ok', 'an error value must always encode');
      frame = encode({ t: 'err', id: env.id, e: toErrorValue(err, log) } satisfies Envelope);
    }
    try {
      outbox.push(frame);
    } catch (err) {
      log.error({ err }, 'reply dropped: reply ring refused it'); // asker times out
    }
  };
  const run = (env: Envelope) => {
    switch (env.t) {
      case 'ask': {
        const id = env.id;
        const ok = (v: unknown) => reply({ t: 'ok', id, v });
        const fail = (err: unknown) => reply({ t: 'err', id, e: toErrorValue(err, log) });
        try {
          const out = handler(env.m);
          if (out instanceof Promise) out.then(ok, fail);
          else ok(out);
        } catch (err) {
          fail(err);
        }
        return;
      }
      case 'tell': {
        const fail = (err: unknown) => log.error({ err: toErrorValue(err, log) }, 'tell handler failed');
        try {
          const out = handler(env.m);
          if (out instanceof Promise) out.catch(fail);
        } catch (err) {
          fail(err);
        }
        return;
      }
      case 'ok':
      case 'err':
        log.error({ t: env.t }, 'unexpected reply frame on a request ring');
        return;
      default:
        assertNever(env);
    }
  };
  const inbox = new RingInbox(
    requestRing,
    { onFrame: (b, start, end) => run(decodeRange<Envelope>(b, start, end)), onError: (err) => log.fatal({ err }, 'request loop failed') },
    spinUs,
  );
  inbox.start();
  return {
    close() {
      inbox.close();
      outbox.close();
    },
  };
}
