// The raft actor's protocol (asked over rings by the core actor, or by a process entry in tests).
import type { RaftStatus } from './core/types.js';
import type { PeerAddress, TransportStats, TransportTls } from './transport.js';

export type RaftRequest =
  /** Append one opaque entry (an encoded write-set); answered once it is applied, with its index. */
  | { t: 'propose'; data: Uint8Array }
  /** Many proposals in one ask; each answered separately (index, or the error code). */
  | { t: 'propose-many'; items: Uint8Array[] }
  | { t: 'status' }
  /** Tests: every FSM key/value (small FSMs only). */
  | { t: 'fsm-dump' }
  /** Tests: log entries [lo, hi) still in this node's log (compacted ones are skipped). */
  | { t: 'log-entries'; lo: number; hi: number };

export interface ProposeResult {
  index: number;
  /** Awaited log flushes of this raft actor so far (for the write path's stats). */
  flushes: number;
}

export type ProposeManyResult = ({ ok: true; index: number } | { ok: false; code: string; message: string })[];

export interface RaftHostStats {
  readies: number;
  flushes: number;
  entriesPersisted: number;
  entriesPerFlushMax: number;
  applied: number;
  proposals: number;
  proposalsLost: number;
  compactions: number;
  snapshotsInstalled: number;
  /** With digestApplied: SHA-256 chain over the entries applied in (from, index]. */
  appliedDigest?: { from: number; index: number; hex: string };
}

export interface RaftActorStatus {
  raft: RaftStatus;
  host: RaftHostStats;
  transport: TransportStats | null;
  fsmApplied: { index: number; term: number };
  logFirstIndex: number;
  logLastIndex: number;
  snapshotIndex: number;
}

export interface RaftReplies {
  propose: ProposeResult;
  'propose-many': ProposeManyResult;
  status: RaftActorStatus;
  'fsm-dump': [string, Uint8Array][];
  'log-entries': { index: number; term: number; data: Uint8Array | null }[];
}

export type RaftReply = RaftReplies[keyof RaftReplies];

/** workerData of the raft actor. */
export interface RaftActorConfig {
  id: string;
  dataDir: string;
  /** Static voter set, ourselves included (a single id = single-node group). */
  voters: string[];
  /** Required when there are other voters. */
  transport?: { listen: PeerAddress; peers: Record<string, PeerAddress>; tls: TransportTls };
  tickMs?: number;
  electionTicks?: number;
  /** Compact the log once it holds this many entries behind the applied index. */
  compactAt?: number;
  seed?: number;
  /** Tests: chain a digest over applied entries (RaftHostStats.appliedDigest). */
  digestApplied?: boolean;
  /** Bytes per InstallSnapshot chunk. */
  snapshotChunkBytes?: number;
}
