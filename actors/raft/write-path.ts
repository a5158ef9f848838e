// The write path of a node whose commit rule is Raft: submit(ws) proposes the encoded write-set to the
// raft actor (over the core -> raft linked ring) and resolves with the entry's index once the raft actor
// applied it to the FSM. Reads go straight to the FSM (same LMDB env, opened in this thread: lmdb-js
// shares one native env per process). Same shape the core uses from LocalWritePath.
import { CofferError } from '../../runtime/errors.js';
import type { PeerRef } from '../../runtime/host/worker-host.js';
import { openStorageEnv, type StorageEnv } from '../storage/env.js';
import { FsmReader } from '../storage/fsm-reader.js';
import { encodeWriteSet, type WriteSet } from '../storage/write-set.js';
import type { RaftReplies, RaftReply, RaftRequest, ProposeResult } from './protocol.js';

export class RaftWritePath {
  readonly reader: FsmReader;
  private readonly env: StorageEnv;
  private readonly raft: PeerRef<RaftRequest, RaftReply>;
  private closing = false;
  private counters = { writeSets: 0, flushes: 0 };

  private constructor(env: StorageEnv, raft: PeerRef<RaftRequest, RaftReply>) {
    this.env = env;
    this.raft = raft;
    this.reader = new FsmReader(env);
  }

  static open(dataDir: string, raft: PeerRef<RaftRequest, RaftReply>): RaftWritePath {
    return new RaftWritePath(openStorageEnv(dataDir), raft);
  }

  async submit(ws: WriteSet): Promise<{ index: number }> {
    if (this.closing) throw new CofferError('COFFER_ERR_INTERNAL', 'storage is closed');
    const data = encodeWriteSet(ws);
    const r = (await this.raft.ask({ t: 'propose', data })) as ProposeResult;
    this.counters.writeSets++;
    this.counters.flushes = Math.max(this.counters.flushes, r.flushes);
    return { index: r.index };
  }

  /** Membership, status and leadership requests to the raft actor (the core's cluster logic, actors/cluster). */
  askRaft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]> {
    return this.raft.ask(msg, timeoutMs) as Promise<RaftReplies[R['t']]>;
  }

  /** flushes: the raft actor's awaited log flushes as of the last answer. */
  stats(): { flushes: number; writeSets: number; appliedIndex: number } {
    return { ...this.counters, appliedIndex: this.reader.applied().index };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.env.close();
  }
}
