// The lifecycle routes of the HTTP front: which core message each request becomes, and how its reply
// is written. The front holds no state; every decision about seal, tokens and storage is the core's.
import type { ServerResponse } from 'node:http';
import { CofferError } from '../../runtime/errors.js';
import type { CoreReplies, CoreRequest, HealthInfo } from '../core/messages.js';
import { parseBool, type ApiRequest } from './request.js';
import { envelope, sendJson, sendNoContent } from './respond.js';
import { isSealed } from './redirect.js';
import { pgpKeyList } from '../barrier/pgp.js';
import { autopilotConfigRoute, autopilotStateRoute, snapshotForceRoute, snapshotRoute } from '../cluster/snapshot-http.js';

export type AskCore = <R extends CoreRequest>(msg: R) => Promise<CoreReplies[R['t']]>;

type Route = (req: ApiRequest, res: ServerResponse, ask: AskCore) => Promise<void>;

/**
 * Paths answered even while sealed (§0.4, §1): Vault's dedicated HTTP handlers, which check the method
 * before anything else (a wrong method is 405 sealed or not). Every other path is logical in Vault: while
 * sealed it is 503 whatever the method (server.ts turns a 405 of those into the 503).
 */
export const SEALED_OK = new Set(['sys/init', 'sys/unseal', 'sys/seal-status', 'sys/seal', 'sys/step-down', 'sys/health', 'sys/leader', 'sys/storage/raft/join']);

function methodNotAllowed(): never {
  throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
}

function intField(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid value for ${name}: expected an integer`);
  return n;
}

const init: Route = async (req, res, ask) => {
  if (req.operation === 'read') return sendJson(res, 200, await ask({ t: 'init-status' }));
  if (req.operation !== 'update') methodNotAllowed();
  const b = req.body;
  const hasRecoveryParams = ['recovery_shares', 'recovery_threshold', 'recovery_pgp_keys'].some((k) => b[k] !== undefined && b[k] !== 0 && b[k] !== null);
  const rootTokenPgpKey = b.root_token_pgp_key ?? '';
  if (typeof rootTokenPgpKey !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'root_token_pgp_key' must be a string");
  const reply = await ask({ t: 'init', secretShares: intField(b, 'secret_shares'), secretThreshold: intField(b, 'secret_threshold'), hasRecoveryParams, pgpKeys: pgpKeyList(b.pgp_keys), rootTokenPgpKey });
  sendJson(res, 200, reply);
};

/** Go decodes JSON field names case-insensitively, and clients rely on it for `key`. */
function fieldCi(body: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === name) return v;
  return undefined;
}

const unseal: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  const key = fieldCi(req.body, 'key');
  const reset = fieldCi(req.body, 'reset');
  if (key !== undefined && typeof key !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be a valid hex or base64 string");
  sendJson(res, 200, await ask({ t: 'unseal', key: (key as string | undefined) ?? null, reset: reset === true || reset === 'true' }));
};

/** A share-collection attempt's route: GET its status, DELETE cancels it (204), PUT/POST starts one. */
function attemptRoute(status: CoreRequest, cancel: CoreRequest, start: (req: ApiRequest) => CoreRequest): Route {
  return async (req, res, ask) => {
    if (req.operation === 'read') return sendJson(res, 200, await ask(status));
    if (req.operation === 'delete') {
      await ask(cancel);
      return sendNoContent(res);
    }
    if (req.operation !== 'update') methodNotAllowed();
    sendJson(res, 200, await ask(start(req)));
  };
}

/** sys/generate-root/attempt: {otp?, pgp_key?} to start. */
const generateRootAttempt = attemptRoute({ t: 'generate-root-status' }, { t: 'generate-root-cancel' }, (req) => {
  const otp = fieldCi(req.body, 'otp') ?? '';
  const pgpKey = fieldCi(req.body, 'pgp_key') ?? '';
  if (typeof otp !== 'string' || typeof pgpKey !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'otp' and 'pgp_key' must be strings");
  return { t: 'generate-root-start', otp, pgpKey };
});

/** sys/generate-root/update {key, nonce}: one unseal-key share. */
const generateRootUpdate: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  sendJson(res, 200, await ask({ t: 'generate-root-update', ...shareBody(req) }));
};

/** sys/rekey/init: {secret_shares, secret_threshold, require_verification, pgp_keys, backup} to start. */
const rekeyInit = attemptRoute({ t: 'rekey-status' }, { t: 'rekey-cancel' }, (req) => {
  const b = req.body;
  return {
    t: 'rekey-start',
    secretShares: intField(b, 'secret_shares'),
    secretThreshold: intField(b, 'secret_threshold'),
    requireVerification: b.require_verification === true || b.require_verification === 'true',
    pgpKeys: pgpKeyList(b.pgp_keys),
    backup: b.backup === true || b.backup === 'true',
  };
});

/** The {key, nonce} body of sys/rekey/update and sys/rekey/verify (generate-root's too). */
function shareBody(req: ApiRequest): { key: string; nonce: string } {
  const key = fieldCi(req.body, 'key') ?? '';
  const nonce = fieldCi(req.body, 'nonce') ?? '';
  if (typeof key !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be a valid hex or base64 string");
  if (typeof nonce !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'nonce' must be a string");
  return { key, nonce };
}

const rekeyUpdate: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  sendJson(res, 200, await ask({ t: 'rekey-update', ...shareBody(req) }));
};

/** sys/rekey/verify: GET the verification status, PUT/POST {key, nonce} a new share, DELETE starts the verification over. */
const rekeyVerify: Route = async (req, res, ask) => {
  if (req.operation === 'read') return sendJson(res, 200, await ask({ t: 'rekey-verify-status' }));
  if (req.operation === 'delete') return sendJson(res, 200, await ask({ t: 'rekey-verify-restart' }));
  if (req.operation !== 'update') methodNotAllowed();
  sendJson(res, 200, await ask({ t: 'rekey-verify-update', ...shareBody(req) }));
};

const sealStatus: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, await ask({ t: 'seal-status' }));
};

const seal: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  await ask({ t: 'seal', token: req.token });
  sendNoContent(res);
};

/** Query codes for sys/health; a non-integer is a 400 with an empty errors array (§1.7). */
function healthCode(query: URLSearchParams, name: string, fallback: number): number {
  const v = query.get(name);
  if (v === null) return fallback;
  if (!/^-?\d+$/.test(v)) throw new CofferError('COFFER_ERR_BAD_QUERY');
  return Number(v);
}

export function healthStatus(h: HealthInfo, query: URLSearchParams): number {
  const standbyOk = query.has('standbyok') ? parseHealthBool(query.get('standbyok') as string) : false;
  // OpenBao behaviour: perfstandbyok, performancestandbycode and drsecondarycode are accepted and ignored.
  if (query.has('perfstandbyok')) parseHealthBool(query.get('perfstandbyok') as string);
  for (const ignored of ['performancestandbycode', 'drsecondarycode']) healthCode(query, ignored, 0);
  const active = healthCode(query, 'activecode', 200);
  const standby = healthCode(query, 'standbycode', 429);
  const sealed = healthCode(query, 'sealedcode', 503);
  const uninit = healthCode(query, 'uninitcode', 501);
  if (!h.initialized) return uninit;
  if (h.sealed) return sealed;
  if (h.standby) return standbyOk ? active : standby;
  return active;
}

function parseHealthBool(v: string): boolean {
  try {
    return parseBool('standbyok', v);
  } catch {
    throw new CofferError('COFFER_ERR_BAD_QUERY');
  }
}

const health: Route = async (req, res, ask) => {
  if (req.operation !== 'read' && req.operation !== 'header') methodNotAllowed();
  const h = await ask({ t: 'health' });
  const status = healthStatus(h, req.query);
  const body = { ...h, replication_performance_mode: 'disabled', replication_dr_mode: 'disabled' };
  sendJson(res, status, body, req.operation === 'header');
};

const leader: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, await ask({ t: 'leader' }));
};

const rotate: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  await ask({ t: 'rotate', token: req.token });
  sendNoContent(res);
};

const keyStatus: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  const status = await ask({ t: 'key-status', token: req.token });
  sendJson(res, 200, envelope({ ...status }, { inject: true }));
};

const rotateRoot: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  await ask({ t: 'rotate-root', token: req.token });
  sendNoContent(res);
};

/** sys/rotate/keyring/config (also sys/rotate/config): GET the automatic rotation settings, POST/PUT to change them. */
const rotationConfig: Route = async (req, res, ask) => {
  if (req.operation === 'read') return sendJson(res, 200, envelope({ ...(await ask({ t: 'rotation-config', token: req.token })) }));
  if (req.operation !== 'update') methodNotAllowed();
  const b = req.body;
  await ask({ t: 'rotation-config-write', token: req.token, maxOperations: b.max_operations, interval: b.interval, enabled: b.enabled });
  sendNoContent(res);
};

const hostInfo: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, envelope(await ask({ t: 'host-info', token: req.token })));
};

const configState: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, envelope(await ask({ t: 'config-state', token: req.token })));
};

const RAW_OPS = { read: 'read', update: 'update', delete: 'delete', list: 'list' } as const;

const raw: Route = async (req, res, ask) => {
  const op = RAW_OPS[req.operation as keyof typeof RAW_OPS];
  if (op === undefined) methodNotAllowed();
  let path = req.path.slice('sys/raw'.length).replace(/^\//, '');
  if (op !== 'list') path = path.replace(/\/$/, '');
  const value = req.body.value;
  if (value !== undefined && typeof value !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'value must be a string');
  const reply = await ask({ t: 'raw', token: req.token, op, path, value: (value as string | undefined) ?? null });
  if (reply.noContent) return sendNoContent(res);
  if (reply.data === null) return sendJson(res, 404, { errors: [] });
  sendJson(res, 200, envelope(reply.data));
};

// ---- Raft cluster and HA (§1.5, §1.8, §2). Handled by the core's cluster logic (actors/cluster). ----

function strField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid value for ${name}: expected a string`);
  return v;
}

function boolField(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return parseBool(name, v);
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid value for ${name}: expected a boolean`);
}

const raftJoin: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  const b = req.body;
  if (b.auto_join !== undefined && b.auto_join !== '' && b.leader_api_addr) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'only one of leader_api_addr and auto_join may be given');
  if (b.auto_join !== undefined && b.auto_join !== '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'auto_join is not supported by this server');
  const ca = strField(b, 'leader_ca_cert');
  const reply = await ask({ t: 'raft-join', leaderApiAddr: strField(b, 'leader_api_addr'), retry: boolField(b, 'retry'), nonVoter: boolField(b, 'non_voter'), leaderCaCert: ca === '' ? null : ca });
  sendJson(res, 200, reply);
};

const raftChallenge: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  const reply = await ask({ t: 'raft-challenge', serverId: strField(req.body, 'server_id') });
  sendJson(res, 200, envelope({ ...reply }));
};

const raftAnswer: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  const b = req.body;
  const reply = await ask({
    t: 'raft-answer',
    serverId: strField(b, 'server_id'),
    answer: strField(b, 'answer'),
    clusterAddr: strField(b, 'cluster_addr'),
    apiAddr: strField(b, 'api_addr'),
    nonVoter: boolField(b, 'non_voter'),
  });
  sendJson(res, 200, envelope(reply));
};

const raftConfiguration: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, envelope({ ...(await ask({ t: 'raft-configuration', token: req.token })) }));
};

const raftPeer =
  (op: 'remove' | 'promote' | 'demote'): Route =>
  async (req, res, ask) => {
    if (req.operation !== 'update') methodNotAllowed();
    await ask({ t: 'raft-peer', token: req.token, op, serverId: strField(req.body, 'server_id') });
    sendNoContent(res);
  };

// Disaster recovery (docs/dr.md): answered by the node that receives the request, never forwarded.
const raftDrStatus: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, envelope({ ...(await ask({ t: 'raft-dr', token: req.token, op: 'status' })) }));
};

const raftDrPromote: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  sendJson(res, 200, envelope({ ...(await ask({ t: 'raft-dr', token: req.token, op: 'promote' })) }));
};

const stepDown: Route = async (req, res, ask) => {
  if (req.operation !== 'update') methodNotAllowed();
  await ask({ t: 'step-down', token: req.token });
  sendNoContent(res);
};

const haStatus: Route = async (req, res, ask) => {
  if (req.operation !== 'read') methodNotAllowed();
  sendJson(res, 200, envelope({ ...(await ask({ t: 'ha-status', token: req.token })) }, { inject: true }));
};

const EXACT: Record<string, Route> = {
  'sys/storage/raft/join': raftJoin,
  'sys/storage/raft/bootstrap/challenge': raftChallenge,
  'sys/storage/raft/bootstrap/answer': raftAnswer,
  'sys/storage/raft/configuration': raftConfiguration,
  'sys/storage/raft/remove-peer': raftPeer('remove'),
  'sys/storage/raft/promote': raftPeer('promote'),
  'sys/storage/raft/demote': raftPeer('demote'),
  'sys/storage/raft/dr/status': raftDrStatus,
  'sys/storage/raft/dr/promote': raftDrPromote,
  // Snapshots and autopilot (actors/cluster/snapshot-http.ts, docs/snapshots-autopilot.md).
  'sys/storage/raft/snapshot': snapshotRoute,
  'sys/storage/raft/snapshot-force': snapshotForceRoute,
  'sys/storage/raft/autopilot/state': autopilotStateRoute,
  'sys/storage/raft/autopilot/configuration': autopilotConfigRoute,
  'sys/step-down': stepDown,
  'sys/ha-status': haStatus,
  'sys/init': init,
  'sys/unseal': unseal,
  'sys/seal-status': sealStatus,
  'sys/generate-root/attempt': generateRootAttempt,
  'sys/generate-root/update': generateRootUpdate,
  'sys/rekey/init': rekeyInit,
  'sys/rekey/update': rekeyUpdate,
  'sys/rekey/verify': rekeyVerify,
  'sys/seal': seal,
  'sys/health': health,
  'sys/leader': leader,
  'sys/rotate': rotate,
  'sys/rotate/keyring': rotate,
  'sys/rotate/keyring/config': rotationConfig,
  'sys/rotate/config': rotationConfig,
  'sys/rotate/root': rotateRoot,
  'sys/key-status': keyStatus,
  'sys/host-info': hostInfo,
  'sys/config/state/sanitized': configState,
};

/** Every path the front routes itself (sys/raw also takes any suffix): the table the sealed-node test probes. */
export const FRONT_ROUTE_PATHS: readonly string[] = [...Object.keys(EXACT), 'sys/raw'];

const isRawPath = (path: string) => path === 'sys/raw' || path.startsWith('sys/raw/');

/** Which unauthenticated share-collection endpoints this listener serves (ListenerConfig). */
export interface UnauthedEndpoints {
  generateRoot: boolean;
  rekey: boolean;
}

/**
 * A disabled unauthenticated endpoint answers as the logical path it then is in OpenBao: 503 while sealed,
 * 403 `permission denied` without a token (the advisories' point: nobody unauthenticated can start or cancel
 * anything), and, to a client with a token, 405 naming the setting that serves it.
 */
const disabledBy =
  (flag: string): Route =>
  async (req, _res, ask) => {
    if (await isSealed(ask)) throw new CofferError('COFFER_ERR_SEALED');
    if (!req.token) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED', `this endpoint is disabled on this listener; set ${flag} = false in its listener block to serve it`);
  };
const GENERATE_ROOT_DISABLED = disabledBy('disable_unauthed_generate_root_endpoints');
const REKEY_DISABLED = disabledBy('disable_unauthed_rekey_endpoints');

export function findRoute(path: string, unauthed: UnauthedEndpoints = { generateRoot: false, rekey: false }): Route | null {
  const clean = path.replace(/\/$/, '');
  if (!unauthed.generateRoot && clean.startsWith('sys/generate-root/') && EXACT[clean]) return GENERATE_ROOT_DISABLED;
  if (!unauthed.rekey && clean.startsWith('sys/rekey/') && EXACT[clean]) return REKEY_DISABLED;
  const exact = EXACT[clean];
  if (exact) return exact;
  if (isRawPath(path)) return raw;
  return null;
}

/**
 * Whether a request answers from the replicated data (the FSM), so a standby's consistency rules apply
 * to it (X-Coffer-Consistency, bounded staleness, disable_standby_reads): every logical path, and
 * sys/raw. The other front routes answer about the node itself (health, seal status, leader, metrics).
 */
export function readsStoredData(path: string, route: Route | null): boolean {
  return route === null || isRawPath(path);
}

export type { Route };
