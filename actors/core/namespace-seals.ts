// The keyrings of the sealable namespaces this node has unsealed, and the unseal progress of each
// (docs/namespace-seals.md). Held by the core actor only in memory: a restart, or a seal of the whole
// node, seals every namespace again. Handler workers get copies with the root keyring (KeyringReply).
import { CofferError } from '../../runtime/errors.js';
import { Barrier } from '../barrier/barrier.js';
import { Keyring } from '../barrier/keyring.js';
import { SegmentedBarrier } from '../barrier/segmented-barrier.js';
import { sealOwnersBySegment, type NamespaceEntry } from '../mounts/namespaces/model.js';
import { openKeyring, openKeyringWithRootKey, readSealConfig, type SealConfig } from '../barrier/seal.js';
import { UnsealProgress } from '../barrier/unseal-progress.js';
import type { SealStatus } from './messages.js';

/** sys/namespaces/:path/seal-status: the node seal status's first fields (OpenBao's). */
export type NamespaceSealStatus = Pick<SealStatus, 'type' | 'initialized' | 'sealed' | 't' | 'n' | 'progress' | 'nonce'>;

export class NamespaceSeals {
  private readonly keyrings = new Map<string, Keyring>();
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
        this.keyrings.set(uuid, openKeyring(result.kek, (k) => this.readPhysical(segment(uuid) + k)));
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
    const wanted = new Set(entries.filter((e) => e.sealable === true && e.manually_sealed !== true).map((e) => e.uuid));
    this.seal([...this.keyrings.keys()].filter((uuid) => !wanted.has(uuid)));
    return [...wanted].filter((uuid) => !this.keyrings.has(uuid));
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
    const wanted = new Set(entries.filter((e) => e.sealable === true && e.manually_sealed !== true).map((e) => e.uuid));
    let installed = 0;
    for (const [uuid, blob] of keys) {
      if (!wanted.has(uuid) || this.keyrings.has(uuid)) continue;
      const sent = Keyring.fromBytes(root.decrypt(transferPath(uuid), Buffer.from(blob, 'base64')));
      // The stored keyring, opened with the root key that came: a keyring that does not open it is refused.
      this.keyrings.set(uuid, openKeyringWithRootKey(sent.rootKey, (k) => this.readPhysical(segment(uuid) + k)));
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
    const owners = sealOwnersBySegment(entries);
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
/** The associated data of a keyring in transit between nodes (never a storage key). */
const transferPath = (uuid: string) => `[internal]core/namespace-keys/${uuid}`;
