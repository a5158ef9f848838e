// The core actor's worker thread: owns the node's durable state (fail-stop supervision).
import { serveActor } from '../../runtime/host/worker-host.js';
import type { RaftReply, RaftRequest } from '../raft/protocol.js';
import { RaftWritePath } from '../raft/write-path.js';
import { CoreNode, type CoreOptions } from './core.js';
import type { CoreReply, CoreRequest } from './messages.js';

/** workerData: the core options, plus which commit rule to use ('raft': ask the linked raft actor). */
export type CoreWorkerData = CoreOptions & { writePath?: 'local' | 'raft' };

let core: CoreNode | null = null;

serveActor<CoreRequest, CoreReply>((msg) => (core as CoreNode).handle(msg), {
  init: (ctx) => {
    const opts = ctx.workerData as CoreWorkerData;
    const writePath = opts.writePath === 'raft' ? RaftWritePath.open(opts.dataDir, ctx.peer<RaftRequest, RaftReply>('raft')) : undefined;
    core = CoreNode.open(opts, writePath);
  },
});
