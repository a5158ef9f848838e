// The Raft host: drives the pure core (actors/raft/core) with a real timer, persists its Readies in the
// node's LMDB env (LogStore), applies committed entries to the FSM (Fsm.apply) and answers proposers.
// No thread code: the raft actor (actor.ts) runs it on its worker; tests may drive it directly.
//
// One Ready at a time (the core's contract), in this order:
//   1. softState; send `messages` at once (the transport queues, never blocks)
//   2. a snapshot from the leader: persist its image, replace the log (LogStore.compact), restore the FSM
//   3. LogStore.append(entries, hardState): ONE transaction, ONE flush. Group commit: every proposal
//      made since the previous Ready is in this Ready's entries.
//      Committed entries that were ALREADY durable here (index <= durableIndex) are applied with it: in
//      the same synchronous transaction when this Ready must persist (LogStore.appendSync; every LMDB
//      commit costs a sync, so a round under load costs one), else right after queueing the append.
//   4. after the flush: send `messagesAfterPersist`, apply the remaining committed entries
//   5. advance(), then maybe compact.
// Only entries, term and vote need a flush before messagesAfterPersist leave. A Ready that only moves the
// commit index writes nothing when the FSM apply of its committed entries records that index anyway
// (hardStateToWrite; a restart takes max(stored commit, FSM applied)), else writes it without awaiting
// the flush. A lone voter's commit rides in the same transaction as its entries.
// Any storage or core failure is fail-stop: every pending proposal is rejected and the host stops.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { assert } from '../../runtime/assert.js';
import { encode } from '../../runtime/codec.js';
import { CofferError } from '../../runtime/errors.js';
import { raftLimits } from '../../runtime/limits.js';
import { failpoint } from '../../runtime/failpoints.js';
import { raftCoreMutations } from '../../runtime/mutations.js';
import { openStorageEnv, type StorageEnv } from '../storage/env.js';
import { Fsm, KEY_APPLIED, readApplied } from '../storage/fsm.js';
import { LogStore } from '../storage/log-store.js';
import { decodeRecord, encodeRecord } from '../storage/records.js';
import { encodeImageRecord, forEachImagePair, ImageFile, imageDir, ImageWriteAborted, removeOtherImages, writeFsmImage, writeImageBytes, type ImageFileRecord, type Pace, type WrittenImage } from '../storage/snapshot-image.js';
import { applyConfChange } from './core/conf.js';
import { createRaftNode, withStoredEntries } from './core/index.js';
import type { ConfChange, ConfState, Entry, HardState, RaftMessage, RaftNode, RaftStatus, Ready, Snapshot, SnapshotMeta } from './core/types.js';
import type { RaftHostStats } from './protocol.js';
import type { RaftSharedState } from '../cluster/consistency.js';

/** Key of the latest snapshot image's record {meta, file} in the `hard` db (the image is a file: storage/snapshot-image.ts). */
const KEY_SNAPSHOT_IMAGE = 'raft-snapshot';
/** lmdb-js transaction flags, as Fsm.apply: ABORTABLE | SYNCHRONOUS_COMMIT | NO_SYNC_FLUSH. */
const RESTORE_TXN_FLAGS = 0x1 | 0x2 | 0x10000;
/**
 * FSM key (plain JSON, written by the core through the log) mapping node id -> {cluster_addr, api_addr}:
 * the transport's peer set. Written just before an add conf change, so every node knows a new peer's
 * address before the change that makes it a member is applied. Entries of non-members are ignored.
 */
export const PEERS_KEY = 'core/raft/peers';
/**
 * FSM key (plain JSON array of node ids), written with PEERS_KEY in one write-set: nodes fenced off by a
 * disaster-recovery promotion (RaftHost.recoverAsSoleVoter). Read whenever the peer map is.
 */
export const FENCED_KEY = 'core/raft/fenced';

/** The fence list as stored (FENCED_KEY): [] when absent, null when it is not a JSON array of ids. */
export function parseFencedList(bytes: Uint8Array | undefined): string[] | null {
  if (bytes === undefined) return [];
  try {
    const ids: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return Array.isArray(ids) && ids.every((x) => typeof x === 'string') ? (ids as string[]) : null;
  } catch {
    return null;
  }
}
/** Key of the boot marker in the `hard` db: how this node's Raft group was started (see RaftHost.open). */
export const KEY_BOOT = 'raft-boot';

export interface PeerInfo {
  cluster_addr: string;
  api_addr?: string;
  /** A permanent non-voter (joined with non_voter, or demoted): autopilot never promotes it. */
  non_voter?: boolean;
}
export type PeerMap = Record<string, PeerInfo>;

/** How the group was started: a bootstrap configuration, or joined (no bootstrap: waits for the leader's snapshot). */
export type BootMarker = { mode: 'bootstrap'; voters: string[] } | { mode: 'join' };

export interface RaftHostOptions {
  id: string;
  dataDir: string;
  /** Bootstrap voters (ourselves included). Ignored when `join` is set. */
  voters: string[];
  /** Joining an existing group: no bootstrap configuration; the leader sends its snapshot (with its configuration). */
  join?: boolean;
  /** Called after an apply or snapshot install changed the replicated peer map (PEERS_KEY), and once at start. */
  onPeers?: (peers: PeerMap, conf: ConfState, fenced: string[]) => void;
  /** Hands messages to the transport (must not block or throw). */
  send(msg: RaftMessage): void;
  /** Puts the messages handed to send() so far on the wire now (before the host blocks in a commit). */
  flushSends?: () => void;
  log: Logger;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  compactAt?: number;
  /** Log entries behind the applied index whose data the core keeps in memory (default raftLimits.payloadsKeptInMemory). */
  payloadsKept?: number;
  /** Work per slice of a background snapshot image (default raftLimits.imageSliceMs). */
  imageSliceMs?: number;
  /**
   * Tests: called between slices of a background image instead of the slice pacing; a promise holds the
   * image mid-write (with its read transaction pinned) until it settles. Lets a test land an
   * InstallSnapshot, a restore or a close in the middle of an image.
   */
  imagePace?: () => Promise<void> | null;
  seed?: number;
  snapshotChunkBytes?: number;
  /** Tests: keep a SHA-256 chain over every entry applied since open (index, term, payload). */
  digestApplied?: boolean;
  /** Called once when the host fails (fail-stop); the actor crashes its worker. */
  onFailure?: (err: unknown) => void;
  /** Role, term, applied index and leader contact published for the front (actors/cluster/consistency.ts). */
  shared?: RaftSharedState;
  /**
   * An FSM key only a snapshot restore changes (the restore marker, actors/storage/snapshot-restore.ts;
   * each restore writes a new one). Installing a snapshot that changes it raises the restore fence: on
   * the leader that restored, and on a follower, which, were it elected before its core saw the marker
   * and sealed, refuses its handlers' write-sets (the replaced keyring's) rather than proposing them.
   * Without it (tests) no fence is raised.
   */
  restoreMarkerKey?: string;
}

interface Pending {
  term: number;
  /** Only for proposals: conf changes and normal entries share the index space. */
  resolve(index: number): void;
  reject(err: unknown): void;
}

export class RaftHost {
  readonly env: StorageEnv;
  readonly logStore: LogStore;
  private fsm: Fsm;
  private readonly node: RaftNode;
  private readonly opts: RaftHostOptions;
  private readonly pending = new Map<number, Pending>();
  private leaderWaiters: { resolve(): void; timer: NodeJS.Timeout }[] = [];
  private leader: string | null = null;
  private role: string = 'follower';
  /** Highest log index known flushed here. */
  private durableIndex: number;
  /** Highest index afterApply has processed (entries applied with their own flush come back as committed). */
  private afterAppliedThrough = 0;
  /** Core's hard state as of the last Ready (term and vote always written; the commit maybe not). */
  private lastHard: HardState;
  /** Highest commit index handed to LogStore.append (see hardStateToWrite). */
  private commitWritten: number;
  private snapshotIndex: number;
  private scheduled = false;
  /** Set by tryRestore: the restore snapshot the next Ready carries (resolved once installed). */
  private restoring: { index: number; term: number } | null = null;
  private running = false;
  private closed = false;
  private failure: unknown = null;
  private ticker: NodeJS.Timeout | null = null;
  private idle: (() => void)[] = [];
  private background = new Set<Promise<unknown>>();
  /** The snapshot image being written in the background (maybeCompact); never rejects. */
  private imageWrite: Promise<void> | null = null;
  /** An image written and waiting for the Ready loop to become the snapshot (finishCompaction). */
  private imageDone: { meta: SnapshotMeta; written: WrittenImage; generation: number } | null = null;
  private warnedDeferredImage = false;
  /** The Ready loop recording a written image (finishCompaction). */
  private finishing: Promise<void> | null = null;
  /** Bumped by every snapshot install (and so restore): an image begun before it is stale. */
  private snapshotGeneration = 0;
  private readonly compactAt: number;
  private readonly payloadsKept: number;
  /** Commit index recovered at open; the FSM must reach it before the node serves reads. */
  private readonly recoveredCommit: number;
  private recoveredWaiters: (() => void)[] = [];
  private digest: { from: number; index: number; hex: string } | null = null;
  /** Configuration in effect at the FSM's applied index (what a snapshot taken now must record). */
  private appliedConf: ConfState;
  /** Index of the entry (or snapshot) that set appliedConf. */
  private appliedConfIndex: number;
  private peersBytes: Buffer | null = null;
  private peers: PeerMap = {};
  /** After a step-down: no election timeouts (no campaign) until this time (ms). */
  private noCampaignUntil = 0;
  /** Wall-clock ms of the last message from each peer (autopilot's last_contact). */
  private readonly lastHeard = new Map<string, number>();
  /** A snapshot restore waiting for the log to quiesce (restoreSnapshot); proposals wait meanwhile. */
  private restoreReq: { data: Uint8Array; deadline: number; resolve(r: { index: number; term: number }): void; reject(err: unknown): void } | null = null;
  private restoreGate: Promise<void> | null = null;
  /**
   * Raised by installSnapshot for a restore (a snapshot that changes opts.restoreMarkerKey: this leader's
   * own restore, or one a follower receives), lowered by unfenceWrites (the core, on its next unseal): every proposal is
   * refused meanwhile. A write-set built before the restore was checked against the replaced data and
   * encrypted with the replaced keyring; proposed after it, it would land on the restored state.
   */
  private restoreFence = false;
  /** ReadIndex requests in flight (ctx -> waiter) and waiters for an applied index (docs/ha-standby-reads.md). */
  private readonly reads = new Map<string, { resolve(index: number): void; reject(err: unknown): void; timer: NodeJS.Timeout }>();
  private readSeq = 0;
  /**
   * ReadIndex contexts are unique across restarts: the leader may deliver an answer queued for our previous
   * process (the transport replays a peer's queue after a short outage), which must not resolve a new read
   * that happens to reuse its sequence number: that answer's index may predate the new read.
   */
  private readonly readCtxPrefix = `${randomBytes(6).toString('hex')}:`;
  /** The ReadIndex batch callers join (not sent yet), and the round in flight (see readIndex). */
  private nextReadRound: { waiters: { resolve(index: number): void; reject(err: unknown): void }[]; timeoutMs: number } | null = null;
  private readRoundInFlight = false;
  private appliedWaiters: { index: number; resolve(): void }[] = [];
  /** As leader: the index of this term's first entry (appended on election); 0 otherwise. */
  private termStart = 0;
  private lastLeaderContact = 0;
  /** When start() ran: a node that has just started has not yet had the chance to hear from its leader. */
  private startedAt = 0;
  /**
   * Node ids fenced off by a disaster-recovery promotion (FENCED_KEY): their messages are dropped. They
   * are the voters of the lost site; were one to come back with its old log, it must not pull this
   * group back into the configuration it left.
   */
  private fenced = new Set<string>();
  private counters: Omit<RaftHostStats, 'readsConfirmedByAsker'> = {
    readies: 0,
    readRounds: 0,
    flushes: 0,
    entriesPersisted: 0,
    entriesPerFlushMax: 0,
    applied: 0,
    proposals: 0,
    proposalsLost: 0,
    compactions: 0,
    appliedDuringImage: 0,
    appliedWithOwnFlush: 0,
    appliesAlone: 0,
    snapshotsInstalled: 0,
    entriesReadBack: 0,
    fencedDropped: 0,
  };

  private constructor(opts: RaftHostOptions, env: StorageEnv, logStore: LogStore, snapshot: Snapshot | null) {
    this.opts = opts;
    this.env = env;
    this.logStore = logStore;
    this.fsm = new Fsm(env);
    this.compactAt = opts.compactAt ?? raftLimits.logEntriesCompactAt;
    this.payloadsKept = opts.payloadsKept ?? raftLimits.payloadsKeptInMemory;
    const snapIndex = snapshot?.meta.index ?? 0;
    this.snapshotIndex = snapIndex;
    const hardState = logStore.currentHardState();
    const last = logStore.lastIndex();
    const entries = last > snapIndex ? logStore.entries(Math.max(logStore.firstIndex(), snapIndex + 1), last + 1) : [];
    this.durableIndex = last;
    this.lastHard = hardState;
    this.commitWritten = hardState.commit;
    const fsmApplied = this.fsm.applied().index;
    if (opts.digestApplied) this.digest = { from: fsmApplied, index: fsmApplied, hex: '' };
    // The stored commit may lag (hardStateToWrite skips commit-only writes the FSM records): whatever the FSM
    // applied was committed, so the recovered commit is at least the applied index.
    this.recoveredCommit = Math.min(Math.max(hardState.commit, snapIndex, fsmApplied), Math.max(last, snapIndex));
    const bootstrap: ConfState | undefined = opts.join ? undefined : { voters: [...opts.voters], learners: [] };
    // The configuration at the FSM's applied index: the snapshot's (or the bootstrap one), then every conf
    // entry the FSM has applied since.
    this.appliedConf = snapshot !== null ? confCopy(snapshot.meta.conf) : (bootstrap ?? { voters: [], learners: [] });
    this.appliedConfIndex = snapIndex;
    for (const e of entries) {
      if (e.index > fsmApplied) break;
      if (e.payload.t === 'conf') {
        this.appliedConf = applyConfChange(this.appliedConf, e.payload.change);
        this.appliedConfIndex = e.index;
      }
    }
    this.node = createRaftNode(
      {
        id: opts.id,
        electionTicks: opts.electionTicks ?? raftLimits.electionTicks,
        heartbeatTicks: opts.heartbeatTicks ?? raftLimits.heartbeatTicks,
        maxInflightMsgs: raftLimits.maxInflightMsgs,
        maxEntriesPerMsg: raftLimits.maxEntriesPerMsg,
        snapshotChunkBytes: opts.snapshotChunkBytes ?? raftLimits.snapshotChunkBytes,
        preVote: true,
        checkQuorum: true,
        seed: opts.seed ?? hashId(opts.id),
        mutations: raftCoreMutations(), // test builds only (COFFER_MUTATIONS); all off otherwise
      },
      {
        hardState: { ...hardState, commit: this.recoveredCommit },
        snapshot,
        entries,
        ...(bootstrap !== undefined ? { bootstrap } : {}),
        applied: fsmApplied,
      },
    );
    // The log read at open holds every entry since the snapshot; the applied ones need not stay in memory.
    this.node.releasePayloads(fsmApplied - this.payloadsKept);
  }

  /**
   * Opens the node's storage and recovers: hard state, log and snapshot from LMDB (LogStore.load), the
   * FSM's applied index (Fsm.applied), and finishes a snapshot install or compaction a crash cut short.
   */
  static async open(opts: RaftHostOptions): Promise<RaftHost> {
    assert(opts.join === true || opts.voters.includes(opts.id), `voters ${opts.voters.join(',')} must include ${opts.id}`);
    const env = openStorageEnv(opts.dataDir);
    try {
      const logStore = new LogStore(env);
      let image = await readImage(env, opts.dataDir);
      const snapshotMeta = logStore.currentSnapshotMeta();
      const metaIndex = snapshotMeta?.index ?? 0;
      if (image !== null && image.meta.index > metaIndex) {
        // Crash between writing the image and compacting the log: finish the compaction (replaces the
        // log when the image lies past it or conflicts with it).
        await logStore.compact(image.meta.index, image.meta);
      } else if (image === null && snapshotMeta !== null && metaIndex === 0) {
        // A joiner's base configuration (the leader's index-0 snapshot: conf only, no FSM image, nothing to
        // restore). Kept as the recovered snapshot; the branch below would replace its conf with an empty one
        // and leave the node out of its own cluster after a restart (found by test/dur-kill-cluster).
        image = { meta: snapshotMeta, data: encode({ kv: [] }) };
      } else if (image === null && snapshotMeta !== null) {
        // A log compacted by the single-node LocalWritePath (no image, empty conf): snapshot the FSM now.
        const applied = new Fsm(env).applied();
        assert(applied.index >= metaIndex, `FSM applied ${applied.index} is behind the compacted log (${metaIndex}) and there is no snapshot image`);
        const meta: SnapshotMeta = { index: applied.index, term: applied.term, conf: { voters: opts.join ? [] : [...opts.voters], learners: [] } };
        const written = await writeFsmImage(env, opts.dataDir, meta.index, meta.term);
        await saveImage(env, opts.dataDir, meta, written);
        image = { meta, data: written.image };
        await logStore.compact(Math.min(applied.index, logStore.lastIndex()), image.meta);
      }
      if (image !== null) {
        const fsmApplied = new Fsm(env).applied();
        if (fsmApplied.index < image.meta.index) restoreFsm(env, image);
      }
      // Leftovers of a crash mid-snapshot (a temporary file, an image the record no longer names).
      removeOtherImages(opts.dataDir, image !== null && image.data instanceof ImageFile ? basename(image.data.path) : null);
      opts.log.info({ snapshotIndex: image?.meta.index ?? 0, logFirstIndex: logStore.firstIndex(), logLastIndex: logStore.lastIndex(), logEntries: Math.max(0, logStore.lastIndex() - logStore.firstIndex() + 1) }, 'raft: storage opened');
      return new RaftHost(opts, env, logStore, image);
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  /** Starts the tick timer; a single-voter group elects itself at once. */
  start(): void {
    assert(this.ticker === null, 'raft host started twice');
    this.startedAt = Date.now();
    this.ticker = setInterval(() => {
      if (this.closed || this.failure !== null) return;
      // After a step-down this node lets its election timer sleep (no campaign), as Vault's 10 s.
      if (this.role !== 'leader' && Date.now() < this.noCampaignUntil) return;
      this.guard(() => this.node.tick());
      this.kick();
    }, this.opts.tickMs ?? raftLimits.tickMs);
    this.opts.shared?.publishApplied(this.fsm.applied().index);
    const conf = this.node.status().conf;
    if (conf.voters.length === 1 && conf.voters[0] === this.opts.id) this.guard(() => this.node.campaign());
    this.checkPeers(true);
    this.kick();
  }

  /** A message from a peer. */
  step(msg: RaftMessage): void {
    if (this.closed || this.failure !== null) return;
    if (this.fenced.has(msg.from)) {
      this.counters.fencedDropped++;
      return;
    }
    this.lastHeard.set(msg.from, Date.now());
    if (msg.from === this.leader && msg.from !== this.opts.id) {
      this.lastLeaderContact = Date.now();
      this.opts.shared?.touchLeader(this.lastLeaderContact);
    }
    this.guard(() => this.node.step(msg));
    if (this.opts.shared !== undefined && (msg.t === 'app' || msg.t === 'heartbeat')) {
      // Freshness evidence for bounded-staleness standby reads (actors/cluster/freshness.ts), only from the
      // leader this node follows in its current term (a deposed leader's commit proves nothing).
      const st = this.node.status();
      if (st.leader === msg.from && st.term === msg.term) this.opts.shared.onLeaderMessage(msg.t, msg.commit, this.fsm.applied().index);
    }
    this.kick();
  }

  /** Propose one entry; resolves with its index once applied here, rejects if it was lost. */
  async propose(data: Uint8Array): Promise<number> {
    while (this.restoreGate !== null) await this.restoreGate;
    this.refuseIfFenced();
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.closed) throw new CofferError('COFFER_ERR_INTERNAL', 'raft is closed');
      if (this.pending.size >= raftLimits.pendingProposalsMax) throw new CofferError('COFFER_ERR_BACKPRESSURE');
      const r = this.node.propose(data);
      if (r.ok) {
        this.counters.proposals++;
        this.kick();
        return new Promise<number>((resolve, reject) => this.pending.set(r.index, { term: r.term, resolve, reject }));
      }
      if (r.error === 'not-leader' && this.leader === null) {
        // Election in progress (e.g. right after start): wait for a leader, bounded.
        if (!(await this.waitForLeader(raftLimits.proposeWaitLeaderMs))) throw new CofferError('COFFER_ERR_NOT_LEADER', 'no raft leader elected');
        continue;
      }
      if (r.error === 'not-leader') throw new CofferError('COFFER_ERR_NOT_LEADER', `raft leader is ${this.leader}`);
      if (r.error === 'too-large') throw new CofferError('COFFER_ERR_TOO_LARGE', 'proposal too large');
      throw new CofferError('COFFER_ERR_NOT_LEADER', `proposal refused: ${r.error}`);
    }
  }

  /**
   * Propose a membership change; resolves with its index once applied here. Only one change may be
   * uncommitted and a new leader must first commit an entry of its term: those refusals are retried
   * (bounded), anything else is thrown as for propose().
   */
  async proposeConfChange(change: ConfChange, timeoutMs = 10_000): Promise<number> {
    while (this.restoreGate !== null) await this.restoreGate;
    this.refuseIfFenced();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.closed) throw new CofferError('COFFER_ERR_INTERNAL', 'raft is closed');
      const r = this.node.proposeConfChange(change);
      if (r.ok) {
        this.counters.proposals++;
        this.kick();
        return new Promise<number>((resolve, reject) => this.pending.set(r.index, { term: r.term, resolve, reject }));
      }
      if (r.error === 'not-leader' && this.leader !== null) throw new CofferError('COFFER_ERR_NOT_LEADER', `raft leader is ${this.leader}`);
      if (r.error === 'leader-stepping-down') throw new CofferError('COFFER_ERR_NOT_LEADER', 'this node is leaving the configuration');
      if (Date.now() > deadline) throw new CofferError('COFFER_ERR_TIMEOUT', `membership change refused: ${r.error}`);
      if (r.error === 'not-leader') await this.waitForLeader(Math.min(500, deadline - Date.now()));
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Leadership transfer (sys/step-down): to `to`, or to the voter with the highest match index. This
   * node then lets its election timer sleep for `holdMs` so it does not take leadership straight back.
   */
  transferLeadership(to: string | null, holdMs: number): string | null {
    const status = this.node.status();
    if (status.role !== 'leader') throw new CofferError('COFFER_ERR_NOT_LEADER', `raft leader is ${this.leader}`);
    let target = to;
    if (target === null) {
      let best = -1;
      for (const id of status.conf.voters) {
        if (id === this.opts.id) continue;
        const pr = status.progress?.[id];
        if (pr !== undefined && pr.match > best) {
          best = pr.match;
          target = id;
        }
      }
    }
    if (target === null) return null; // a lone voter has nobody to hand over to
    const r = this.node.transferLeadership(target);
    if (!r.ok) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `cannot transfer leadership to ${target}: ${r.error}`);
    this.noCampaignUntil = Date.now() + holdMs;
    this.kick();
    return target;
  }

  /** Why recoverAsSoleVoter would refuse now (sys/storage/raft/dr/status shows it), or null. */
  recoveryRefusal(silenceMs: number): string | null {
    const now = Date.now();
    const status = this.node.status();
    if (status.role === 'leader') return 'this node is the raft leader: its quorum is reachable, so change membership with promote and remove-peer';
    for (const id of status.conf.voters) {
      const heard = id === this.opts.id ? undefined : this.lastHeard.get(id);
      if (heard !== undefined && now - heard < silenceMs) return `voter ${id} was heard from ${now - heard} ms ago; recovery is only for a lost quorum (no voter heard from for ${silenceMs} ms)`;
    }
    if (now - this.startedAt < silenceMs) return `this node started ${now - this.startedAt} ms ago; it must have heard from no voter for ${silenceMs} ms before it can take over`;
    return null;
  }

  /**
   * Disaster recovery (sys/storage/raft/dr/promote, docs/dr.md): this node, cut off from every voter,
   * becomes the only voter of a configuration whose non-voters are `learners`, and elects itself. Every
   * entry in its log is kept and applied (RaftNode.recoverAsSoleVoter). Refused while any voter of the
   * current configuration was heard from within `silenceMs`, or before this node has run that long: a
   * reachable quorum must be changed with promote and remove-peer instead, or two groups would go on.
   * Resolves once this node leads and has applied the recovery entry.
   */
  async recoverAsSoleVoter(learners: string[], silenceMs: number, timeoutMs = 20_000): Promise<{ index: number; term: number }> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new CofferError('COFFER_ERR_INTERNAL', 'raft is closed');
    const refusal = this.recoveryRefusal(silenceMs);
    if (refusal !== null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', refusal);
    const status = this.node.status();
    const r = this.node.recoverAsSoleVoter?.(learners) ?? { ok: false as const, error: 'busy' as const };
    if (!r.ok) {
      if (r.error === 'busy') throw new CofferError('COFFER_ERR_BACKPRESSURE', 'raft is busy (a snapshot transfer or a write in progress); retry');
      throw new CofferError('COFFER_ERR_INVALID_REQUEST', r.error === 'no-base' ? 'this node has not received the cluster state yet' : 'this node is the raft leader');
    }
    this.opts.log.warn({ index: r.index, term: r.term, learners, removedVoters: status.conf.voters.filter((id) => id !== this.opts.id) }, 'raft: disaster recovery: this node is now the only voter');
    this.noCampaignUntil = 0;
    this.kick();
    const deadline = Date.now() + timeoutMs;
    while (this.role !== 'leader' || this.fsm.applied().index < r.index) {
      if (this.failure !== null) throw this.failure;
      if (Date.now() > deadline) throw new CofferError('COFFER_ERR_TIMEOUT', 'recovered configuration written, but this node did not take the lead in time');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return r;
  }

  /**
   * As leader: null once this node applied the first entry of its term, else a promise of that. Every
   * entry an earlier leader may have committed precedes it, so from then on the FSM plus the write-sets
   * proposed in this term is the whole state. Guard checks need that (actors/storage/guarded-commit.ts):
   * before it, a key written by an entry an earlier leader committed (and answered) could still read as
   * its old value here, and a write-set guarded on the old value would pass and undo that write.
   */
  termStartApplied(timeoutMs: number): Promise<void> | null {
    const index = this.termStart;
    if (this.role !== 'leader' || this.fsm.applied().index >= index) return null;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new CofferError('COFFER_ERR_TIMEOUT', `this leader has not applied the start of its term (index ${index}) in time`)), timeoutMs);
      this.appliedWaiters.push({ index, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  /**
   * A linearizable read point (Raft ReadIndex, dissertation §6.4): the leader confirms its leadership with a
   * quorum (a heartbeat round; a voter asking counts itself, so with three voters a follower's round is one
   * trip to the leader: docs/raft.md "ReadIndex") and answers its commit index; resolves once this node's
   * FSM has applied it. A follower that has not heard from a leader within an election timeout refuses at
   * once (it may be partitioned).
   *
   * Concurrent callers share rounds, as etcd's read loop does: a caller joins the round that has NOT been
   * sent yet, which starts once the round in flight is answered. Its index is therefore the leader's commit
   * at a moment after the caller arrived: still linearizable, at one round per batch instead of one per
   * read.
   */
  async readIndex(timeoutMs: number): Promise<number> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new CofferError('COFFER_ERR_INTERNAL', 'raft is closed');
    if (this.role !== 'leader') {
      if (this.leader === null) throw new CofferError('COFFER_ERR_NOT_LEADER', 'no raft leader known: no linearizable read possible');
      const electionMs = (this.opts.tickMs ?? raftLimits.tickMs) * (this.opts.electionTicks ?? raftLimits.electionTicks);
      if (Date.now() - this.lastLeaderContact > electionMs) throw new CofferError('COFFER_ERR_NOT_LEADER', 'no contact with the raft leader within the election timeout');
    }
    const deadline = Date.now() + timeoutMs;
    const index = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CofferError('COFFER_ERR_TIMEOUT', 'the raft leader did not confirm a read index in time')), timeoutMs);
      const batch = (this.nextReadRound ??= { waiters: [], timeoutMs });
      batch.timeoutMs = Math.max(batch.timeoutMs, timeoutMs);
      batch.waiters.push({
        resolve: (i) => (clearTimeout(timer), resolve(i)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      if (!this.readRoundInFlight) this.startReadRound();
    });
    if (this.fsm.applied().index >= index) return index;
    const left = deadline - Date.now();
    const reached = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), Math.max(1, left));
      this.appliedWaiters.push({ index, resolve: () => (clearTimeout(t), resolve(true)) });
    });
    if (!reached) throw new CofferError('COFFER_ERR_TIMEOUT', `read index ${index} not applied in time`);
    return index;
  }

  /** Sends the batch that callers joined (nextReadRound); the next one starts when this one is answered. */
  private startReadRound(): void {
    const batch = this.nextReadRound;
    if (batch === null || this.closed) return;
    this.nextReadRound = null;
    this.readRoundInFlight = true;
    this.counters.readRounds++;
    this.readRound(batch.timeoutMs)
      .then(
        (i) => batch.waiters.forEach((w) => w.resolve(i)),
        (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.readRoundInFlight = false;
        this.startReadRound();
      });
  }

  /** One ReadIndex round through the core: the leader's confirmed commit index. */
  private async readRound(timeoutMs: number): Promise<number> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new CofferError('COFFER_ERR_INTERNAL', 'raft is closed');
    const ctx = `${this.readCtxPrefix}${++this.readSeq}`;
    const r = this.node.readIndex(ctx);
    if (!r.ok) throw new CofferError('COFFER_ERR_NOT_LEADER', 'no raft leader known: no linearizable read possible');
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(ctx);
        reject(new CofferError('COFFER_ERR_TIMEOUT', 'the raft leader did not confirm a read index in time'));
      }, timeoutMs);
      this.reads.set(ctx, { resolve, reject, timer });
      this.kick();
    });
  }

  private readDone(ctx: string, index: number): void {
    const w = this.reads.get(ctx);
    if (w === undefined) return;
    this.reads.delete(ctx);
    clearTimeout(w.timer);
    w.resolve(index);
  }

  private onApplied(): void {
    const applied = this.fsm.applied().index;
    this.opts.shared?.publishApplied(applied);
    if (this.appliedWaiters.length === 0) return;
    const still: typeof this.appliedWaiters = [];
    for (const w of this.appliedWaiters) if (applied >= w.index) w.resolve();
    else still.push(w);
    this.appliedWaiters = still;
  }

  /** The configuration at the applied index and the index of the change that set it. */
  configuration(): { conf: ConfState; index: number } {
    return { conf: confCopy(this.appliedConf), index: this.appliedConfIndex };
  }

  peerMap(): PeerMap {
    return { ...this.peers };
  }

  fencedPeers(): string[] {
    return [...this.fenced];
  }

  /** Milliseconds since the last message from each peer that ever sent one. */
  lastContact(): Record<string, number> {
    const now = Date.now();
    const out: Record<string, number> = {};
    for (const [id, at] of this.lastHeard) out[id] = now - at;
    return out;
  }

  /**
   * Leader only: replace the FSM (and the log) with a snapshot image (storage/snapshot-image.ts format), through Raft:
   * new proposals wait, the log drains (everything committed and applied), then the core makes the image
   * its snapshot at lastIndex + 1 (RaftNode.restoreAsLeader); the Ready loop installs it here like a
   * leader's snapshot and followers get it by InstallSnapshot. Resolves once installed here.
   */
  restoreSnapshot(data: Uint8Array, timeoutMs = 30_000): Promise<{ index: number; term: number }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.node.restoreAsLeader === undefined) return Promise.reject(new CofferError('COFFER_ERR_INTERNAL', 'this raft core cannot restore snapshots'));
    if (this.restoreReq !== null) return Promise.reject(new CofferError('COFFER_ERR_INVALID_REQUEST', 'a snapshot restore is already in progress'));
    let open!: () => void;
    this.restoreGate = new Promise<void>((resolve) => (open = resolve));
    const done = () => {
      this.restoreReq = null;
      this.restoreGate = null;
      open();
    };
    return new Promise((resolve, reject) => {
      this.restoreReq = {
        data,
        deadline: Date.now() + timeoutMs,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      this.kick();
    });
  }

  /** The node unsealed again after a restore (with the restored data's keys): proposals are accepted again. Returns whether a fence was up. */
  unfenceWrites(): boolean {
    const was = this.restoreFence;
    this.restoreFence = false;
    return was;
  }

  /** The restore marker's value in the FSM (undefined: no marker, or no key configured). */
  private restoreMarker(): string | undefined {
    const key = this.opts.restoreMarkerKey;
    if (key === undefined) return undefined;
    this.env.root.resetReadTxn();
    return this.env.fsm.get(key)?.toString('base64');
  }

  private refuseIfFenced(): void {
    if (this.restoreFence) throw new CofferError('COFFER_ERR_SEALED', 'Vault is sealed: a raft snapshot was restored; unseal with the snapshot\'s keys and retry');
  }

  /** Between Readies: performs a waiting restore once the log is quiet (the tick timer re-kicks meanwhile). */
  private tryRestore(): void {
    const req = this.restoreReq;
    if (req === null) return;
    if (this.node.status().role !== 'leader') return req.reject(new CofferError('COFFER_ERR_NOT_LEADER', `raft leader is ${this.leader}`));
    const r = this.node.restoreAsLeader!(req.data);
    if (r.ok) {
      this.restoring = { index: r.index, term: r.term };
      return;
    }
    if (r.error !== 'busy' && r.error !== 'no-current-term-commit') return req.reject(new CofferError('COFFER_ERR_NOT_LEADER', `snapshot restore refused: ${r.error}`));
    if (Date.now() > req.deadline) req.reject(new CofferError('COFFER_ERR_TIMEOUT', 'snapshot restore: the raft log did not quiesce in time'));
  }

  /** Resolves once the FSM has applied everything known committed at open (replay after a restart). */
  whenRecovered(): Promise<void> {
    if (this.fsm.applied().index >= this.recoveredCommit) return Promise.resolve();
    return new Promise<void>((resolve) => this.recoveredWaiters.push(resolve));
  }

  status(): RaftStatus {
    return this.node.status();
  }

  stats(): RaftHostStats {
    return { ...this.counters, applied: this.fsm.applied().index, readsConfirmedByAsker: this.node.status().readsConfirmedByAsker, ...(this.digest !== null ? { appliedDigest: { ...this.digest } } : {}) };
  }

  fsmApplied(): { index: number; term: number } {
    return this.fsm.applied();
  }

  snapshotAt(): number {
    return this.snapshotIndex;
  }

  /**
   * Graceful shutdown: once the Ready loop is idle, snapshot + compact (as at compactAt) when the log holds
   * at least `minEntries` behind the applied index, then close. Returns whether it compacted.
   */
  async compactAndClose(minEntries: number): Promise<boolean> {
    if (this.closed) return false;
    if (this.ticker !== null) clearInterval(this.ticker); // no new Readies from ticks while we wait
    this.ticker = null;
    if (this.running || this.scheduled) await new Promise<void>((resolve) => this.idle.push(resolve));
    await Promise.allSettled([...this.background]);
    const before = this.counters.compactions;
    // One image may be in flight (or done) from the Ready loop; then one more for what was applied since.
    for (let round = 0; round < 2 && this.failure === null; round++) {
      if (round === 1) this.maybeCompact(Math.max(1, minEntries), false); // shutting down: no need to yield
      if (this.imageWrite !== null) await this.imageWrite;
      await this.finishCompaction();
    }
    await this.close();
    return this.counters.compactions > before;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const w of this.leaderWaiters) clearTimeout(w.timer);
    this.leaderWaiters = [];
    if (this.running || this.scheduled) await new Promise<void>((resolve) => this.idle.push(resolve));
    await Promise.allSettled([...this.background]);
    if (this.imageWrite !== null) await this.imageWrite; // abandons at its next slice (closed), releasing its read txn
    this.rejectAll(new CofferError('COFFER_ERR_INTERNAL', 'raft closed'));
    await this.env.close();
  }

  // ---- the Ready loop ---------------------------------------------------------------------------

  private kick(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    // setImmediate: everything arriving in this event-loop turn (a drained ring, a TCP read) joins.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.running) return;
    this.running = true;
    try {
      while (this.failure === null && !this.closed) {
        if (this.restoreReq !== null && this.restoring === null) this.tryRestore();
        if (this.imageDone !== null) await this.finishCompaction();
        if (!this.node.hasReady()) break;
        await this.handleReady(this.node.ready());
      }
    } catch (err) {
      this.failStop(err);
    } finally {
      this.running = false;
      const idle = this.idle;
      this.idle = [];
      for (const wake of idle) wake();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.counters.readies++;
    if (rd.softState !== null) this.onSoftState(rd.softState.leader, rd.softState.role);
    // Before any message carries a new commit index to a follower (consistency.ts publishOwnCommit).
    if (rd.hardState !== null && this.role === 'leader') this.opts.shared?.publishOwnCommit(rd.hardState.commit);
    for (const m of rd.messages) this.opts.send(this.withData(m));
    for (const rs of rd.readStates) this.readDone(rs.ctx, rs.index);

    if (rd.snapshot !== null) await this.installSnapshot(rd.snapshot);
    if (rd.snapshot !== null && this.restoring !== null && rd.snapshot.meta.index === this.restoring.index) {
      const done = this.restoring;
      this.restoring = null;
      this.restoreReq?.resolve(done); // the gate opens; installSnapshot raised the fence first
    }

    // Proposals whose index is rewritten by another term's entry are lost (leader change).
    const first = rd.entries[0];
    if (first !== undefined) {
      for (const e of rd.entries) {
        const p = this.pending.get(e.index);
        if (p !== undefined && p.term !== e.term) this.lose(e.index, p);
      }
      this.durableIndex = Math.min(this.durableIndex, first.index - 1);
    }
    const hs = rd.hardState;
    // Only entries, term and vote must be durable before this Ready's messagesAfterPersist leave: an
    // app-resp acknowledges entries, and every earlier Ready's entries were flushed before its advance().
    const mustFlush = rd.entries.length > 0 || (hs !== null && (hs.term !== this.lastHard.term || hs.vote !== this.lastHard.vote));
    if (hs !== null) this.lastHard = hs;
    const toWrite = this.hardStateToWrite(rd, mustFlush);
    if (toWrite !== null) this.commitWritten = Math.max(this.commitWritten, toWrite.commit);

    // Committed entries already durable here are applied with this Ready's persist.
    if (rd.committed.length > 0) failpoint('raft-before-commit');
    let k = 0;
    while (k < rd.committed.length && rd.committed[k]!.index <= this.durableIndex) k++;
    let persisted: Promise<void> | null = null;
    const early = this.committedByOwnFlush(rd, k);
    if ((k > 0 || early) && mustFlush && this.background.size === 0) {
      // Under load a Ready carries new entries and entries committed earlier. Every LMDB commit here costs
      // a sync, so both go in ONE synchronous transaction (durable when it returns; the apply is visible at
      // its commit, as with Fsm.apply). Messages already handed to the transport leave first.
      // A lone voter also applies the new entries themselves in that transaction (`early`): they are
      // committed the moment they are durable, and here they become durable and applied atomically.
      this.opts.flushSends?.();
      const toApply = early ? [...rd.committed.slice(0, k), ...rd.entries] : rd.committed.slice(0, k);
      this.opts.shared?.publishApplying(toApply[toApply.length - 1]!.index); // X-Vault-Index stamps (docs/ha-standby-reads.md)
      const prepared = this.fsm.prepare(toApply);
      this.logStore.appendSync(rd.entries, toWrite, () => {
        if (prepared !== null) this.fsm.write(prepared);
      });
      if (prepared !== null) this.fsm.committed(prepared);
      this.countFlush(rd.entries);
      if (early) this.counters.appliedWithOwnFlush += rd.entries.length;
      this.afterApply(toApply);
    } else {
      if (rd.entries.length > 0 || toWrite !== null) persisted = this.logStore.append(rd.entries, toWrite);
      if (k > 0) this.apply(rd.committed.slice(0, k));
    }

    if (persisted !== null) {
      if (mustFlush) {
        await persisted;
        this.countFlush(rd.entries);
      } else {
        this.track(persisted);
      }
    }
    for (const m of rd.messagesAfterPersist) this.opts.send(this.withData(m));
    if (k < rd.committed.length) this.apply(k === 0 ? rd.committed : rd.committed.slice(k));
    if (rd.committed.length > 0) failpoint('raft-after-commit');
    this.node.advance();
    this.node.releasePayloads(this.afterAppliedThrough - this.payloadsKept);
    this.maybeCompact();
  }

  /**
   * The core keeps the data of only the last `payloadsKept` applied entries (RaftNode.releasePayloads):
   * without that it held every entry since the last snapshot, up to compactAt of them (~15 MiB at 20,000
   * KV writes, and the ring buffers their bytes were sliced from). An append to a peer that lags further
   * names released entries; their data is read back from the log store here.
   */
  private withData(m: RaftMessage): RaftMessage {
    return withStoredEntries(m, (lo, hi) => {
      this.counters.entriesReadBack += hi - lo + 1;
      return this.logStore.entries(lo, hi + 1);
    });
  }

  /** A Ready's entries are durable here. */
  private countFlush(entries: Entry[]): void {
    this.counters.flushes++;
    this.counters.entriesPersisted += entries.length;
    this.counters.entriesPerFlushMax = Math.max(this.counters.entriesPerFlushMax, entries.length);
    const last = entries[entries.length - 1];
    if (last !== undefined) this.durableIndex = last.index;
  }

  /**
   * The hard state to write with this Ready, or null. Only term and vote need durability; the commit index
   * is rebuilt on open as max(stored commit, FSM applied), so a Ready that only moves the commit writes
   * nothing when the FSM records it anyway (its committed entries are applied below) or when a stored
   * commit already covers it. Every LMDB write transaction here costs a sync (overlappingSync syncs after
   * each commit), so this spares one sync per write on every node.
   * A lone voter's entries are committed once flushed: its commit rides in the same transaction as the
   * entries, so a restart finds every acknowledged entry committed (the later commit-only Ready is skipped).
   */
  private hardStateToWrite(rd: Ready, mustFlush: boolean): HardState | null {
    const hs = rd.hardState;
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined && last.index > this.commitWritten && this.leadsAlone(last.term)) return { ...this.lastHard, commit: Math.max(this.lastHard.commit, last.index) };
    if (hs === null || mustFlush) return hs;
    const appliedThrough = Math.max(rd.committed[rd.committed.length - 1]?.index ?? 0, this.fsm.applied().index);
    return hs.commit > Math.max(this.commitWritten, appliedThrough) ? hs : null;
  }

  /** Leader in `term` of a configuration whose only voter is this node: its entries commit once flushed here. */
  private leadsAlone(term: number): boolean {
    if (this.role !== 'leader' || term !== this.lastHard.term) return false;
    const voters = this.node.status().conf.voters;
    return voters.length === 1 && voters[0] === this.opts.id;
  }

  /**
   * Whether this Ready's new entries may be applied in the transaction that makes them durable: only on a
   * lone voter leading in its term (the rule hardStateToWrite uses: its entries are committed once flushed
   * here), with no configuration change among them (a change is committed under the configuration it
   * replaces; keep that on the ordinary path), every committed entry of the Ready durable, and no gap
   * between what the FSM holds after this Ready's committed entries and the first new entry. The core
   * learns of the commit at advance() and hands the entries again as committed; the FSM skips them (index
   * <= applied) and afterApply does too. Saves a single node's second LMDB commit (two device flushes) and
   * a Ready cycle per write.
   */
  private committedByOwnFlush(rd: Ready, durableCommitted: number): boolean {
    const first = rd.entries[0];
    const last = rd.entries[rd.entries.length - 1];
    if (first === undefined || last === undefined || rd.snapshot !== null) return false;
    // While a snapshot image is written from a pinned read transaction (16 ms slices on this thread), the
    // asynchronous append lets the slices run during the flush; this synchronous one would hold them off,
    // so the image takes longer and every page freed meanwhile stays unusable: a 100k-secret fill at 256
    // writers left a 183 MB file instead of 143 MB.
    if (this.imageWrite !== null) return false;
    if (durableCommitted !== rd.committed.length || !this.leadsAlone(last.term)) return false;
    if (rd.entries.some((e) => e.payload.t === 'conf' || e.term !== last.term)) return false;
    const appliedBefore = Math.max(this.fsm.applied().index, rd.committed[rd.committed.length - 1]?.index ?? 0);
    return appliedBefore === first.index - 1;
  }

  private apply(entries: Entry[]): void {
    const last = entries[entries.length - 1];
    if (last !== undefined) this.opts.shared?.publishApplying(last.index); // X-Vault-Index stamps (docs/ha-standby-reads.md)
    if (this.fsm.apply(entries)) this.counters.appliesAlone++;
    this.afterApply(entries);
  }

  /** Everything that follows an FSM apply: waiters, configuration, peer map, digest, proposers. */
  private afterApply(all: Entry[]): void {
    // Entries applied with their own flush (committedByOwnFlush) come back later as committed: once each.
    const entries = all[0] !== undefined && all[0].index <= this.afterAppliedThrough ? all.filter((e) => e.index > this.afterAppliedThrough) : all;
    if (entries.length === 0) return;
    this.afterAppliedThrough = entries[entries.length - 1]!.index;
    this.onApplied();
    if (this.imageWrite !== null) this.counters.appliedDuringImage += entries.length;
    let confChanged = false;
    for (const e of entries) {
      if (e.payload.t === 'conf' && e.index > this.appliedConfIndex) {
        this.appliedConf = applyConfChange(this.appliedConf, e.payload.change);
        this.appliedConfIndex = e.index;
        confChanged = true;
      }
    }
    this.checkPeers(confChanged);
    if (this.digest !== null) {
      for (const e of entries) {
        if (e.index <= this.digest.index) continue;
        const h: Hash = createHash('sha256').update(this.digest.hex).update(`${e.index}/${e.term}/${e.payload.t}/`);
        if (e.payload.t === 'normal') h.update(e.payload.data);
        this.digest = { from: this.digest.from, index: e.index, hex: h.digest('hex') };
      }
    }
    for (const e of entries) {
      const p = this.pending.get(e.index);
      if (p === undefined) continue;
      this.pending.delete(e.index);
      if (p.term === e.term) p.resolve(e.index);
      else this.lose(e.index, p);
    }
    this.wakeRecovered();
  }

  /** Re-reads the replicated peer map (one LMDB get) and tells the actor when it or the membership changed. */
  private checkPeers(force: boolean): void {
    this.env.root.resetReadTxn();
    const bytes = this.env.fsm.get(PEERS_KEY);
    const same = bytes === undefined ? this.peersBytes === null : this.peersBytes !== null && this.peersBytes.equals(bytes);
    if (same && !force) return;
    this.peersBytes = bytes === undefined ? null : Buffer.from(bytes);
    let peers: PeerMap = {};
    if (this.peersBytes !== null) {
      try {
        peers = JSON.parse(this.peersBytes.toString('utf8')) as PeerMap;
      } catch {
        this.opts.log.error('raft: the replicated peer map is not JSON; ignored');
      }
    }
    this.peers = peers;
    const fenced = parseFencedList(this.env.fsm.get(FENCED_KEY));
    if (fenced === null) this.opts.log.error('raft: the replicated fence list is not a JSON array of ids; ignored');
    this.fenced = new Set(fenced ?? []);
    this.opts.onPeers?.(peers, confCopy(this.appliedConf), [...this.fenced]);
  }

  private wakeRecovered(): void {
    if (this.recoveredWaiters.length === 0 || this.fsm.applied().index < this.recoveredCommit) return;
    const waiters = this.recoveredWaiters;
    this.recoveredWaiters = [];
    for (const wake of waiters) wake();
  }

  private lose(index: number, p: Pending): void {
    this.pending.delete(index);
    this.counters.proposalsLost++;
    p.reject(new CofferError('COFFER_ERR_NOT_LEADER', `entry ${index} was lost to a leader change; retry`));
  }

  private onSoftState(leader: string | null, role: string): void {
    this.leader = leader;
    if (role === 'leader' && this.role !== 'leader') {
      this.termStart = this.node.status().lastIndex;
      // Until it applied the start of its term a new leader may lack entries an earlier leader committed
      // and answered: the front serves nothing from the FSM before that (RaftSharedState.unappliedOwnCommit),
      // as the guard check waits for it (termStartApplied). Published before the role, which makes it active.
      this.opts.shared?.publishOwnCommit(this.termStart);
    }
    if (role !== 'leader') this.termStart = 0;
    this.role = role;
    if (leader !== null && leader !== this.opts.id) this.lastLeaderContact = Date.now();
    this.opts.shared?.publishRole(role, this.node.status().term, leader !== null);
    if (leader !== null) {
      const waiters = this.leaderWaiters;
      this.leaderWaiters = [];
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
    }
    this.opts.log.info({ leader, role }, 'raft role');
  }

  private waitForLeader(timeoutMs: number): Promise<boolean> {
    if (this.leader !== null) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w = {
        resolve: () => resolve(true),
        timer: setTimeout(() => {
          this.leaderWaiters = this.leaderWaiters.filter((x) => x !== w);
          resolve(false);
        }, timeoutMs),
      };
      this.leaderWaiters.push(w);
    });
  }

  // ---- snapshots --------------------------------------------------------------------------------

  /** InstallSnapshot from the leader: image, then the log replaced, then the FSM restored (see open()). */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshotGeneration++; // an image being written of the old FSM is stale from here
    const image: SnapshotImage = { meta: snapshot.meta, data: snapshot.data };
    if (snapshot.meta.index > 0) {
      // The core assembled the image in memory and keeps it as its snapshot until the next compaction.
      const written = writeImageBytes(this.opts.dataDir, snapshot.meta.index, snapshot.meta.term, snapshot.data);
      await saveImage(this.env, this.opts.dataDir, snapshot.meta, written);
      written.image.close();
    }
    failpoint('snapshot-install-after-save');
    await this.logStore.compact(snapshot.meta.index, snapshot.meta);
    failpoint('snapshot-install-after-truncate');
    if (snapshot.meta.index > 0 && this.fsm.applied().index < snapshot.meta.index) {
      const markerBefore = this.restoreMarker();
      this.opts.shared?.publishApplying(snapshot.meta.index);
      restoreFsm(this.env, image);
      this.fsm = new Fsm(this.env); // re-reads meta.applied
      // A restore, this leader's own or one a follower receives: every restore image carries a new marker.
      if (this.restoreMarker() !== markerBefore) this.restoreFence = true;
    }
    failpoint('snapshot-install-after-restore');
    this.durableIndex = snapshot.meta.index;
    if (this.digest !== null) this.digest = { from: snapshot.meta.index, index: snapshot.meta.index, hex: `snapshot:${snapshot.meta.index}` };
    this.snapshotIndex = Math.max(this.snapshotIndex, snapshot.meta.index);
    this.counters.snapshotsInstalled++;
    if (snapshot.meta.index >= this.appliedConfIndex) {
      this.appliedConf = confCopy(snapshot.meta.conf);
      this.appliedConfIndex = snapshot.meta.index;
    }
    this.checkPeers(true);
    this.wakeRecovered();
    this.onApplied();
    // Proposals at or below the snapshot: their fate is unknown here.
    for (const [index, p] of this.pending) if (index <= snapshot.meta.index) this.lose(index, p);
  }

  /**
   * Starts a snapshot of the FSM at its applied index once the log holds `threshold` entries behind it. The
   * image is written in the background from a pinned read transaction (the FSM state of that index), in
   * slices that yield to the event loop, so this thread keeps ticking, answering peers and persisting
   * while a large FSM is written; the Ready loop then records it and drops the log (finishCompaction).
   * Before, the image was written in one synchronous stretch here: every write of the cluster stalled for
   * it at each compaction, ~0.9 s at 20k secrets and ~1.5 s at 80k, growing with the FSM.
   */
  private maybeCompact(threshold = this.compactAt, paced = true): void {
    if (this.imageWrite !== null || this.imageDone !== null || this.finishing !== null || this.closed || this.failure !== null) return;
    const applied = this.fsm.applied();
    const status = this.node.status();
    if (applied.index - this.logStore.firstIndex() + 1 < threshold) return;
    if (applied.index > status.applied || applied.index <= status.firstIndex - 1) return;
    // The configuration in effect at the applied index (the core's current one may be ahead of it).
    const meta: SnapshotMeta = { index: applied.index, term: applied.term, conf: confCopy(this.appliedConf) };
    // Applies run on this thread, so the fresh read snapshot taken now holds exactly `applied`.
    this.env.root.resetReadTxn();
    const txn = this.env.root.useReadTransaction();
    const pinned = readApplied(this.env, txn);
    if (pinned.index !== meta.index) {
      // Not expected (every apply commits on this thread); retried after the next Ready, logged once.
      txn.done();
      if (!this.warnedDeferredImage) this.opts.log.warn({ pinned: pinned.index, applied: meta.index }, 'raft: snapshot deferred, the read snapshot is not at the applied index');
      this.warnedDeferredImage = true;
      return;
    }
    const generation = this.snapshotGeneration;
    const aborted = () => this.closed || this.failure !== null || this.snapshotGeneration !== generation;
    this.imageWrite = (async () => {
      try {
        const written = await writeFsmImage(this.env, this.opts.dataDir, meta.index, meta.term, { txn, ...(paced ? { pace: this.opts.imagePace ?? slicePace(this.opts.imageSliceMs ?? raftLimits.imageSliceMs) } : {}), aborted });
        this.imageDone = { meta, written, generation };
        this.kick();
      } catch (err) {
        if (!(err instanceof ImageWriteAborted)) this.failStop(err);
      } finally {
        txn.done();
        this.imageWrite = null;
      }
    })();
  }

  /** In the Ready loop: the image written in the background becomes the snapshot, and the log behind it goes. */
  private async finishCompaction(): Promise<void> {
    if (this.finishing !== null) return this.finishing;
    const done = this.imageDone;
    if (done === null) return;
    this.imageDone = null;
    this.finishing = this.recordImage(done).finally(() => {
      this.finishing = null;
    });
    return this.finishing;
  }

  private async recordImage(done: { meta: SnapshotMeta; written: WrittenImage; generation: number }): Promise<void> {
    const { meta, written } = done;
    if (done.generation !== this.snapshotGeneration || meta.index <= this.snapshotIndex) {
      // A snapshot installed meanwhile replaced the FSM and the log: this image describes neither. Its file
      // goes with the next saved image or at the next start (removeOtherImages), never by name here: an
      // installed image of the same index and term would have the same name.
      await written.durable.catch(() => undefined);
      written.image.close();
      return;
    }
    this.node.compact({ meta, data: written.image });
    failpoint('snapshot-before-save');
    await saveImage(this.env, this.opts.dataDir, meta, written);
    failpoint('snapshot-after-save');
    await this.logStore.compact(meta.index, meta);
    this.snapshotIndex = meta.index;
    this.counters.compactions++;
    this.opts.log.info({ index: meta.index, bytes: written.record.bytes, pairs: written.pairs }, 'raft: compacted the log behind a snapshot');
  }

  // ---- failure ----------------------------------------------------------------------------------

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failStop(err);
    }
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    p.then(
      () => this.background.delete(p),
      (err: unknown) => {
        this.background.delete(p);
        this.failStop(err);
      },
    );
  }

  private failStop(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.opts.log.fatal({ err }, 'raft host failed (fail-stop)');
    this.rejectAll(err);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.opts.onFailure?.(err);
  }

  private rejectAll(err: unknown): void {
    this.restoreReq?.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

// ---- snapshot images: the FSM key/values, encoded --------------------------------------------------

interface SnapshotImage {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/**
 * The current image from the `hard` db: a record naming the image file (checked: size and CRC-32), or
 * (data dirs written before images moved to files) the image bytes themselves, moved to a file here.
 */
async function readImage(env: StorageEnv, dataDir: string): Promise<SnapshotImage | null> {
  const bytes = env.hard.get(KEY_SNAPSHOT_IMAGE);
  if (bytes === undefined) return null;
  const rec = decodeRecord<{ meta: SnapshotMeta; file?: ImageFileRecord; data?: Uint8Array }>(bytes, `hard/${KEY_SNAPSHOT_IMAGE}`);
  if (rec.file !== undefined) return { meta: rec.meta, data: ImageFile.open(join(imageDir(dataDir), rec.file.file), rec.file) };
  assert(rec.data instanceof Uint8Array, `hard/${KEY_SNAPSHOT_IMAGE}: neither an image file nor image bytes`);
  const written = writeImageBytes(dataDir, rec.meta.index, rec.meta.term, rec.data);
  await saveImage(env, dataDir, rec.meta, written);
  return { meta: rec.meta, data: written.image };
}

/** Makes a written image durable, then records it as the current one (flushed) and deletes older image files. */
async function saveImage(env: StorageEnv, dataDir: string, meta: SnapshotMeta, written: WrittenImage): Promise<void> {
  await written.durable;
  const put = env.hard.put(KEY_SNAPSHOT_IMAGE, encodeImageRecord(meta, written.record));
  const flushed = new Promise<unknown>((resolve, reject) => env.root.flushed.then(resolve, reject));
  await put;
  await flushed;
  removeOtherImages(dataDir, written.record.file);
}

/** Replace the FSM with the image and set applied = the image's (index, term), in ONE transaction. */
function restoreFsm(env: StorageEnv, image: SnapshotImage): void {
  const { fsm, meta } = env;
  env.root.transactionSync(() => {
    const old = [...fsm.getKeys({})];
    for (const key of old) fsm.remove(key);
    // Pair by pair from the file (or the bytes received); a malformed image throws and aborts the transaction.
    forEachImagePair(image.data, (key, value) => fsm.put(key, Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)));
    meta.put(KEY_APPLIED, encodeRecord({ index: image.meta.index, term: image.meta.term }));
  }, RESTORE_TXN_FLAGS);
  env.root.resetReadTxn();
}

/** Yield (setImmediate) once `sliceMs` of work have passed since the last yield. */
function slicePace(sliceMs: number): Pace {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return null;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      since = performance.now();
    });
  };
}

function confCopy(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}
