// The per-node rate limiter of one quota: a token bucket per client IP with the semantics of
// sethvargo/go-limiter's memorystore, which Vault uses: `tokens` requests per interval, refilled in
// full at interval boundaries counted from the bucket's first request; stale buckets are swept.
// With block_interval > 0, a client that exceeds the limit is refused for block_interval (Vault's
// blockedClients). State is in memory on the node's front and is not replicated (as in Vault).

export interface TakeResult {
  allowed: boolean;
  /** Response headers (X-Ratelimit-*, Retry-After when refused), sent only when the config enables them. */
  headers: Record<string, string>;
}

interface Bucket {
  startMs: number;
  lastTick: number;
  available: number;
  lastUsedMs: number;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const SWEEP_INTERVAL_MS = 60_000;
const STALE_AGE_MS = 3 * 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly blocked = new Map<string, number>();
  private lastSweepMs: number;
  readonly tokens: number;

  constructor(
    rate: number,
    private readonly intervalMs: number,
    private readonly blockMs: number,
    nowMs: number,
  ) {
    this.tokens = Math.round(rate);
    this.lastSweepMs = nowMs;
  }

  /** `headers`: build the X-Ratelimit-* headers even when allowed (Retry-After is always set on a refusal). */
  take(client: string, nowMs: number, headers = true): TakeResult {
    if (nowMs - this.lastSweepMs >= SWEEP_INTERVAL_MS) this.sweep(nowMs);
    if (this.blockMs > 0) {
      const at = this.blocked.get(client);
      if (at !== undefined) {
        if (nowMs - at >= this.blockMs) this.blocked.delete(client);
        else return { allowed: false, headers: { 'Retry-After': String(Math.trunc((at + this.blockMs - nowMs) / 1000)) } };
      }
    }
    let b = this.buckets.get(client);
    if (b === undefined) {
      b = { startMs: nowMs, lastTick: 0, available: this.tokens, lastUsedMs: nowMs };
      this.buckets.set(client, b);
    }
    b.lastUsedMs = nowMs;
    const tick = Math.floor((nowMs - b.startMs) / this.intervalMs);
    if (tick > b.lastTick) {
      b.available = this.tokens;
      b.lastTick = tick;
    }
    const allowed = b.available > 0;
    if (allowed) b.available--;
    if (allowed && !headers) return { allowed, headers: NO_HEADERS };
    const resetMs = b.startMs + (tick + 1) * this.intervalMs;
    const reset = String(Math.trunc((resetMs - nowMs) / 1000));
    const out: Record<string, string> = { 'X-Ratelimit-Limit': String(this.tokens), 'X-Ratelimit-Remaining': String(b.available), 'X-Ratelimit-Reset': reset };
    if (!allowed) {
      out['Retry-After'] = reset;
      if (this.blockMs > 0) {
        this.blocked.set(client, nowMs);
        out['Retry-After'] = String(Math.trunc(this.blockMs / 1000));
      }
    }
    return { allowed, headers: out };
  }

  get clients(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    for (const [k, b] of this.buckets) if (nowMs - b.lastUsedMs >= STALE_AGE_MS) this.buckets.delete(k);
    for (const [k, at] of this.blocked) if (nowMs - at >= this.blockMs) this.blocked.delete(k);
  }
}
