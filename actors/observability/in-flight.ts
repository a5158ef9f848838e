// Requests in flight on this node (GET sys/in-flight-req): id, start time, client address, path and
// method only. No tokens, no bodies, no query strings (a query can carry request data).
import { randomUUID } from 'node:crypto';

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
  private readonly entries = new Map<string, Held>();

  get size(): number {
    return this.entries.size;
  }

  /** Registers a request; returns its id for `end`. */
  begin(method: string, url: string, remoteAddress: string): string {
    // Cheap on the hot path: formatting happens only when someone reads the snapshot.
    const id = randomUUID();
    this.entries.set(id, { startMs: Date.now(), remote: remoteAddress, url, method });
    return id;
  }

  end(id: string): void {
    this.entries.delete(id);
  }

  /** A snapshot keyed by request id, Vault's LoadInFlightReqData shape. */
  snapshot(): Record<string, InFlightEntry> {
    const out: Record<string, InFlightEntry> = {};
    for (const [id, h] of this.entries) {
      const q = h.url.indexOf('?');
      out[id] = {
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
