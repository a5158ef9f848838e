// The barrier: every value at rest (except the two plain seal entries, §6) goes through here.
// Writes use the active term and count encryptions; reads pick the key by the blob's term, so values
// written under any term still in the keyring stay readable after rotations.

import { assert } from '../../runtime/assert.js';
import { decryptValue, encryptValue } from './aead.js';
import { Keyring } from './keyring.js';

export class Barrier {
  #keyring: Keyring;
  /** Each term's encryption count when last reported (takeEncryptions); the counts themselves live in the keyring. */
  readonly #reported = new Map<number, number>();

  constructor(keyring: Keyring) {
    assert(keyring instanceof Keyring, 'Barrier needs a Keyring');
    this.#keyring = keyring;
    for (const t of keyring.terms()) this.#reported.set(t.term, t.encryptions);
  }

  get keyring(): Keyring {
    return this.#keyring;
  }

  /** Addition: swap in a rotated (or reloaded, e.g. from core/upgrade on a standby) keyring. */
  install(keyring: Keyring): void {
    assert(keyring instanceof Keyring, 'Barrier.install needs a Keyring');
    this.#keyring = keyring;
    // Counts since the last report belong to the keyring they were made under; the new one starts from its own.
    this.#reported.clear();
    for (const t of keyring.terms()) this.#reported.set(t.term, t.encryptions);
  }

  encrypt(path: string, plaintext: Uint8Array): Buffer {
    const active = this.#keyring.activeKey();
    const blob = encryptValue(active.key, active.term, path, plaintext);
    active.encryptions += 1;
    return blob;
  }

  /**
   * The encryptions by term since the last call. Workers encrypt under copies of the core's keyring and hand
   * these counts to the core, whose keyring decides when a term has done enough to be rotated (§5).
   */
  takeEncryptions(): [term: number, count: number][] {
    const counts: [number, number][] = [];
    for (const t of this.#keyring.terms()) {
      const done = t.encryptions - (this.#reported.get(t.term) ?? 0);
      if (done > 0) counts.push([t.term, done]);
      this.#reported.set(t.term, t.encryptions);
    }
    return counts;
  }

  decrypt(path: string, blob: Uint8Array): Buffer {
    const ring = this.#keyring;
    return decryptValue((term) => ring.keyFor(term), path, blob);
  }
}
