// Raft snapshots over the API (sys/storage/raft/snapshot, -force), inside the core actor next to
// ClusterCore. See docs/snapshots-autopilot.md.
//
// Save: one LMDB read transaction over the FSM (useReadTransaction) is held by a session while the
// front pulls chunks (`save-next`, ~256 KiB each) and writes them to the HTTP response as the client
// drains it: the FSM is never in one buffer. The header records the applied (index, term) read in the
// same transaction, and the Raft configuration; the trailer the SHA-256 and the SHA-256 sealed under the
// unseal key (KEK, from core/shamir-kek).
// Restore: the front streams the request body into a temp file in the data dir (`restore-chunk`);
// `restore-finish` verifies the file (structure + SHA-256; without force also the sealed SHA-256 against
// this cluster's KEK), then asks the raft actor to install it through Raft. Afterwards every node seals
// (this one at once, the others when they see the restore marker): the restored data is encrypted with
// the snapshot's keyring, which is opened with the snapshot's unseal keys.
import { randomUUID } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transaction } from 'lmdb';
import { CofferError } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import { SHAMIR_KEK_PATH } from '../barrier/seal.js';
import type { RaftReplies, RaftRequest } from '../raft/protocol.js';
import type { RaftView } from './cluster.js';
import { openStorageEnv, type StorageEnv } from '../storage/env.js';
import { readSnapshotFile, SnapshotEncoder, SnapshotFormatError, verifySealedDigest } from '../storage/snapshot-format.js';
import { RESTORE_MARKER_KEY } from '../storage/snapshot-restore.js';
import { decodeRecord } from '../storage/records.js';

const CHUNK_BYTES = 256 * 1024;
/** A session not touched for this long is closed (releases its read transaction / temp file). */
const SESSION_IDLE_MS = 60_000;
/** Upper bound of an uploaded snapshot (the restore image is held in memory by the raft actor). */
const RESTORE_BYTES_MAX = 2 * 1024 * 1024 * 1024;
const RESTORE_TIMEOUT_MS = 120_000;
const MARKER_POLL_MS = 300;

export type SnapshotOp =
  | { op: 'save-open' }
  | { op: 'save-next'; id: string }
  | { op: 'save-close'; id: string }
  | { op: 'restore-open'; force: boolean }
  | { op: 'restore-chunk'; id: string; data: Uint8Array }
  | { op: 'restore-finish'; id: string }
  | { op: 'restore-abort'; id: string };

export interface SnapshotReply {
  id?: string;
  /** save-next: the next bytes (empty at the end) and whether this was the last piece. */
  data?: Uint8Array;
  done?: boolean;
  bytes?: number;
  /** save-open: what the snapshot holds. */
  index?: number;
  term?: number;
  /** restore-finish */
  restoredIndex?: number;
  pairs?: number;
}

export interface SnapshotHooks {
  dataDir: string;
  nodeId: string;
  raft<R extends RaftRequest>(msg: R, timeoutMs?: number): Promise<RaftReplies[R['t']]>;
  barrier(): Barrier | null;
  readPhysical(key: string): Buffer | undefined;
  refresh(): void;
  /** Seal this node (after a restore, or when another node restored a snapshot). */
  seal(reason: string): void;
  warn(msg: string, err?: unknown): void;
  /** The applied index the raft actor publishes: the marker is read again only when it moved. */
  raftView?: RaftView;
}

interface SaveSession {
  kind: 'save';
  id: string;
  txn: Transaction;
  iter: Iterator<{ key: string; value: Buffer }>;
  enc: SnapshotEncoder;
  headerSent: boolean;
  header: Parameters<SnapshotEncoder['header']>[0];
  kek: Buffer | null;
  done: boolean;
  touched: number;
}

interface RestoreSession {
  kind: 'restore';
  id: string;
  path: string;
  fh: FileHandle;
  force: boolean;
  bytes: number;
  touched: number;
  busy: boolean;
}

export class SnapshotService {
  private env: StorageEnv | null = null;
  private readonly sessions = new Map<string, SaveSession | RestoreSession>();
  private readonly reaper: NodeJS.Timeout;
  private markerTimer: NodeJS.Timeout | null = null;
  /** The restore marker as of this node's unseal (null: none). */
  private seenMarker: string | null = null;
  /** The applied index at the last marker check (null: check at the next tick). */
  private markerCheckedAt: number | null = null;
  private restoring = false;

  constructor(private readonly hooks: SnapshotHooks) {
    this.reaper = setInterval(() => this.reap(), 5_000);
    this.reaper.unref();
  }

  close(): void {
    clearInterval(this.reaper);
    if (this.markerTimer !== null) clearInterval(this.markerTimer);
    for (const s of [...this.sessions.values()]) void this.closeSession(s);
  }

  /** Unsealed: remember the restore marker this keyring goes with; a later one means "seal". */
  onUnsealed(): void {
    this.hooks.refresh();
    this.seenMarker = this.readMarker();
    this.markerCheckedAt = null;
    if (this.markerTimer === null) {
      this.markerTimer = setInterval(() => this.checkMarker(), MARKER_POLL_MS);
      this.markerTimer.unref();
    }
  }

  onSealed(): void {
    if (this.markerTimer !== null) clearInterval(this.markerTimer);
    this.markerTimer = null;
  }

  async handle(op: SnapshotOp): Promise<SnapshotReply> {
    switch (op.op) {
      case 'save-open':
        return this.saveOpen();
      case 'save-next':
        return this.saveNext(op.id);
      case 'save-close': {
        const s = this.sessions.get(op.id);
        if (s !== undefined) await this.closeSession(s);
        return {};
      }
      case 'restore-open':
        return this.restoreOpen(op.force);
      case 'restore-chunk':
        return this.restoreChunk(op.id, op.data);
      case 'restore-finish':
        return this.restoreFinish(op.id);
      case 'restore-abort': {
        const s = this.sessions.get(op.id);
        if (s !== undefined) await this.closeSession(s);
        return {};
      }
    }
  }

  // ---- save -------------------------------------------------------------------------------------

  private storage(): StorageEnv {
    this.env ??= openStorageEnv(this.hooks.dataDir);
    return this.env;
  }

  private async saveOpen(): Promise<SnapshotReply> {
    const barrier = this.requireBarrier();
    await this.requireLeader();
    const st = await this.hooks.raft({ t: 'cluster-status' });
    const env = this.storage();
    env.root.resetReadTxn();
    const txn = env.root.useReadTransaction();
    try {
      const appliedBytes = env.meta.get('applied', { transaction: txn });
      const applied = appliedBytes === undefined ? { index: 0, term: 0 } : decodeRecord<{ index: number; term: number }>(appliedBytes, 'meta/applied');
      const kekBlob = env.fsm.get(SHAMIR_KEK_PATH, { transaction: txn });
      const kek = kekBlob !== undefined ? barrier.decrypt(SHAMIR_KEK_PATH, kekBlob) : null;
      const range = env.fsm.getRange({ transaction: txn }) as unknown as Iterable<{ key: string; value: Buffer }>;
      const s: SaveSession = {
        kind: 'save',
        id: randomUUID(),
        txn,
        iter: range[Symbol.iterator](),
        enc: new SnapshotEncoder(),
        headerSent: false,
        header: { format: 1, index: applied.index, term: applied.term, configuration: { voters: st.conf.voters, learners: st.conf.learners }, created_at: new Date().toISOString(), node_id: this.hooks.nodeId },
        kek,
        done: false,
        touched: Date.now(),
      };
      this.sessions.set(s.id, s);
      return { id: s.id, index: applied.index, term: applied.term };
    } catch (err) {
      txn.done();
      throw err;
    }
  }

  private async saveNext(id: string): Promise<SnapshotReply> {
    const s = this.sessions.get(id);
    if (s === undefined || s.kind !== 'save') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'unknown or expired snapshot session');
    s.touched = Date.now();
    const parts: Buffer[] = [];
    let size = 0;
    if (!s.headerSent) {
      const h = s.enc.header(s.header);
      parts.push(h);
      size += h.length;
      s.headerSent = true;
    }
    while (size < CHUNK_BYTES) {
      const n = s.iter.next();
      if (n.done === true) {
        const end = s.enc.end(s.kek);
        parts.push(end);
        size += end.length;
        s.done = true;
        break;
      }
      // Copied into the chunk at once: lmdb may reuse the value's memory on the next step.
      const p = s.enc.pair(n.value.key, n.value.value);
      parts.push(p);
      size += p.length;
    }
    const data = Buffer.concat(parts, size);
    const bytes = s.enc.bytes;
    if (s.done) await this.closeSession(s);
    return { data, done: s.done, bytes };
  }

  // ---- restore ----------------------------------------------------------------------------------

  private async restoreOpen(force: boolean): Promise<SnapshotReply> {
    this.requireBarrier();
    await this.requireLeader();
    if (this.restoring || [...this.sessions.values()].some((s) => s.kind === 'restore')) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'a snapshot restore is already in progress');
    const id = randomUUID();
    const path = join(this.hooks.dataDir, `snapshot-restore-${id}.part`);
    const fh = await open(path, 'w', 0o600);
    this.sessions.set(id, { kind: 'restore', id, path, fh, force, bytes: 0, touched: Date.now(), busy: false });
    return { id };
  }

  private async restoreChunk(id: string, data: Uint8Array): Promise<SnapshotReply> {
    const s = this.sessions.get(id);
    if (s === undefined || s.kind !== 'restore') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'unknown or expired snapshot session');
    s.touched = Date.now();
    s.bytes += data.length;
    if (s.bytes > RESTORE_BYTES_MAX) {
      await this.closeSession(s);
      throw new CofferError('COFFER_ERR_TOO_LARGE');
    }
    await s.fh.write(data);
    return { bytes: s.bytes };
  }

  private async restoreFinish(id: string): Promise<SnapshotReply> {
    const s = this.sessions.get(id);
    if (s === undefined || s.kind !== 'restore') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'unknown or expired snapshot session');
    s.busy = true;
    this.restoring = true;
    try {
      await s.fh.sync();
      await s.fh.close();
      // 1. The whole file must be intact before anything changes.
      let verified;
      try {
        verified = await readSnapshotFile(s.path);
      } catch (err) {
        if (err instanceof SnapshotFormatError) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `invalid snapshot: ${err.message}`);
        throw err;
      }
      // 2. Same unseal keys (unless forced): the sealed digest opens under this cluster's KEK.
      if (!s.force) {
        const barrier = this.requireBarrier();
        const kekBlob = this.hooks.readPhysical(SHAMIR_KEK_PATH);
        const kek = kekBlob !== undefined ? barrier.decrypt(SHAMIR_KEK_PATH, kekBlob) : null;
        const sealed = verified.trailer.sealed_sha256;
        const ok = kek !== null && typeof sealed === 'string' && verifySealedDigest(kek, Buffer.from(sealed, 'base64'), verified.digest);
        kek?.fill(0);
        if (!ok) {
          throw new CofferError(
            'COFFER_ERR_INVALID_REQUEST',
            'could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check',
          );
        }
      }
      await this.requireLeader();
      // 3. Through Raft: the leader installs it as its snapshot, followers by InstallSnapshot.
      const r = await this.hooks.raft({ t: 'snapshot-restore', path: s.path, timeoutMs: RESTORE_TIMEOUT_MS }, RESTORE_TIMEOUT_MS + 5_000);
      // 4. The barrier in memory belongs to the replaced data: seal (unseal with the snapshot's keys).
      this.hooks.refresh();
      this.seenMarker = this.readMarker();
      this.hooks.seal('snapshot restored');
      return { restoredIndex: r.index, pairs: r.pairs };
    } finally {
      this.restoring = false;
      this.sessions.delete(s.id);
      await rm(s.path, { force: true }).catch(() => undefined);
    }
  }

  // ---- the restore marker -----------------------------------------------------------------------

  private readMarker(): string | null {
    const b = this.hooks.readPhysical(RESTORE_MARKER_KEY);
    return b === undefined ? null : b.toString('utf8');
  }

  private checkMarker(): void {
    if (this.hooks.barrier() === null || this.restoring) return;
    // The marker only changes with the FSM, and every FSM change moves the published applied index. Read
    // before the refresh: the snapshot renewed below then holds at least this index.
    const applied = this.hooks.raftView?.applied();
    if (applied !== undefined && applied === this.markerCheckedAt) return;
    try {
      this.hooks.refresh();
      this.markerCheckedAt = applied ?? null;
      const now = this.readMarker();
      if (now !== null && now !== this.seenMarker) {
        this.seenMarker = now;
        this.hooks.warn('a raft snapshot was restored on the cluster: sealing (unseal with the snapshot\'s keys)');
        this.hooks.seal('snapshot restored on the cluster');
      }
    } catch (err) {
      this.hooks.warn('snapshot: checking the restore marker failed', err);
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private reap(): void {
    const now = Date.now();
    for (const s of [...this.sessions.values()]) {
      if (now - s.touched > SESSION_IDLE_MS && !(s.kind === 'restore' && s.busy)) void this.closeSession(s);
    }
  }

  private async closeSession(s: SaveSession | RestoreSession): Promise<void> {
    if (!this.sessions.delete(s.id)) return;
    if (s.kind === 'save') {
      s.txn.done();
      s.kek?.fill(0);
      return;
    }
    await s.fh.close().catch(() => undefined);
    await rm(s.path, { force: true }).catch(() => undefined);
  }

  private requireBarrier(): Barrier {
    const b = this.hooks.barrier();
    if (b === null) throw new CofferError('COFFER_ERR_SEALED');
    return b;
  }

  private async requireLeader(): Promise<void> {
    const st = await this.hooks.raft({ t: 'cluster-status' });
    if (st.role !== 'leader') throw new CofferError('COFFER_ERR_NOT_LEADER', st.leader !== null ? `raft leader is ${st.leader}` : 'no raft leader known');
  }
}
