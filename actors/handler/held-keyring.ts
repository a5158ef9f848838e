// The keyring a handler worker decrypts with, and when to ask the core for a new one: when the seal epoch
// moved (unseal, seal, a reload on the core), or when the snapshot's core/keyring is not the one held (a
// rotation or rekey on the active node, replicated here; the core reloads it with its root key,
// docs/ha-standby-reads.md). A stored keyring the core could not open yet is asked for once, not per request.
//
// One ask at a time: a request that finds the new core/keyring while another request's ask is in flight
// waits for that answer. With the old keyring it would fail to decrypt what the new term wrote (a 500 "no
// key for this term" on a standby right after a rotation, seen once under a loaded CI run).

export interface KeyringAnswer<B> {
  epoch: number;
  barrier: B | null;
  /** The stored core/keyring the answer was opened from. */
  source: Buffer | null;
}

export interface HeldKeyringDeps<B> {
  /** The seal epoch now (shared memory, bumped by the core). */
  epoch(): number;
  /** core/keyring in the worker's current snapshot. */
  stored(): Buffer | undefined;
  /** Asks the core for its keyring. */
  fetch(): Promise<KeyringAnswer<B>>;
  /** Called with the barrier being replaced, before the new one is held. */
  replacing?(old: B | null): void;
}

export class HeldKeyring<B> {
  private held: KeyringAnswer<B> = { epoch: -1, barrier: null, source: null };
  /** The stored keyring last asked about: not asked again until it changes or the epoch moves. */
  private asked: Buffer | null = null;
  private reloading: Promise<void> | null = null;

  constructor(private readonly deps: HeldKeyringDeps<B>) {}

  get barrier(): B | null {
    return this.held.barrier;
  }

  async current(): Promise<B | null> {
    while (this.reloading !== null) await this.reloading.catch(() => undefined);
    let stale = this.deps.epoch() !== this.held.epoch;
    if (!stale && this.held.source !== null) {
      const blob = this.deps.stored();
      stale = blob !== undefined && !this.held.source.equals(blob) && !(this.asked !== null && this.asked.equals(blob));
      if (stale) this.asked = Buffer.from(blob as Buffer);
    }
    if (stale) {
      const reload = (async () => {
        const answer = await this.deps.fetch();
        this.deps.replacing?.(this.held.barrier);
        this.held = answer;
      })();
      this.reloading = reload;
      try {
        await reload;
      } finally {
        if (this.reloading === reload) this.reloading = null;
      }
    }
    return this.held.barrier;
  }
}
