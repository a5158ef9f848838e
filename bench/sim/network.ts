// The simulated network: every message is copied at send time (no aliasing between nodes, as over a
// real wire), then dropped, delayed, duplicated or reordered per the seed's fault options, and
// blocked by the current partition at delivery time. Bounded: beyond `inflightMessagesMax` it drops.
import { assert } from '../../runtime/assert.js';
import type { NodeId, RaftMessage } from '../../actors/raft/core/types.js';
import type { Prng } from './prng.js';

interface InFlight {
  deliverAtTick: number;
  /** Send order, the tie-break that keeps delivery deterministic. */
  sequence: number;
  message: RaftMessage;
}

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  delayTicksMin: number;
  delayTicksMax: number;
  reorder: boolean;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  blocked: number;
  overflowed: number;
}

/** A deep copy of plain data (objects, arrays, Uint8Array, primitives): what a wire would give. */
export function cloneData<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    // Not value.slice(): on a Buffer that is a view, not a copy.
    const copy = new Uint8Array(value.length);
    copy.set(value);
    return copy as T;
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneData(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneData((value as Record<string, unknown>)[key]);
  return out as T;
}

export class Network {
  private queue: InFlight[] = [];
  private sequence = 0;
  /** blocked.get(from)?.has(to): messages from `from` to `to` are lost. */
  private blocked = new Map<NodeId, Set<NodeId>>();
  /** Last delivery tick per directed link, to keep links FIFO when reorder is off. */
  private linkTailTick = new Map<string, number>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0, overflowed: 0 };

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
    private readonly inflightMessagesMax: number,
  ) {
    assert(inflightMessagesMax > 0, 'inflightMessagesMax must be positive');
  }

  get inflightCount(): number {
    return this.queue.length;
  }

  send(message: RaftMessage, nowTick: number): void {
    assert(typeof message.from === 'string' && typeof message.to === 'string', 'message without from/to');
    assert(message.from !== message.to, `message to self: ${message.t} ${message.from}`);
    this.stats.sent++;
    if (this.rng.chance(this.faults.dropProbability)) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(message, nowTick);
    if (this.rng.chance(this.faults.duplicateProbability)) {
      this.stats.duplicated++;
      this.enqueue(message, nowTick);
    }
  }

  private enqueue(message: RaftMessage, nowTick: number): void {
    if (this.queue.length >= this.inflightMessagesMax) {
      this.stats.overflowed++;
      return;
    }
    let deliverAtTick = nowTick + this.rng.int(this.faults.delayTicksMin, this.faults.delayTicksMax);
    if (!this.faults.reorder) {
      const link = `${message.from}>${message.to}`;
      deliverAtTick = Math.max(deliverAtTick, this.linkTailTick.get(link) ?? 0);
      this.linkTailTick.set(link, deliverAtTick);
    }
    this.queue.push({ deliverAtTick, sequence: this.sequence++, message: cloneData(message) });
  }

  /** Messages due at `nowTick`, removed from the queue, in delivery order (shuffled when reordering). */
  takeDue(nowTick: number): RaftMessage[] {
    const due: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const item of this.queue) (item.deliverAtTick <= nowTick ? due : rest).push(item);
    this.queue = rest;
    due.sort((x, y) => x.deliverAtTick - y.deliverAtTick || x.sequence - y.sequence);
    if (this.faults.reorder) this.rng.shuffle(due);
    const out: RaftMessage[] = [];
    for (const item of due) {
      if (this.isBlocked(item.message.from, item.message.to)) {
        this.stats.blocked++;
        continue;
      }
      out.push(item.message);
    }
    return out;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.get(from)?.has(to) ?? false;
  }

  block(from: NodeId, to: NodeId): void {
    assert(from !== to, 'cannot block a node from itself');
    let set = this.blocked.get(from);
    if (set === undefined) this.blocked.set(from, (set = new Set()));
    set.add(to);
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    for (const set of this.blocked.values()) if (set.size > 0) return true;
    return false;
  }
}
