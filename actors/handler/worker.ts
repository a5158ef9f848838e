// A handler worker: hosts the mounts' backends and runs the request pipeline. Stateless (restart
// supervision): its only state is caches, validated against LMDB on every use, and the keyring of
// the current seal epoch, fetched from the core actor whenever the shared epoch word moves.
import { serveActor } from '../../runtime/host/worker-host.js';
import { Barrier } from '../barrier/barrier.js';
import { Keyring } from '../barrier/keyring.js';
import { CachingBarrier } from './caching-barrier.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import type { SealOwner } from '../mounts/namespaces/model.js';
import { NamespaceDirectory } from '../mounts/namespaces/directory.js';
import { EncryptionReports } from '../barrier/encryption-reports.js';

/** Decrypted values a handler worker keeps (each checked against the stored ciphertext on use). */
const DECRYPT_CACHE_ENTRIES = 20_000;
import type { CoreReply, CoreRequest, KeyringReply } from '../core/messages.js';
import { prepareCommit, type CommitReply } from '../storage/guarded-commit.js';
import type { RaftReply, RaftRequest } from '../raft/protocol.js';
import { openStorageEnv } from '../storage/env.js';
import { FsmReader } from '../storage/fsm-reader.js';
import { SnapshotMemoReader } from './snapshot-memo-reader.js';
import { HeldKeyring } from './held-keyring.js';
import { frontViewState, readFrontView, type FrontView, type FrontViewMessage, type FrontViewScope } from '../quotas/front-view.js';
import { serialisedReply, type HandlerMessage, type LogicalReply } from './messages.js';
import { FRONT_SERVED } from '../mounts/sys/metrics.js';
import { Pipeline } from './pipeline.js';
import { setAuditSettings, type AuditSettings } from '../audit/settings.js';

export interface HandlerWorkerData {
  dataDir: string;
  /** Int32 seal epoch shared with the core (CoreOptions.sealEpoch). */
  sealEpoch: SharedArrayBuffer;
  /** What the config allows for audit devices (actors/audit/settings.ts). */
  audit?: AuditSettings;
}

let pipeline: Pipeline | null = null;
/** For the front's cached view (mounts, quotas): actors/quotas/front-view.ts. */
let frontView: ((scope?: FrontViewScope) => Promise<FrontView>) | null = null;

serveActor<HandlerMessage | FrontViewMessage, LogicalReply | FrontView>((msg) => (msg.t === 'front-view' ? (frontView as (scope?: FrontViewScope) => Promise<FrontView>)(msg.scope) : (pipeline as Pipeline).handle(msg.req).then((r) => serialisedReply(r, FRONT_SERVED))), {
  init: (ctx) => {
    const data = ctx.workerData as HandlerWorkerData;
    setAuditSettings(data.audit);
    const env = openStorageEnv(data.dataDir, { readOnly: true });
    const memo = new SnapshotMemoReader(new FsmReader(env), env);
    const core = ctx.peer<CoreRequest, CoreReply>('core');
    const raft = ctx.peer<RaftRequest, RaftReply>('raft');
    const epoch = new Int32Array(data.sealEpoch);
    // Which sealable namespace's keyring encrypts each namespace segment (docs/namespace-seals.md), from the
    // namespace entries of the current snapshot (validate-on-read: a changed entry is seen at once).
    const directory = new NamespaceDirectory(memo);
    const sealOwnerOf = (root: Barrier) => (segmentUuid: string): SealOwner | null => directory.sealOwnerOfSegment(root, segmentUuid);
    const segmented = (rootKeyring: Uint8Array, namespaces: [string, Uint8Array][]): SegmentedBarrier => {
      const root = new CachingBarrier(Keyring.fromBytes(rootKeyring), DECRYPT_CACHE_ENTRIES);
      const unsealed = new Map(namespaces.map(([uuid, ring]) => [uuid, new CachingBarrier(Keyring.fromBytes(ring), DECRYPT_CACHE_ENTRIES)] as const));
      return new SegmentedBarrier(root, sealOwnerOf(root), unsealed);
    };
    const keyring: HeldKeyring<Barrier> = new HeldKeyring<Barrier>({
      epoch: () => Atomics.load(epoch, 0),
      stored: () => memo.get('core/keyring'),
      fetch: async () => {
        const reply = (await core.ask({ t: 'keyring' })) as KeyringReply;
        return { epoch: reply.epoch, barrier: reply.keyring ? segmented(reply.keyring, reply.namespaces ?? []) : null, source: reply.source ? Buffer.from(reply.source) : null };
      },
      replacing: (old) => reports.flush(old),
    });
    const reports = new EncryptionReports(() => keyring.barrier, (counts) => core.ask({ t: 'encryptions', counts }));
    const barrier = (): Promise<Barrier | null> => keyring.current();
    const frontState = frontViewState(memo);
    frontView = async (scope) => {
      memo.refresh(); // before the keyring check, as in Pipeline.serve
      const b = await barrier();
      return readFrontView(memo, b, frontState, scope);
    };
    pipeline = new Pipeline({
      physical: memo,
      barrier,
      // Write-sets go to the raft actor, which checks their guards and proposes them (no core hop:
      // actors/storage/guarded-commit.ts). After our own commit the next read must see it (lmdb-js would
      // renew the snapshot on the next turn anyway): refreshing drops the memo once the write is applied.
      commit: async (ws) => {
        const reply = (await raft.ask({ t: 'commit', ...prepareCommit(ws.ops, ws.guards) })) as CommitReply;
        memo.refresh();
        return reply;
      },
      nowMs: Date.now,
      namespaceSeals: {
        status: (uuid) => core.ask({ t: 'ns-seal-status', uuid }) as Promise<Record<string, unknown>>,
        unseal: (uuid, key, reset) => core.ask({ t: 'ns-unseal', uuid, key, reset }) as Promise<Record<string, unknown>>,
        seal: async (uuids) => {
          await core.ask({ t: 'ns-seal', uuids });
        },
        rotate: async (uuid) => {
          await core.ask({ t: 'ns-rotate', uuid });
        },
        keyStatus: (uuid) => core.ask({ t: 'ns-key-status', uuid }) as Promise<Record<string, unknown>>,
      },
    });
  },
});
