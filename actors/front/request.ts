// Turning a node:http request into a parsed API request: method → operation, query, body, token.
// Everything here is stateless; limits and error texts follow Vault's HTTP layer (§0.1, §0.2).
import type { IncomingMessage } from 'node:http';
import { CofferError } from '../../runtime/errors.js';
import { limits } from '../../runtime/limits.js';
import { DEFAULT_JSON_LIMITS, enforceJsonLimits, type JsonLimits } from './json-limits.js';
import { namespaceHeaderPath } from '../mounts/namespaces/model.js';

export type Operation = 'read' | 'update' | 'delete' | 'list' | 'patch' | 'header';

export interface ApiRequest {
  method: string;
  operation: Operation;
  /** Path after /v1/, without a leading slash; LIST adds a trailing slash as Vault does. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  token: string | null;
  headers: IncomingMessage['headers'];
  /** The body as received (a standby forwards it unchanged to the active node). */
  raw: Buffer;
  /** Streamed-body paths only (STREAMED_BODY_PATHS): the unread request body; `raw` is then empty. */
  stream?: IncomingMessage;
}

/** Paths whose body is binary and possibly large: left unread for the route (raft snapshot restore). */
export const STREAMED_BODY_PATHS = new Set(['sys/storage/raft/snapshot', 'sys/storage/raft/snapshot-force']);

const METHOD_OPERATION: Record<string, Operation> = {
  GET: 'read',
  POST: 'update',
  PUT: 'update',
  DELETE: 'delete',
  LIST: 'list',
  PATCH: 'patch',
  HEAD: 'header',
};

export function tokenFrom(headers: IncomingMessage['headers']): string | null {
  const vault = headers['x-vault-token'];
  if (typeof vault === 'string' && vault !== '') return vault;
  const auth = headers.authorization;
  // Only exactly "Bearer <token>" is taken; other schemes are left for plugins (§0.2).
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim() || null;
  return null;
}

function parseBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error parsing ${name} parameter: invalid syntax`);
}

const NO_BODY = Buffer.alloc(0);

/** Reads the whole body, refusing more than the listener limit with 413 before buffering it all. */
export async function readBody(req: IncomingMessage, maxBytes = limits.requestBodyBytesMax): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new CofferError('COFFER_ERR_TOO_LARGE');
  // HTTP/1.1 (RFC 9112 §6.3): neither Content-Length nor Transfer-Encoding means no body. Most reads are
  // like that; an async iterator over an empty stream costs the front ~5% of its CPU under reads.
  if (declared === 0 && req.headers['transfer-encoding'] === undefined) return NO_BODY;
  return collectBody(req, maxBytes);
}

/**
 * The body from 'data' events. `for await (const chunk of req)` costs a promise and an iterator step
 * per chunk: a bare node:http server reading a 120-byte JSON body spent 33-36 us of CPU per POST with
 * it and 27-29 us with events (/tmp probe, four alternated rounds of 60,000 requests).
 * Past `maxBytes` the stream is paused, not destroyed: the front answers 413 and then discards the
 * rest for a bounded time (server.ts, lingering close), so the client reads the answer.
 */
function collectBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        req.pause();
        reject(new CofferError('COFFER_ERR_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // A client that goes away mid-body: node emits 'error' (ECONNRESET, "aborted"), then 'close'. That is
    // the client's doing, not a failure of this node, so it is not logged as one (COFFER_ERR_INTERNAL).
    const gone = () => new CofferError('COFFER_ERR_INVALID_REQUEST', 'request body: connection closed before the end of the body');
    const onError = (err: NodeJS.ErrnoException) => {
      stop();
      reject(err.code === 'ECONNRESET' ? gone() : err);
    };
    const onClose = () => {
      stop();
      reject(gone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function parseBody(raw: Buffer, contentType: string | undefined, jsonLimits: JsonLimits = DEFAULT_JSON_LIMITS): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  if (contentType?.startsWith('application/x-www-form-urlencoded') && text[0] !== '{' && text[0] !== '[') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  enforceJsonLimits(raw, jsonLimits);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `failed to parse JSON input: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'failed to parse JSON input: the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** True when a `.` or `..` segment appears anywhere (an empty segment, `//`, is not one). */
export function isRelativePath(path: string): boolean {
  return path.split('/').some((seg) => seg === '.' || seg === '..');
}

/** A malformed escape ("%zz", a lone "%") is the client's error, 400 with Go's message, not a thrown URIError (500). */
function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    const bad = /%(?![0-9a-fA-F]{2})..?|%[0-9a-fA-F]{2}/.exec(raw)?.[0] ?? '%';
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid URL escape ${JSON.stringify(bad)}`);
  }
}

/**
 * X-Vault-Namespace, as Vault Enterprise and OpenBao read it: the namespace path is put in front of the
 * request path ("team1" + "secret/data/x" → "team1/secret/data/x"), so the header and the path prefix
 * address a namespace alike ("", "/" and "root" are the root). The handler's pipeline then finds the
 * namespace by the longest namespace path in front (actors/mounts/namespaces/model.ts); a namespace that
 * does not exist leaves a path nothing serves: 404, never a silent write into the root namespace.
 */
/**
 * The lifecycle endpoints (API.md §1), served by HTTP handlers of their own outside any namespace: with a
 * namespace header they are refused, 400 `operation unavailable in namespaces` (OpenBao). Through a
 * namespace's path they reach that namespace's sys/, which refuses them as root-only.
 */
const LIFECYCLE_PATHS = new Set(['sys/init', 'sys/seal-status', 'sys/seal', 'sys/unseal', 'sys/step-down', 'sys/health', 'sys/leader', 'sys/ha-status']);

export async function parseRequest(req: IncomingMessage, jsonLimits: JsonLimits = DEFAULT_JSON_LIMITS): Promise<ApiRequest | null> {
  const url = new URL(req.url ?? '/', 'http://front');
  if (!url.pathname.startsWith('/v1/')) return null;
  const method = (req.method ?? 'GET').toUpperCase();
  let operation = METHOD_OPERATION[method];
  if (operation === undefined) throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
  const query = url.searchParams;
  // HCSEC-2026-05: `.`/`..` segments (literal, percent-encoded, or formed by decoding %2F) are refused, as
  // OpenBao does by default, so the ACL can never be evaluated on one path while another is served.
  const rawPath = (req.url ?? '/').split('?')[0] as string;
  const bare = decodePath(url.pathname.slice('/v1/'.length));
  // X-Vault-Namespace, as Vault Enterprise and OpenBao read it: the namespace path goes in front of the
  // request path, so the header and the path prefix address a namespace alike. The handler's pipeline
  // finds the namespace by the longest namespace path in front and answers 404 `namespace not found`
  // when the header names none: never a silent write into the root namespace.
  const namespace = namespaceHeaderPath(req.headers['x-vault-namespace']);
  if (namespace !== '' && LIFECYCLE_PATHS.has(bare.replace(/\/$/, ''))) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'operation unavailable in namespaces');
  let path = namespace + bare;
  if (isRelativePath(rawPath.replace(/%2e/gi, '.')) || isRelativePath(path)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'relative paths not supported');
  if (method === 'GET' && query.has('list')) {
    if (query.has('scan')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'list and scan cannot both be set');
    if (parseBool('list', query.get('list') as string)) operation = 'list';
    query.delete('list');
  }
  if (operation === 'list' && !path.endsWith('/')) path += '/';
  if (operation === 'patch' && !req.headers['content-type']?.startsWith('application/merge-patch+json')) {
    throw new CofferError('COFFER_ERR_UNSUPPORTED_MEDIA', 'PATCH requires the Content-Type application/merge-patch+json');
  }
  if (operation === 'update' && STREAMED_BODY_PATHS.has(path.replace(/\/$/, ''))) {
    return { method, operation, path, query, body: {}, token: tokenFrom(req.headers), headers: req.headers, raw: Buffer.alloc(0), stream: req };
  }
  const raw = await readBody(req);
  const body = parseBody(raw, req.headers['content-type'], jsonLimits);
  return { method, operation, path, query, body, token: tokenFrom(req.headers), headers: req.headers, raw };
}

export { parseBool };
