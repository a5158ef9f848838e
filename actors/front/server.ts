// The thin HTTP front: parse, route to the core actor over a ring, write the reply. No state.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { CofferError } from '../../runtime/errors.js';
import { serveListMethod } from './list-method.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './json-limits.js';
import { parseRequest, type ApiRequest } from './request.js';
import type { HaFront } from '../cluster/forwarding.js';
import type { LogicalReply, LogicalRequest } from '../handler/messages.js';
import type { FrontObservability } from '../observability/front.js';
import { errorValueOf, sendEmpty, sendError, sendErrorValue, sendJson, sendJsonText } from './respond.js';
import { isSealed, redirectToActive } from './redirect.js';
import { SEALED_OK, findRoute, readsStoredData, type AskCore } from './routes.js';

/** How long the front keeps discarding an over-limit body after its 413 before closing. */
const TOO_LARGE_DRAIN_MS = 5_000;

export interface ListenerConfig {
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** max_request_json_strings / max_request_json_memory (json-limits.ts; Vault: 1000 / 32 MiB + 512 KiB). */
  maxRequestJsonStrings?: number;
  maxRequestJsonMemory?: number;
  /** max_request_duration: a request not answered by then gets Vault's 500 "context deadline exceeded" (90 s). */
  maxRequestDurationMs?: number;
  /** http_read_header_timeout (10 s) and http_read_timeout (30 s): slower clients are disconnected. */
  readHeaderTimeoutMs?: number;
  readTimeoutMs?: number;
  /**
   * The unauthenticated sys/generate-root/* and sys/rekey/* endpoints, off unless the listener sets
   * disable_unauthed_generate_root_endpoints / disable_unauthed_rekey_endpoints = false (OpenBao 2.5+:
   * HCSEC-2025-11, HCSEC-2026-08 — anyone who can reach them can cancel an operator's attempt).
   */
  unauthedGenerateRoot?: boolean;
  unauthedRekey?: boolean;
}

/** Vault's listener defaults (DefaultMaxRequestDuration, http_read_header_timeout, http_read_timeout). */
export const LISTENER_DEFAULTS = { maxRequestDurationMs: 90_000, readHeaderTimeoutMs: 10_000, readTimeoutMs: 30_000 } as const;

export type AskHandler = (req: LogicalRequest) => Promise<LogicalReply>;

/** Headers a handler may need, lower-cased; the token travels separately and nothing else is passed. */
const FORWARDED_HEADERS = ['content-type', 'x-vault-wrap-ttl', 'x-vault-wrap-format', 'x-vault-namespace', 'x-vault-request'];

/**
 * `obs` (actors/observability/front.ts): in-flight, rate-limit quotas before dispatch, metrics, request log.
 * `ha` (actors/cluster/forwarding.ts): X-Vault-Index and consistency headers, standby reads, forwarding.
 */
export function createRequestHandler(ask: AskCore, log: Logger, askHandler: AskHandler, obs?: FrontObservability, ha?: HaFront, listener?: ListenerConfig) {
  const jsonLimits: JsonLimits = { strings: listener?.maxRequestJsonStrings ?? DEFAULT_JSON_LIMITS.strings, memory: listener?.maxRequestJsonMemory ?? DEFAULT_JSON_LIMITS.memory };
  const maxDurationMs = listener?.maxRequestDurationMs ?? LISTENER_DEFAULTS.maxRequestDurationMs;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const ctx = obs?.begin(req);
    ha?.begin(req, res);
    let api: ApiRequest | null = null;
    let timedOut = false;
    // max_request_duration (Vault's request context deadline), body reading included: the client gets the
    // error and the connection is closed; whatever the request was still doing can no longer answer.
    const deadline = setTimeout(() => {
      timedOut = true;
      if (res.headersSent) return void res.destroy();
      res.setHeader('Connection', 'close');
      res.once('finish', () => {
        req.resume();
        setTimeout(() => req.socket.destroy(), 1_000).unref();
      });
      sendError(res, 500, ['context deadline exceeded']);
    }, maxDurationMs);
    try {
      api = await parseRequest(req, jsonLimits);
      if (api === null) return sendError(res, 404, []);
      if (ha && (await ha.serveNamespaceKeys(api, req, res))) return;
      if (obs && ctx && obs.admit(ctx, api, req, res)) return;
      const route = findRoute(api.path, { generateRoot: listener?.unauthedGenerateRoot === true, rekey: listener?.unauthedRekey === true });
      if (ha && (await ha.before(api, req, res, readsStoredData(api.path, route)))) return;
      if (route !== null) return await route(api, res, ask);
      if (api.operation === 'header') throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
      const headers: Record<string, string> = {};
      for (const h of FORWARDED_HEADERS) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const data = api.operation === 'read' || api.operation === 'delete' || api.operation === 'list' ? { ...Object.fromEntries(api.query), ...api.body } : api.body;
      const remoteAddr = req.socket.remoteAddress;
      if (ha && ha.forwardsEarly(api, res)) return await ha.forwardEarly(api, req, res);
      const reply = await askHandler({ operation: api.operation, path: api.path, data, token: api.token, headers, ...(remoteAddr ? { remoteAddr } : {}), ...(ha?.isStandby() ? { standby: true } : {}) });
      ha?.markServed(res, reply.index); // X-Vault-Index: the snapshot the handler answered from
      if (obs && (await obs.afterHandler(api, reply, res))) return;
      if (reply.json !== undefined) sendJsonText(res, reply.status, reply.json);
      else if (reply.body === null || reply.body === undefined) sendEmpty(res, reply.status);
      else sendJson(res, reply.status, reply.body);
    } catch (err) {
      if (timedOut) return void res.destroy(); // answered already; a late reply has nowhere to go
      let value = errorValueOf(err);
      // A wrong method on a logical path (a core route such as sys/key-status, or HEAD on a mount path)
      // is checked after the seal in Vault: a sealed node answers 503, not 405. Only this error path asks.
      if (value.code === 'COFFER_ERR_METHOD_NOT_ALLOWED' && api !== null && !SEALED_OK.has(api.path.replace(/\/$/, '')) && (await isSealed(ask))) {
        value = errorValueOf(new CofferError('COFFER_ERR_SEALED'));
      }
      if (value.code === 'COFFER_ERR_INTERNAL') log.error({ err }, 'request failed');
      if (value.code === 'COFFER_ERR_TOO_LARGE' && !res.headersSent) {
        // Lingering close, as Go's server does: node discards the rest of the body after the response
        // so the client reads the 413 (destroying a socket with unread bytes sends a reset that can
        // overtake the response), but only for a bounded time, then the connection is cut.
        res.once('finish', () => {
          const timer = setTimeout(() => req.destroy(), TOO_LARGE_DRAIN_MS);
          req.once('end', () => clearTimeout(timer));
          req.resume();
        });
      }
      if (value.code === 'COFFER_ERR_NOT_LEADER' && !res.headersSent) {
        // A standby's write (the core's commit found this node is not the Raft leader), or an endpoint only
        // the active node serves. Today: Vault's redirect fallback, 307 to the active node's api_addr.
        // Request forwarding over the cluster link (§3.2) goes HERE: relay the request to the active node
        // (address and P-521 cert from core/leader/<uuid>) and copy its answer; 307 stays the fallback.
        // A handler is free of side effects before its first storage write, so re-running it there is safe.
        // With `ha`: forwarded over mutual TLS, 307 as the fallback (docs/ha-standby-reads.md).
        if (ha) return await ha.onNotLeader(api, req, res, value);
        return await redirectToActive(res, ask, req.url ?? '/', log);
      }
      if (!res.headersSent) {
        if (value.index !== undefined) ha?.setServedIndex(res, value.index); // a handler's refusal: its snapshot
        sendErrorValue(res, value);
      } else res.destroy();
    } finally {
      clearTimeout(deadline);
      if (obs && ctx) obs.end(ctx, req, res);
      else if (log.isLevelEnabled('debug')) {
        log.debug({ method: req.method, status: res.statusCode, us: Number(process.hrtime.bigint() - started) / 1000 }, 'request');
      }
    }
  };
}

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i < 0) throw new Error(`listener address must be host:port, got "${address}"`);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in listener address "${address}"`);
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

export async function listen(listener: ListenerConfig, handler: ReturnType<typeof createRequestHandler>): Promise<{ server: Server; url: string }> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handler(req, res);
  // A client that trickles its headers or body holds a socket and a parser: bounded as Go's server does
  // (ReadHeaderTimeout, ReadTimeout). node checks both every connectionsCheckingInterval.
  const headersTimeout = listener.readHeaderTimeoutMs ?? LISTENER_DEFAULTS.readHeaderTimeoutMs;
  const requestTimeout = Math.max(headersTimeout, listener.readTimeoutMs ?? LISTENER_DEFAULTS.readTimeoutMs);
  const timeouts = { keepAliveTimeout: 65_000, headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 4))) };
  let server: Server;
  if (listener.tlsDisable) {
    server = createHttpServer(timeouts, onRequest);
  } else {
    if (!listener.tlsCertFile || !listener.tlsKeyFile) throw new Error('listener "tcp": tls_cert_file and tls_key_file are required unless tls_disable = true');
    server = createHttpsServer({ cert: readFileSync(listener.tlsCertFile), key: readFileSync(listener.tlsKeyFile), ...timeouts }, onRequest);
  }
  serveListMethod(server, handler);
  const { host, port } = splitAddress(listener.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { server, url: `${listener.tlsDisable ? 'http' : 'https'}://${shownHost}:${addr.port}` };
}
