// The write path of a node whose commit rule is Raft: commit(ops, guards) hands the write-set to the raft
// actor (over the core -> raft linked ring), which checks the guards, proposes it and answers with the
// entry's index once it applied it to the FSM (actors/storage/guarded-commit.ts). Reads go straight to
// the FSM (same LMDB env, opened in this thread: lmdb-js shares one native env per process). Same shape
// the core uses from LocalWritePath.
import { CofferError } from '../../runtime/errors.js';
import type { PeerRef } from '../../runtime/host/worker-host.js';
import { openStorageEnv, type StorageEnv } from '../storage/env.js';
import { FsmReader } from '../storage/fsm-reader.js';
import type { StorageOp } from '../storage/write-set.js';
import { prepareCommit, type CommitReply, type Guard } from '../storage/guarded-commit.js';
import type { RaftReplies, RaftReply, RaftRequest } from './protocol.js';

export class RaftWritePath {
  readonly reader: FsmReader;
  private readonly env: StorageEnv;
  private readonly raft: PeerRef<RaftRequest, RaftReply>;
  private closing = false;

  private constructor(env: StorageEnv, raft: PeerRef<RaftRequest, RaftReply>) {
    this.env = env;
    this.raft = raft;
    this.reader = new FsmReader(env);
  }

  static open(dataDir: string, raft: PeerRef<RaftRequest, RaftReply>): RaftWritePath {
    return new RaftWritePath(openStorageEnv(dataDir), raft);
  }

  async commit(ops: StorageOp[], guards: Guard[]): Promise<CommitReply> {
    if (this.closing) throw new CofferError('COFFER_ERR_INTERNAL', 'storage is closed');
    return (await this.raft.ask({ t: 'commit', ...prepareCommit(ops, guards) })) as CommitReply;
  }

  /** Membership, status and leadership requests to the raft actor (the core's cluster logic, actors/cluster). */
  askRaft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]> {
    return this.raft.ask(msg, timeoutMs) as Promise<RaftReplies[R['t']]>;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.env.close();
  }
}
