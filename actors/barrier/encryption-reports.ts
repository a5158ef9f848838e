// A worker's encryption counts, sent to the core every second (only when there are any): the core adds
// them to its keyring's terms, so automatic rotation (§5) sees every encryption done under a term, not only
// the core's own. A barrier being replaced (new seal epoch) is drained first, so no count is lost to it.
import type { Barrier } from './barrier.js';

export type SendEncryptions = (counts: [number, number][]) => Promise<unknown>;

export const ENCRYPTION_REPORT_MS = 1000;

export class EncryptionReports {
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly current: () => Barrier | null,
    private readonly send: SendEncryptions,
    everyMs = ENCRYPTION_REPORT_MS,
  ) {
    this.#timer = setInterval(() => this.flush(this.current()), everyMs);
    this.#timer.unref(); // never what keeps a worker alive
  }

  /** Sends what `barrier` counted since its last report; a lost report only delays a rotation. */
  flush(barrier: Barrier | null): void {
    const counts = barrier?.takeEncryptions() ?? [];
    if (counts.length > 0) this.send(counts).catch(() => undefined);
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush(this.current());
  }
}
