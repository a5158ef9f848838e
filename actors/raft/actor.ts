// The raft actor's worker thread: one RaftHost (core + LogStore + Fsm, driven by a real tick timer) and
// the mutual-TLS peer transport. Fail-stop: a storage or core failure crashes the worker (the node must
// restart and recover from LMDB).
// Asked by the core actor (RaftWritePath and the cluster logic, over a linked ring) or by a test process entry.
//
// Two modes:
// - static (tests: test/helpers/raft-node-main.ts): the group and its transport start at once with the
//   configured voters and peer list.
// - dynamic (a Coffer node, RaftActorConfig.dynamic): an empty data dir waits for `bootstrap` (sys/init:
//   a single-voter group) or `join` (the answer of the join workflow: no bootstrap, the leader sends its
//   snapshot). A data dir that already holds a group restarts it at once, as recorded by the boot marker.
//   The transport starts when the core hands over the node certificate (`set-tls`, on unseal) or with
//   `join`; its peer set follows the replicated peer map (core/raft/peers) filtered by the configuration.
import { CofferError } from '../../runtime/errors.js';
import { raftLimits } from '../../runtime/limits.js';
import { serveActor, type ActorContext } from '../../runtime/host/worker-host.js';
import { decodeRecord, encodeRecord } from '../storage/records.js';
import { LogStore } from '../storage/log-store.js';
import { openStorageEnv } from '../storage/env.js';
import type { ConfState } from './core/types.js';
import { KEY_BOOT, RaftHost, type BootMarker, type PeerMap } from './host.js';
import type { ClusterStatus, ProposeManyResult, RaftActorConfig, RaftReplies, RaftReply, RaftRequest } from './protocol.js';
import { PeerTransport, type PeerAddress, type TransportTls } from './transport.js';
import { buildRestoreImage, RESTORE_MARKER_KEY } from '../storage/snapshot-restore.js';
import { RaftSharedState } from '../cluster/consistency.js';
import type { GuardedCommit } from '../storage/guarded-commit.js';
import { guardedProposals } from './guarded-proposals.js';

let host: RaftHost | null = null;
let transport: PeerTransport | null = null;
let transportStarting: Promise<PeerTransport> | null = null;
let config: RaftActorConfig;
let actx: ActorContext;
/** Addresses of the current members (from the peer map), what the transport should link to. */
let memberAddresses: Record<string, PeerAddress> = {};
/** Peers fenced off by a disaster-recovery promotion (FENCED_KEY): no links to them, their connections refused. */
let fencedPeers: string[] = [];
let starting: Promise<RaftHost> | null = null;

/** The guard check of the write-sets proposed through `host` (a new host starts with nothing in flight). */
let guarded: { host: RaftHost; commit: GuardedCommit } | null = null;

function guardedCommit(h: RaftHost): GuardedCommit {
  if (guarded?.host !== h) guarded = { host: h, commit: guardedProposals(h) };
  return guarded.commit;
}

function requireHost(): RaftHost {
  if (host === null) throw new CofferError('COFFER_ERR_NOT_LEADER', 'raft is not started on this node (not initialised or not joined)');
  return host;
}

/** "https://127.0.0.1:8201", "127.0.0.1:8201" or "[::1]:8201" -> {host, port}. */
export function parseClusterAddr(addr: string): PeerAddress {
  const bare = addr.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  const i = bare.lastIndexOf(':');
  if (i < 0) throw new Error(`cluster address must be host:port, got "${addr}"`);
  return { host: bare.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(bare.slice(i + 1)) };
}

/** Peers named in the join answer: kept linked until restart (the replicated map may not list them yet). */
let joinPeers: Record<string, PeerAddress> = {};

/**
 * The transport links to every node of the replicated peer map (plus the join answer's peers). Not
 * filtered by the configuration: a joiner applies the leader's configuration only after entries it
 * must acknowledge, so dropping unknown-to-the-configuration links would deadlock its catch-up. The
 * leader deletes a removed node's entry, which closes its link.
 */
function onPeers(peers: PeerMap, _conf: ConfState, fenced: string[]): void {
  const next: Record<string, PeerAddress> = {};
  for (const [id, address] of Object.entries(joinPeers)) if (!fenced.includes(id)) next[id] = address;
  for (const [id, info] of Object.entries(peers)) {
    if (id === config.id || fenced.includes(id) || typeof info?.cluster_addr !== 'string') continue;
    try {
      next[id] = parseClusterAddr(info.cluster_addr);
    } catch {
      actx.log.warn({ id, addr: info.cluster_addr }, 'raft: bad cluster address in the peer map; ignored');
    }
  }
  memberAddresses = next;
  fencedPeers = fenced;
  transport?.setPeers(next);
  transport?.setFenced(fenced);
}

const silentRedials = (): number => transport?.stats().silentRedials ?? 0;

async function startTransport(tls: TransportTls): Promise<PeerTransport> {
  if (transport !== null) return transport;
  if (transportStarting !== null) return transportStarting;
  const listen = config.clusterListen;
  if (listen === undefined) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no cluster address configured (cluster_addr)');
  transportStarting = PeerTransport.start({
    id: config.id,
    listen,
    peers: memberAddresses,
    tls,
    acceptAnyVerifiedPeer: true,
    onMessage: (m) => host?.step(m),
    log: actx.log,
  });
  try {
    transport = await transportStarting;
    transport.setPeers(memberAddresses);
    transport.setFenced(fencedPeers);
    actx.log.info({ port: transport.port }, 'raft transport listening');
    return transport;
  } finally {
    transportStarting = null;
  }
}

async function openHost(boot: BootMarker): Promise<RaftHost> {
  if (host !== null) return host;
  if (starting !== null) return starting;
  starting = (async () => {
    const opened = await RaftHost.open({
      id: config.id,
      dataDir: config.dataDir,
      voters: boot.mode === 'bootstrap' ? boot.voters : [],
      join: boot.mode === 'join',
      log: actx.log,
      send: (m) => transport?.send(m),
      flushSends: () => transport?.flushNow(),
      ...(config.dynamic ? { onPeers } : {}),
      ...(config.tickMs !== undefined ? { tickMs: config.tickMs } : {}),
      ...(config.electionTicks !== undefined ? { electionTicks: config.electionTicks } : {}),
      ...(config.compactAt !== undefined ? { compactAt: config.compactAt } : {}),
      ...(config.seed !== undefined ? { seed: config.seed } : {}),
      ...(config.digestApplied !== undefined ? { digestApplied: config.digestApplied } : {}),
      ...(config.snapshotChunkBytes !== undefined ? { snapshotChunkBytes: config.snapshotChunkBytes } : {}),
      ...(config.sharedState !== undefined ? { shared: new RaftSharedState(config.sharedState) } : {}),
      restoreMarkerKey: RESTORE_MARKER_KEY,
      onFailure: (err) =>
        process.nextTick(() => {
          throw err; // fail-stop: crash the worker; the ActorSystem applies the supervision policy
        }),
    });
    host = opened;
    opened.start();
    await opened.whenRecovered();
    return opened;
  })();
  try {
    return await starting;
  } finally {
    starting = null;
  }
}

/** The boot marker, or (a data dir from before markers) a bootstrap of ourselves when raft state exists. */
function readBoot(): BootMarker | null {
  const env = openStorageEnv(config.dataDir);
  const bytes = env.hard.get(KEY_BOOT);
  if (bytes !== undefined) return decodeRecord<BootMarker>(bytes, `hard/${KEY_BOOT}`);
  const loaded = new LogStore(env);
  const hs = loaded.currentHardState();
  if (loaded.lastIndex() > 0 || hs.term > 0 || loaded.load().snapshotMeta !== null) return { mode: 'bootstrap', voters: [config.id] };
  return null;
}

async function writeBoot(boot: BootMarker): Promise<void> {
  const env = openStorageEnv(config.dataDir);
  await env.hard.put(KEY_BOOT, encodeRecord(boot));
  await env.root.flushed;
}

function clusterStatus(): ClusterStatus {
  if (host === null) {
    return { started: false, id: config.id, role: null, leader: null, term: 0, commit: 0, applied: 0, conf: { voters: [], learners: [] }, confIndex: 0, progress: null, peers: {}, transportUp: transport !== null, silentRedials: silentRedials() };
  }
  const s = host.status();
  const { conf, index } = host.configuration();
  let progress: ClusterStatus['progress'] = null;
  if (s.progress !== null) {
    progress = {};
    const contact = host.lastContact();
    for (const [id, p] of Object.entries(s.progress)) progress[id] = { match: p.match, active: p.active, ...(contact[id] !== undefined ? { lastContactMs: contact[id] } : {}) };
  }
  return {
    started: true,
    id: config.id,
    role: s.role,
    leader: s.leader,
    term: s.term,
    commit: s.commit,
    lastIndex: s.lastIndex,
    applied: host.fsmApplied().index,
    conf,
    confIndex: index,
    progress,
    peers: host.peerMap(),
    contactMs: host.lastContact(),
    fenced: host.fencedPeers(),
    recoveryRefusal: host.recoveryRefusal(raftLimits.drSilenceMs),
    transportUp: transport !== null,
    silentRedials: silentRedials(),
    host: host.stats(),
  };
}

/**
 * sys/storage/raft/snapshot restore on the leader (actors/cluster/snapshot.ts verified the file): build the
 * image, install it through Raft (RaftHost.restoreSnapshot), then wait until a quorum of voters holds it,
 * so the answer means "replicated", not only "installed on the leader".
 */
async function restoreFromFile(h: RaftHost, path: string, timeoutMs: number): Promise<RaftReplies['snapshot-restore']> {
  const deadline = Date.now() + timeoutMs;
  const built = await buildRestoreImage(path, h.env);
  const { index, term } = await h.restoreSnapshot(built.image, timeoutMs);
  for (;;) {
    const s = h.status();
    const voters = s.conf.voters;
    const have = voters.filter((id) => id === config.id || (s.progress?.[id]?.match ?? 0) >= index).length;
    if (have >= Math.floor(voters.length / 2) + 1) break;
    if (Date.now() > deadline) throw new CofferError('COFFER_ERR_TIMEOUT', `snapshot installed on the leader at index ${index} but a quorum has not installed it yet`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { index, term, pairs: built.pairs, marker: built.marker.id };
}

serveActor<RaftRequest, RaftReply>(
  async (msg) => {
    switch (msg.t) {
      case 'propose': {
        const h = requireHost();
        return { index: await h.propose(msg.data), flushes: h.stats().flushes };
      }
      case 'commit':
        return guardedCommit(requireHost()).commit(msg);
      case 'propose-many': {
        const h = requireHost();
        const out: ProposeManyResult = await Promise.all(
          msg.items.map((data) =>
            h.propose(data).then(
              (index) => ({ ok: true as const, index }),
              (err: unknown) => ({ ok: false as const, code: err instanceof CofferError ? err.value.code : 'COFFER_ERR_INTERNAL', message: (err as Error).message }),
            ),
          ),
        );
        return out;
      }
      case 'status': {
        const h = requireHost();
        return {
          raft: h.status(),
          host: h.stats(),
          transport: transport?.stats() ?? null,
          fsmApplied: h.fsmApplied(),
          logFirstIndex: h.logStore.firstIndex(),
          logLastIndex: h.logStore.lastIndex(),
          snapshotIndex: h.snapshotAt(),
        };
      }
      case 'fsm-dump': {
        const h = requireHost();
        h.env.root.resetReadTxn();
        const out: [string, Uint8Array][] = [];
        for (const { key, value } of h.env.fsm.getRange({})) out.push([key, value]);
        return out;
      }
      case 'log-entries': {
        const h = requireHost();
        const lo = Math.max(msg.lo, h.logStore.firstIndex());
        const hi = Math.min(msg.hi, h.logStore.lastIndex() + 1);
        return h.logStore.entries(lo, Math.max(lo, hi)).map((e) => ({ index: e.index, term: e.term, data: e.payload.t === 'normal' ? e.payload.data : null }));
      }
      case 'bootstrap': {
        if (host !== null) return { started: false };
        const boot: BootMarker = { mode: 'bootstrap', voters: [config.id] };
        await writeBoot(boot);
        await openHost(boot);
        return { started: true };
      }
      case 'join': {
        if (host !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'raft is already started on this node');
        // The answer's peer list: link to them at once (the replicated map replaces it once applied).
        const next: Record<string, PeerAddress> = {};
        for (const [id, info] of Object.entries(msg.peers)) if (id !== config.id) next[id] = parseClusterAddr(info.cluster_addr);
        joinPeers = next;
        memberAddresses = { ...next };
        await startTransport(msg.tls);
        const boot: BootMarker = { mode: 'join' };
        await writeBoot(boot);
        await openHost(boot);
        return { started: true };
      }
      case 'set-tls': {
        if (config.clusterListen === undefined) return { transportUp: false };
        await startTransport(msg.tls);
        return { transportUp: true };
      }
      case 'conf-change':
        return { index: await requireHost().proposeConfChange(msg.change) };
      case 'transfer-leader':
        return { to: requireHost().transferLeadership(msg.to, msg.holdMs) };
      case 'cluster-status':
        return clusterStatus();
      case 'dr-recover':
        return requireHost().recoverAsSoleVoter(msg.learners, msg.silenceMs);
      case 'snapshot-restore':
        return restoreFromFile(requireHost(), msg.path, msg.timeoutMs);
      case 'read-index':
        return { index: await requireHost().readIndex(msg.timeoutMs) };
      case 'unfence-writes':
        return { fenced: host?.unfenceWrites() ?? false };
      case 'compact-and-close': {
        if (host === null) return { compacted: false, logEntries: 0 };
        const h = host;
        const logEntries = h.logStore.lastIndex() - h.logStore.firstIndex() + 1;
        const compacted = await h.compactAndClose(msg.minEntries);
        await transport?.close();
        return { compacted, logEntries };
      }
    }
  },
  {
    init: async (ctx) => {
      actx = ctx;
      config = ctx.workerData as RaftActorConfig;
      if (config.dynamic) {
        // An idle actor (no group yet) has no timer of its own; hold a ref'd handle so the worker can
        // never drain its event loop while it waits for bootstrap/join (see docs/ha.md, Status).
        setInterval(() => {}, 60_000);
        const boot = readBoot();
        if (boot !== null) await openHost(boot);
        return;
      }
      // Static mode: the configured voters and peer list, transport at once.
      const others = config.voters.filter((v) => v !== config.id);
      if (others.length > 0) {
        if (config.transport === undefined) throw new Error(`raft actor ${config.id}: voters ${others.join(',')} but no transport configured`);
        memberAddresses = { ...config.transport.peers };
        const t = await PeerTransport.start({
          id: config.id,
          listen: config.transport.listen,
          peers: config.transport.peers,
          tls: config.transport.tls,
          onMessage: (m) => host?.step(m),
          log: ctx.log,
        });
        transport = t;
        ctx.log.info({ port: t.port, peers: Object.keys(config.transport.peers) }, 'raft transport listening');
      }
      // Serve only once the FSM replayed what was committed before a restart (readers see no stale state).
      await openHost({ mode: 'bootstrap', voters: config.voters });
    },
  },
);
