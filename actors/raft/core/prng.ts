// Seeded PRNG held in the node state (mulberry32): election jitter must replay from the seed.
// PURE: no Math.random here or anywhere under actors/raft/core/.
import { assert } from '../../../runtime/assert.js';

export class Prng {
  private state: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `prng seed must be an integer, got ${seed}`);
    // Mix the seed so that small consecutive seeds (node 1, 2, 3) diverge at once.
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** Next value in [0, 2^32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    const value = (z ^ (z >>> 14)) >>> 0;
    assert(value >= 0 && value < 2 ** 32, 'prng out of range');
    return value;
  }

  /** Uniform integer in [0, bound); bound at most 2^16 so that the modulo bias is negligible. */
  intBelow(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound > 0 && bound <= 65_536, `prng bound out of range: ${bound}`);
    const value = this.nextU32() % bound;
    assert(value < bound, 'prng intBelow out of range');
    return value;
  }
}
