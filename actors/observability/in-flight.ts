// Requests in flight on this node (GET sys/in-flight-req): id, start time, client address, path and
// method only. No tokens, no bodies, no query strings (a query can carry request data).
import { randomBytes } from 'node:crypto';

export interface InFlightEntry {
  start_time: string;
  client_remote_address: string;
  /** As Vault reports it: the URL path, e.g. "/v1/secret/data/x". */
  request_path: string;
  request_method: string;
  /** Vault fills the entity/client id after auth; the front never resolves tokens, so it stays "". */
  client_id: string;
}

interface Held {
  startMs: number;
  remote: string;
  url: string;
  method: string;
}

export class InFlight {
  private readonly entries = new Map<number, Held>();
  private next = 0;
  /** Ids are UUID-shaped: a random per-node prefix and a counter, so the hot path draws no randomness. */
  private readonly prefix = randomBytes(10).toString('hex');

  get size(): number {
    return this.entries.size;
  }

  /** Registers a request; returns its id for `end`. */
  begin(method: string, url: string, remoteAddress: string): number {
    // Cheap on the hot path: formatting happens only when someone reads the snapshot.
    const id = this.next++;
    this.entries.set(id, { startMs: Date.now(), remote: remoteAddress, url, method });
    return id;
  }

  /** The request id as reported: 8-4-4-4-12 hex. */
  idOf(n: number): string {
    const hex = this.prefix + n.toString(16).padStart(12, '0').slice(-12);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  end(id: number): void {
    this.entries.delete(id);
  }

  /** A snapshot keyed by request id, Vault's LoadInFlightReqData shape. */
  snapshot(): Record<string, InFlightEntry> {
    const out: Record<string, InFlightEntry> = {};
    for (const [id, h] of this.entries) {
      const q = h.url.indexOf('?');
      out[this.idOf(id)] = {
        start_time: new Date(h.startMs).toISOString(),
        client_remote_address: h.remote,
        request_path: q < 0 ? h.url : h.url.slice(0, q),
        request_method: h.method,
        client_id: '',
      };
    }
    return out;
  }
}
