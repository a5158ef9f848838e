// The register workload (Jepsen's etcd `register`, etcd robustness's client split): N closed-loop clients,
// each with one outstanding operation, read / write / CAS(version) on a small set of live keys; a key
// retires after `opsPerKey` invocations and a fresh one takes its place, which keeps every per-key history
// small enough for the checker. Each client is pinned to one endpoint or roams over several.
// The CAS expectation is the last version the client saw for the key, so a good share of CAS succeed.
import { splitmix32, type KvInput } from '../lin/index.js';
import type { HarnessOp, OpResult, Recorder } from './recorder.js';

/** One node as seen by one client (it owns the client's keep-alive agent). */
export interface Endpoint {
  readonly node: string;
  op(key: string, input: KvInput): Promise<OpResult>;
}

export interface WorkloadClient {
  readonly name: string;
  /** One endpoint = pinned; several = roaming (a random one per operation). */
  readonly endpoints: readonly Endpoint[];
}

export interface WorkloadOptions {
  recorder: Recorder;
  clients: readonly WorkloadClient[];
  /** Live keys at any time (≤ 10 in the plan). */
  liveKeys: number;
  /** Invocations per key before it retires (Jepsen: ≤ 200). */
  opsPerKey: number;
  /** Key name prefix (a run's keys never collide with another run's on the same cluster). */
  keyPrefix: string;
  /** Fractions of reads and writes; the rest are CAS. */
  readFraction: number;
  writeFraction: number;
  seed: number;
  /** Pause between a client's operations (0 = closed loop). */
  thinkMs?: number;
}

/** Seeded uniform [0, 1). */
export function seededRandom(seed: number): () => number {
  const next = splitmix32(seed);
  return () => next() / 4294967296;
}

export class Workload {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly random: () => number;
  private readonly keys: { name: string; invoked: number }[] = [];
  private keySeq = 0;
  /** Every key used, in order of first use. */
  readonly allKeys: string[] = [];

  constructor(private readonly o: WorkloadOptions) {
    this.random = seededRandom(o.seed);
    for (let i = 0; i < o.liveKeys; i++) this.keys.push(this.freshKey());
  }

  start(): void {
    this.loops = this.o.clients.map((c) => this.run(c));
  }

  /** Stops issuing operations and waits for the outstanding ones (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private freshKey(): { name: string; invoked: number } {
    const name = `${this.o.keyPrefix}k${this.keySeq++}`;
    this.allKeys.push(name);
    return { name, invoked: 0 };
  }

  private pickKey(): string {
    const i = Math.floor(this.random() * this.keys.length);
    const k = this.keys[i]!;
    k.invoked++;
    if (k.invoked >= this.o.opsPerKey) this.keys[i] = this.freshKey();
    return k.name;
  }

  private async run(c: WorkloadClient): Promise<void> {
    const seen = new Map<string, number>();
    const rec = this.o.recorder;
    while (!this.stopping) {
      const key = this.pickKey();
      const ep = c.endpoints.length === 1 ? c.endpoints[0]! : c.endpoints[Math.floor(this.random() * c.endpoints.length)]!;
      const r = this.random();
      let input: KvInput;
      if (r < this.o.readFraction) input = { kind: 'read' };
      else if (r < this.o.readFraction + this.o.writeFraction) input = { kind: 'write', value: rec.uniqueValue(c.name) };
      else input = { kind: 'cas', expectVersion: seen.get(key) ?? 0, value: rec.uniqueValue(c.name) };
      const op: HarnessOp = await rec.invoke(c.name, key, input, () => ep.op(key, input));
      const v = op.outcome === 'ok' ? op.output?.version : undefined;
      if (v !== undefined) seen.set(key, v);
      if (this.o.thinkMs) await new Promise((res) => setTimeout(res, this.o.thinkMs));
      // A client whose node is down would spin on refused connections: back off a little.
      else if (op.outcome !== 'ok') await new Promise((res) => setTimeout(res, 20));
    }
  }
}
