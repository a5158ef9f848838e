// One HTTP request for a recording client, with the two instants the history needs taken from the
// recorder's clock: `call` just before the request bytes are handed to the socket, `ret` just after the
// last response byte. Failures are classified by whether the request can have reached the server:
//   notSent: the connection was refused or never opened, so the server never saw it (a definite failure);
//   sent: timeout, reset or error after the request may have been written (an indeterminate outcome).
// No redirects are followed (a 307 is the caller's to interpret), no retries.
import { request, Agent, type IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  call: number;
  ret: number;
}

export class HttpCallError extends Error {
  constructor(
    message: string,
    /** Could the server have received the request? false only when it certainly did not. */
    readonly sent: boolean,
    readonly call: number,
    /** When the client gave up. */
    readonly ret: number,
  ) {
    super(message);
  }
}

export interface HttpCallOptions {
  method: string;
  /** Full URL. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The recorder's clock (ns, one monotonic clock for the whole history). */
  now: () => number;
  /** Keep-alive agent of the calling client (one outstanding request per client: one socket per node). */
  agent?: Agent;
}

/** A keep-alive agent for one recording client. */
export function clientAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 1_000 });
}

export function httpCall(o: HttpCallOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(o.headers ?? {}) };
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = Buffer.byteLength(o.body);
    }
    let settled = false;
    let connected = false;
    let call = o.now();
    const req = request(o.url, { method: o.method, headers, ...(o.agent ? { agent: o.agent } : { agent: false }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => fail(err, true));
      res.on('end', () => {
        const ret = o.now();
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), call, ret });
      });
    });
    const fail = (err: Error, sent: boolean) => {
      const ret = o.now();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new HttpCallError(err.message, sent, call, ret));
    };
    req.on('socket', (s) => {
      // A reused keep-alive socket is already connected; a fresh one reports 'connect'.
      if (!s.connecting) connected = true;
      else s.once('connect', () => (connected = true));
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(err, connected && err.code !== 'ECONNREFUSED'));
    const timer = setTimeout(() => fail(new Error(`timeout after ${o.timeoutMs} ms`), true), o.timeoutMs);
    // The call instant: just before the request is handed over (node writes it once the socket is ready;
    // taking the instant earlier only widens the interval, which is safe).
    call = o.now();
    req.end(o.body);
  });
}
