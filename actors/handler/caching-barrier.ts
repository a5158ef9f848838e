// A handler worker's barrier with a decrypt cache. A cached plaintext is returned only when the
// ciphertext now stored is byte-identical to the one it was decrypted from (a memcmp), so a changed
// or tampered value is always decrypted and authenticated anew. The cache lives and dies with this
// barrier instance: a seal or a rotation (a new seal epoch) replaces the instance and drops it.
import { Barrier } from '../barrier/barrier.js';
import type { Keyring } from '../barrier/keyring.js';

interface Entry {
  blob: Buffer;
  plaintext: Buffer;
}

export class CachingBarrier extends Barrier {
  private readonly cache = new Map<string, Entry>();
  private hits = 0;
  private misses = 0;

  constructor(
    keyring: Keyring,
    private readonly maxEntries: number,
  ) {
    super(keyring);
  }

  override decrypt(path: string, blob: Uint8Array): Buffer {
    const hit = this.cache.get(path);
    if (hit && hit.blob.equals(blob)) {
      this.hits++;
      return Buffer.from(hit.plaintext); // a copy: no caller can alter what the next request reads
    }
    this.misses++;
    const plaintext = super.decrypt(path, blob);
    if (!hit && this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(path, { blob: Buffer.from(blob), plaintext });
    return plaintext;
  }

  stats(): { entries: number; hits: number; misses: number } {
    return { entries: this.cache.size, hits: this.hits, misses: this.misses };
  }
}
