// The core of one node: seal state, barrier, tokens and its write path.
// Runs inside the core actor's worker (actors/core/worker.ts) but has no thread code itself, so it is
// also driven directly by tests. Its own durable changes go through `commit`, one write-set per request;
// handler write-sets go to the raft actor directly (actors/storage/guarded-commit.ts).
import { NamespaceSeals } from './namespace-seals.js';
import { randomUUID } from 'node:crypto';
import { assert } from '../../runtime/assert.js';
import { CofferError } from '../../runtime/errors.js';
import { failpoint } from '../../runtime/failpoints.js';
import { Barrier } from '../barrier/barrier.js';
import type { NamespaceEntry } from '../mounts/namespaces/model.js';
import { NamespaceDirectory } from '../mounts/namespaces/directory.js';
import { ABSOLUTE_MAX_OPERATIONS, ABSOLUTE_MIN_OPERATIONS, Keyring, MIN_ROTATION_INTERVAL_MS, type RotationConfig } from '../barrier/keyring.js';
import { parseDurationSeconds } from '../mounts/framework/router.js';
import { goDuration } from '../mounts/token/entries.js';
import {
  KEYRING_PATH,
  SHAMIR_KEK_PATH,
  initializeShamir,
  keyringWrite,
  newUnsealKey,
  openKeyring,
  openKeyringWithRootKey,
  readSealConfig,
  rekeyWrites,
  rootKeyFromStorage,
  rotateKeyring,
  validateSealConfig,
  type SealConfig,
} from '../barrier/seal.js';
import { encryptToPgpKeys } from '../barrier/pgp.js';
import { idleRekeyStatus, RekeyAttempt, type RekeyStatus, type RekeyUpdateResult, type RekeyVerifyStatus } from '../barrier/rekey.js';
import { UnsealProgress } from '../barrier/unseal-progress.js';
import { encodeRootToken, idleStatus, RootGeneration, type GenerateRootStatus } from '../barrier/root-generation.js';
import { LocalWritePath } from '../storage/write-path.js';
import type { FsmReader } from '../storage/fsm-reader.js';
import type { StorageOp } from '../storage/write-set.js';
import type { CommitReply, Guard } from '../storage/guarded-commit.js';
import type { CoreReplies, CoreRequest, HealthInfo, KeyStatus, RotationConfigView, SealStatus } from './messages.js';
import { handleRaw } from './raw.js';
import { hostInfo } from './host-info.js';
import { initialState, withDevKvMount } from './initial-state.js';
import { ClusterCore, type ClusterOptions } from '../cluster/cluster.js';
import { RaftSharedState } from '../cluster/consistency.js';
import { RaftOps } from '../cluster/autopilot-core.js';
import { accessFor, ClusterAuthorizer, type ClusterAccess } from '../cluster/authorize.js';
import { LifecycleAudit } from '../audit/lifecycle.js';
import type { AuditTrail } from '../audit/broker.js';
import type { RaftReplies, RaftRequest } from '../raft/protocol.js';
import { MOUNTS_KEY, type MountTable } from '../mounts/mount-table.js';
import {
  TOKEN_SALT_KEY,
  newAccessor,
  newSalt,
  newServiceToken,
  randomBase62,
  rootTokenEntry,
  tokenAccessorKey,
  tokenIdKey,
  validateCustomTokenId,
  type TokenEntry,
} from './tokens.js';

import { COFFER_VERSION } from '../../runtime/version.js';

export { COFFER_VERSION };
const CLUSTER_INFO_KEY = 'core/cluster/local/info';
/** How often the active node checks whether the barrier's data key is due for rotation (§5). */
const AUTO_ROTATE_CHECK_MS = 30_000;
/**
 * The encryption counts reach storage (core/keyring) once they grew by this share of the rotation limit since
 * the last write, so a restart loses little of them; a rotation writes them anyway.
 */
const PERSIST_COUNTS_FRACTION = 0.01;

/** A warning as a pino-shaped JSON line on stderr (the core's worker has no logger of its own); the error by message only. */
function warnLine(msg: string, err?: unknown): void {
  console.error(JSON.stringify({ level: 40, msg, err: err === undefined ? undefined : String((err as Error)?.message ?? err) }));
}

export interface CoreOptions {
  dataDir: string;
  /** Config `raw_storage_endpoint`; on in dev mode. */
  rawStorageEndpoint: boolean;
  /** Wall clock in ms; injected so tests can move time. */
  nowMs?: () => number;
  /**
   * Int32 word shared with the handler workers: bumped on every unseal, seal and rotation, so a handler
   * holding keys of an older epoch refetches them (or learns the node is sealed) before serving.
   */
  sealEpoch?: SharedArrayBuffer;
  /** Raft cluster identity and addresses (node id, api_addr, cluster_addr, retry_join); see actors/cluster. */
  cluster?: ClusterOptions;
  /** sys/config/state/sanitized: the node's configuration without anything secret (actors/node/config-state.ts). */
  configState?: Record<string, unknown>;
  /**
   * What the raft actor publishes (RaftSharedState: role, term, applied index). The cluster timers read it
   * so that an idle node does not ask the raft thread for its status a dozen times a second.
   */
  raftShared?: SharedArrayBuffer;
}

/** What the core needs from a write path: LocalWritePath (commit = flushed here) or RaftWritePath. */
export interface CoreWritePath {
  readonly reader: FsmReader;
  /** A write-set with the guards of what it read (actors/storage/guarded-commit.ts); no guards: a blind write. */
  commit(ops: StorageOp[], guards: Guard[]): Promise<CommitReply>;
  close(): Promise<void>;
  /** Present on RaftWritePath: membership/status/leadership requests to the raft actor. */
  askRaft?<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]>;
}

interface Unsealed {
  barrier: Barrier;
  tokenSalt: string;
  clusterName: string;
  clusterId: string;
}

export class CoreNode {
  private readonly writePath: CoreWritePath;
  private readonly nowMs: () => number;
  private unsealed: Unsealed | null = null;
  private progress: UnsealProgress | null = null;
  /** The sys/generate-root attempt in progress on this node, if any (memory only, as in Vault). */
  private rootGeneration: RootGeneration | null = null;
  /** The sys/rekey in progress on this node, if any (memory only, as in Vault). */
  private rekey: RekeyAttempt | null = null;
  /** The automatic rotation check (autoRotate), every AUTO_ROTATE_CHECK_MS. */
  private readonly autoRotateTimer: NodeJS.Timeout;
  /** The active term's encryption count when core/keyring was last written by this node. */
  private persistedEncryptions = 0;
  private readonly sealEpoch: Int32Array | null;
  /** The sealable namespaces this node has unsealed (their keyrings live only here and in the handlers). */
  private readonly namespaceSeals: NamespaceSeals;
  /** Namespace entries for the core (seal sync, sys/raw), cached by their stored ciphertext. */
  private namespaceDirectory: NamespaceDirectory | null = null;
  /** The core/keyring ciphertext the current keyring was opened from (see syncKeyring). */
  private keyringSource: Buffer | null = null;
  /** Serialises init and unseal: each reads state, awaits, then changes it. */
  private lifecycleLock: Promise<unknown> = Promise.resolve();
  /** Raft membership, join workflow and HA (null with LocalWritePath: unit tests). */
  private readonly cluster: ClusterCore | null;
  /** Raft snapshots and autopilot (actors/cluster/snapshot.ts, autopilot.ts); null without Raft. */
  private readonly raftOps: RaftOps | null;
  private readonly clusterAuth = new ClusterAuthorizer();
  /** Audit devices see the lifecycle endpoints answered here too (actors/audit/lifecycle.ts). */
  private readonly lifecycleAudit: LifecycleAudit;

  private constructor(
    private readonly opts: CoreOptions,
    writePath?: CoreWritePath,
  ) {
    this.writePath = writePath ?? LocalWritePath.open(opts.dataDir);
    this.nowMs = opts.nowMs ?? Date.now;
    this.sealEpoch = opts.sealEpoch ? new Int32Array(opts.sealEpoch) : null;
    this.namespaceSeals = new NamespaceSeals((k) => this.readPhysical(k), () => this.bumpSealEpoch());
    const wp = this.writePath;
    const raftView = opts.raftShared ? new RaftSharedState(opts.raftShared) : undefined;
    this.lifecycleAudit = new LifecycleAudit({
      physical: { get: (k) => this.readPhysical(k), list: (p) => wp.reader.list(p) },
      barrier: () => this.unsealed?.barrier ?? null,
      tokenSalt: () => this.unsealed?.tokenSalt ?? null,
    });
    this.cluster =
      wp.askRaft === undefined
        ? null
        : new ClusterCore(opts.cluster ?? { nodeId: 'node1', apiAddr: '', clusterAddr: null }, {
            raft: (msg, timeoutMs) => (wp.askRaft as NonNullable<CoreWritePath['askRaft']>)(msg, timeoutMs),
            barrier: () => this.unsealed?.barrier ?? null,
            readPhysical: (k) => this.readPhysical(k),
            list: (prefix) => wp.reader.list(prefix),
            refresh: () => wp.reader.refresh(),
            commit: (ops) => this.commit(ops),
            warn: warnLine,
            ...(raftView ? { raftView } : {}),
          });
    this.raftOps =
      this.cluster === null || wp.askRaft === undefined
        ? null
        : new RaftOps(
            {
              dataDir: opts.dataDir,
              nodeId: this.cluster.opts.nodeId,
              version: COFFER_VERSION,
              raft: (msg, timeoutMs) => (wp.askRaft as NonNullable<CoreWritePath['askRaft']>)(msg, timeoutMs),
              barrier: () => this.unsealed?.barrier ?? null,
              readPhysical: (k) => this.readPhysical(k),
              refresh: () => wp.reader.refresh(),
              commit: (ops) => this.commit(ops),
              seal: () => this.seal(),
              warn: warnLine,
              ...(raftView ? { raftView } : {}),
            },
            this.cluster,
          );
    this.cluster?.startRetryJoin(this.sealConfig() !== null);
    this.autoRotateTimer = setInterval(() => {
      this.autoRotate().catch((err: unknown) => warnLine('barrier: automatic key rotation check failed', err));
    }, AUTO_ROTATE_CHECK_MS);
    this.autoRotateTimer.unref();
  }

  /** `writePath` defaults to LocalWritePath on opts.dataDir (tests); the node injects RaftWritePath. */
  static open(opts: CoreOptions, writePath?: CoreWritePath): CoreNode {
    return new CoreNode(opts, writePath);
  }

  async close(): Promise<void> {
    clearInterval(this.autoRotateTimer);
    this.cluster?.close();
    this.raftOps?.close();
    this.unsealed = null;
    await this.writePath.close();
  }

  async handle<R extends CoreRequest>(req: R): Promise<CoreReplies[R['t']]> {
    const trail = this.unsealed ? this.lifecycleAudit.begin(req) : null;
    if (trail === null) return (await this.dispatch(req, null)) as CoreReplies[R['t']];
    try {
      const reply = await this.dispatch(req, trail);
      // After sys/seal the barrier is gone and no device can be read: as OpenBao, only its request is logged.
      await trail.respond({ status: reply === null ? 204 : 200, body: reply ?? null });
      return reply as CoreReplies[R['t']];
    } catch (err) {
      throw await trail.failed(err);
    }
  }

  /** `trail`: the audit of a lifecycle request; its request entry is written right after the token check. */
  private async dispatch(req: CoreRequest, trail: AuditTrail | null): Promise<CoreReplies[keyof CoreReplies]> {
    switch (req.t) {
      case 'seal-status':
        return this.sealStatus();
      case 'init-status':
        return { initialized: this.sealConfig() !== null };
      case 'init':
        return this.locked(() => this.init(req));
      case 'unseal':
        return this.locked(() => this.unseal(req.key, req.reset));
      case 'seal':
        await this.requireAccess(req.token, [{ path: 'sys/seal', operation: 'update', sudo: true }]);
        await trail?.logRequest();
        this.seal();
        return null;
      case 'health':
        return this.health();
      case 'leader':
        this.requireUnsealed();
        return this.cluster ? this.cluster.leader() : { ha_enabled: false };
      case 'raft-join':
        return this.locked(() => this.requireCluster().join(req, this.sealConfig() !== null));
      case 'raft-challenge':
        return this.requireCluster().challenge(req.serverId);
      case 'raft-answer':
        return this.requireCluster().answer(req);
      case 'raft-configuration':
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        return this.requireCluster().configuration();
      case 'raft-peer': {
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        const c = this.requireCluster();
        if (req.op === 'remove') await c.removePeer(req.serverId);
        else if (req.op === 'promote') await c.promote(req.serverId);
        else await c.demote(req.serverId);
        return null;
      }
      case 'raft-dr': {
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        const c = this.requireCluster();
        return req.op === 'promote' ? c.drPromote() : c.drStatus();
      }
      case 'step-down':
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        if (this.cluster) await this.cluster.stepDown();
        return null;
      case 'ha-status':
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        return this.requireCluster().haStatus(COFFER_VERSION);
      case 'snapshot':
      case 'autopilot':
        await this.requireAccess(req.token, accessFor(req));
        await trail?.logRequest();
        if (this.raftOps === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'raft storage is not in use');
        return (await this.raftOps.handle(req)) as CoreReplies['snapshot'];
      case 'rotate':
        this.requireRoot(req.token);
        await trail?.logRequest();
        // Serialised with rekey: each derives the next keyring from the one in use.
        return this.locked(() => this.rotate());
      case 'rotate-root':
        await this.requireAccess(req.token, [{ path: 'sys/rotate/root', operation: 'update', sudo: true }]);
        await trail?.logRequest();
        return this.locked(() => this.rotateRoot());
      case 'config-state':
        // Vault's sys/config/state is a root path (sudo), answered by the node itself.
        await this.requireAccess(req.token, [{ path: 'sys/config/state/sanitized', operation: 'read', sudo: true }]);
        await trail?.logRequest();
        return this.opts.configState ?? {};
      case 'host-info':
        // Vault's sys/host-info is a root path (sudo).
        await this.requireAccess(req.token, [{ path: 'sys/host-info', operation: 'read', sudo: true }]);
        await trail?.logRequest();
        return hostInfo(this.opts.dataDir, this.nowMs());
      case 'key-status':
        this.requireRoot(req.token);
        await trail?.logRequest();
        return this.keyStatus();
      case 'raw': {
        if (!this.opts.rawStorageEndpoint) throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `no handler for route "sys/raw/${req.path}". route entry not found.`);
        const u = this.requireRoot(req.token);
        await trail?.logRequest();
        return handleRaw(req, {
          // A sealable namespace's data reads through its own keyring, or not at all while it is sealed.
          barrier: this.namespaceSeals.segmented(u.barrier, this.namespaceEntries(u.barrier)),
          read: (k) => this.readPhysical(k),
          list: (prefix) => this.writePath.reader.list(prefix),
          commit: (ops) => this.commit(ops),
        });
      }
      case 'dev-setup':
        return this.locked(() => this.devSetup(req.rootTokenId));
      case 'generate-root-status':
        {
        const cfg = await this.requireShareOperation();
        return this.rootGeneration?.status() ?? idleStatus(cfg.secret_threshold);
      }
      case 'generate-root-start': {
        const cfg = await this.requireShareOperation();
        if (this.rootGeneration !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'root generation already in progress');
        // A PGP key is checked (and fingerprinted) now, by encrypting a probe to it, as Vault parses it at the start.
        const pgpFingerprint = req.pgpKey === '' || req.otp !== '' ? '' : ((await encryptToPgpKeys([Buffer.from('probe')], [req.pgpKey])).fingerprints[0] as string);
        if (this.rootGeneration !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'root generation already in progress');
        this.rootGeneration = new RootGeneration(cfg, { otp: req.otp, pgpKey: req.pgpKey, pgpFingerprint }, randomBase62);
        return this.rootGeneration.status(this.rootGeneration.serverOtp ? { otp: this.rootGeneration.otp } : {});
      }
      case 'generate-root-cancel':
        await this.requireShareOperation();
        this.rootGeneration = null;
        return null;
      case 'generate-root-update':
        return this.locked(() => this.generateRootUpdate(req.key, req.nonce));
      case 'rekey-status':
        {
        const cfg = await this.requireShareOperation();
        return this.rekey?.status() ?? idleRekeyStatus(cfg);
      }
      case 'rekey-start': {
        const cfg = await this.requireShareOperation();
        if (this.rekey !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'rekey already in progress');
        // PGP keys are checked (and fingerprinted) at the start, by encrypting a probe to each.
        const fingerprints = req.pgpKeys.length === 0 || req.pgpKeys.length !== req.secretShares ? [] : (await encryptToPgpKeys(req.pgpKeys.map(() => Buffer.from('probe')), req.pgpKeys)).fingerprints;
        if (this.rekey !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'rekey already in progress');
        this.rekey = new RekeyAttempt(cfg, { ...req, pgpFingerprints: fingerprints });
        return this.rekey.status();
      }
      case 'rekey-cancel':
        await this.requireShareOperation();
        this.rekey?.discard();
        this.rekey = null;
        return null;
      case 'rekey-update':
        return this.locked(() => this.rekeyUpdate(req.key, req.nonce));
      case 'rekey-verify-status':
        await this.requireShareOperation();
        return this.requireRekey().verifyStatus();
      case 'rekey-verify-restart':
        await this.requireShareOperation();
        return this.requireRekey().restartVerification();
      case 'rekey-verify-update':
        return this.locked(() => this.rekeyVerify(req.key, req.nonce));
      case 'route-miss': {
        // The ACL check comes before routing (§0.2): only a root token learns that a route is missing.
        this.requireRoot(req.token);
        throw new CofferError('COFFER_ERR_UNSUPPORTED_PATH', `no handler for route "${req.path}". route entry not found.`);
      }
      case 'commit': {
        // The expiration actor's write-sets (handlers send theirs to the raft actor directly).
        this.requireUnsealed();
        const reply = await this.writePath.commit(req.ops, req.guards);
        if (reply.ok) this.writePath.reader.refresh();
        return reply;
      }
      case 'keyring': {
        // A handler asks when its epoch is stale or its snapshot shows another core/keyring (a rotation on
        // the active node, replicated here): reload the keyring first (docs/ha-standby-reads.md).
        this.syncKeyring();
        const epoch = this.sealEpoch ? Atomics.load(this.sealEpoch, 0) : 0;
        if (!this.unsealed) return { epoch, keyring: null };
        const namespaces = this.namespaceSeals.keyringBytes();
        return { epoch, keyring: this.unsealed.barrier.keyring.toBytes(), ...(this.keyringSource ? { source: this.keyringSource } : {}), ...(namespaces.length > 0 ? { namespaces } : {}) };
      }
      case 'ns-seal-status':
        this.requireUnsealed();
        this.writePath.reader.refresh();
        return this.namespaceSeals.status(req.uuid);
      case 'ns-unseal':
        this.requireUnsealed();
        this.writePath.reader.refresh();
        return this.namespaceSeals.unseal(req.uuid, req.key, req.reset);
      case 'ns-seal': {
        this.requireUnsealed();
        this.namespaceSeals.seal(req.uuids);
        return null;
      }
      case 'ns-sync-plan': {
        const u = this.requireUnsealed();
        this.writePath.reader.refresh();
        return { missing: this.namespaceSeals.syncPlan(this.sealableNamespaces(u.barrier)) };
      }
      case 'ns-rotate':
        this.requireUnsealed();
        await this.namespaceSeals.rotate(req.uuid, this.nowMs(), (ops) => this.commit(ops));
        return null;
      case 'ns-key-status':
        this.requireUnsealed();
        return this.namespaceSeals.keyStatus(req.uuid);
      case 'ns-export': {
        const u = this.requireUnsealed();
        // Every member holds the root keyring these travel under; a node fenced off or removed gets nothing.
        if (!(await this.requireCluster().isMember(req.requester))) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
        return { keys: this.namespaceSeals.exportKeys(u.barrier, req.uuids) };
      }
      case 'ns-import': {
        const u = this.requireUnsealed();
        this.writePath.reader.refresh();
        return { installed: this.namespaceSeals.importKeys(u.barrier, this.sealableNamespaces(u.barrier), req.keys) };
      }
      case 'encryptions': {
        // Counts of a worker's encryptions: they belong to this node's keyring (workers hold copies of it).
        const ring = this.unsealed?.barrier.keyring;
        if (ring) for (const [term, count] of req.counts) for (const t of ring.terms()) if (t.term === term) t.encryptions += count;
        return null;
      }
      case 'rotation-config':
        await this.requireAccess(req.token, [{ path: 'sys/rotate/keyring/config', operation: 'read', sudo: true }]);
        await trail?.logRequest();
        return this.rotationConfigView();
      case 'rotation-config-write':
        await this.requireAccess(req.token, [{ path: 'sys/rotate/keyring/config', operation: 'update', sudo: true }]);
        await trail?.logRequest();
        return this.locked(() => this.writeRotationConfig(req));
      case 'forwarding':
        this.syncKeyring();
        return this.requireCluster().forwardingInfo();
      case 'index-key': {
        if (!this.unsealed || !this.cluster) return { key: null };
        this.syncKeyring();
        return { key: this.cluster.indexHmacKey() };
      }
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  private async init(req: Extract<CoreRequest, { t: 'init' }>): Promise<CoreReplies['init']> {
    if (this.sealConfig() !== null) throw new CofferError('COFFER_ERR_ALREADY_INITIALIZED');
    if (req.hasRecoveryParams) {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'parameters recovery_shares,recovery_threshold,recovery_pgp_keys not applicable to seal type shamir');
    }
    const invalid = validateSealConfig(req.secretShares, req.secretThreshold);
    if (invalid !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', invalid);
    if (req.pgpKeys.length > 0 && req.pgpKeys.length !== req.secretShares) {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'count mismatch between number of provided PGP keys and number of shares');
    }

    const nowMs = this.nowMs();
    const { shares, keyring, physical } = await initializeShamir({ secretShares: req.secretShares, secretThreshold: req.secretThreshold, nowMs });
    const rootToken = newServiceToken();
    // PGP first: a key that cannot be used refuses the init before anything is written or bootstrapped.
    const handedOut = req.pgpKeys.length > 0 ? (await encryptToPgpKeys(shares, req.pgpKeys)).values : shares;
    const rootTokenOut = req.rootTokenPgpKey !== '' ? ((await encryptToPgpKeys([Buffer.from(rootToken)], [req.rootTokenPgpKey])).values[0] as Buffer).toString('base64') : rootToken;
    // On Raft, init first bootstraps a single-voter group of this node (§1.1).
    if (this.cluster) await this.cluster.bootstrapForInit();
    const barrier = new Barrier(keyring);
    const tokenSalt = newSalt();
    const clusterInfo = { name: `coffer-cluster-${randomUUID().slice(0, 8)}`, id: randomUUID() };
    // One write-set: a crash leaves the node either uninitialised or fully initialised.
    const ops: StorageOp[] = [
      ...physical.map((w): StorageOp => ({ t: 'put', key: w.key, value: w.value })),
      sealedPut(barrier, TOKEN_SALT_KEY, Buffer.from(tokenSalt)),
      sealedPut(barrier, CLUSTER_INFO_KEY, Buffer.from(JSON.stringify(clusterInfo))),
      ...rootTokenOps(barrier, tokenSalt, rootToken, nowMs),
      ...initialState().map((w) => sealedPut(barrier, w.key, w.value)),
    ];
    // ... and creates the Raft TLS keyring (core/raft/tls) and the peer map with this node.
    const raftInit = this.cluster ? await this.cluster.initOps(barrier) : null;
    if (raftInit) ops.push(...raftInit.ops);
    await this.commit(ops);
    if (raftInit && this.cluster) await this.cluster.startTransport(raftInit.ca);
    this.progress = null; // re-created from the new seal config on the first unseal
    return {
      keys: handedOut.map((s) => s.toString('hex')),
      keys_base64: handedOut.map((s) => s.toString('base64')),
      root_token: rootTokenOut,
    };
  }

  private async unseal(key: string | null, reset: boolean): Promise<SealStatus> {
    // A joiner has no seal config of its own yet: the leader's (from the challenge) drives the progress.
    const cfg = this.sealConfig() ?? this.cluster?.pendingSealConfig() ?? null;
    if (cfg === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'Vault is not initialized');
    if (reset) {
      if (this.unsealed) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'vault is unsealed');
      this.progressFor(cfg).reset();
      return this.sealStatus();
    }
    if (key === null || key === '') {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON, or 'reset' set to true");
    }
    if (this.unsealed) return this.sealStatus();
    const result = await this.progressFor(cfg).submit(key);
    if (result.kind === 'complete') {
      // The last share of a joiner answers the leader's challenge and waits for the keyring to replicate.
      if (this.cluster?.isJoining() && this.readPhysical('core/keyring') === undefined) {
        const kek = Buffer.from(result.kek);
        try {
          await this.cluster.completeJoin(kek);
        } catch (err) {
          kek.fill(0);
          throw err;
        }
        this.writePath.reader.refresh();
        const keyring = openKeyring(kek, (k) => this.readPhysical(k));
        kek.fill(0);
        this.progress = null;
        this.installKeyring(keyring);
        return this.sealStatus();
      }
      const keyring = openKeyring(result.kek, (k) => this.readPhysical(k));
      this.installKeyring(keyring);
    }
    return this.sealStatus();
  }

  /**
   * Keyring invalidation from the log: when core/keyring in the FSM is not the ciphertext this node opened
   * (sys/rotate on the active node, applied here), open it with the root key this node already holds and
   * bump the seal epoch so the handler workers refetch it. Terms only grow: an older snapshot never wins.
   */
  private syncKeyring(): void {
    const u = this.unsealed;
    if (u === null) return;
    this.writePath.reader.refresh();
    const blob = this.readPhysical(KEYRING_PATH);
    if (blob === undefined || (this.keyringSource !== null && this.keyringSource.equals(blob))) return;
    const read = (k: string) => this.readPhysical(k);
    let keyring: Keyring;
    try {
      keyring = openKeyringWithRootKey(u.barrier.keyring.rootKey, read);
    } catch {
      // A rekey on the active node replaced the root key: core/root-key, under a term this node holds (or
      // reaches through core/upgrade), has the new one.
      const root = rootKeyFromStorage(u.barrier.keyring, read);
      if (root === null) return; // nothing opens it yet: keep the current keyring
      try {
        keyring = openKeyringWithRootKey(root, read);
      } catch {
        return;
      } finally {
        root.fill(0);
      }
    }
    this.keyringSource = Buffer.from(blob);
    const sameRoot = keyring.rootKey.equals(u.barrier.keyring.rootKey);
    if (keyring.activeTerm < u.barrier.keyring.activeTerm) return;
    if (keyring.activeTerm === u.barrier.keyring.activeTerm && sameRoot) {
      // The same keys, written again for their encryption counts or rotation config: adopt both, so a standby
      // that becomes active goes on from the active node's last counts.
      const local = new Map(u.barrier.keyring.terms().map((t) => [t.term, t.encryptions] as const));
      const configChanged = JSON.stringify(keyring.rotationConfig) !== JSON.stringify(u.barrier.keyring.rotationConfig);
      const kept = configChanged ? keyring : u.barrier.keyring;
      const stored = new Map(keyring.terms().map((t) => [t.term, t.encryptions] as const));
      for (const t of kept.terms()) t.encryptions = Math.max(local.get(t.term) ?? 0, stored.get(t.term) ?? 0);
      if (configChanged) {
        this.unsealed = { ...u, barrier: new Barrier(keyring) };
        this.bumpSealEpoch();
      }
      return;
    }
    this.unsealed = { ...u, barrier: new Barrier(keyring) };
    this.bumpSealEpoch();
  }

  private installKeyring(keyring: Keyring): void {
    const barrier = new Barrier(keyring);
    const source = this.readPhysical(KEYRING_PATH);
    this.keyringSource = source === undefined ? null : Buffer.from(source);
    const salt = this.readSealed(barrier, TOKEN_SALT_KEY);
    const info = this.readSealed(barrier, CLUSTER_INFO_KEY);
    if (salt === undefined || info === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'storage is missing core records: cannot unseal');
    const cluster = JSON.parse(info.toString('utf8')) as { name: string; id: string };
    this.unsealed = { barrier, tokenSalt: salt.toString('utf8'), clusterName: cluster.name, clusterId: cluster.id };
    this.bumpSealEpoch();
    // First on the core's ring to the raft actor, so the core's own writes below come after it: a restore
    // fenced proposals until the node unsealed with the restored data's keys (RaftHost.unfenceWrites).
    this.writePath.askRaft?.({ t: 'unfence-writes' }).catch((err: unknown) => warnLine('raft: lifting the restore fence failed', err));
    this.cluster?.onUnsealed();
    this.raftOps?.onUnsealed();
  }

  private get directory(): NamespaceDirectory {
    this.namespaceDirectory ??= new NamespaceDirectory({ get: (k) => this.readPhysical(k), list: (p) => this.writePath.reader.list(p) });
    return this.namespaceDirectory;
  }

  /** Every namespace (sys/raw's seal owners). */
  private namespaceEntries(barrier: Barrier): NamespaceEntry[] {
    return this.directory.all(barrier);
  }

  /** The sealable ones (a standby's key sync, every second). */
  private sealableNamespaces(barrier: Barrier): NamespaceEntry[] {
    return this.directory.sealable(barrier);
  }

  private bumpSealEpoch(): void {
    if (this.sealEpoch) Atomics.add(this.sealEpoch, 0, 1);
  }

  private seal(): void {
    this.namespaceSeals.sealAll();
    this.cluster?.onSealed();
    this.raftOps?.onSealed();
    this.unsealed = null;
    this.progress = null;
    this.rootGeneration = null;
    this.rekey?.discard();
    this.rekey = null;
    this.bumpSealEpoch();
  }

  private async devSetup(rootTokenId: string | null): Promise<CoreReplies['dev-setup']> {
    if (rootTokenId !== null) {
      const bad = validateCustomTokenId(rootTokenId);
      if (bad !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', bad);
    }
    const init = await this.init({ t: 'init', secretShares: 1, secretThreshold: 1, pgpKeys: [], rootTokenPgpKey: '', hasRecoveryParams: false });
    const unsealKeyB64 = init.keys_base64[0] as string;
    await this.unseal(unsealKeyB64, false);
    const u = this.requireUnsealed();
    const mounts = JSON.parse((this.readSealed(u.barrier, MOUNTS_KEY) as Buffer).toString('utf8')) as MountTable;
    await this.commit([sealedPut(u.barrier, MOUNTS_KEY, Buffer.from(JSON.stringify(withDevKvMount(mounts))))]);
    let rootToken = init.root_token;
    if (rootTokenId !== null) {
      // Like Vault's -dev-root-token-id: create the chosen root token, revoke the generated one.
      const generated = this.lookupToken(rootToken);
      const ops = rootTokenOps(u.barrier, u.tokenSalt, rootTokenId, this.nowMs());
      ops.push({ t: 'delete', key: tokenIdKey(u.tokenSalt, rootToken) });
      if (generated) ops.push({ t: 'delete', key: tokenAccessorKey(u.tokenSalt, generated.accessor) });
      await this.commit(ops);
      rootToken = rootTokenId;
    }
    return { unsealKeyB64, rootToken };
  }

  /**
   * One share towards a new root token. At the threshold the combined key must open this node's seal
   * (the stored-keys blob and the keyring it leads to); then a root token is created through the log
   * like the init one, and only its OTP-encoded form leaves the core.
   */
  private async generateRootUpdate(key: string, nonce: string): Promise<GenerateRootStatus> {
    await this.requireShareOperation();
    if (key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON");
    const gen = this.rootGeneration;
    if (gen === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no root generation in progress');
    const required = gen.required;
    const kek = await gen.submit(key, nonce);
    if (kek === null) return gen.status();
    this.authenticateKek(kek, 'root generation aborted');
    const u = this.requireUnsealed();
    const token = newServiceToken();
    await this.commit(rootTokenOps(u.barrier, u.tokenSalt, token, this.nowMs()));
    this.rootGeneration = null;
    const encoded = gen.pgpKey !== '' ? ((await encryptToPgpKeys([Buffer.from(token)], [gen.pgpKey])).values[0] as Buffer).toString('base64') : encodeRootToken(token, gen.otp);
    return gen.status({ progress: required, complete: true, encoded_token: encoded, encoded_root_token: encoded });
  }

  /**
   * A combined unseal key must open this node's seal (the stored-keys blob, then the keyring it leads to)
   * before generate-root or rekey act on it; zeroed either way. 400 `<failure>: <why>` otherwise.
   */
  private authenticateKek(kek: Buffer, failure: string): void {
    try {
      openKeyring(kek, (k) => this.readPhysical(k));
    } catch (err) {
      const why = err instanceof CofferError ? err.value.messages[0] : 'unable to authenticate';
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', `${failure}: ${why}`);
    } finally {
      kek.fill(0);
    }
  }

  /** One current share towards a rekey; at the threshold the new shares (applied now, or after verification). */
  private async rekeyUpdate(key: string, nonce: string): Promise<RekeyStatus | RekeyUpdateResult> {
    await this.requireShareOperation();
    if (key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON");
    const attempt = this.rekey;
    if (attempt === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no barrier rekey in progress');
    const kek = await attempt.submit(key, nonce);
    if (kek === null) return attempt.status();
    this.authenticateKek(kek, 'root key verification failed');
    const next = await newUnsealKey(attempt.next.secret_shares, attempt.next.secret_threshold);
    const result = attempt.completed(next, attempt.pgpKeys.length > 0 ? (await encryptToPgpKeys(next.shares, attempt.pgpKeys)).values : next.shares);
    if (!attempt.verificationRequired) {
      await this.replaceRootKey(next.kek, attempt.next);
      next.kek.fill(0);
      this.rekey = null;
    }
    return result;
  }

  /** One new share; once a quorum of them combines to the new key, the rekey takes effect. */
  private async rekeyVerify(key: string, nonce: string): Promise<{ nonce: string; complete: true } | RekeyVerifyStatus> {
    await this.requireShareOperation();
    if (key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', "'key' must be specified in request body as JSON");
    const attempt = this.requireRekey();
    const next = await attempt.verify(key, nonce);
    if (next === null) return attempt.verifyStatus();
    await this.replaceRootKey(next.kek, attempt.next);
    attempt.discard();
    this.rekey = null;
    return { nonce, complete: true };
  }

  /**
   * sys/rotate/root (OpenBao; sudo): a new root key without shares. The unseal key stays (its copy under the
   * barrier, core/shamir-kek, re-encrypts the stored-keys blob), so the same shares unseal.
   */
  private async rotateRoot(): Promise<null> {
    const u = this.requireUnsealed();
    const cfg = this.sealConfig();
    const kek = this.readSealed(u.barrier, SHAMIR_KEK_PATH);
    if (cfg === null || kek === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'seal: the unseal key copy is missing from storage');
    try {
      await this.replaceRootKey(kek, cfg);
    } finally {
      kek.fill(0);
    }
    return null;
  }

  /**
   * A rekey or sys/rotate/root taking effect: the seal config, stored-keys blob under `kek`, a new root key and
   * the KEK copy in one write-set (rekeyWrites), derived from the keyring in use now. Standbys find the new root
   * key through core/root-key (syncKeyring). Unseal progress of the old config is dropped.
   */
  private async replaceRootKey(kek: Buffer, cfg: SealConfig): Promise<void> {
    const u = this.requireUnsealed();
    const { keyring, physical } = rekeyWrites(u.barrier.keyring, kek, cfg.secret_shares, cfg.secret_threshold);
    await this.commitKeyring(u, keyring, physical);
    this.progress = null;
  }

  /**
   * Commits writes that include core/keyring for `keyring` (a rotation, a rekey, counts or config) and makes it
   * this node's keyring: the ciphertext it came from, the count written, and, when it is another instance, a new
   * barrier and seal epoch so the workers refetch it. `afterCommit` runs between the two (a failpoint).
   */
  private async commitKeyring(u: Unsealed, keyring: Keyring, physical: { key: string; value: Buffer }[], afterCommit?: () => void): Promise<void> {
    await this.commit(physical.map((w): StorageOp => ({ t: 'put', key: w.key, value: w.value })));
    afterCommit?.();
    const source = physical.find((w) => w.key === KEYRING_PATH)?.value;
    if (source !== undefined) this.keyringSource = Buffer.from(source);
    this.persistedEncryptions = keyring.activeKey().encryptions;
    if (keyring !== u.barrier.keyring) {
      this.unsealed = { ...u, barrier: new Barrier(keyring) };
      this.bumpSealEpoch();
    }
  }

  private requireRekey(): RekeyAttempt {
    if (this.rekey === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no rekey configuration found');
    return this.rekey;
  }

  private async rotate(): Promise<null> {
    const u = this.requireUnsealed();
    const { keyring, physical } = rotateKeyring(u.barrier.keyring, this.nowMs());
    await this.commitKeyring(u, keyring, physical, () => failpoint('keyring-rotate-after-commit'));
    return null;
  }

  private rotationConfigView(): RotationConfigView {
    const c = this.requireUnsealed().barrier.keyring.rotationConfig;
    return { max_operations: c.maxOperations, enabled: !c.disabled, interval: c.intervalMs > 0 ? goDuration(Math.floor(c.intervalMs / 1000)) : 0 };
  }

  /** Vault's handleKeyRotationConfigUpdate: given fields change, the rest stay; ranges checked; the keyring persisted. */
  private async writeRotationConfig(req: Extract<CoreRequest, { t: 'rotation-config-write' }>): Promise<null> {
    const u = this.requireUnsealed();
    const next: RotationConfig = { ...u.barrier.keyring.rotationConfig };
    const bad = (msg: string): never => {
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', msg);
    };
    if (req.maxOperations !== undefined) {
      const n = typeof req.maxOperations === 'string' && /^\d+$/.test(req.maxOperations) ? Number(req.maxOperations) : req.maxOperations;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) bad('error converting input for field "max_operations": expected an integer');
      next.maxOperations = n as number;
    }
    if (req.interval !== undefined) next.intervalMs = parseDurationSeconds(req.interval, 'interval') * 1000;
    if (req.enabled !== undefined) {
      if (typeof req.enabled !== 'boolean' && req.enabled !== 'true' && req.enabled !== 'false') bad('error converting input for field "enabled": expected a bool');
      next.disabled = !(req.enabled === true || req.enabled === 'true');
    }
    if (next.intervalMs !== 0 && next.intervalMs < MIN_ROTATION_INTERVAL_MS) bad(`interval must be greater or equal to ${goDuration(MIN_ROTATION_INTERVAL_MS / 1000)}`);
    if (next.maxOperations < ABSOLUTE_MIN_OPERATIONS || next.maxOperations > ABSOLUTE_MAX_OPERATIONS) {
      bad(`max_operations must be in the range [${ABSOLUTE_MIN_OPERATIONS},${ABSOLUTE_MAX_OPERATIONS}]`);
    }
    const keyring = u.barrier.keyring.withRotationConfig(next);
    await this.commitKeyring(u, keyring, [keyringWrite(keyring)]);
    return null;
  }

  /**
   * Automatic rotation (§5), on the active node: the active term has done its configured number of encryptions
   * (counted here and reported by the workers), is older than the configured interval, or is a year old. Else
   * the counts are written to core/keyring once they grew by PERSIST_COUNTS_FRACTION of the limit. Returns
   * whether it rotated. Public for tests, which drive the clock.
   */
  async autoRotate(): Promise<boolean> {
    const u = this.unsealed;
    if (u === null || (this.cluster !== null && this.cluster.haEnabled && !(await this.cluster.isActive()))) return false;
    const ring = u.barrier.keyring;
    if (ring.shouldRotate(this.nowMs())) {
      await this.locked(() => this.rotate());
      return true;
    }
    const done = ring.activeKey().encryptions;
    if (done - this.persistedEncryptions >= ring.rotationConfig.maxOperations * PERSIST_COUNTS_FRACTION) {
      await this.locked(async () => {
        if (this.unsealed !== null) await this.commitKeyring(this.unsealed, this.unsealed.barrier.keyring, [keyringWrite(this.unsealed.barrier.keyring)]);
      });
    }
    return false;
  }

  private keyStatus(): KeyStatus {
    const active = this.requireUnsealed().barrier.keyring.activeKey();
    return { term: active.term, install_time: new Date(active.installTimeMs).toISOString(), encryptions: active.encryptions };
  }

  // ---- status ----------------------------------------------------------------------------------

  private sealStatus(): SealStatus {
    const cfg = this.sealConfig() ?? this.cluster?.pendingSealConfig() ?? null;
    const status: SealStatus = {
      type: 'shamir',
      initialized: cfg !== null,
      sealed: this.unsealed === null,
      t: cfg?.secret_threshold ?? 0,
      n: cfg?.secret_shares ?? 0,
      progress: cfg && !this.unsealed ? this.progressFor(cfg).progress : 0,
      nonce: cfg && !this.unsealed ? this.progressFor(cfg).nonce : '',
      version: COFFER_VERSION,
      build_date: '',
      migration: false,
      recovery_seal: false,
      storage_type: 'raft',
    };
    if (this.unsealed) {
      status.cluster_name = this.unsealed.clusterName;
      status.cluster_id = this.unsealed.clusterId;
    }
    return status;
  }

  private async health(): Promise<HealthInfo> {
    const info: HealthInfo = {
      initialized: this.sealConfig() !== null,
      sealed: this.unsealed === null,
      // Vault reports standby=true while sealed or uninitialised; an unsealed node is active when it is
      // the Raft leader (a lone node always is).
      standby: this.unsealed === null || (this.cluster !== null && this.cluster.haEnabled && !(await this.cluster.isActive())),
      server_time_utc: Math.floor(this.nowMs() / 1000),
      version: COFFER_VERSION,
    };
    if (this.unsealed) {
      info.cluster_name = this.unsealed.clusterName;
      info.cluster_id = this.unsealed.clusterId;
    }
    return info;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycleLock.then(fn, fn);
    this.lifecycleLock = run.catch(() => undefined);
    return run;
  }

  private progressFor(cfg: SealConfig): UnsealProgress {
    // A rekey replicated while this node was sealed changes the threshold: start over under the new config.
    if (this.progress !== null && this.progress.threshold !== cfg.secret_threshold) this.progress.reset();
    if (this.progress === null || this.progress.threshold !== cfg.secret_threshold) this.progress = new UnsealProgress(cfg);
    return this.progress;
  }

  private sealConfig(): SealConfig | null {
    return readSealConfig((k) => this.readPhysical(k));
  }

  private readPhysical(key: string): Buffer | undefined {
    return this.writePath.reader.get(key);
  }

  private readSealed(barrier: Barrier, key: string): Buffer | undefined {
    const blob = this.readPhysical(key);
    return blob === undefined ? undefined : barrier.decrypt(key, blob);
  }

  private requireCluster(): ClusterCore {
    if (this.cluster === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'raft storage is not in use');
    return this.cluster;
  }

  /**
   * Generate-root and rekey need an unsealed node, whose seal config decides the threshold (an uninitialised
   * node is sealed too: 503, like every route outside the sealed allow-list, test/sec-sealed), and run on the
   * active node: their attempt lives in its memory, so a standby hands the whole request over (NOT_LEADER →
   * the front forwards it), as Vault answers ErrStandby and forwards.
   */
  private async requireShareOperation(): Promise<SealConfig> {
    const cfg = this.sealConfig();
    if (cfg === null) throw new CofferError('COFFER_ERR_SEALED');
    this.requireUnsealed();
    if (this.cluster !== null && this.cluster.haEnabled && !(await this.cluster.isActive())) {
      throw new CofferError('COFFER_ERR_NOT_LEADER', 'generate-root and rekey run on the active node');
    }
    return cfg;
  }

  private requireUnsealed(): Unsealed {
    if (this.unsealed === null) throw new CofferError('COFFER_ERR_SEALED');
    return this.unsealed;
  }

  private lookupToken(token: string): TokenEntry | null {
    const u = this.requireUnsealed();
    const raw = this.readSealed(u.barrier, tokenIdKey(u.tokenSalt, token));
    return raw === undefined ? null : (JSON.parse(raw.toString('utf8')) as TokenEntry);
  }

  /** Root-only endpoints (seal, rotate, raw): anything else is 403 with Vault's message. */
  private requireRoot(token: string | null): Unsealed {
    this.syncKeyring(); // a token written under a term rotated in on the active node
    const u = this.requireUnsealed();
    const entry = token ? this.lookupToken(token) : null;
    // A namespace's token is never the root namespace's root (docs/namespaces.md).
    if (entry === null || !entry.policies.includes('root') || entry.namespace_id !== undefined) throw new CofferError('COFFER_ERR_PERMISSION_DENIED');
    return u;
  }

  /**
   * Cluster/HA endpoints and sys/seal: root, or a policy granting the path's capability (plus sudo where
   * OpenBao requires it), checked as the pipeline would (actors/cluster/authorize.ts).
   */
  private async requireAccess(token: string | null, access: ClusterAccess[]): Promise<Unsealed> {
    this.syncKeyring(); // a token written under a term rotated in on the active node
    const u = this.requireUnsealed();
    await this.clusterAuth.require({ physical: { get: (k) => this.readPhysical(k), list: (p) => this.writePath.reader.list(p) }, crypto: u.barrier, tokenSalt: u.tokenSalt, nowMs: this.nowMs() }, token, access);
    return u;
  }

  /** The core's own writes (init, rotation, sys/raw, dev setup, cluster): no guards; readable here when it returns. */
  private async commit(ops: StorageOp[]): Promise<number> {
    const reply = await this.writePath.commit(ops, []);
    assert(reply.ok, 'a write-set without guards cannot conflict');
    this.writePath.reader.refresh();
    return reply.index;
  }

}

function sealedPut(barrier: Barrier, key: string, plaintext: Buffer): StorageOp {
  return { t: 'put', key, value: barrier.encrypt(key, plaintext) };
}

function rootTokenOps(barrier: Barrier, salt: string, token: string, nowMs: number): StorageOp[] {
  const accessor = newAccessor();
  const entry = Buffer.from(JSON.stringify(rootTokenEntry(accessor, nowMs)));
  return [
    sealedPut(barrier, tokenIdKey(salt, token), entry),
    // The accessor index stores the salted token key, never the token itself.
    sealedPut(barrier, tokenAccessorKey(salt, accessor), Buffer.from(tokenIdKey(salt, token))),
  ];
}
