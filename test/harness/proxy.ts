// Nemesis TCP proxy on 127.0.0.1 (the shape of etcd's pkg/proxy used by its robustness suite): one listener
// in front of one target; every accepted connection is piped to a fresh connection to the target, and each
// byte direction passes a fault gate that can
//   - blackhole: drop every chunk silently while keeping both sockets open (a partition, not a reset);
//   - delay: hold each chunk delayMs ± jitterMs, keeping byte order (TCP never reorders);
//   - drop: discard a chunk with probability dropPct/100 (like etcd's ModifyTx drop). On TLS streams a
//     lost chunk breaks the record sequence, so the receiver resets the connection and the peer redials:
//     packet loss shows up as connection churn, as it does for etcd's HTTP peers.
// Faults are per direction ("tx" = connector -> target, "rx" = target -> connector) and may be refined per
// connection with a classifier (the etcd control attributes a connection to its sender by the first bytes).
// Bounded: close() destroys every socket and the listener; the proxy also closes itself at `maxLifetimeMs`.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LinkFault {
  blackhole?: boolean;
  delayMs?: number;
  jitterMs?: number;
  dropPct?: number;
}

export type Direction = 'tx' | 'rx';

export interface ProxyOptions {
  /** For reports: e.g. "n1->n2". */
  name: string;
  target: { host: string; port: number };
  /** Listen port (0 = ephemeral). */
  port?: number;
  /** Safety net: the proxy closes itself after this long (default 10 min) even if a test forgets. */
  maxLifetimeMs?: number;
  /** Seeded randomness for drop and jitter (default Math.random). */
  random?: () => number;
  /**
   * Optional: names a connection from the first bytes the connector sent (e.g. an HTTP header), so faults
   * can target `class` instead of the whole proxy. Called once per connection with the first chunk.
   */
  classify?: (firstChunk: Buffer) => string;
}

export interface ProxyStats {
  connections: number;
  open: number;
  bytes: Record<Direction, number>;
  dropped: Record<Direction, number>;
}

const NO_FAULT: LinkFault = {};

export class NemesisProxy {
  readonly name: string;
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly gates = new Set<Gate>();
  private readonly faults: Record<Direction, LinkFault> = { tx: NO_FAULT, rx: NO_FAULT };
  /** Faults for connections of one class (override the proxy-wide ones). */
  private readonly classFaults = new Map<string, Record<Direction, LinkFault>>();
  private readonly random: () => number;
  private lifetime: NodeJS.Timeout | null = null;
  readonly stats: ProxyStats = { connections: 0, open: 0, bytes: { tx: 0, rx: 0 }, dropped: { tx: 0, rx: 0 } };
  /** Classes seen (for tests that verify the classifier empirically). */
  readonly classesSeen = new Map<string, number>();

  constructor(private readonly opts: ProxyOptions) {
    this.name = opts.name;
    this.random = opts.random ?? Math.random;
  }

  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    this.lifetime = setTimeout(() => void this.close(), this.opts.maxLifetimeMs ?? 600_000);
    this.lifetime.unref();
    return this.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Sets the fault of one direction (or both), for all connections or for one connection class. */
  set(fault: LinkFault, direction: Direction | 'both' = 'both', cls?: string): void {
    const dirs: Direction[] = direction === 'both' ? ['tx', 'rx'] : [direction];
    let table = this.faults;
    if (cls !== undefined) {
      table = this.classFaults.get(cls) ?? { tx: NO_FAULT, rx: NO_FAULT };
      this.classFaults.set(cls, table);
    }
    for (const d of dirs) table[d] = { ...fault };
  }

  /** Removes every fault. */
  heal(): void {
    this.faults.tx = NO_FAULT;
    this.faults.rx = NO_FAULT;
    this.classFaults.clear();
  }

  /**
   * Every connection open now goes silent for good, in both directions, without a close or reset: what a
   * firewall or NAT that forgot its flows does (the kernel on each side still thinks the connection is
   * up). Connections made afterwards pass as usual.
   */
  freezeConnections(): void {
    for (const g of this.gates) g.frozen = true;
  }

  /** Destroys every connection (e.g. to force peers to redial after a heal). */
  resetConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (this.lifetime !== null) clearTimeout(this.lifetime);
    this.lifetime = null;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private faultFor(cls: string | undefined, d: Direction): LinkFault {
    if (cls !== undefined) {
      const f = this.classFaults.get(cls);
      if (f !== undefined && f[d] !== NO_FAULT) return f[d];
    }
    return this.faults[d];
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => undefined); // resets are part of the game; both sides get destroyed below
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    this.stats.open++;
    client.setNoDelay(true);
    const upstream = connect({ host: this.opts.target.host, port: this.opts.target.port });
    upstream.setNoDelay(true);
    this.track(client);
    this.track(upstream);
    let cls: string | undefined;
    let classified = this.opts.classify === undefined;
    const tx = new Gate(this, 'tx', upstream, () => cls);
    const rx = new Gate(this, 'rx', client, () => cls);
    this.gates.add(tx);
    this.gates.add(rx);
    client.on('data', (chunk: Buffer) => {
      if (!classified) {
        classified = true;
        cls = this.opts.classify!(chunk);
        this.classesSeen.set(cls, (this.classesSeen.get(cls) ?? 0) + 1);
      }
      tx.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => rx.push(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.gates.delete(tx);
      this.gates.delete(rx);
    };
    client.once('close', end);
    upstream.once('close', end);
    client.once('close', () => this.stats.open--);
  }

  /** @internal used by Gate */
  gateFault(cls: string | undefined, d: Direction): LinkFault {
    return this.faultFor(cls, d);
  }

  /** @internal */
  rand(): number {
    return this.random();
  }
}

/** One byte direction of one connection: applies the current fault to each chunk, in order. */
class Gate {
  /** Delayed chunks in arrival order; due times are non-decreasing (TCP never reorders). */
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Set by freezeConnections: this connection's bytes are dropped from now on. */
  frozen = false;

  constructor(
    private readonly proxy: NemesisProxy,
    private readonly dir: Direction,
    private readonly out: Socket,
    private readonly cls: () => string | undefined,
  ) {}

  push(chunk: Buffer): void {
    const f = this.proxy.gateFault(this.cls(), this.dir);
    const st = this.proxy.stats;
    if (this.frozen || f.blackhole === true || (f.dropPct !== undefined && f.dropPct > 0 && this.proxy.rand() * 100 < f.dropPct)) {
      st.dropped[this.dir] += chunk.length;
      return;
    }
    st.bytes[this.dir] += chunk.length;
    const delay = Math.max(0, (f.delayMs ?? 0) + (f.jitterMs ? (this.proxy.rand() * 2 - 1) * f.jitterMs : 0));
    if (delay === 0 && this.queue.length === 0) {
      if (!this.out.destroyed) this.out.write(chunk);
      return;
    }
    const now = performance.now();
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1]!.due : 0;
    this.queue.push({ due: Math.max(now + delay, last), chunk });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.due - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      while (this.queue.length > 0 && this.queue[0]!.due <= now + 0.5) {
        const { chunk } = this.queue.shift()!;
        if (!this.out.destroyed) this.out.write(chunk);
      }
      this.schedule();
    }, wait);
  }
}

/** Starts a proxy and returns it listening. */
export async function startProxy(opts: ProxyOptions): Promise<NemesisProxy> {
  const p = new NemesisProxy(opts);
  await p.listen();
  return p;
}
