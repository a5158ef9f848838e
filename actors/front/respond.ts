// Writing replies in Vault's shapes: the logical envelope (§0.3), raw JSON bodies, and errors (§0.4).
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CofferError, httpStatusOf, isErrorValue, type ErrorValue } from '../../runtime/errors.js';
import { RingFrameTooLargeError } from '../../runtime/ring/ring.js';

const BASE_HEADERS = { 'Cache-Control': 'no-store' };

export function sendJson(res: ServerResponse, status: number, body: unknown, headOnly = false): void {
  sendJsonText(res, status, JSON.stringify(body), headOnly);
}

/** A body that is JSON text already (serialised by the handler worker). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headOnly = false): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(headOnly ? undefined : text);
}

export function sendNoContent(res: ServerResponse): void {
  sendEmpty(res, 204);
}

/** A status with no body (204, or e.g. KV v2's empty 404 for a PATCH of a missing key). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, status === 204 ? BASE_HEADERS : { ...BASE_HEADERS, 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, status: number, messages: string[]): void {
  sendJson(res, status, { errors: messages });
}

/** Maps anything thrown while serving to Vault's error shape; internal details never reach the client. */
export function errorValueOf(err: unknown): ErrorValue {
  if (err instanceof CofferError) return err.value;
  // A request whose message exceeds a ring frame cannot become one storage entry either.
  if (err instanceof RingFrameTooLargeError) {
    return { code: 'COFFER_ERR_TOO_LARGE', messages: [`request too large: ${err.frameBytes} bytes, the largest request the storage accepts is ${err.frameBytesMax} bytes`] };
  }
  if (isErrorValue(err)) return err;
  return { code: 'COFFER_ERR_INTERNAL', messages: ['internal error'] };
}

export function sendErrorValue(res: ServerResponse, value: ErrorValue): void {
  sendError(res, httpStatusOf(value.code), value.messages);
}

export interface Envelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: Record<string, unknown> | null;
  wrap_info: null;
  warnings: string[] | null;
  auth: null;
  [injected: string]: unknown;
}

/**
 * The logical response envelope. `inject` copies data's keys to the top level, the legacy quirk Vault
 * keeps for sys/mounts, sys/key-status, sys/rotate and friends (§0.3).
 */
export function envelope(data: Record<string, unknown> | null, opts: { inject?: boolean; warnings?: string[] } = {}): Envelope {
  const env: Envelope = {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: opts.warnings && opts.warnings.length > 0 ? opts.warnings : null,
    auth: null,
  };
  if (opts.inject && data) for (const [k, v] of Object.entries(data)) if (!(k in env)) env[k] = v;
  return env;
}
