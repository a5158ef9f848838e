// The core's cluster logic (runs inside the core actor, next to CoreNode): Raft TLS material, the join
// workflow (challenge/answer, both sides), membership changes, HA status and advertisement, step-down.
// The core is the only proposer on the leader: every change here goes through the core's commit (write-sets)
// or through the raft actor's conf-change request asked from here.
//
// Storage (FSM keys):
//   core/raft/tls       barrier-encrypted JSON {ca_cert, ca_key} (PEM): the cluster CA; each node issues its
//                       own node certificate from it on unseal (and a joiner from the answer).
//   core/raft/peers     plain JSON {<node id>: {cluster_addr, api_addr}}: the transport's peer set (host.ts).
//   core/lock           plain: the active node's HA uuid.
//   core/leader/<uuid>  barrier-encrypted advertisement {redirect_addr, cluster_addr, cluster_cert,
//                       cluster_key_params, node_id}.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import { SHAMIR_KEK_PATH, type SealConfig } from '../barrier/seal.js';
import type { ConfChange } from '../raft/core/types.js';
import { PEERS_KEY, type PeerMap } from '../raft/host.js';
import { drPromote, drStatus, fenceOps, readFencedList, readPeerMap, type DrPromoted, type DrStatus } from './dr.js';
import type { ClusterStatus, RaftReplies, RaftRequest } from '../raft/protocol.js';
import { createClusterCa, createHaAdvertCert, issueNodeCert, type ClusterCa, type NodeCert } from '../raft/tls.js';
import { INDEX_HMAC_KEY } from './consistency.js';
import type { StorageOp } from '../storage/write-set.js';

export const RAFT_TLS_KEY = 'core/raft/tls';
export const LOCK_KEY = 'core/lock';
export const LEADER_PREFIX = 'core/leader/';
/** A node that stepped down lets its election timer sleep this long (Vault: 10 s). */
export const STEP_DOWN_HOLD_MS = 10_000;
const CHALLENGE_AAD = 'coffer-raft-peer-challenge';
const CHALLENGE_INFO = 'openbao-raft-peer-challenge';
const JOIN_RETRY_MS = 2_000;
const HA_POLL_MS = 250;
/** How long the last unseal share of a joiner waits for the keyring to replicate before answering. */
const JOIN_REPLICATION_WAIT_MS = 20_000;

export interface ClusterOptions {
  nodeId: string;
  /** This node's API address as others should reach it (api_addr), e.g. http://127.0.0.1:8200 */
  apiAddr: string;
  /** host:port of the Raft transport (cluster_addr without scheme); null = no cluster port (dev, single node). */
  clusterAddr: string | null;
  /** config storage "raft" { retry_join { leader_api_addr } } */
  retryJoin?: { leaderApiAddr: string; leaderCaCert?: string }[];
  /** host:port of this node's request-forwarding listener (mutual TLS, actors/cluster/forwarding.ts). */
  forwardAddr?: string;
}

/** What a node's front needs to forward a request to the active node (docs/ha-standby-reads.md). */
export interface ForwardingInfo {
  /** This node is the Raft leader. */
  self: boolean;
  leaderId: string | null;
  /** The active node's api_addr (for the 307 fallback). */
  apiAddr: string;
  /** The active node's forwarding listener (host:port), from its advertisement; '' when not advertised yet. */
  forwardAddr: string;
  /** This node's certificate from the cluster CA (client cert for forwarding, server cert for the listener). */
  tls: NodeCert | null;
  term: number;
}

/** What the cluster logic needs from CoreNode. */
export interface CoreHooks {
  raft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]>;
  /** The barrier while unsealed, else null. */
  barrier(): Barrier | null;
  readPhysical(key: string): Buffer | undefined;
  list(prefix: string): string[];
  refresh(): void;
  commit(ops: StorageOp[]): Promise<number>;
  /** Node-wide warnings (the core has no logger of its own). */
  warn(msg: string, err?: unknown): void;
  /** The raft actor's published role and term; absent in tests that drive the core alone (then every tick asks). */
  raftView?: RaftView;
}

/** The part of RaftSharedState the core's timers read (actors/cluster/consistency.ts). */
export interface RaftView {
  isLeader(): boolean;
  term(): number;
  applied(): number;
}

export interface LeaderInfo {
  ha_enabled: boolean;
  is_self?: boolean;
  active_time?: string;
  leader_address?: string;
  leader_cluster_address?: string;
  raft_committed_index?: number;
  raft_applied_index?: number;
}

interface PendingJoin {
  leaderApiAddr: string;
  leaderCaCert: string | null;
  nonVoter: boolean;
  challenge: Buffer;
  sealConfig: SealConfig;
}

interface Advertisement {
  redirect_addr: string;
  cluster_addr: string;
  cluster_cert: string;
  cluster_key_params: { type: 'p521'; x: string; y: string; d: string };
  node_id: string;
  /** Coffer: the request-forwarding listener of the active node (host:port). */
  forward_addr?: string;
}

export class ClusterCore {
  private pendingJoin: PendingJoin | null = null;
  private joinLoop: Promise<void> | null = null;
  private joinLoopStop = false;
  /** Process-random secret the challenges derive from (OpenBao style: no per-peer state). */
  private readonly challengeSecret = randomBytes(32);
  /** One membership change at a time (the raft core allows one uncommitted change). */
  private confLock: Promise<unknown> = Promise.resolve();
  private haTimer: NodeJS.Timeout | null = null;
  /** Term in which this node wrote its advertisement; activeSince set then. */
  private advertisedTerm = -1;
  private advertising = false;
  private activeSince: Date | null = null;
  private tlsStarted = false;
  private lastAdvert: { uuid: string; adv: Advertisement } | null = null;
  /** This node's certificate from the cluster CA (as handed to the raft transport). */
  private nodeCert: NodeCert | null = null;
  private indexKey: Buffer | null = null;

  constructor(
    readonly opts: ClusterOptions,
    private readonly hooks: CoreHooks,
  ) {}

  /** HA = this node has a cluster port (config cluster_addr); a dev/single node without one is non-HA. */
  get haEnabled(): boolean {
    return this.opts.clusterAddr !== null;
  }

  close(): void {
    this.joinLoopStop = true;
    if (this.haTimer !== null) clearInterval(this.haTimer);
    this.haTimer = null;
  }

  // ---- init and unseal -----------------------------------------------------------------------------

  /** sys/init on a raft node: bootstrap a single-voter group of this node (before the init write-set). */
  async bootstrapForInit(): Promise<void> {
    if (this.pendingJoin !== null || this.joinLoop !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'this node is joining a cluster; it cannot be initialised');
    await this.hooks.raft({ t: 'bootstrap' });
  }

  /** The init write-set's extra records: the cluster CA (encrypted) and the peer map with this node. */
  async initOps(barrier: Barrier): Promise<{ ops: StorageOp[]; ca: ClusterCa }> {
    const ca = await createClusterCa();
    const peers: PeerMap = { [this.opts.nodeId]: this.peerInfo() };
    return {
      ca,
      ops: [
        { t: 'put', key: RAFT_TLS_KEY, value: barrier.encrypt(RAFT_TLS_KEY, Buffer.from(JSON.stringify({ ca_cert: ca.certPem, ca_key: ca.keyPem }))) },
        { t: 'put', key: PEERS_KEY, value: Buffer.from(JSON.stringify(peers)) },
      ],
    };
  }

  /** Issue this node's certificate from the CA and hand it to the raft actor (starts the transport). */
  async startTransport(ca: ClusterCa): Promise<void> {
    if (this.opts.clusterAddr === null || this.tlsStarted) return;
    const cert = await issueNodeCert(ca, this.opts.nodeId);
    await this.hooks.raft({ t: 'set-tls', tls: { caPem: cert.caPem, certPem: cert.certPem, keyPem: cert.keyPem } });
    this.nodeCert = cert;
    this.tlsStarted = true;
  }

  /** Called once the core is unsealed: the transport (from core/raft/tls) and the HA loop. */
  onUnsealed(): void {
    this.pendingJoin = null;
    const barrier = this.hooks.barrier();
    if (barrier !== null && !this.tlsStarted && this.opts.clusterAddr !== null) {
      const blob = this.hooks.readPhysical(RAFT_TLS_KEY);
      if (blob !== undefined) {
        const doc = JSON.parse(barrier.decrypt(RAFT_TLS_KEY, blob).toString('utf8')) as { ca_cert: string; ca_key: string };
        this.startTransport({ certPem: doc.ca_cert, keyPem: doc.ca_key }).catch((err: unknown) => this.hooks.warn('raft: starting the transport failed', err));
      }
    }
    if (this.haTimer === null) {
      this.haTimer = setInterval(() => void this.haTick(), HA_POLL_MS);
      void this.haTick();
    }
  }

  onSealed(): void {
    this.indexKey = null;
    this.advertisedTerm = -1;
    this.activeSince = null;
  }

  /** On start: a configured retry_join on an uninitialised node joins in the background. */
  startRetryJoin(initialized: boolean): void {
    const target = this.opts.retryJoin?.[0];
    if (initialized || target === undefined) return;
    this.startJoinLoop(target.leaderApiAddr, target.leaderCaCert ?? null, false);
  }

  // ---- join: the joining side ---------------------------------------------------------------------

  /** The leader's seal config while a join waits for the unseal shares (seal-status shows it). */
  pendingSealConfig(): SealConfig | null {
    return this.pendingJoin?.sealConfig ?? null;
  }

  isJoining(): boolean {
    return this.pendingJoin !== null;
  }

  /** POST sys/storage/raft/join on this node. */
  async join(req: { leaderApiAddr: string; retry: boolean; nonVoter: boolean; leaderCaCert: string | null }, initialized: boolean): Promise<{ joined: boolean }> {
    if (initialized) return { joined: true };
    if (this.opts.clusterAddr === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'this node has no cluster_addr configured: it cannot join a raft cluster');
    const st = await this.hooks.raft({ t: 'cluster-status' });
    if (st.started) return { joined: true };
    if (req.leaderApiAddr === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'leader_api_addr is required');
    if (req.retry) {
      this.startJoinLoop(req.leaderApiAddr, req.leaderCaCert, req.nonVoter);
      return { joined: false };
    }
    try {
      await this.fetchChallenge(req.leaderApiAddr, req.leaderCaCert, req.nonVoter);
    } catch (err) {
      throw new CofferError('COFFER_ERR_INTERNAL', `failed to join raft cluster: failed to get raft challenge: ${(err as Error).message}`);
    }
    return { joined: true };
  }

  private startJoinLoop(leaderApiAddr: string, caCert: string | null, nonVoter: boolean): void {
    if (this.joinLoop !== null) return;
    this.joinLoop = (async () => {
      while (!this.joinLoopStop && this.pendingJoin === null) {
        try {
          await this.fetchChallenge(leaderApiAddr, caCert, nonVoter);
          return;
        } catch (err) {
          this.hooks.warn(`raft join: no challenge from ${leaderApiAddr} yet; retrying in ${JOIN_RETRY_MS} ms: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
      }
    })().finally(() => {
      this.joinLoop = null;
    });
  }

  private async fetchChallenge(leaderApiAddr: string, caCert: string | null, nonVoter: boolean): Promise<void> {
    const body = await postJson(leaderApiAddr, 'sys/storage/raft/bootstrap/challenge', { server_id: this.opts.nodeId });
    const data = body.data as { challenge?: string; seal_config?: SealConfig } | undefined;
    if (typeof data?.challenge !== 'string' || typeof data.seal_config !== 'object' || data.seal_config === null) throw new Error('malformed challenge response');
    if (data.seal_config.type !== 'shamir') throw new Error('mismatching seal types');
    this.pendingJoin = { leaderApiAddr, leaderCaCert: caCert, nonVoter, challenge: Buffer.from(data.challenge, 'base64'), sealConfig: data.seal_config };
  }

  /**
   * The last unseal share of a joiner: decrypt the challenge with the combined unseal key (proof of
   * possession), answer the leader, start Raft with the answer's peers and TLS material, then wait until
   * the keyring has replicated here. Resolves when the core can open the keyring with `kek`.
   */
  async completeJoin(kek: Buffer): Promise<void> {
    const join = this.pendingJoin;
    if (join === null) throw new CofferError('COFFER_ERR_INTERNAL', 'no join in progress');
    const answer = challengeOpen(kek, join.challenge);
    if (answer === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'invalid key: failed to decrypt keys from storage: cipher: message authentication failed');
    if (this.opts.clusterAddr === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no cluster_addr configured');
    let reply: { peers?: { id: string; address: string; api_address?: string }[]; tls_keyring?: { ca_cert: string; ca_key: string } };
    try {
      const body = await postJson(join.leaderApiAddr, 'sys/storage/raft/bootstrap/answer', {
        server_id: this.opts.nodeId,
        answer: answer.toString('base64'),
        cluster_addr: this.opts.clusterAddr,
        api_addr: this.opts.apiAddr,
        non_voter: join.nonVoter,
      });
      reply = (body.data ?? {}) as typeof reply;
    } catch (err) {
      throw new CofferError('COFFER_ERR_INTERNAL', `failed to join raft cluster: answering the challenge failed: ${(err as Error).message}`);
    }
    if (!Array.isArray(reply.peers) || reply.tls_keyring === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'failed to join raft cluster: malformed answer response');
    const ca: ClusterCa = { certPem: reply.tls_keyring.ca_cert, keyPem: reply.tls_keyring.ca_key };
    const cert = await issueNodeCert(ca, this.opts.nodeId);
    const peers: PeerMap = {};
    for (const p of reply.peers) peers[p.id] = { cluster_addr: p.address, ...(p.api_address ? { api_addr: p.api_address } : {}) };
    await this.hooks.raft({ t: 'join', peers, tls: { caPem: cert.caPem, certPem: cert.certPem, keyPem: cert.keyPem } });
    this.nodeCert = cert;
    this.tlsStarted = true;
    // Catch up (snapshot + log) until the seal records and the keyring are here.
    const deadline = Date.now() + JOIN_REPLICATION_WAIT_MS;
    for (;;) {
      this.hooks.refresh();
      if (this.hooks.readPhysical('core/keyring') !== undefined && this.hooks.readPhysical('core/hsm/barrier-unseal-keys') !== undefined && this.hooks.readPhysical('core/cluster/local/info') !== undefined) return;
      if (Date.now() > deadline) throw new CofferError('COFFER_ERR_INTERNAL', 'joined the raft cluster, but the keyring has not replicated yet; submit the unseal key again shortly');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---- join: the leader's side ----------------------------------------------------------------------

  /** POST sys/storage/raft/bootstrap/challenge (unauthenticated; active node only). */
  async challenge(serverId: string): Promise<{ challenge: string; seal_config: SealConfig }> {
    // Sealed first (a logical path in Vault: 503 whatever the input), then the input.
    const barrier = this.requireBarrier();
    if (serverId === '' || serverId.length > 16_384) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no server id provided');
    await this.requireLeader();
    const sealConfig = JSON.parse((this.hooks.readPhysical('core/seal-config') as Buffer).toString('utf8')) as SealConfig;
    const kekBlob = this.hooks.readPhysical(SHAMIR_KEK_PATH);
    if (kekBlob === undefined) throw new CofferError('COFFER_ERR_INTERNAL', 'the seal key copy is missing');
    const kek = barrier.decrypt(SHAMIR_KEK_PATH, kekBlob);
    try {
      return { challenge: challengeSeal(kek, this.expectedAnswer(serverId)).toString('base64'), seal_config: sealConfig };
    } finally {
      kek.fill(0);
    }
  }

  /** POST sys/storage/raft/bootstrap/answer (unauthenticated; the answer is the authentication). */
  async answer(req: { serverId: string; answer: string; clusterAddr: string; apiAddr: string; nonVoter: boolean }): Promise<Record<string, unknown>> {
    const barrier = this.requireBarrier();
    if (req.serverId === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no server id provided');
    if (req.answer === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no answer provided');
    if (req.clusterAddr === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no cluster_addr provided');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(req.serverId)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'server id must be 1-64 of [A-Za-z0-9._-]');
    await this.requireLeader();
    const given = Buffer.from(req.answer, 'base64');
    const expected = this.expectedAnswer(req.serverId);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'invalid answer given');
    await this.withConfLock(async () => {
      const peers = this.readPeers();
      // non_voter: a permanent non-voter that autopilot never promotes (actors/cluster/autopilot.ts).
      peers[req.serverId] = { cluster_addr: req.clusterAddr.replace(/^[a-z]+:\/\//i, ''), ...(req.apiAddr ? { api_addr: req.apiAddr } : {}), ...(req.nonVoter ? { non_voter: true } : {}) };
      // The address first (the leader's transport must reach the node once the change is applied) ...
      // A node fenced off by a DR promotion that answers the challenge again (wiped, re-joined) is let back in.
      const fenced = readFencedList(this.hooks);
      if (fenced.includes(req.serverId)) await this.hooks.commit(fenceOps(peers, fenced.filter((id) => id !== req.serverId)));
      else await this.hooks.commit([{ t: 'put', key: PEERS_KEY, value: Buffer.from(JSON.stringify(peers)) }]);
      const st = await this.hooks.raft({ t: 'cluster-status' });
      const isVoter = st.conf.voters.includes(req.serverId);
      const isLearner = st.conf.learners.includes(req.serverId);
      // ... then the membership change (a rejoin of a known node with the same suffrage changes nothing).
      // Autopilot staging: a would-be voter joins as a learner too; autopilot promotes it once it is
      // caught up and stable (server_stabilization_time), so it never weakens the quorum while it catches up.
      if (!isVoter && !isLearner) await this.confChange({ t: 'add-learner', node: req.serverId });
    });
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const peers = this.readPeers();
    const tls = JSON.parse(barrier.decrypt(RAFT_TLS_KEY, this.hooks.readPhysical(RAFT_TLS_KEY) as Buffer).toString('utf8')) as { ca_cert: string; ca_key: string };
    return {
      peers: [...st.conf.voters, ...st.conf.learners].map((id) => ({
        id,
        address: peers[id]?.cluster_addr ?? '',
        api_address: peers[id]?.api_addr ?? '',
        suffrage: st.conf.voters.includes(id) ? 'voter' : 'nonvoter',
      })),
      tls_keyring: tls,
    };
  }

  private expectedAnswer(serverId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.challengeSecret, Buffer.from(serverId, 'utf8'), CHALLENGE_INFO, 24));
  }

  // ---- membership ---------------------------------------------------------------------------------

  /** A node of the current configuration, and not fenced off by a DR promotion (docs/dr.md). */
  async isMember(nodeId: string): Promise<boolean> {
    const st = await this.hooks.raft({ t: 'cluster-status' });
    return (st.conf.voters.includes(nodeId) || st.conf.learners.includes(nodeId)) && !(st.fenced ?? []).includes(nodeId);
  }

  async configuration(): Promise<{ config: { index: number; servers: { node_id: string; address: string; leader: boolean; protocol_version: string; voter: boolean }[] } }> {
    this.requireBarrier();
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const peers = st.peers;
    const ids = [...st.conf.voters, ...st.conf.learners];
    return {
      config: {
        index: st.confIndex,
        servers: ids.map((id) => ({ node_id: id, address: peers[id]?.cluster_addr ?? '', leader: id === st.leader, protocol_version: '3', voter: st.conf.voters.includes(id) })),
      },
    };
  }

  async removePeer(serverId: string): Promise<void> {
    if (serverId === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no server id provided');
    this.requireBarrier();
    await this.requireLeader();
    await this.withConfLock(async () => {
      const st = await this.hooks.raft({ t: 'cluster-status' });
      if (st.conf.voters.includes(serverId) || st.conf.learners.includes(serverId)) await this.confChange({ t: 'remove', node: serverId });
      // Forget its address (closes the transport links to it); best effort: a leader that removed itself
      // can no longer propose, and a stale entry is only a link that keeps reconnecting.
      const peers = this.readPeers();
      if (serverId in peers) {
        delete peers[serverId];
        await this.hooks.commit([{ t: 'put', key: PEERS_KEY, value: Buffer.from(JSON.stringify(peers)) }]).catch(() => undefined);
      }
    });
  }

  async promote(serverId: string): Promise<void> {
    await this.changeVoting(serverId, 'promote', (isLearner) => {
      if (!isLearner) throw new CofferError('COFFER_ERR_INTERNAL', 'server is not a non-voter');
    });
  }

  async demote(serverId: string): Promise<void> {
    await this.changeVoting(serverId, 'demote', (isLearner) => {
      if (isLearner) throw new CofferError('COFFER_ERR_INTERNAL', 'server is already a non-voter');
      if (serverId === this.opts.nodeId) throw new CofferError('COFFER_ERR_INTERNAL', 'refusing to demote current leader');
    });
  }

  /** Promote or demote one known server, on the leader, one membership change at a time. */
  private async changeVoting(serverId: string, change: 'promote' | 'demote', check: (isLearner: boolean) => void): Promise<void> {
    if (serverId === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'no server id provided');
    this.requireBarrier();
    await this.requireLeader();
    await this.withConfLock(async () => {
      const st = await this.hooks.raft({ t: 'cluster-status' });
      const isLearner = st.conf.learners.includes(serverId);
      if (!st.conf.voters.includes(serverId) && !isLearner) throw new CofferError('COFFER_ERR_INTERNAL', `server ${serverId} not found in raft configuration`);
      check(isLearner);
      await this.setNonVoterFlag(serverId, change === 'demote');
      await this.confChange({ t: change, node: serverId });
    });
  }

  // ---- disaster recovery (actors/cluster/dr.ts, docs/dr.md) -------------------------------------------

  async drStatus(): Promise<DrStatus> {
    this.requireBarrier();
    return drStatus(this.hooks, this.opts.nodeId);
  }

  async drPromote(): Promise<DrPromoted> {
    this.requireBarrier();
    return drPromote(this.hooks, this.opts.nodeId, (fn) => this.withConfLock(fn));
  }

  /** The peer map's permanent non-voter flag (autopilot leaves such a learner alone). */
  private async setNonVoterFlag(serverId: string, on: boolean): Promise<void> {
    const peers = this.readPeers();
    const p = peers[serverId];
    if (p === undefined || (p.non_voter === true) === on) return;
    if (on) p.non_voter = true;
    else delete p.non_voter;
    await this.hooks.commit([{ t: 'put', key: PEERS_KEY, value: Buffer.from(JSON.stringify(peers)) }]);
  }

  private async confChange(change: ConfChange): Promise<void> {
    await this.hooks.raft({ t: 'conf-change', change }, 20_000);
  }

  private withConfLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.confLock.then(fn, fn);
    this.confLock = run.catch(() => undefined);
    return run;
  }

  // ---- HA -------------------------------------------------------------------------------------------

  /** Active = unsealed and Raft leader (a node without a cluster port is a lone leader: active). */
  async isActive(): Promise<boolean> {
    if (this.hooks.barrier() === null) return false;
    const st = await this.hooks.raft({ t: 'cluster-status' });
    return st.role === 'leader';
  }

  async leader(): Promise<LeaderInfo> {
    this.requireBarrier();
    if (!this.haEnabled) return { ha_enabled: false };
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const info: LeaderInfo = { ha_enabled: true };
    if (st.role === 'leader') {
      info.is_self = true;
      if (this.activeSince !== null) info.active_time = this.activeSince.toISOString();
      info.leader_address = this.opts.apiAddr;
      if (this.opts.clusterAddr !== null) info.leader_cluster_address = `https://${this.opts.clusterAddr}`;
    } else if (st.leader !== null) {
      const adv = this.readAdvertisement();
      if (adv !== null && adv.node_id === st.leader) {
        info.leader_address = adv.redirect_addr;
        info.leader_cluster_address = adv.cluster_addr;
      } else {
        // Not advertised yet (a new leader writes it within a poll period): the peer map knows its addresses.
        const p = st.peers[st.leader];
        if (p?.api_addr) info.leader_address = p.api_addr;
        if (p?.cluster_addr) info.leader_cluster_address = `https://${p.cluster_addr}`;
      }
    }
    if (st.commit > 0) info.raft_committed_index = st.commit;
    if (st.applied > 0) info.raft_applied_index = st.applied;
    return info;
  }

  async stepDown(): Promise<void> {
    this.requireBarrier();
    if (!this.haEnabled) return; // non-HA: a no-op 204
    await this.requireLeader();
    await this.hooks.raft({ t: 'transfer-leader', to: null, holdMs: STEP_DOWN_HOLD_MS });
  }

  async haStatus(version: string): Promise<{ nodes: Record<string, unknown>[] }> {
    this.requireBarrier();
    await this.requireLeader();
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const nodes = [...st.conf.voters, ...st.conf.learners].map((id) => {
      const self = id === this.opts.nodeId;
      const p = st.peers[id];
      const active = st.progress?.[id]?.active ?? false;
      return {
        hostname: id,
        api_address: self ? this.opts.apiAddr : (p?.api_addr ?? ''),
        cluster_address: `https://${self ? (this.opts.clusterAddr ?? '') : (p?.cluster_addr ?? '')}`,
        active_node: self,
        last_echo: self ? null : active ? new Date().toISOString() : null,
        version,
      };
    });
    nodes.sort((a, b) => (a.api_address < b.api_address ? -1 : a.api_address > b.api_address ? 1 : 0));
    return { nodes };
  }

  /** Poll: on becoming leader (while unsealed) write the advertisement; on losing it, forget active_time. */
  private async haTick(): Promise<void> {
    if (this.advertising) return;
    const barrier = this.hooks.barrier();
    if (barrier === null) return;
    // The published role answers the common cases without waking the raft thread: a standby, or the
    // leader that already advertised in its term (a leader keeps its term until it steps down).
    const view = this.hooks.raftView;
    if (view !== undefined && !view.isLeader()) return this.notActive();
    if (view !== undefined && this.advertisedTerm === view.term()) return;
    let st: ClusterStatus;
    try {
      st = await this.hooks.raft({ t: 'cluster-status' });
    } catch {
      return;
    }
    if (st.role !== 'leader') return this.notActive();
    if (this.advertisedTerm === st.term) return;
    this.advertising = true;
    try {
      await this.advertise(barrier);
      this.advertisedTerm = st.term;
      this.activeSince = new Date();
    } catch (err) {
      // Lost leadership meanwhile, or the group is stepping down: the next tick decides again.
      this.hooks.warn('ha: writing the leader advertisement failed', err);
    } finally {
      this.advertising = false;
    }
  }

  private notActive(): void {
    this.advertisedTerm = -1;
    this.activeSince = null;
  }

  private async advertise(barrier: Barrier): Promise<void> {
    const uuid = randomUUID();
    const cert = await createHaAdvertCert(this.opts.nodeId);
    const adv: Advertisement = {
      redirect_addr: this.opts.apiAddr,
      cluster_addr: this.opts.clusterAddr !== null ? `https://${this.opts.clusterAddr}` : '',
      cluster_cert: cert.certDerB64,
      cluster_key_params: cert.keyParams,
      node_id: this.opts.nodeId,
      ...(this.opts.forwardAddr ? { forward_addr: this.opts.forwardAddr } : {}),
    };
    const ops: StorageOp[] = [
      { t: 'put', key: LOCK_KEY, value: Buffer.from(uuid) },
      { t: 'put', key: LEADER_PREFIX + uuid, value: barrier.encrypt(LEADER_PREFIX + uuid, Buffer.from(JSON.stringify(adv))) },
    ];
    for (const key of this.hooks.list(LEADER_PREFIX)) ops.push({ t: 'delete', key: LEADER_PREFIX + key.replace(/^core\/leader\//, '') });
    // The cluster's X-Vault-Index key, created by the first active node (docs/ha-standby-reads.md).
    if (this.hooks.readPhysical(INDEX_HMAC_KEY) === undefined) ops.push({ t: 'put', key: INDEX_HMAC_KEY, value: barrier.encrypt(INDEX_HMAC_KEY, randomBytes(32)) });
    await this.hooks.commit(ops);
    this.lastAdvert = { uuid, adv };
  }

  /** Where this node's front forwards to (docs/ha-standby-reads.md). */
  async forwardingInfo(): Promise<ForwardingInfo> {
    this.requireBarrier();
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const info: ForwardingInfo = { self: st.role === 'leader', leaderId: st.leader, apiAddr: '', forwardAddr: '', tls: this.nodeCert, term: st.term };
    if (st.leader === null) return info;
    if (st.leader === this.opts.nodeId) {
      info.apiAddr = this.opts.apiAddr;
      info.forwardAddr = this.opts.forwardAddr ?? '';
      return info;
    }
    this.hooks.refresh();
    const adv = this.readAdvertisement();
    if (adv !== null && adv.node_id === st.leader) {
      info.apiAddr = adv.redirect_addr;
      info.forwardAddr = adv.forward_addr ?? '';
    } else info.apiAddr = st.peers[st.leader]?.api_addr ?? '';
    return info;
  }

  /** The X-Vault-Index HMAC key once it is in storage here (it never changes once written). */
  indexHmacKey(): Buffer | null {
    if (this.indexKey !== null) return this.indexKey;
    const barrier = this.hooks.barrier();
    const blob = this.hooks.readPhysical(INDEX_HMAC_KEY);
    if (barrier === null || blob === undefined) return null;
    try {
      this.indexKey = barrier.decrypt(INDEX_HMAC_KEY, blob);
    } catch {
      return null; // written under a keyring term this node does not hold yet
    }
    return this.indexKey;
  }

  private readAdvertisement(): Advertisement | null {
    const barrier = this.hooks.barrier();
    const lock = this.hooks.readPhysical(LOCK_KEY);
    if (barrier === null || lock === undefined) return null;
    const uuid = lock.toString('utf8');
    if (this.lastAdvert?.uuid === uuid) return this.lastAdvert.adv;
    const blob = this.hooks.readPhysical(LEADER_PREFIX + uuid);
    if (blob === undefined) return null;
    try {
      const adv = JSON.parse(barrier.decrypt(LEADER_PREFIX + uuid, blob).toString('utf8')) as Advertisement;
      this.lastAdvert = { uuid, adv };
      return adv;
    } catch {
      return null; // written under a keyring term this standby does not have yet
    }
  }

  // ---- helpers --------------------------------------------------------------------------------------

  private peerInfo(): { cluster_addr: string; api_addr: string } {
    return { cluster_addr: this.opts.clusterAddr ?? '', api_addr: this.opts.apiAddr };
  }

  private readPeers(): PeerMap {
    return readPeerMap(this.hooks);
  }

  private requireBarrier(): Barrier {
    const b = this.hooks.barrier();
    if (b === null) throw new CofferError('COFFER_ERR_SEALED');
    return b;
  }

  /** Throws COFFER_ERR_NOT_LEADER on a standby: the front answers 307 to the active node. */
  private async requireLeader(): Promise<void> {
    const st = await this.hooks.raft({ t: 'cluster-status' });
    if (st.role !== 'leader') throw new CofferError('COFFER_ERR_NOT_LEADER', st.leader !== null ? `raft leader is ${st.leader}` : 'no raft leader known');
  }
}

// ---- the challenge: AES-256-GCM under the unseal key (KEK) ----------------------------------------------
// Framing: nonce (12) | ciphertext | tag (16), AAD = CHALLENGE_AAD. Only a holder of the seal key opens it.

function challengeSeal(kek: Buffer, plaintext: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(CHALLENGE_AAD));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

function challengeOpen(kek: Buffer, blob: Buffer): Buffer | null {
  if (kek.length !== 32 || blob.length < 12 + 16) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(Buffer.from(CHALLENGE_AAD));
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  } catch {
    return null;
  }
}

/** POST JSON to another node's API (fetch follows a 307 from a standby to the active node). */
async function postJson(apiAddr: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${apiAddr.replace(/\/$/, '')}/v1/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const errors = Array.isArray(json.errors) ? (json.errors as string[]).join('; ') : text;
    throw new Error(`${res.status} from ${apiAddr}: ${errors}`);
  }
  return json;
}
