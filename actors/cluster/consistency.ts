// Consistency on every node (docs/ha-standby-reads.md):
// - RaftSharedState: a small SharedArrayBuffer written by the raft actor (role, term, applied index, last
//   contact with a leader) and read for free by the HTTP front on the main thread. The front stamps
//   X-Vault-Index from it and waits on it (Atomics.waitAsync) for a requested index to be applied.
// - IndexToken: the X-Vault-Index header, an HMAC-protected applied index. The key is a cluster secret
//   kept in replicated, barrier-encrypted storage (core/index-header-hmac-key), written by the first
//   active node; a client can read an index but cannot forge or change one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { raftLimits } from '../../runtime/limits.js';
import { FreshnessTracker } from './freshness.js';

/** FSM key of the X-Vault-Index HMAC key (barrier-encrypted, 32 random bytes). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is in Node 20 but not in the ES2022 lib typings (as runtime/ring/ring.ts).
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, t?: number) => WaitAsyncResult }).waitAsync;

export const INDEX_HMAC_KEY = 'core/index-header-hmac-key';

export const ROLE_NONE = 0;
export const ROLE_FOLLOWER = 1;
export const ROLE_CANDIDATE = 2;
export const ROLE_LEADER = 3;

// Layout: Int32 [0] role, [1] apply sequence (bumped + notified after every apply), [2] term (low 32 bits),
// [3] leader known (0/1); BigInt64 [2] applied index, [3] last contact with a leader (ms since epoch),
// [4] applying: the index of the FSM transaction being committed, stored BEFORE the commit,
// [5] the highest leader commit index an AppendEntries showed, [6] freshAsOf (ms since epoch, freshness.ts),
// [7] this node's own commit index while it leads (published before any message can carry it).
const I_ROLE = 0;
const I_SEQ = 1;
const I_TERM = 2;
const I_LEADER = 3;
const B_APPLIED = 2;
const B_CONTACT = 3;
const B_APPLYING = 4;
const B_LEADER_COMMIT = 5;
const B_FRESH = 6;
const B_OWN_COMMIT = 7;
export const RAFT_SHARED_BYTES = 64;

/**
 * Bounded staleness: a standby whose state is older than this (no fresh evidence from a leader, see
 * freshness.ts) stops serving local reads. The upper end of the randomized election timeout (2 x 10 ticks
 * x 100 ms): by then every healthy follower would have campaigned had the leader gone.
 */
export const STALE_READ_BOUND_MS = 2 * raftLimits.tickMs * raftLimits.electionTicks;

export function roleCode(role: string | null): number {
  if (role === 'leader') return ROLE_LEADER;
  if (role === 'follower') return ROLE_FOLLOWER;
  if (role === 'candidate' || role === 'pre-candidate') return ROLE_CANDIDATE;
  return ROLE_NONE;
}

export class RaftSharedState {
  private readonly i32: Int32Array;
  private readonly b64: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer, 0, 4);
    this.b64 = new BigInt64Array(buffer, 0, 8);
  }

  static create(): RaftSharedState {
    return new RaftSharedState(new SharedArrayBuffer(RAFT_SHARED_BYTES));
  }

  // ---- writer: the raft actor ----

  /** Writer side only (the raft actor's instance): freshness evidence from leader messages and applies. */
  private tracker: FreshnessTracker | null = null;

  /** A message from a leader arrived (the raft host calls this for every message; others are ignored). */
  onLeaderMessage(kind: string, commit: unknown, applied: number, nowMs = Date.now()): void {
    this.tracker ??= new FreshnessTracker(this, STALE_READ_BOUND_MS);
    this.tracker.onLeaderMessage(kind, commit, applied, nowMs);
  }

  publishLeaderCommit(commit: number): void {
    Atomics.store(this.b64, B_LEADER_COMMIT, BigInt(commit));
  }

  /**
   * The leader's commit index, published before the messages that tell followers about it leave: a
   * follower may apply an entry (and a client read it there) before the leader has applied it, and a
   * request that then reaches the leader must wait for it (unappliedOwnCommit).
   */
  publishOwnCommit(commit: number): void {
    if (BigInt(commit) > Atomics.load(this.b64, B_OWN_COMMIT)) Atomics.store(this.b64, B_OWN_COMMIT, BigInt(commit));
  }

  publishFreshAsOf(atMs: number): void {
    if (BigInt(atMs) > Atomics.load(this.b64, B_FRESH)) Atomics.store(this.b64, B_FRESH, BigInt(atMs));
  }

  /**
   * Before the FSM transaction holding entries up to `index` commits. A reader (a handler worker's LMDB
   * snapshot) may see that state before publishApplied runs; stampIndex() must never be below it.
   */
  publishApplying(index: number): void {
    if (BigInt(index) > Atomics.load(this.b64, B_APPLYING)) Atomics.store(this.b64, B_APPLYING, BigInt(index));
  }

  publishApplied(index: number): void {
    Atomics.store(this.b64, B_APPLIED, BigInt(index));
    this.tracker?.onApplied(index);
    Atomics.add(this.i32, I_SEQ, 1);
    Atomics.notify(this.i32, I_SEQ);
  }

  publishRole(role: string | null, term: number, leaderKnown: boolean): void {
    Atomics.store(this.i32, I_ROLE, roleCode(role));
    Atomics.store(this.i32, I_TERM, term | 0);
    Atomics.store(this.i32, I_LEADER, leaderKnown ? 1 : 0);
    if (leaderKnown) this.touchLeader();
  }

  touchLeader(nowMs = Date.now()): void {
    Atomics.store(this.b64, B_CONTACT, BigInt(nowMs));
  }

  // ---- readers ----

  applied(): number {
    return Number(Atomics.load(this.b64, B_APPLIED));
  }

  /**
   * The index for X-Vault-Index on a response: at least the state any snapshot taken so far can hold
   * (applied, or a commit in flight). Waiting for an index uses applied() instead: only a committed
   * state is guaranteed visible.
   */
  stampIndex(): number {
    return Number(Atomics.load(this.b64, B_APPLYING) > Atomics.load(this.b64, B_APPLIED) ? Atomics.load(this.b64, B_APPLYING) : Atomics.load(this.b64, B_APPLIED));
  }

  /** The highest commit index a leader's AppendEntries showed this node (0 before any). */
  leaderCommit(): number {
    return Number(Atomics.load(this.b64, B_LEADER_COMMIT));
  }

  /** The commit index this node published while leading (publishOwnCommit; 0 before it led). */
  ownCommit(): number {
    return Number(Atomics.load(this.b64, B_OWN_COMMIT));
  }

  /** ms since this node's state was last known to be as fresh as the leader's commit (freshness.ts). */
  sinceFreshMs(nowMs = Date.now()): number {
    return nowMs - Number(Atomics.load(this.b64, B_FRESH));
  }

  role(): number {
    return Atomics.load(this.i32, I_ROLE);
  }

  isLeader(): boolean {
    return this.role() === ROLE_LEADER;
  }

  term(): number {
    return Atomics.load(this.i32, I_TERM);
  }

  leaderKnown(): boolean {
    return Atomics.load(this.i32, I_LEADER) === 1;
  }

  /** ms since this node last heard from a leader (0 on the leader itself). */
  sinceLeaderContactMs(nowMs = Date.now()): number {
    if (this.isLeader()) return 0;
    return nowMs - Number(Atomics.load(this.b64, B_CONTACT));
  }

  /**
   * On the leader, the commit index it published (publishOwnCommit) while its FSM has not applied it yet,
   * else 0. A request must not be served from older state than a follower may already have served: wait
   * for this index first (waitApplied). 0 in the common case, applied == commit.
   */
  unappliedOwnCommit(): number {
    if (!this.isLeader()) return 0;
    const commit = this.ownCommit();
    return this.applied() >= commit ? 0 : commit;
  }

  /** Resolves true once applied >= index, false after timeoutMs. Never blocks the thread. */
  async waitApplied(index: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seq = Atomics.load(this.i32, I_SEQ);
      if (this.applied() >= index) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      // A bounded wait: waitAsync does not hold the event loop, and the poll also covers a missed notify.
      const w = waitAsync(this.i32, I_SEQ, seq, Math.min(left, 50));
      if (w.async) await w.value;
    }
  }
}

// ---- X-Vault-Index ------------------------------------------------------------------------------------
// Wire form: base64( version 0x01 | applied index, u64 big-endian | HMAC-SHA256(key, "coffer-index-v1" | index)[0..16) ).

const TOKEN_VERSION = 1;
const TOKEN_BYTES = 1 + 8 + 16;
const TOKEN_DOMAIN = Buffer.from('coffer-index-v1');

function mac(key: Buffer, index: Buffer): Buffer {
  return createHmac('sha256', key).update(TOKEN_DOMAIN).update(index).digest().subarray(0, 16);
}

export function signIndex(key: Buffer, index: number): string {
  const buf = Buffer.alloc(TOKEN_BYTES);
  buf[0] = TOKEN_VERSION;
  buf.writeBigUInt64BE(BigInt(index), 1);
  mac(key, buf.subarray(1, 9)).copy(buf, 9);
  return buf.toString('base64');
}

/** The index inside a header value, or null when it is malformed, forged or tampered with. */
export function verifyIndex(key: Buffer, value: string): number | null {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const buf = Buffer.from(text, 'base64');
  if (buf.length !== TOKEN_BYTES || buf[0] !== TOKEN_VERSION) return null;
  const want = mac(key, buf.subarray(1, 9));
  if (!timingSafeEqual(want, buf.subarray(9))) return null;
  const index = buf.readBigUInt64BE(1);
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(index);
}

/** Caches the header for the current applied index: one HMAC per applied index, not per response. */
export class IndexStamper {
  private lastIndex = -1;
  private lastValue = '';

  constructor(private readonly key: Buffer) {}

  stamp(index: number): string {
    if (index !== this.lastIndex) {
      this.lastValue = signIndex(this.key, index);
      this.lastIndex = index;
    }
    return this.lastValue;
  }

  verify(value: string): number | null {
    return verifyIndex(this.key, value);
  }
}

/** Header values may be repeated (X-Vault-Index, X-Vault-Inconsistent): node joins them with ", ". */
export function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  return all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}
