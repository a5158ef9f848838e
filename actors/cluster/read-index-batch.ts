// Coalesces the front's linearizable-read requests into ReadIndex rounds before they cross to the raft
// thread. Each `X-Coffer-Consistency: linearizable` read used to send its own ask over the ring (a frame
// and a wake of the raft worker each way), although the host already answered concurrent asks from one
// leader round. Safety: a read may only use a round that *started after it arrived* (the round's index
// then covers every write acknowledged before the read began). So a read that arrives while a round is in
// flight does not join it: it waits for the next round, which starts when the current one settles and
// serves every read that queued meanwhile (pipelining of depth one, as etcd's linearizable read loop).
// A queued read can therefore wait for up to two rounds, each bounded by its timeout.

type Ask = (timeoutMs: number) => Promise<number>;

interface Round {
  promise: Promise<number>;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
  /** The longest timeout any member asked for. */
  timeoutMs: number;
}

export class ReadIndexBatcher {
  private inFlight = false;
  private queued: Round | null = null;
  /** Rounds sent to the raft thread, and reads served by them (checked by the unit test). */
  readonly stats = { rounds: 0, reads: 0 };

  constructor(private readonly ask: Ask) {}

  /** The commit index of a ReadIndex round that started after this call, once this node applied it. */
  readIndex(timeoutMs: number): Promise<number> {
    this.stats.reads++;
    if (this.queued === null) {
      let resolve!: (index: number) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<number>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.queued = { promise, resolve, reject, timeoutMs };
    } else {
      this.queued.timeoutMs = Math.max(this.queued.timeoutMs, timeoutMs);
    }
    const round = this.queued;
    if (!this.inFlight) this.sendQueued();
    return round.promise;
  }

  private sendQueued(): void {
    const round = this.queued;
    if (round === null) return;
    this.queued = null;
    this.inFlight = true;
    this.stats.rounds++;
    this.ask(round.timeoutMs).then(round.resolve, round.reject).finally(() => {
      this.inFlight = false;
      this.sendQueued();
    });
  }
}
