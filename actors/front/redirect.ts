// The fallback for a request only the active node can serve: Vault's 307 to the active node's api_addr.
// One implementation for the pipeline (no HA front), the HA front and the snapshot endpoints.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendError } from './respond.js';
import type { AskCore } from './routes.js';

export async function isSealed(ask: AskCore): Promise<boolean> {
  try {
    return (await ask({ t: 'health' })).sealed;
  } catch {
    return false;
  }
}

/**
 * 307 to the active node with `pathAndQuery` (starting with "/v1/"). Without a known active node: a sealed
 * node answers 503 "Vault is sealed" (a sealed node knows no leader, and Vault answers every logical
 * request on a sealed node 503), any other node Vault's 500.
 */
export async function redirectToActive(res: ServerResponse, ask: AskCore, pathAndQuery: string, log?: Logger): Promise<void> {
  let leaderAddress = '';
  try {
    leaderAddress = (await ask({ t: 'leader' })).leader_address ?? '';
  } catch (err) {
    log?.warn({ err }, 'redirect: looking up the active node failed');
  }
  if (leaderAddress === '') {
    if (await isSealed(ask)) return sendError(res, 503, ['Vault is sealed']);
    return sendError(res, 500, ['local node not active but active cluster node not found']);
  }
  const base = /^[a-z]+:\/\//i.test(leaderAddress) ? leaderAddress : `https://${leaderAddress}`;
  res.writeHead(307, { 'Cache-Control': 'no-store', Location: `${base.replace(/\/$/, '')}${pathAndQuery}`, 'Content-Length': 0 });
  res.end();
}
