// Glue between CoreNode and the snapshot / autopilot services (so core.ts only forwards): builds both
// from the core's hooks and the ClusterCore, dispatches their core requests, and relays seal/unseal.
import type { Barrier } from '../barrier/barrier.js';
import type { RaftReplies, RaftRequest } from '../raft/protocol.js';
import type { StorageOp } from '../storage/write-set.js';
import { Autopilot } from './autopilot.js';
import type { ClusterCore, RaftView } from './cluster.js';
import { SnapshotService, type SnapshotOp, type SnapshotReply } from './snapshot.js';

export type RaftOpsRequest =
  | { t: 'snapshot'; token: string | null; snap: SnapshotOp }
  | { t: 'autopilot'; token: string | null; op: 'state' | 'get-config' | 'set-config'; body?: Record<string, unknown> };

export interface RaftOpsReplies {
  snapshot: SnapshotReply;
  autopilot: Record<string, unknown> | null;
}

export interface RaftOpsHooks {
  dataDir: string;
  nodeId: string;
  version: string;
  raft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]>;
  barrier(): Barrier | null;
  readPhysical(key: string): Buffer | undefined;
  refresh(): void;
  commit(ops: StorageOp[]): Promise<number>;
  seal(reason: string): void;
  warn(msg: string, err?: unknown): void;
  raftView?: RaftView;
}

export class RaftOps {
  readonly snapshots: SnapshotService;
  readonly autopilot: Autopilot;

  constructor(hooks: RaftOpsHooks, cluster: ClusterCore) {
    this.snapshots = new SnapshotService(hooks);
    this.autopilot = new Autopilot({
      nodeId: hooks.nodeId,
      version: hooks.version,
      raft: hooks.raft,
      barrier: hooks.barrier,
      readPhysical: hooks.readPhysical,
      commit: hooks.commit,
      promote: (id) => cluster.promote(id),
      removePeer: (id) => cluster.removePeer(id),
      warn: hooks.warn,
      ...(hooks.raftView ? { raftView: hooks.raftView } : {}),
    });
  }

  /** The caller (CoreNode) checked the token (root) first. */
  async handle(req: RaftOpsRequest): Promise<SnapshotReply | Record<string, unknown> | null> {
    if (req.t === 'snapshot') return this.snapshots.handle(req.snap);
    switch (req.op) {
      case 'state':
        return { ...(await this.autopilot.state()) };
      case 'get-config':
        return this.autopilot.configView();
      case 'set-config':
        await this.autopilot.setConfig(req.body ?? {});
        return null;
    }
  }

  onUnsealed(): void {
    this.snapshots.onUnsealed();
    this.autopilot.onUnsealed();
  }

  onSealed(): void {
    this.snapshots.onSealed();
    this.autopilot.onSealed();
  }

  close(): void {
    this.snapshots.close();
    this.autopilot.close();
  }
}
