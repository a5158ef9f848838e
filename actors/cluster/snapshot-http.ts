// HTTP routes of sys/storage/raft/snapshot, snapshot-force and autopilot/* (registered in
// actors/front/routes.ts). The front holds no state: a snapshot is pulled from / pushed to the core in
// chunks (actors/cluster/snapshot.ts), with HTTP backpressure in between.
// Snapshot paths on a standby are always a 307 to the active node, never forwarded (API.md §2.6): the
// route answers it itself, before reading any body.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { CofferError } from '../../runtime/errors.js';
import type { ApiRequest } from '../front/request.js';
import { envelope, sendError, sendJson, sendNoContent } from '../front/respond.js';
import { redirectToActive } from '../front/redirect.js';
import type { AskCore } from '../front/routes.js';

/** Bytes per restore-chunk ask (a ring frame is 1 MiB). */
const UPLOAD_CHUNK_BYTES = 256 * 1024;

function methodNotAllowed(): never {
  throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
}

function isNotLeader(err: unknown): boolean {
  return err instanceof CofferError && err.value.code === 'COFFER_ERR_NOT_LEADER';
}

/** The original path and query, for the 307 to the active node (Vault redirects snapshot paths). */
function apiPath(req: ApiRequest): string {
  const q = req.query.toString();
  return `/v1/${req.path}${q ? `?${q}` : ''}`;
}

async function save(req: ApiRequest, res: ServerResponse, ask: AskCore): Promise<void> {
  let opened;
  try {
    opened = await ask({ t: 'snapshot', token: req.token, snap: { op: 'save-open' } });
  } catch (err) {
    if (isNotLeader(err)) return redirectToActive(res, ask, apiPath(req));
    throw err;
  }
  const id = opened.id as string;
  let done = false;
  let aborted = false;
  res.once('close', () => {
    if (!res.writableFinished) aborted = true;
  });
  try {
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="coffer-raft-snapshot-${opened.index ?? 0}.snap"`,
      'Cache-Control': 'no-store',
      'X-Coffer-Snapshot-Index': String(opened.index ?? 0),
    });
    while (!done && !aborted) {
      const r = await ask({ t: 'snapshot', token: req.token, snap: { op: 'save-next', id } });
      done = r.done === true;
      const data = r.data ?? new Uint8Array(0);
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (chunk.length > 0 && !res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
    if (!aborted) res.end();
  } finally {
    if (!done) await ask({ t: 'snapshot', token: req.token, snap: { op: 'save-close', id } }).catch(() => undefined);
  }
}

const restore =
  (force: boolean) =>
  async (req: ApiRequest, res: ServerResponse, ask: AskCore): Promise<void> => {
    if (req.operation !== 'update') methodNotAllowed();
    const stream = req.stream;
    if (stream === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'snapshot restore: the request body was already read');
    let id: string;
    try {
      id = (await ask({ t: 'snapshot', token: req.token, snap: { op: 'restore-open', force } })).id as string;
    } catch (err) {
      stream.resume(); // discard the body
      if (isNotLeader(err)) return redirectToActive(res, ask, apiPath(req));
      throw err;
    }
    try {
      let pending: Buffer[] = [];
      let size = 0;
      const flush = async () => {
        if (size === 0) return;
        const data = Buffer.concat(pending, size);
        pending = [];
        size = 0;
        await ask({ t: 'snapshot', token: req.token, snap: { op: 'restore-chunk', id, data } });
      };
      for await (const c of stream) {
        let chunk = c as Buffer;
        while (chunk.length > 0) {
          const room = UPLOAD_CHUNK_BYTES - size;
          pending.push(chunk.subarray(0, room));
          size += Math.min(room, chunk.length);
          chunk = chunk.subarray(room);
          if (size >= UPLOAD_CHUNK_BYTES) await flush();
        }
      }
      await flush();
      await ask({ t: 'snapshot', token: req.token, snap: { op: 'restore-finish', id } });
    } catch (err) {
      await ask({ t: 'snapshot', token: req.token, snap: { op: 'restore-abort', id } }).catch(() => undefined);
      throw err;
    }
    sendNoContent(res);
  };

export async function snapshotRoute(req: ApiRequest, res: ServerResponse, ask: AskCore): Promise<void> {
  if (req.operation === 'read') return save(req, res, ask);
  if (req.operation === 'update') return restore(false)(req, res, ask);
  methodNotAllowed();
}

export const snapshotForceRoute = restore(true);

export async function autopilotStateRoute(req: ApiRequest, res: ServerResponse, ask: AskCore): Promise<void> {
  if (req.operation !== 'read') methodNotAllowed();
  const state = await ask({ t: 'autopilot', token: req.token, op: 'state' });
  if (state === null) return sendJson(res, 404, { errors: [] });
  sendJson(res, 200, envelope(state));
}

export async function autopilotConfigRoute(req: ApiRequest, res: ServerResponse, ask: AskCore): Promise<void> {
  if (req.operation === 'read') {
    const cfg = await ask({ t: 'autopilot', token: req.token, op: 'get-config' });
    return sendJson(res, 200, envelope(cfg ?? {}));
  }
  if (req.operation !== 'update') methodNotAllowed();
  await ask({ t: 'autopilot', token: req.token, op: 'set-config', body: req.body });
  sendNoContent(res);
}
