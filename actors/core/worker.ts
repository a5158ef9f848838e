// The core actor's worker thread: owns the node's durable state (fail-stop supervision).
import { serveActor } from '../../runtime/host/worker-host.js';
import { CoreNode, type CoreOptions } from './core.js';
import type { CoreReply, CoreRequest } from './messages.js';

let core: CoreNode | null = null;

serveActor<CoreRequest, CoreReply>((msg) => (core as CoreNode).handle(msg), {
  init: (ctx) => {
    core = CoreNode.open(ctx.workerData as CoreOptions);
  },
});
