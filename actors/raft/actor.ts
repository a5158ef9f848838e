// The raft actor's worker thread: one RaftHost (core + LogStore + Fsm, driven by a real tick timer) and,
// when the group has other voters, the mutual-TLS peer transport. Fail-stop: a storage or core failure
// crashes the worker (the node must restart and recover from LMDB).
// Asked by the core actor (RaftWritePath, over a linked ring) or by a test process entry.
import { CofferError } from '../../runtime/errors.js';
import { serveActor } from '../../runtime/host/worker-host.js';
import { RaftHost } from './host.js';
import type { ProposeManyResult, RaftActorConfig, RaftReply, RaftRequest } from './protocol.js';
import { PeerTransport } from './transport.js';

let host: RaftHost | null = null;
let transport: PeerTransport | null = null;

serveActor<RaftRequest, RaftReply>(
  async (msg) => {
    const h = host as RaftHost;
    switch (msg.t) {
      case 'propose':
        return { index: await h.propose(msg.data), flushes: h.stats().flushes };
      case 'propose-many': {
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
      case 'status':
        return {
          raft: h.status(),
          host: h.stats(),
          transport: transport?.stats() ?? null,
          fsmApplied: h.fsmApplied(),
          logFirstIndex: h.logStore.firstIndex(),
          logLastIndex: h.logStore.lastIndex(),
          snapshotIndex: h.snapshotAt(),
        };
      case 'fsm-dump': {
        h.env.root.resetReadTxn();
        const out: [string, Uint8Array][] = [];
        for (const { key, value } of h.env.fsm.getRange({})) out.push([key, value]);
        return out;
      }
      case 'log-entries': {
        const lo = Math.max(msg.lo, h.logStore.firstIndex());
        const hi = Math.min(msg.hi, h.logStore.lastIndex() + 1);
        return h.logStore.entries(lo, Math.max(lo, hi)).map((e) => ({ index: e.index, term: e.term, data: e.payload.t === 'normal' ? e.payload.data : null }));
      }
    }
  },
  {
    init: async (ctx) => {
      const config = ctx.workerData as RaftActorConfig;
      const others = config.voters.filter((v) => v !== config.id);
      let t: PeerTransport | null = null;
      const opened = await RaftHost.open({
        id: config.id,
        dataDir: config.dataDir,
        voters: config.voters,
        log: ctx.log,
        send: (m) => t?.send(m),
        ...(config.tickMs !== undefined ? { tickMs: config.tickMs } : {}),
        ...(config.electionTicks !== undefined ? { electionTicks: config.electionTicks } : {}),
        ...(config.compactAt !== undefined ? { compactAt: config.compactAt } : {}),
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
        ...(config.digestApplied !== undefined ? { digestApplied: config.digestApplied } : {}),
        ...(config.snapshotChunkBytes !== undefined ? { snapshotChunkBytes: config.snapshotChunkBytes } : {}),
        onFailure: (err) =>
          process.nextTick(() => {
            throw err; // fail-stop: crash the worker; the ActorSystem applies the supervision policy
          }),
      });
      if (others.length > 0) {
        if (config.transport === undefined) throw new Error(`raft actor ${config.id}: voters ${others.join(',')} but no transport configured`);
        t = await PeerTransport.start({
          id: config.id,
          listen: config.transport.listen,
          peers: config.transport.peers,
          tls: config.transport.tls,
          onMessage: (m) => opened.step(m),
          log: ctx.log,
        });
        ctx.log.info({ port: t.port, peers: Object.keys(config.transport.peers) }, 'raft transport listening');
      }
      transport = t;
      host = opened;
      opened.start();
      // Serve only once the FSM replayed what was committed before a restart (readers see no stale state).
      await opened.whenRecovered();
    },
  },
);
