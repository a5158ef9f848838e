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
}
