// One Coffer node: the actor system (core actor on its worker) plus the HTTP front on the main thread.
// The CLI's `server` command and the embedded SDK both start nodes through here.
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ActorSystem, type ActorRef } from '../../runtime/host/actor-system.js';
import type { CoreOptions } from '../core/core.js';
import type { CoreReplies, CoreReply, CoreRequest } from '../core/messages.js';
import { createRequestHandler, listen, type ListenerConfig } from '../front/server.js';
import type { AskCore } from '../front/routes.js';

export interface NodeConfig {
  dataDir: string;
  listener: ListenerConfig;
  rawStorageEndpoint: boolean;
  apiAddr?: string;
  clusterAddr?: string;
  nodeId?: string;
  logLevel?: string;
  /** Called when a fail-stop actor dies; the CLI exits the process, the SDK surfaces it. */
  onFailStop?: (actor: string, err: Error) => void;
}

export interface RunningNode {
  /** The listener's URL, e.g. http://127.0.0.1:8200 */
  url: string;
  dataDir: string;
  ask: AskCore;
  log: Logger;
  close(): Promise<void>;
}

export function createLogger(level = process.env.COFFER_LOG_LEVEL ?? 'info'): Logger {
  // Logs go to stderr so command output on stdout stays machine-readable.
  return pino({ level, base: { service: 'coffer' } }, pino.destination(2));
}

export async function startNode(config: NodeConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningNode> {
  const system = new ActorSystem({ logger: log, ...(config.onFailStop ? { onFailStop: config.onFailStop } : {}) });
  const coreOptions: CoreOptions = { dataDir: config.dataDir, rawStorageEndpoint: config.rawStorageEndpoint };
  log.info({ dataDir: config.dataDir }, 'starting the core actor (opens storage, replays the log)');
  const core: ActorRef<CoreRequest, CoreReply> = await system.spawn<CoreRequest, CoreReply>({
    name: 'core',
    workerFile: new URL('../core/worker.js', import.meta.url),
    supervision: 'fail-stop',
    workerData: coreOptions,
  });
  const ask: AskCore = <R extends CoreRequest>(msg: R) => core.ask(msg) as Promise<CoreReplies[R['t']]>;
  const { server, url } = await listen(config.listener, createRequestHandler(ask, log));
  log.info({ url }, 'listening');
  let closed = false;
  return {
    url,
    dataDir: config.dataDir,
    ask,
    log,
    async close() {
      if (closed) return;
      closed = true;
      await closeServer(server);
      await system.shutdown();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface DevNodeOptions {
  listenAddress?: string;
  rootTokenId?: string | null;
  dataDir?: string;
  logLevel?: string;
}

export interface RunningDevNode extends RunningNode {
  rootToken: string;
  unsealKey: string;
}

/** `coffer server -dev`: storage in a fresh temp dir, initialised with one share, unsealed. */
export async function startDevNode(opts: DevNodeOptions = {}, log?: Logger): Promise<RunningDevNode> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'coffer-dev-'));
  const node = await startNode(
    {
      dataDir,
      listener: { address: opts.listenAddress ?? '127.0.0.1:8200', tlsDisable: true },
      rawStorageEndpoint: true,
      ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
    },
    log,
  );
  try {
    const dev = await node.ask({ t: 'dev-setup', rootTokenId: opts.rootTokenId ?? null });
    return { ...node, rootToken: dev.rootToken, unsealKey: dev.unsealKeyB64 };
  } catch (err) {
    await node.close();
    throw err;
  }
}
