// One Coffer node: the actor system (core actor on its worker) plus the HTTP front on the main thread.
// The CLI's `server` command and the embedded SDK both start nodes through here.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ActorSystem, type ActorRef } from '../../runtime/host/actor-system.js';
import { ReadIndexBatcher } from '../cluster/read-index-batch.js';
import type { CoreOptions } from '../core/core.js';
import type { CoreReplies, CoreReply, CoreRequest } from '../core/messages.js';
import type { CoreWorkerData } from '../core/worker.js';
import type { ClusterStatus, RaftActorConfig, RaftReplies, RaftReply, RaftRequest } from '../raft/protocol.js';
import { raftLimits } from '../../runtime/limits.js';
import { FrontObservability } from '../observability/front.js';
import type { ServedBy } from '../observability/metrics.js';
import type { FrontView, FrontViewMessage } from '../quotas/front-view.js';
import { createRequestHandler, listen, type ListenerConfig } from '../front/server.js';
import type { HandlerMessage, LogicalReply, LogicalRequest } from '../handler/messages.js';
import type { HandlerWorkerData } from '../handler/worker.js';
import { sanitizedConfig } from './config-state.js';
import type { AuditSettings } from '../audit/settings.js';
import type { ExpirationWorkerData } from '../expiration/worker.js';
import type { AskCore } from '../front/routes.js';
import { RaftSharedState } from '../cluster/consistency.js';
import { HaFront } from '../cluster/forwarding.js';

/** A young generation of 1 MiB semi-spaces (V8 counts young gen as 3 semi-spaces), for mostly idle actors. */
const SMALL_YOUNG_GEN = { maxYoungGenerationSizeMb: 3 };

export interface NodeConfig {
  dataDir: string;
  listener: ListenerConfig;
  rawStorageEndpoint: boolean;
  /** Number of handler workers running the mounts (config `handler_workers`); 1 by default. */
  handlerWorkers?: number;
  apiAddr?: string;
  clusterAddr?: string;
  nodeId?: string;
  /** storage "raft" { retry_join { leader_api_addr } }: join that cluster at start when uninitialised. */
  retryJoin?: { leaderApiAddr: string; leaderCaCert?: string }[];
  logLevel?: string;
  /** Config `disable_standby_reads`: standbys forward every request instead of serving reads (docs/ha-standby-reads.md). */
  disableStandbyReads?: boolean;
  /** Config `replication { best_effort_wal_wait_duration }`: how long X-Vault-Index / linearizable waits (default 2 s). */
  indexWaitMs?: number;
  /**
   * Config `max_standby_staleness`: how long a standby without fresh evidence from the active node keeps
   * serving local reads (default STALE_READ_BOUND_MS, 2 s; docs/ha-standby-reads.md, bounded staleness).
   */
  staleReadBoundMs?: number;
  /** Config `unsafe_allow_api_audit_creation` / `allow_audit_log_prefixing` (docs/audit.md); dev nodes allow API creation. */
  audit?: AuditSettings;
  /** Config `storage "raft" { snapshot_threshold }`: log entries before a snapshot + compaction (default raftLimits). */
  snapshotThreshold?: number;
  /** Called when a fail-stop actor dies; the CLI exits the process, the SDK surfaces it. */
  onFailStop?: (actor: string, err: Error) => void;
}

export interface RunningNode {
  /** The listener's URL, e.g. http://127.0.0.1:8200 */
  url: string;
  dataDir: string;
  ask: AskCore;
  log: Logger;
  /** Metrics, in-flight requests, quotas of this node's front (docs/observability.md). */
  observability: FrontObservability;
  /** The role this node serves requests as (`served_by` metric label); the HA code calls it on transitions. */
  setServedBy(role: ServedBy): void;
  close(): Promise<void>;
}

export function createLogger(level = process.env.COFFER_LOG_LEVEL ?? 'info'): Logger {
  // Logs go to stderr so command output on stdout stays machine-readable.
  return pino({ level, base: { service: 'coffer' } }, pino.destination(2));
}

export async function startNode(config: NodeConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningNode> {
  const system = new ActorSystem({ logger: log, ...(config.onFailStop ? { onFailStop: config.onFailStop } : {}) });
  // One Int32 shared by the core and the handler workers: bumped on unseal, seal and rotation.
  const sealEpoch = new SharedArrayBuffer(4);
  const sealEpochWords = new Int32Array(sealEpoch);
  const coreOptions: CoreOptions = { dataDir: config.dataDir, rawStorageEndpoint: config.rawStorageEndpoint, sealEpoch, configState: sanitizedConfig(config) };
  // The raft actor owns log + FSM writes, the core proposes. The group starts on init (a single voter)
  // or on join (actors/cluster), or at once when the data dir already holds one.
  const clusterAddr = config.clusterAddr ? config.clusterAddr.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '') : null;
  const nodeId = resolveNodeId(config, clusterAddr !== null);
  const apiAddr = config.apiAddr ?? `${config.listener.tlsDisable ? 'http' : 'https'}://${config.listener.address}`;
  coreOptions.cluster = { nodeId, apiAddr, clusterAddr, ...(config.retryJoin ? { retryJoin: config.retryJoin } : {}) };
  // Standby reads, forwarding and consistency headers (docs/ha-standby-reads.md): the raft actor publishes
  // role/term/applied index in `shared`; the forwarding listener (mutual TLS) binds on the cluster host.
  const shared = RaftSharedState.create();
  coreOptions.raftShared = shared.buffer;
  let coreRef: ActorRef<CoreRequest, CoreReply> | null = null;
  let raftRef: ActorRef<RaftRequest, RaftReply> | null = null;
  let handleRef: ReturnType<typeof createRequestHandler> | null = null;
  // Linearizable reads share ReadIndex rounds before they cross to the raft thread (read-index-batch.ts).
  const readIndexRounds = new ReadIndexBatcher(async (timeoutMs) => {
    if (raftRef === null) throw new Error('raft not started');
    return ((await raftRef.ask({ t: 'read-index', timeoutMs }, timeoutMs + 1_000)) as { index: number }).index;
  });
  const ha = new HaFront({
    shared,
    ask: (<R extends CoreRequest>(msg: R) => (coreRef ? coreRef.ask(msg) : Promise.reject(new Error('core not started')))) as AskCore,
    readIndex: (timeoutMs) => readIndexRounds.readIndex(timeoutMs),
    log,
    sealEpoch,
    ...(config.disableStandbyReads ? { disableStandbyReads: true } : {}),
    ...(config.indexWaitMs !== undefined ? { indexWaitMs: config.indexWaitMs } : {}),
    ...(config.staleReadBoundMs !== undefined ? { staleReadBoundMs: config.staleReadBoundMs } : {}),
  });
  if (clusterAddr !== null) {
    coreOptions.cluster.forwardAddr = await ha.listen(parseClusterAddr(clusterAddr).host, (req, res) => (handleRef as NonNullable<typeof handleRef>)(req, res));
  }
  const raftConfig: RaftActorConfig = {
    id: nodeId,
    dataDir: config.dataDir,
    voters: [nodeId],
    dynamic: true,
    sharedState: shared.buffer,
    ...(config.snapshotThreshold !== undefined ? { compactAt: config.snapshotThreshold } : {}),
    ...(clusterAddr !== null ? { clusterListen: parseClusterAddr(clusterAddr) } : {}),
  };
  log.info({ dataDir: config.dataDir }, 'starting the raft actor (opens storage, recovers the log, replays the FSM)');
  // Small young generations for the actors that allocate little per request (raft: LMDB work is native;
  // core: a few frames per write; expiration: a sweep now and then). V8 grows a worker's semi-spaces while modules load and keeps
  // them; capped, the idle node's RSS drops (bench/write idle RSS target < 200 MiB). The front and the
  // handler keep V8's default: they allocate per request and a small young generation costs scavenges.
  const raft = await system.spawn<RaftRequest, RaftReply>({ name: 'raft', workerFile: new URL('../raft/actor.js', import.meta.url), supervision: 'fail-stop', workerData: raftConfig, resourceLimits: SMALL_YOUNG_GEN });
  log.info('starting the core actor');
  const core: ActorRef<CoreRequest, CoreReply> = await system.spawn<CoreRequest, CoreReply>({
    name: 'core',
    workerFile: new URL('../core/worker.js', import.meta.url),
    supervision: 'fail-stop',
    workerData: { ...coreOptions, writePath: 'raft' } satisfies CoreWorkerData,
    resourceLimits: SMALL_YOUNG_GEN, // per write: a few small msgpack frames and one AES-GCM; scavenges stay cheap
  });
  await system.link('core', 'raft');
  coreRef = core;
  raftRef = raft;
  const ask: AskCore = <R extends CoreRequest>(msg: R) => core.ask(msg) as Promise<CoreReplies[R['t']]>;
  // Handler workers run the mounts; one beat two on 2 cores (shared/anchors/hop-probe.md), so 1 by default.
  const handlerCount = Math.max(1, config.handlerWorkers ?? 1);
  const handlers: ActorRef<HandlerMessage, LogicalReply>[] = [];
  for (let i = 0; i < handlerCount; i++) {
    const name = `handler-${i}`;
    log.info({ name }, 'starting a handler actor');
    handlers.push(
      await system.spawn<HandlerMessage, LogicalReply>({
        name,
        workerFile: new URL('../handler/worker.js', import.meta.url),
        supervision: 'restart',
        workerData: { dataDir: config.dataDir, sealEpoch, ...(config.audit ? { audit: config.audit } : {}) } satisfies HandlerWorkerData,
      }),
    );
    await system.link(name, 'core');
    await system.link(name, 'raft'); // write-sets (actors/storage/guarded-commit.ts)
  }
  // The expiration actor (docs/leases-wrapping.md): sweeps due leases and tokens while this node is active.
  log.info('starting the expiration actor');
  await system.spawn({
    name: 'expiration',
    workerFile: new URL('../expiration/worker.js', import.meta.url),
    supervision: 'restart',
    workerData: { dataDir: config.dataDir, sealEpoch } satisfies ExpirationWorkerData,
    resourceLimits: SMALL_YOUNG_GEN,
  });
  await system.link('expiration', 'core');
  let next = 0;
  const askHandler = (req: LogicalRequest): Promise<LogicalReply> => {
    const h = handlers[next++ % handlers.length] as ActorRef<HandlerMessage, LogicalReply>;
    return h.ask({ t: 'request', req });
  };
  // Observability and quotas on the front: figures read at scrape time, the quota/mount view through a handler.
  const obs = new FrontObservability(log, {
    actors: () => system.stats(),
    ha: () => ha.counters as unknown as Record<string, number>,
    raft: async () => {
      const s = (await raft.ask({ t: 'cluster-status' }, 2_000)) as ClusterStatus;
      return { commit: s.commit, applied: s.applied, term: s.term, role: s.role, silentRedials: s.silentRedials, ...(s.host ? { host: s.host } : {}) };
    },
    frontView: (scope) => (handlers[next++ % handlers.length] as unknown as ActorRef<FrontViewMessage, FrontView>).ask({ t: 'front-view', ...(scope ? { scope } : {}) }, 5_000),
    role: async () => {
      const h = await ask({ t: 'health' });
      return h.sealed ? null : h.standby ? 'standby' : 'active';
    },
    changeKey: () => `${shared.applied()}:${shared.role()}:${shared.term()}:${Atomics.load(sealEpochWords, 0)}`,
  });
  handleRef = createRequestHandler(ask, log, askHandler, obs, ha, config.listener);
  const { server, url } = await listen(config.listener, handleRef);
  obs.start();
  log.info({ url }, 'listening');
  let closed = false;
  return {
    url,
    dataDir: config.dataDir,
    ask,
    log,
    observability: obs,
    setServedBy: (role) => obs.metrics.setServedBy(role),
    async close() {
      if (closed) return;
      closed = true;
      obs.stop();
      await ha.close();
      await closeServer(server);
      // Snapshot + compact before the workers stop, so a restart opens an empty log (a long log read at
      // open maps most of the data file: docs/performance.md, idle RSS with 100k secrets). A crash skips
      // this; nothing depends on it.
      log.info('shutdown: compacting the raft log behind a snapshot when it is long');
      const started = Date.now();
      try {
        const r = (await raft.ask({ t: 'compact-and-close', minEntries: raftLimits.shutdownCompactMinEntries }, raftLimits.shutdownCompactTimeoutMs)) as RaftReplies['compact-and-close'];
        log.info({ ...r, ms: Date.now() - started }, r.compacted ? 'shutdown: raft log compacted, storage closed' : 'shutdown: raft log short, not compacted; storage closed');
      } catch (err) {
        log.warn({ err }, 'shutdown: compacting the raft log failed; stopping anyway');
      }
      await system.shutdown();
    },
  };
}

/** node_id from the config, else `<dataDir>/node-id` (created with a fresh UUID on first start, as Vault). */
function resolveNodeId(config: NodeConfig, clustered: boolean): string {
  if (config.nodeId) return config.nodeId;
  if (!clustered) return 'node1';
  const file = join(config.dataDir, 'node-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const id = randomUUID();
  writeFileSync(file, id);
  return id;
}

function parseClusterAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`cluster_addr must be host:port, got "${addr}"`);
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
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
  // Dev mode keeps nothing (Vault's dev server is in memory): a temp dir made here goes with the node.
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'coffer-dev-'));
  const removeOwnDir = () => {
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  const node = await startNode(
    {
      dataDir,
      listener: { address: opts.listenAddress ?? '127.0.0.1:8200', tlsDisable: true },
      rawStorageEndpoint: true,
      audit: { allowApiCreation: true },
      ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
    },
    log,
  ).catch((err: unknown) => {
    removeOwnDir();
    throw err;
  });
  try {
    const dev = await node.ask({ t: 'dev-setup', rootTokenId: opts.rootTokenId ?? null });
    await node.observability.refresh(); // the front's cached mounts now include secret/
    const close = async () => {
      await node.close();
      removeOwnDir();
    };
    return { ...node, close, rootToken: dev.rootToken, unsealKey: dev.unsealKeyB64 };
  } catch (err) {
    await node.close();
    removeOwnDir();
    throw err;
  }
}
