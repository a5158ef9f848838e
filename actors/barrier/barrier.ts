// The barrier: every value at rest (except the two plain seal entries, §6) goes through here.
// Writes use the active term and count encryptions; reads pick the key by the blob's term, so values
// written under any term still in the keyring stay readable after rotations.

import { assert } from '../../runtime/assert.js';
import { decryptValue, encryptValue } from './aead.js';
import { Keyring } from './keyring.js';

export class Barrier {
  #keyring: Keyring;
  /** Encryptions by term not yet reported to the core (a worker's barrier: takeEncryptions). */
  readonly #unreported = new Map<number, number>();

  constructor(keyring: Keyring) {
    assert(keyring instanceof Keyring, 'Barrier needs a Keyring');
    this.#keyring = keyring;
  }

  get keyring(): Keyring {
    return this.#keyring;
  }

  /** Addition: swap in a rotated (or reloaded, e.g. from core/upgrade on a standby) keyring. */
  install(keyring: Keyring): void {
    assert(keyring instanceof Keyring, 'Barrier.install needs a Keyring');
    this.#keyring = keyring;
  }

  encrypt(path: string, plaintext: Uint8Array): Buffer {
    const active = this.#keyring.activeKey();
    const blob = encryptValue(active.key, active.term, path, plaintext);
    active.encryptions += 1;
    this.#unreported.set(active.term, (this.#unreported.get(active.term) ?? 0) + 1);
    return blob;
  }

  /**
   * The encryptions by term since the last call. Workers encrypt under copies of the core's keyring and hand
   * these counts to the core, whose keyring decides when a term has done enough to be rotated (§5).
   */
  takeEncryptions(): [term: number, count: number][] {
    const counts = [...this.#unreported.entries()];
    this.#unreported.clear();
    return counts;
  }

  decrypt(path: string, blob: Uint8Array): Buffer {
    const ring = this.#keyring;
    return decryptValue((term) => ring.keyFor(term), path, blob);
  }
}
