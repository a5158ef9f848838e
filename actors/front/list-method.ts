// Vault's API uses the non-standard HTTP method LIST (the vault CLI and clients such as node-vault send
// it), but node's HTTP parser (llhttp) knows a fixed set of methods and rejects LIST before any request
// handler runs. The parser reports it as a clientError carrying the raw bytes, so the front serves such
// a request itself here: parse the request head, build a real IncomingMessage/ServerResponse pair on
// the same socket, run the normal handler, then close the connection (the parser of that socket is in
// an error state; the client reconnects for its next request). Clients can also use GET ?list=true,
// which stays on the fast path.
import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const HEAD_END = Buffer.from('\r\n\r\n');

interface ParsedHead {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  body: Buffer;
}

export function parseRequestHead(raw: Buffer): ParsedHead | null {
  const end = raw.indexOf(HEAD_END);
  if (end < 0) return null;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) return null;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const length = Number(headers['content-length'] ?? '0');
  if (headers['transfer-encoding'] || !Number.isInteger(length) || length < 0) return null;
  const body = raw.subarray(end + HEAD_END.length, end + HEAD_END.length + length);
  if (body.length !== length) return null; // a LIST body split over packets is not supported
  return { method: m[1] as string, url: m[2] as string, httpVersion: m[3] as string, headers, rawHeaders, body };
}

/** A request the front cannot take: 400 in Vault's error shape, then the connection is closed. */
function refuse(socket: Socket, message: string): void {
  const body = JSON.stringify({ errors: [message] });
  if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  else socket.destroy();
}

export function serveListMethod(server: Server, handler: Handler): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const raw = err.rawPacket;
    // Only a method at the start of the packet: bytes before it would be an earlier pipelined request.
    // Besides LIST, any other method token llhttp does not know (SCAN, made-up ones) goes to the handler
    // too, which answers 405 in Vault's shape as Go's server + Vault would.
    const method = err.code === 'HPE_INVALID_METHOD' && raw ? /^([A-Z]{1,32}) /.exec(raw.subarray(0, 33).toString('latin1'))?.[1] : undefined;
    const head = method !== undefined && raw ? parseRequestHead(raw) : null;
    if (!head || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      return refuse(socket, method !== undefined ? `malformed ${method} request (its body must arrive with its head; or use GET with ?list=true)` : 'malformed HTTP request');
    }
    // The socket is ours now: the http server's parser for it has failed, and its 'end' handler would
    // close the socket under the response we are about to write.
    socket.removeAllListeners('end');
    socket.removeAllListeners('data');
    const req = new IncomingMessage(socket);
    req.method = head.method;
    req.url = head.url;
    req.httpVersion = head.httpVersion;
    req.headers = head.headers;
    req.rawHeaders = head.rawHeaders;
    // The body is already in hand; reading must not resume the socket, whose handle the failed parser
    // still consumes (resuming it reads EOF and node closes the socket under our response).
    req._read = () => undefined;
    // Normally set by the parser; without it, destroying the finished request (as a for-await over the
    // body does) counts as an abort and destroys the socket.
    req.complete = true;
    if (head.body.length > 0) req.push(head.body);
    req.push(null);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    void handler(req, res);
  });
}
