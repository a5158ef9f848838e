// The keyrings of the sealable namespaces this node has unsealed, and the unseal progress of each
// (docs/namespace-seals.md). Held by the core actor only in memory: a restart, or a seal of the whole
// node, seals every namespace again. Handler workers get copies with the root keyring (KeyringReply).
import { CofferError } from '../../runtime/errors.js';
import { Barrier } from '../barrier/barrier.js';
import { Keyring } from '../barrier/keyring.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import type { NamespaceEntry } from '../mounts/namespaces/model.js';
import { NamespaceIndex } from '../mounts/namespaces/namespace-index.js';
import { KEYRING_PATH, openKeyring, openKeyringWithRootKey, readSealConfig, rotateKeyring, type SealConfig } from '../barrier/seal.js';
import type { StorageOp } from '../storage/write-set.js';
import { UnsealProgress } from '../barrier/unseal-progress.js';
import type { SealStatus } from './messages.js';

/** sys/namespaces/:path/seal-status: the node seal status's first fields (OpenBao's). */
export type NamespaceSealStatus = Pick<SealStatus, 'type' | 'initialized' | 'sealed' | 't' | 'n' | 'progress' | 'nonce'>;

export class NamespaceSeals {
  private readonly keyrings = new Map<string, Keyring>();
  /** The stored `core/keyring` ciphertext each keyring was opened from: a rotation elsewhere changes it. */
  private readonly sources = new Map<string, Buffer>();
  private readonly progress = new Map<string, UnsealProgress>();

  /** readPhysical: a fresh read of a storage key; changed: the set of unsealed keyrings changed (bump the seal epoch). */
  constructor(
    private readonly readPhysical: (key: string) => Buffer | undefined,
    private readonly changed: () => void,
  ) {}

  status(uuid: string): NamespaceSealStatus {
    const cfg = this.config(uuid);
    const p = this.progress.get(uuid);
    return { type: 'shamir', initialized: true, sealed: !this.keyrings.has(uuid), t: cfg.secret_threshold, n: cfg.secret_shares, progress: p?.progress ?? 0, nonce: p?.nonce ?? '' };
  }

  async unseal(uuid: string, key: string | null, reset: boolean): Promise<NamespaceSealStatus> {
    const cfg = this.config(uuid);
    if (reset) {
      this.progress.get(uuid)?.reset();
      return this.status(uuid);
    }
    if (key === null || key === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'provided key is empty');
    if (this.keyrings.has(uuid)) return this.status(uuid);
    let progress = this.progress.get(uuid);
    if (progress === undefined || progress.threshold !== cfg.secret_threshold) {
      progress = new UnsealProgress(cfg);
      this.progress.set(uuid, progress);
    }
    const result = await progress.submit(key);
    if (result.kind === 'complete') {
      try {
        // A wrong set of shares fails here (the stored keys do not open): progress is already reset.
        this.install(uuid, openKeyring(result.kek, (k) => this.readPhysical(segment(uuid) + k)));
      } finally {
        result.kek.fill(0);
      }
      this.progress.delete(uuid);
      this.changed();
    }
    return this.status(uuid);
  }

  /** Forgets the keyrings (and unseal progress) of these namespaces. */
  seal(uuids: readonly string[]): void {
    let any = false;
    for (const uuid of uuids) {
      any = this.keyrings.delete(uuid) || any;
      this.sources.delete(uuid);
      this.progress.delete(uuid);
    }
    if (any) this.changed();
  }

  /**
   * A standby's key sync (docs/namespace-seals.md): forgets the keyrings of namespaces that are gone or were
   * sealed on purpose (`entries`: the namespace list), and answers the sealable namespaces whose keyrings
   * this node still needs from the active node.
   */
  syncPlan(entries: readonly NamespaceEntry[]): string[] {
    const wanted = syncable(entries);
    this.seal([...this.keyrings.keys()].filter((uuid) => !wanted.has(uuid)));
    this.reloadRotated();
    return [...wanted].filter((uuid) => !this.keyrings.has(uuid));
  }

  /**
   * A keyring rotated on the active node reaches this one through the log: the stored keyring no longer
   * is the one this node opened. Reopen it with the root key held here (a rotation keeps the root key).
   */
  private reloadRotated(): void {
    let any = false;
    for (const [uuid, ring] of this.keyrings) {
      const blob = this.readPhysical(segment(uuid) + KEYRING_PATH);
      if (blob === undefined || this.sources.get(uuid)?.equals(blob) === true) continue;
      try {
        this.keyrings.set(uuid, openKeyringWithRootKey(ring.rootKey, (k) => this.readPhysical(segment(uuid) + k)));
        this.sources.set(uuid, Buffer.from(blob));
        any = true;
      } catch {
        // Not openable with this root key: keep the current keyring until the active node's sync replaces it.
      }
    }
    if (any) this.changed();
  }

  /** sys/rotate in a sealable namespace: a new term of its keyring, written through `commit`, then used here. */
  async rotate(uuid: string, nowMs: number, commit: (ops: StorageOp[]) => Promise<unknown>): Promise<void> {
    const ring = this.keyrings.get(uuid);
    if (ring === undefined) throw new CofferError('COFFER_ERR_NAMESPACE_SEALED');
    const { keyring, physical } = rotateKeyring(ring, nowMs);
    await commit(physical.map((w) => ({ t: 'put', key: segment(uuid) + w.key, value: w.value })));
    this.install(uuid, keyring, physical.find((w) => w.key === KEYRING_PATH)?.value);
    this.changed();
  }

  /** sys/key-status in a sealable namespace: its keyring's active term. */
  keyStatus(uuid: string): { term: number; install_time: string; encryptions: number } {
    const ring = this.keyrings.get(uuid);
    if (ring === undefined) throw new CofferError('COFFER_ERR_NAMESPACE_SEALED');
    const active = ring.activeKey();
    return { term: active.term, install_time: new Date(active.installTimeMs).toISOString(), encryptions: active.encryptions };
  }

  /** `source`: the stored keyring it was opened from (default: read now). */
  private install(uuid: string, keyring: Keyring, source = this.readPhysical(segment(uuid) + KEYRING_PATH)): void {
    this.keyrings.set(uuid, keyring);
    if (source !== undefined) this.sources.set(uuid, Buffer.from(source));
  }

  /**
   * The active node's answer to a standby's key sync: each asked-for keyring held here, encrypted with the
   * root keyring (which every node of the cluster holds) under a path of its own.
   */
  exportKeys(root: Barrier, uuids: readonly string[]): [uuid: string, blob: string][] {
    const out: [string, string][] = [];
    for (const uuid of uuids) {
      const ring = this.keyrings.get(uuid);
      if (ring !== undefined) out.push([uuid, root.encrypt(transferPath(uuid), ring.toBytes()).toString('base64')]);
    }
    return out;
  }

  /** A standby installs keyrings from the active node, each checked against the namespace's stored keyring. */
  importKeys(root: Barrier, entries: readonly NamespaceEntry[], keys: readonly [string, string][]): number {
    const wanted = syncable(entries);
    let installed = 0;
    for (const [uuid, blob] of keys) {
      if (!wanted.has(uuid) || this.keyrings.has(uuid)) continue;
      const sent = Keyring.fromBytes(root.decrypt(transferPath(uuid), Buffer.from(blob, 'base64')));
      // The stored keyring, opened with the root key that came: a keyring that does not open it is refused.
      this.install(uuid, openKeyringWithRootKey(sent.rootKey, (k) => this.readPhysical(segment(uuid) + k)));
      this.progress.delete(uuid);
      installed++;
    }
    if (installed > 0) this.changed();
    return installed;
  }

  /** The whole node seals: every namespace with it. */
  sealAll(): void {
    const any = this.keyrings.size > 0;
    this.keyrings.clear();
    this.sources.clear();
    this.progress.clear();
    if (any) this.changed();
  }

  /** Copies for the handler workers (KeyringReply.namespaces). */
  keyringBytes(): [uuid: string, keyring: Uint8Array][] {
    return [...this.keyrings].map(([uuid, ring]) => [uuid, ring.toBytes()]);
  }

  /**
   * The node's barrier over every segment (sys/raw): the root keyring's, and the keyring of each sealable
   * namespace unsealed here. `entries` is the namespace list.
   */
  segmented(root: Barrier, entries: readonly NamespaceEntry[]): SegmentedBarrier {
    const owners = new NamespaceIndex(entries).sealOwnersBySegment();
    const unsealed = new Map([...this.keyrings].map(([uuid, ring]) => [uuid, new Barrier(ring)] as const));
    return new SegmentedBarrier(root, (uuid) => owners.get(uuid) ?? null, unsealed);
  }

  private config(uuid: string): SealConfig {
    const cfg = readSealConfig((k) => this.readPhysical(segment(uuid) + k));
    if (cfg === null) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'namespace is not sealable');
    return cfg;
  }
}

const segment = (uuid: string) => `namespaces/${uuid}/`;
/** The sealable namespaces whose keyrings nodes may hand each other: all but those sealed on purpose. */
const syncable = (entries: readonly NamespaceEntry[]) => new Set(entries.filter((e) => e.sealable === true && e.manually_sealed !== true).map((e) => e.uuid));
/** The associated data of a keyring in transit between nodes (never a storage key). */
const transferPath = (uuid: string) => `[internal]core/namespace-keys/${uuid}`;
