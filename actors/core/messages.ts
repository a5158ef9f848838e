// The core actor's protocol: one tagged union in, one reply type per variant.
// The core actor owns the durable state of a node: the seal, the barrier keyring, the write path.
import type { CommitReply, Guard } from '../storage/guarded-commit.js';
import type { StorageOp } from '../storage/write-set.js';
import type { ForwardingInfo, LeaderInfo } from '../cluster/cluster.js';
import type { DrPromoted, DrStatus } from '../cluster/dr.js';
import type { NamespaceSealStatus } from './namespace-seals.js';
import type { SealConfig } from '../barrier/seal.js';
import type { GenerateRootStatus } from '../barrier/root-generation.js';
import type { RekeyStatus, RekeyUpdateResult, RekeyVerifyStatus } from '../barrier/rekey.js';
import type { RaftOpsReplies, RaftOpsRequest } from '../cluster/autopilot-core.js';
// It is fail-stop: if it dies, the node stops and recovery runs on restart.

/** What the HTTP front asks of the core. Tokens travel as presented; only the core resolves them. */
export type CoreRequest =
  | { t: 'seal-status' }
  | { t: 'init-status' }
  /** pgpKeys: one base64 binary public key per share (actors/barrier/pgp.ts), or none. */
  | { t: 'init'; secretShares: number; secretThreshold: number; hasRecoveryParams: boolean; pgpKeys: string[]; rootTokenPgpKey: string }
  | { t: 'unseal'; key: string | null; reset: boolean }
  | { t: 'seal'; token: string | null }
  | { t: 'health' }
  | { t: 'leader' }
  | { t: 'rotate'; token: string | null }
  /** sys/rotate/root (OpenBao): a new root key, same unseal key and shares. */
  | { t: 'rotate-root'; token: string | null }
  | { t: 'key-status'; token: string | null }
  /** sys/host-info: this node's CPUs, memory, data disk and host (actors/core/host-info.ts). */
  | { t: 'host-info'; token: string | null }
  /** sys/config/state/sanitized: the configuration this node runs with, nothing secret in it. */
  | { t: 'config-state'; token: string | null }
  | { t: 'raw'; token: string | null; op: 'read' | 'update' | 'delete' | 'list'; path: string; value: string | null }
  | { t: 'dev-setup'; rootTokenId: string | null }
  /** sys/generate-root (actors/barrier/root-generation.ts): unauthenticated, a quorum of shares is the proof. */
  | { t: 'generate-root-status' }
  | { t: 'generate-root-start'; otp: string; pgpKey: string }
  | { t: 'generate-root-cancel' }
  | { t: 'generate-root-update'; key: string; nonce: string }
  /** sys/rekey and sys/rekey/verify (actors/barrier/rekey.ts): unauthenticated like generate-root. */
  | { t: 'rekey-status' }
  | { t: 'rekey-start'; secretShares: number; secretThreshold: number; requireVerification: boolean; pgpKeys: string[]; backup: boolean }
  | { t: 'rekey-cancel' }
  | { t: 'rekey-update'; key: string; nonce: string }
  | { t: 'rekey-verify-status' }
  | { t: 'rekey-verify-update'; key: string; nonce: string }
  | { t: 'rekey-verify-restart' }
  | { t: 'route-miss'; token: string | null; path: string }
  /** A handler's write-set: committed only if every guard still holds (docs/concurrency.md). */
  | { t: 'commit'; ops: StorageOp[]; guards: Guard[] }
  /** A handler worker fetches the keyring when the seal epoch it holds is stale. */
  | { t: 'keyring' }
  /** Sealable namespaces (actors/core/namespace-seals.ts); asked by a handler worker on the active node. */
  | { t: 'ns-seal-status'; uuid: string }
  | { t: 'ns-unseal'; uuid: string; key: string | null; reset: boolean }
  | { t: 'ns-seal'; uuids: string[] }
  /** A standby's key sync (HaFront): what to fetch from the active node, the active node's export, the standby's import. */
  | { t: 'ns-sync-plan' }
  | { t: 'ns-rotate'; uuid: string }
  | { t: 'ns-key-status'; uuid: string }
  /** `requester`: the node id of the asking standby's certificate; only a current, unfenced member is answered. */
  | { t: 'ns-export'; uuids: string[]; requester: string }
  | { t: 'ns-import'; keys: [string, string][] }
  /** Encryptions a worker did under the keyring's terms since its last report (actors/barrier/encryption-reports.ts). */
  | { t: 'encryptions'; counts: [number, number][] }
  /** sys/rotate/keyring/config (and sys/rotate/config): automatic rotation of the barrier's data key (§5). */
  | { t: 'rotation-config'; token: string | null }
  | { t: 'rotation-config-write'; token: string | null; maxOperations: unknown; interval: unknown; enabled: unknown }
  // ---- Raft cluster and HA (actors/cluster) ----
  | { t: 'raft-join'; leaderApiAddr: string; retry: boolean; nonVoter: boolean; leaderCaCert: string | null }
  | { t: 'raft-challenge'; serverId: string }
  | { t: 'raft-answer'; serverId: string; answer: string; clusterAddr: string; apiAddr: string; nonVoter: boolean }
  | { t: 'raft-configuration'; token: string | null }
  | { t: 'raft-peer'; token: string | null; op: 'remove' | 'promote' | 'demote'; serverId: string }
  /** Disaster recovery on this node, never forwarded (actors/cluster/dr.ts). */
  | { t: 'raft-dr'; token: string | null; op: 'status' | 'promote' }
  | { t: 'step-down'; token: string | null }
  | { t: 'ha-status'; token: string | null }
  /** Raft snapshots (save/restore sessions) and autopilot (actors/cluster/autopilot-core.ts). */
  | RaftOpsRequest
  // ---- standby reads, forwarding, consistency (docs/ha-standby-reads.md) ----
  /** Where to forward to: the active node's forwarding address and this node's cluster TLS material. */
  | { t: 'forwarding' }
  /** The X-Vault-Index HMAC key (core/index-header-hmac-key), once replicated here. */
  | { t: 'index-key' };

export interface SealStatus {
  type: 'shamir';
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
  version: string;
  build_date: string;
  migration: boolean;
  recovery_seal: boolean;
  storage_type: string;
  cluster_name?: string;
  cluster_id?: string;
}

export interface InitResult {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}

export interface HealthInfo {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  server_time_utc: number;
  version: string;
  cluster_name?: string;
  cluster_id?: string;
}

/** GET sys/rotate/keyring/config, as Vault answers it (interval as a Go duration string, or 0). */
export interface RotationConfigView {
  max_operations: number;
  enabled: boolean;
  interval: string | 0;
}

export interface KeyStatus {
  term: number;
  install_time: string;
  encryptions: number;
}

export interface RawResult {
  /** null → 404 with empty errors (read of nothing, list with no keys). */
  data: Record<string, unknown> | null;
  /** true when the operation returns no body (204). */
  noContent: boolean;
}

export interface DevSetupResult {
  unsealKeyB64: string;
  rootToken: string;
}

/** Reply type by request variant, so callers get precise types from `ask`. */
export interface CoreReplies {
  'seal-status': SealStatus;
  'init-status': { initialized: boolean };
  init: InitResult;
  unseal: SealStatus;
  seal: null;
  health: HealthInfo;
  leader: LeaderInfo;
  'raft-join': { joined: boolean };
  'raft-challenge': { challenge: string; seal_config: SealConfig };
  'raft-answer': Record<string, unknown>;
  'raft-configuration': { config: { index: number; servers: { node_id: string; address: string; leader: boolean; protocol_version: string; voter: boolean }[] } };
  'raft-peer': null;
  'raft-dr': DrStatus | DrPromoted;
  'step-down': null;
  'ha-status': { nodes: Record<string, unknown>[] };
  snapshot: RaftOpsReplies['snapshot'];
  autopilot: RaftOpsReplies['autopilot'];
  rotate: null;
  'rotate-root': null;
  'key-status': KeyStatus;
  'host-info': Record<string, unknown>;
  'config-state': Record<string, unknown>;
  raw: RawResult;
  'dev-setup': DevSetupResult;
  'generate-root-status': GenerateRootStatus;
  'generate-root-start': GenerateRootStatus;
  'generate-root-cancel': null;
  'generate-root-update': GenerateRootStatus;
  'rekey-status': RekeyStatus;
  'rekey-start': RekeyStatus;
  'rekey-cancel': null;
  'rekey-update': RekeyStatus | RekeyUpdateResult;
  'rekey-verify-status': RekeyVerifyStatus;
  'rekey-verify-update': RekeyVerifyStatus | { nonce: string; complete: true };
  'rekey-verify-restart': RekeyVerifyStatus;
  'route-miss': never;
  commit: CommitReply;
  keyring: KeyringReply;
  'ns-seal-status': NamespaceSealStatus;
  'ns-unseal': NamespaceSealStatus;
  'ns-seal': null;
  'ns-sync-plan': { missing: string[] };
  'ns-rotate': null;
  'ns-key-status': KeyStatus;
  'ns-export': { keys: [string, string][] };
  'ns-import': { installed: number };
  encryptions: null;
  'rotation-config': RotationConfigView;
  'rotation-config-write': null;
  forwarding: ForwardingInfo;
  'index-key': { key: Uint8Array | null };
}

export type { CommitReply };

export interface KeyringReply {
  /** The seal epoch this keyring belongs to (see CoreOptions.sealEpoch). */
  epoch: number;
  /** Keyring bytes (Keyring.toBytes) while unsealed; null while sealed. */
  keyring: Uint8Array | null;
  /** The core/keyring ciphertext this keyring was opened from (a handler compares it with its snapshot). */
  source?: Uint8Array;
  /** The keyrings of the sealable namespaces this node has unsealed, by namespace uuid (docs/namespace-seals.md). */
  namespaces?: [uuid: string, keyring: Uint8Array][];
}

export type CoreReply = CoreReplies[keyof CoreReplies];
