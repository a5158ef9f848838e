// The main <-> worker protocol in one file (STYLE guideline 6). Two planes:
//  - data plane: Envelope frames (msgpackr via runtime/codec) on SPSC rings, one ring per direction;
//  - control plane: Control messages on the worker's parentPort (boot, READY, link set-up), rare.
import type { ErrorValue } from '../errors.js';

/** Frames on a request ring (asker -> server) and on its reply ring (server -> asker). */
export type Envelope =
  | { t: 'ask'; id: number; m: unknown }
  | { t: 'tell'; m: unknown }
  | { t: 'ok'; id: number; v: unknown }
  | { t: 'err'; id: number; e: ErrorValue };

/** Passed to each worker as workerData. */
export interface BootData {
  coffer: { name: string; requestSab: SharedArrayBuffer; replySab: SharedArrayBuffer; logLevel: string; spinUs: number };
  user: unknown;
}

/** Main -> worker. A link's rings: requests from the client to the server and replies back. */
export type ControlIn =
  | { t: 'peer-up'; peer: string; linkId: number; requestSab: SharedArrayBuffer; replySab: SharedArrayBuffer }
  | { t: 'peer-down'; peer: string }
  | { t: 'serve-peer'; peer: string; linkId: number; requestSab: SharedArrayBuffer; replySab: SharedArrayBuffer }
  | { t: 'unserve-peer'; peer: string };

/** Worker -> main. */
export type ControlOut =
  | { t: 'ready' }
  | { t: 'ack'; linkId: number }
  /** The worker gave heap back after a burst (runtime/heap-trim.ts); counted for metrics. */
  | { t: 'heap-trim'; heapBytesBefore: number; heapBytesAfter: number };

export function describe(msg: Envelope | ControlIn | ControlOut): string {
  switch (msg.t) {
    case 'ask':
    case 'ok':
    case 'err':
      return `${msg.t} #${msg.id}`;
    case 'tell':
    case 'ready':
      return msg.t;
    case 'peer-up':
    case 'serve-peer':
      return `${msg.t} ${msg.peer} link ${msg.linkId}`;
    case 'peer-down':
    case 'unserve-peer':
      return `${msg.t} ${msg.peer}`;
    case 'ack':
      return `ack link ${msg.linkId}`;
    case 'heap-trim':
      return `heap-trim ${msg.heapBytesBefore} -> ${msg.heapBytesAfter}`;
  }
}
