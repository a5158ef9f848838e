// One error catalogue. Errors cross rings and processes as plain data ({code, message}), never as
// class instances; the HTTP front maps the code to a status with this table.

export const errorCatalogue = {
  COFFER_ERR_SEALED: { httpStatus: 503, message: 'Vault is sealed' },
  COFFER_ERR_NOT_INITIALIZED: { httpStatus: 400, message: 'Vault is not initialized' },
  COFFER_ERR_ALREADY_INITIALIZED: { httpStatus: 400, message: 'Vault is already initialized' },
  COFFER_ERR_INVALID_REQUEST: { httpStatus: 400, message: 'invalid request' },
  /** A 400 whose errors array is empty, as Vault answers some malformed query parameters. */
  COFFER_ERR_BAD_QUERY: { httpStatus: 400, message: '' },
  COFFER_ERR_PERMISSION_DENIED: { httpStatus: 403, message: 'permission denied' },
  COFFER_ERR_NOT_FOUND: { httpStatus: 404, message: '' },
  COFFER_ERR_UNSUPPORTED_PATH: { httpStatus: 404, message: 'unsupported path' },
  COFFER_ERR_METHOD_NOT_ALLOWED: { httpStatus: 405, message: 'unsupported operation' },
  COFFER_ERR_TOO_LARGE: { httpStatus: 413, message: 'http: request body too large' },
  COFFER_ERR_UNSUPPORTED_MEDIA: { httpStatus: 415, message: 'unsupported media type' },
  COFFER_ERR_CONFLICT: { httpStatus: 409, message: 'conflict' },
  COFFER_ERR_PRECONDITION: { httpStatus: 412, message: 'precondition failed' },
  COFFER_ERR_NAMESPACE_SEALED: { httpStatus: 503, message: 'namespace is sealed' },
  COFFER_ERR_NAMESPACE_LOCKED: { httpStatus: 503, message: 'API access to this namespace has been locked by an administrator' },
  COFFER_ERR_RATE_LIMITED: { httpStatus: 429, message: 'request path rate limit quota exceeded' },
  COFFER_ERR_BACKPRESSURE: { httpStatus: 503, message: 'server is overloaded, retry later' },
  COFFER_ERR_TIMEOUT: { httpStatus: 504, message: 'request timed out inside the server' },
  COFFER_ERR_ACTOR_CRASHED: { httpStatus: 500, message: 'internal error: an actor stopped' },
  COFFER_ERR_NOT_LEADER: { httpStatus: 503, message: 'node is not the active node' },
  COFFER_ERR_INTERNAL: { httpStatus: 500, message: 'internal error' },
} as const satisfies Record<string, { httpStatus: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An operating error as data: safe to encode onto a ring or the wire. */
export interface ErrorValue {
  code: ErrorCode;
  /** Messages as the client should see them, Vault style; never contains secret material. */
  messages: string[];
  /**
   * NOT_LEADER only: every write-type request under this path prefix is forwarded by the actor that
   * refused it, so the caller may forward such requests at once next time (a hint; forwarding is always
   * correct, so a stale hint costs only a detour).
   */
  forwardWritesUnder?: string;
  /**
   * The FSM index of the snapshot the refusal was decided on (a handler's 404, 403, 400...): the answer's
   * X-Vault-Index. A "not found" is data too: stamped above its snapshot it would claim a write it never saw.
   */
  index?: number;
}

export function errorValue(code: ErrorCode, ...messages: string[]): ErrorValue {
  const fallback = errorCatalogue[code].message;
  return { code, messages: messages.length > 0 ? messages : fallback ? [fallback] : [] };
}

export function httpStatusOf(code: ErrorCode): number {
  return errorCatalogue[code].httpStatus;
}

/** An Error carrying an ErrorValue, for code paths that throw; converted back to data at the boundary. */
export class CofferError extends Error {
  readonly value: ErrorValue;
  constructor(code: ErrorCode, ...messages: string[]) {
    const value = errorValue(code, ...messages);
    super(value.messages.join('; ') || code);
    this.value = value;
  }

  /** The error an actor answered with, every field of its value kept (hints included). */
  static fromValue(value: ErrorValue): CofferError {
    const err = new CofferError(value.code, ...value.messages);
    if (value.forwardWritesUnder !== undefined) err.value.forwardWritesUnder = value.forwardWritesUnder;
    if (value.index !== undefined) err.value.index = value.index;
    return err;
  }
}

export function isErrorValue(x: unknown): x is ErrorValue {
  return typeof x === 'object' && x !== null && typeof (x as ErrorValue).code === 'string' && Array.isArray((x as ErrorValue).messages);
}
