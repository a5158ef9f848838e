// The barrier: every value at rest (except the two plain seal entries, §6) goes through here.
// Writes use the active term and count encryptions; reads pick the key by the blob's term, so values
// written under any term still in the keyring stay readable after rotations.

import { assert } from '../../runtime/assert.js';
import { decryptValue, encryptValue } from './aead.js';
import { Keyring } from './keyring.js';

export class Barrier {
  #keyring: Keyring;

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
    return blob;
  }

  decrypt(path: string, blob: Uint8Array): Buffer {
    const ring = this.#keyring;
    return decryptValue((term) => ring.keyFor(term), path, blob);
  }
}
