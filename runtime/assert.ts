// Assertions are always on and fail-stop: a broken invariant is a bug, never an operating error.
// Operating errors (sealed, bad input, not leader) are values from runtime/errors.ts instead.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, message = 'unexpected variant'): never {
  throw new AssertionError(`${message}: ${JSON.stringify(value)}`);
}

export function assertSafeInteger(n: number, what: string): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${what} must be a non-negative safe integer, got ${n}`);
}
