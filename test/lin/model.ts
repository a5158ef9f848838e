// The model interface the checker searches with, plus the small pure helpers the models share.
// Pure and deterministic: no I/O, no clock, no global randomness (the simulator may import it).

/**
 * A sequential specification of one object (one key). `step` is pure and never mutates `state`.
 * `output === undefined` means the outcome is unknown (indeterminate write/CAS/delete): the step must be
 * legal from every state and return the state as if the operation had taken effect.
 * Equal states must hash equal (`hash` is a uint32); `equal` resolves collisions.
 */
export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** The next state, or `undefined` if the response `output` is impossible in `state`. */
  step(state: S, input: I, output: O | undefined): S | undefined;
  hash(state: S): number;
  equal(a: S, b: S): boolean;
  /** True for operations that cannot change the state; their indeterminate instances carry no information and are dropped. */
  readOnly?(input: I): boolean;
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-16 code units of `s`, continuing from `h`. */
export function fnv1a(s: string, h: number = FNV_OFFSET): number {
  let x = h >>> 0;
  for (let i = 0; i < s.length; i++) {
    x ^= s.charCodeAt(i);
    x = Math.imul(x, FNV_PRIME);
  }
  return x >>> 0;
}

/** FNV-1a step over one 32-bit integer (four bytes, little end first). */
export function fnv1aInt(n: number, h: number = FNV_OFFSET): number {
  let x = h >>> 0;
  for (let i = 0; i < 4; i++) {
    x ^= (n >>> (i * 8)) & 0xff;
    x = Math.imul(x, FNV_PRIME);
  }
  return x >>> 0;
}

export const FNV1A_OFFSET = FNV_OFFSET;

/** splitmix32: a tiny deterministic PRNG (used for Zobrist keys and by the test generators). */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
