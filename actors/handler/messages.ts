// The handler actor's protocol: one logical request in, one HTTP-shaped reply out.
// The front sends every /v1 request that is not a lifecycle endpoint here.

export type HandlerMessage = { t: 'request'; req: LogicalRequest };

export interface LogicalRequest {
  /** As the HTTP layer mapped the method (§0.1); create vs update is decided by the mount's existence check. */
  operation: 'read' | 'update' | 'delete' | 'list' | 'patch';
  /** Path after /v1/, no leading slash; LIST paths end with "/". */
  path: string;
  data: Record<string, unknown>;
  token: string | null;
  /** Lower-cased request headers the pipeline or handlers use (content-type, x-vault-*). */
  headers: Record<string, string>;
  /**
   * The client's IP address (the socket's remote address), when the front provides it. Tokens with
   * bound CIDRs and auth methods' CIDR checks fail closed without it.
   */
  remoteAddr?: string;
  /**
   * Set by the front on a standby: requests known to write (PathSpec.alwaysWrites, logins, num_uses
   * tokens, wrapping, unknown tokens) are refused with NOT_LEADER before running, and forwarded.
   */
  standby?: boolean;
}

export interface LogicalReply {
  status: number;
  /** JSON body, or null for no content. */
  body: unknown;
  /**
   * The body already serialised to JSON text by the handler worker (`body` is then undefined). The front
   * thread is the node's busiest under reads; a string crosses the ring for a fraction of what an object
   * costs to encode and decode, and the front skips JSON.stringify (docs/performance.md, session 4).
   */
  json?: string;
  /**
   * The answer's X-Vault-Index: the FSM index of the snapshot the backend read from (Pipeline.answerIndex:
   * the worker's snapshot when the backend started reading, or the one renewed after its own commit).
   */
  index?: number;
}

/**
 * The reply as it leaves the handler worker: the body as JSON text, except bodies the front itself
 * completes (sys/metrics, sys/in-flight-req carry FRONT_SERVED_KEY) and empty ones.
 */
export function serialisedReply(reply: LogicalReply, frontServedKey: string): LogicalReply {
  const body = reply.body;
  if (body === null || body === undefined || (typeof body === 'object' && frontServedKey in (body as object))) return reply;
  return { status: reply.status, body: undefined, json: JSON.stringify(body), ...(reply.index !== undefined ? { index: reply.index } : {}) };
}
