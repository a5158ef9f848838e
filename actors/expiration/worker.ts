// The expiration actor: its own worker thread (restart supervision, no state of its own). Every tick
// it asks the core whether this node is unsealed and active; only then does it sweep (expirer.ts),
// proposing guarded write-sets through the core's `commit` like any handler. Standbys and sealed nodes
// do nothing: the active node's actor is the only one whose proposals would commit anyway, and after a
// failover the new active node's actor picks up the same hints from the replicated FSM.
import { serveActor, type PeerRef } from '../../runtime/host/worker-host.js';
import { Barrier } from '../barrier/barrier.js';
import { Keyring } from '../barrier/keyring.js';
import { EncryptionReports } from '../barrier/encryption-reports.js';
import type { CommitReply, CoreReply, CoreRequest, HealthInfo, KeyringReply } from '../core/messages.js';
import { openStorageEnv } from '../storage/env.js';
import { FsmReader } from '../storage/fsm-reader.js';
import { dueKeysFrom, sweepOnce, SWEEP_LEASES_MAX } from './expirer.js';
import { purgeOnce } from './purger.js';
import type { WriteSetWithGuards } from '../mounts/framework/storage-view.js';
import { LEASE_DUE_INDEX_PREFIX } from './leases.js';

export interface ExpirationWorkerData {
  dataDir: string;
  /** Int32 seal epoch shared with the core (CoreOptions.sealEpoch). */
  sealEpoch: SharedArrayBuffer;
  /** Time between sweeps; 1000 by default. */
  tickMs?: number;
}

export type ExpirationMessage = { t: 'sweep-now' };
export type ExpirationReply = { revoked: number; moved: number; stale: number; conflicts: number; purged: number } | null;

let sweep: (() => Promise<ExpirationReply>) | null = null;

/** Up to `max` FSM keys under `prefix`, in key order. */
function keysUnder(env: ReturnType<typeof openStorageEnv>, prefix: string, max: number): string[] {
  const out: string[] = [];
  for (const key of env.fsm.getKeys({ start: prefix }) as Iterable<string>) {
    if (!key.startsWith(prefix) || out.length >= max) break;
    out.push(key);
  }
  return out;
}

serveActor<ExpirationMessage, ExpirationReply>(() => (sweep as () => Promise<ExpirationReply>)(), {
  init: (ctx) => {
    const data = ctx.workerData as ExpirationWorkerData;
    const env = openStorageEnv(data.dataDir, { readOnly: true });
    const reader = new FsmReader(env);
    const core = ctx.peer<CoreRequest, CoreReply>('core') as PeerRef<CoreRequest, CoreReply>;
    const epoch = new Int32Array(data.sealEpoch);
    let held: { epoch: number; barrier: Barrier | null } = { epoch: -1, barrier: null };
    const reports = new EncryptionReports(() => held.barrier, (counts) => core.ask({ t: 'encryptions', counts }));
    const barrier = async (): Promise<Barrier | null> => {
      const now = Atomics.load(epoch, 0);
      if (now !== held.epoch) {
        const reply = (await core.ask({ t: 'keyring' })) as KeyringReply;
        reports.flush(held.barrier);
        held = { epoch: reply.epoch, barrier: reply.keyring ? new Barrier(Keyring.fromBytes(reply.keyring)) : null };
      }
      return held.barrier;
    };
    let running = false;
    sweep = async () => {
      if (running) return null;
      running = true;
      try {
        const health = (await core.ask({ t: 'health' })) as HealthInfo;
        if (health.sealed || health.standby) return null;
        const b = await barrier();
        if (b === null) return null;
        // The proposer's clock picks what is due; the write-sets carry no time (expirer.ts).
        const nowMs = Date.now();
        const commit = (ws: WriteSetWithGuards) => core.ask({ t: 'commit', ops: ws.ops, guards: ws.guards }) as Promise<CommitReply>;
        const swept = await sweepOnce(
          {
            physical: reader,
            crypto: b,
            commit,
            dueKeys: (at, max) => dueKeysFrom(env.fsm.getKeys({ start: LEASE_DUE_INDEX_PREFIX }) as Iterable<string>, at, max),
            refresh: () => reader.refresh(),
          },
          nowMs,
          SWEEP_LEASES_MAX,
        );
        // Then the data of disabled mounts and deleted namespaces too large to delete in their request.
        const purged = await purgeOnce({ physical: reader, crypto: b, commit, keysUnder: (prefix, max) => keysUnder(env, prefix, max), refresh: () => reader.refresh() });
        return { ...swept, purged: purged.deleted };
      } catch (err) {
        // Not active any more, sealed meanwhile, core restarting: try again at the next tick.
        ctx.log.debug({ err }, 'expiration sweep failed');
        return null;
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void sweep?.(), data.tickMs ?? 1000);
    timer.unref();
  },
});
