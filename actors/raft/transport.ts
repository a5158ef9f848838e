// Raft peer transport: TCP over mutual TLS (node:tls), frames = u32 big-endian length + runtime/codec
// msgpack of one RaftMessage.
//
// - Each node listens once; to send to peer P it keeps ONE outbound connection to P (messages flow one
//   way on a connection: we write, P reads). P sends to us over its own outbound connection.
// - Mutual TLS against the cluster CA: the server has requestCert + rejectUnauthorized, the client
//   verifies the server's chain and that its certificate CN is the peer id it dialled. A peer whose
//   certificate does not verify never gets a message through (the handshake fails: counted as
//   `tlsRejected`). Inbound messages must carry `from` = the CN of the certificate that sent them and
//   `to` = us, and the shape of their variant (message-shape.ts); anything else is dropped and counted
//   (`badFrames`).
// - Per peer a bounded send queue (frames and bytes, raftLimits). When it is full, new frames are
//   dropped and counted: Raft tolerates loss and resends. While a socket is backed up (writableNeedDrain)
//   frames wait in our queue, not in the socket's unbounded buffer.
// - Reconnect with exponential backoff plus jitter, after any error/close of the outbound connection.
//   Frames wait in the queue through a short outage only: once a connection has been down longer than
//   peerStaleQueueMs, its queue is dropped and new frames are not queued until it is back (Raft resends
//   what is still needed: a restarted follower catches up by probe, or by snapshot when it is behind the
//   leader's compacted log, not from a replay of minutes-old appends held in the leader's memory).
// - Liveness: each outbound connection carries a ping (an empty frame) every peerPingIntervalMs, and the
//   peer writes an empty frame back on the same connection for each. Nothing else flows back, so any
//   bytes received prove the peer read our stream up to a ping. An outbound connection silent for
//   peerSilentMaxMs is destroyed and redialled: TCP alone keeps a connection that a firewall forgot (or
//   whose peer stopped reading) "up" for many minutes while every frame written to it is lost, and an
//   idle follower-to-follower link is exactly the one an election then needs.
import { createServer, connect, type TLSSocket, type Server } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { assert } from '../../runtime/assert.js';
import { CofferError } from '../../runtime/errors.js';
import { decode, encode } from '../../runtime/codec.js';
import { isWellFormedMessage } from './message-shape.js';
import { raftLimits } from '../../runtime/limits.js';
import type { RaftMessage } from './core/types.js';
import { testPeerDial } from './test-peer-dial.js';

export interface PeerAddress {
  host: string;
  port: number;
}

export interface TransportTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface TransportOptions {
  id: string;
  listen: PeerAddress;
  /** Initial peer list (ids other than ours); changed later with setPeers (dynamic membership). */
  peers: Record<string, PeerAddress>;
  /**
   * Accept inbound connections from any peer whose certificate verifies against the cluster CA, not only
   * from listed peers (dynamic membership: a node that just joined may talk to us before we applied the
   * change that lists it). The CA is handed out only to nodes that proved possession of the seal key.
   */
  acceptAnyVerifiedPeer?: boolean;
  tls: TransportTls;
  onMessage(msg: RaftMessage): void;
  log: Logger;
  sendQueueFramesMax?: number;
}

export interface PeerStats {
  connected: boolean;
  queued: number;
  sent: number;
  dropped: number;
  connects: number;
  /** Connections to this peer dropped because it stopped answering pings on them. */
  silentRedials: number;
}

export interface TransportStats {
  port: number;
  received: number;
  badFrames: number;
  tlsRejected: number;
  unknownPeer: number;
  /** Outbound connections dropped for silence, over every peer this transport ever linked (never decreases). */
  silentRedials: number;
  peers: Record<string, PeerStats>;
}

const HEADER_BYTES = 4;
/** A frame of length 0: a ping on an outbound connection, its answer on the way back. */
const EMPTY_FRAME = Buffer.alloc(HEADER_BYTES);

export class PeerTransport {
  private readonly opts: TransportOptions;
  private readonly server: Server;
  private readonly links = new Map<string, PeerLink>();
  private readonly inbound = new Set<TLSSocket>();
  /** The peer id (certificate CN) of each inbound connection. */
  private readonly inboundPeers = new Map<TLSSocket, string>();
  private fenced = new Set<string>();
  private closed = false;
  private counters = { received: 0, badFrames: 0, tlsRejected: 0, unknownPeer: 0, silentRedials: 0 };
  private readonly pinger: NodeJS.Timeout;
  port = 0;

  private constructor(opts: TransportOptions) {
    this.opts = opts;
    assert(!(opts.id in opts.peers), 'the peer list must not contain ourselves');
    this.server = createServer(
      {
        key: opts.tls.keyPem,
        cert: opts.tls.certPem,
        ca: opts.tls.caPem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      },
      (socket) => this.onInbound(socket),
    );
    this.server.on('tlsClientError', (err) => {
      this.counters.tlsRejected++;
      opts.log.warn({ err: err.message }, 'raft transport: refused a peer (TLS)');
    });
    for (const [id, address] of Object.entries(opts.peers)) this.links.set(id, this.link(id, address));
    this.pinger = setInterval(() => {
      const now = Date.now();
      for (const link of this.links.values()) link.probe(now);
    }, raftLimits.peerPingIntervalMs);
    this.pinger.unref();
  }

  static async start(opts: TransportOptions): Promise<PeerTransport> {
    const t = new PeerTransport(opts);
    await new Promise<void>((resolve, reject) => {
      // The operator's error (cluster_addr taken, or not an address of this host), named as such, not an
      // opaque internal error: the unseal or join that started the transport reports it, and may be retried.
      const refused = (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host' : err.message;
        void t.close(); // its links and pinger started in the constructor
        reject(new CofferError('COFFER_ERR_INTERNAL', `cannot listen on the cluster address ${opts.listen.host}:${opts.listen.port}: ${why}`));
      };
      t.server.once('error', refused);
      t.server.listen(opts.listen.port, opts.listen.host, () => {
        t.server.off('error', refused);
        resolve();
      });
    });
    const address = t.server.address();
    assert(address !== null && typeof address === 'object', 'raft transport: no listen address');
    t.port = address.port;
    return t;
  }

  private link(id: string, address: PeerAddress): PeerLink {
    return new PeerLink(this.opts, id, address, () => this.closed, () => this.counters.silentRedials++);
  }

  /** Replace the peer set: new peers get a link, removed ones are closed, moved ones reconnect. */
  setPeers(peers: Record<string, PeerAddress>): void {
    if (this.closed) return;
    for (const [id, link] of this.links) {
      const next = peers[id];
      if (next === undefined || next.host !== link.address.host || next.port !== link.address.port) {
        link.close();
        this.links.delete(id);
      }
    }
    for (const [id, address] of Object.entries(peers)) {
      if (id === this.opts.id || this.links.has(id) || this.fenced.has(id)) continue;
      this.links.set(id, this.link(id, address));
    }
  }

  /**
   * Peers fenced off by a disaster-recovery promotion: their links close, and their inbound connections are
   * refused and cut, whatever their certificate (it is still signed by the cluster CA).
   */
  setFenced(ids: string[]): void {
    if (this.closed) return;
    this.fenced = new Set(ids);
    for (const id of ids) {
      this.links.get(id)?.close();
      this.links.delete(id);
    }
    for (const [socket, peerId] of this.inboundPeers) if (this.fenced.has(peerId)) socket.destroy();
  }

  /** Queue a message for its peer; never blocks, never throws for a busy or absent peer (drops instead). */
  send(msg: RaftMessage): void {
    if (this.closed) return;
    const link = this.links.get(msg.to);
    if (link === undefined) {
      this.counters.unknownPeer++;
      this.opts.log.debug({ to: msg.to, t: msg.t }, 'raft transport: message for an unknown peer dropped');
      return;
    }
    link.enqueue(frame(msg));
  }

  /** Uncork every link now rather than on the next tick (the host is about to block in a commit). */
  flushNow(): void {
    for (const link of this.links.values()) link.uncorkNow();
  }

  stats(): TransportStats {
    const peers: Record<string, PeerStats> = {};
    for (const [id, link] of this.links) peers[id] = link.stats();
    return { port: this.port, ...this.counters, peers };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pinger);
    for (const link of this.links.values()) link.close();
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onInbound(socket: TLSSocket): void {
    const cert: PeerCertificate = socket.getPeerCertificate();
    const peerId = typeof cert?.subject?.CN === 'string' ? cert.subject.CN : null;
    const known = peerId !== null && !this.fenced.has(peerId) && (this.links.has(peerId) || (this.opts.acceptAnyVerifiedPeer === true && peerId !== this.opts.id));
    if (!socket.authorized || peerId === null || !known) {
      this.counters.tlsRejected++;
      this.opts.log.warn({ peerId, authorized: socket.authorized }, 'raft transport: refused an inbound peer');
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    this.inboundPeers.set(socket, peerId);
    socket.setNoDelay(true);
    const reader = new FrameReader(raftLimits.peerFrameBytesMax);
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.counters.badFrames++;
        this.opts.log.warn({ peerId, err: (err as Error).message }, 'raft transport: bad frame, disconnecting');
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.length === 0) socket.write(EMPTY_FRAME); // a ping: answer it on this connection
        else this.deliver(peerId, f);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.inbound.delete(socket);
      this.inboundPeers.delete(socket);
    });
  }

  private deliver(peerId: string, bytes: Buffer): void {
    let msg: RaftMessage;
    try {
      msg = decode<RaftMessage>(bytes);
    } catch {
      this.counters.badFrames++;
      return;
    }
    // The sender is the authenticated peer, the receiver us, and every field has its variant's type and range.
    if (typeof msg !== 'object' || msg === null || msg.from !== peerId || msg.to !== this.opts.id || !isWellFormedMessage(msg)) {
      this.counters.badFrames++;
      return;
    }
    this.counters.received++;
    this.opts.onMessage(msg);
  }
}

/** One outbound connection with its bounded queue and reconnect loop. */
class PeerLink {
  private socket: TLSSocket | null = null;
  private ready = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private backoffMs: number = raftLimits.peerReconnectMinMs;
  private timer: NodeJS.Timeout | null = null;
  private counters = { sent: 0, dropped: 0, connects: 0, silentRedials: 0 };
  private readonly framesMax: number;
  /** When the peer last proved it reads this connection (connected, or answered a ping). */
  private lastAnswerAt = 0;
  private lastErrorLogged = '';
  private lastErrorLoggedAt = 0;
  /** When the connection went down (or the link was created); null while connected. */
  private downSince: number | null = Date.now();

  constructor(
    private readonly opts: TransportOptions,
    private readonly peerId: string,
    readonly address: PeerAddress,
    private readonly isClosed: () => boolean,
    private readonly onSilent: () => void,
  ) {
    this.framesMax = opts.sendQueueFramesMax ?? raftLimits.peerSendQueueFramesMax;
    this.connect();
  }

  enqueue(f: Buffer): void {
    // Down longer than peerStaleQueueMs: nothing queued now would be fresh when it arrives.
    if (!this.ready && this.downTooLong(Date.now())) {
      if (this.queue.length > 0) this.dropQueue();
      this.counters.dropped++;
      return;
    }
    if (this.queue.length >= this.framesMax || this.queuedBytes + f.length > raftLimits.peerSendQueueBytesMax) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(f);
    this.queuedBytes += f.length;
    this.flush();
  }

  stats(): PeerStats {
    return { connected: this.ready, queued: this.queue.length, ...this.counters };
  }

  /** Periodic (the transport's ping timer): ping the peer, or drop a connection that went silent. */
  probe(now: number): void {
    const s = this.socket;
    if (!this.ready || s === null) return;
    const silentMs = now - this.lastAnswerAt;
    if (silentMs > raftLimits.peerSilentMaxMs) {
      this.counters.silentRedials++;
      this.onSilent();
      this.opts.log.warn({ peer: this.peerId, silentMs }, 'raft transport: no answer from the peer on this connection; redialling');
      s.destroy(); // its close handler redials
      return;
    }
    s.write(EMPTY_FRAME);
  }

  uncorkNow(): void {
    const s = this.socket;
    while (s !== null && s.writableCorked > 0) s.uncork();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.destroy();
    this.socket = null;
    this.ready = false;
  }

  private flush(): void {
    const s = this.socket;
    if (!this.ready || s === null) return;
    // Cork so a burst of small frames (one Ready's messages) goes out in few TLS records.
    s.cork();
    while (this.queue.length > 0 && !s.writableNeedDrain) {
      const f = this.queue.shift()!;
      this.queuedBytes -= f.length;
      s.write(f);
      this.counters.sent++;
    }
    process.nextTick(() => s.uncork());
  }

  private connect(): void {
    if (this.isClosed()) return;
    const { tls, log } = this.opts;
    const dial = testPeerDial(this.peerId, 'raft') ?? this.address; // fault tests: a nemesis proxy per directed link
    const socket = connect({
      host: dial.host,
      port: dial.port,
      key: tls.keyPem,
      cert: tls.certPem,
      ca: tls.caPem,
      servername: this.peerId,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      // The chain is verified against the cluster CA by node; the identity is the node id in the CN.
      checkServerIdentity: (_host, cert) =>
        cert.subject?.CN === this.peerId ? undefined : new Error(`peer certificate CN ${String(cert.subject?.CN)} is not ${this.peerId}`),
    });
    this.socket = socket;
    const connectTimer = setTimeout(() => socket.destroy(new Error('connect timeout')), raftLimits.peerConnectTimeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(connectTimer);
      if (!socket.authorized) {
        socket.destroy(new Error(`peer ${this.peerId} not authorized: ${String(socket.authorizationError)}`));
        return;
      }
      socket.setNoDelay(true);
      this.ready = true;
      const now = Date.now();
      if (this.downTooLong(now)) this.dropQueue();
      this.downSince = null;
      this.lastAnswerAt = now;
      this.counters.connects++;
      this.backoffMs = raftLimits.peerReconnectMinMs;
      this.flush();
    });
    socket.on('drain', () => this.flush());
    // Only ping answers flow back on an outbound connection: any bytes are one.
    socket.on('data', () => {
      this.lastAnswerAt = Date.now();
    });
    socket.on('error', (err) => {
      if (this.isClosed()) return;
      // A peer that stays unreachable fails every redial: warn once per new reason or per 30 s, debug otherwise.
      const now = Date.now();
      if (err.message !== this.lastErrorLogged || now - this.lastErrorLoggedAt > 30_000) {
        this.lastErrorLogged = err.message;
        this.lastErrorLoggedAt = now;
        log.warn({ peer: this.peerId, err: err.message, connected: this.ready }, 'raft transport: outbound connection error');
      } else log.debug({ peer: this.peerId, err: err.message }, 'raft transport: outbound connection error');
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      if (this.socket === socket) {
        this.socket = null;
        if (this.ready) this.downSince = Date.now();
        this.ready = false;
        this.scheduleReconnect();
      }
    });
  }

  /** Whether the connection has been down longer than peerStaleQueueMs (frames queued since are stale). */
  private downTooLong(now: number): boolean {
    return this.downSince !== null && now - this.downSince > raftLimits.peerStaleQueueMs;
  }

  /** Frames queued while the peer was away too long are stale (see peerStaleQueueMs): dropped and counted. */
  private dropQueue(): void {
    this.counters.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }

  private scheduleReconnect(): void {
    if (this.isClosed() || this.timer !== null) return;
    const delay = this.backoffMs * (1 + Math.random() * 0.5);
    this.backoffMs = Math.min(this.backoffMs * 2, raftLimits.peerReconnectMaxMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}

export function frame(msg: RaftMessage): Buffer {
  const body = encode(msg);
  assert(body.length <= raftLimits.peerFrameBytesMax, `raft message ${msg.t} of ${body.length} bytes exceeds the peer frame limit`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** Reassembles length-prefixed frames from a byte stream; throws on a frame above the limit. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly frameBytesMax: number) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.bytes < HEADER_BYTES) break;
      const head = this.chunks[0]!.length >= HEADER_BYTES ? this.chunks[0]! : this.collapse();
      const length = head.readUInt32BE(0);
      if (length > this.frameBytesMax) throw new Error(`frame of ${length} bytes exceeds ${this.frameBytesMax}`);
      if (this.bytes < HEADER_BYTES + length) break;
      const all = this.collapse();
      out.push(all.subarray(HEADER_BYTES, HEADER_BYTES + length));
      const rest = all.subarray(HEADER_BYTES + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bytes = rest.length;
    }
    return out;
  }

  private collapse(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0]!;
  }
}
