// sys/rekey (API.md §5): new unseal-key shares (and a new root key) from a quorum of the current ones,
// optionally confirmed by a quorum of the new ones before they take effect. State machine only, without
// storage or HTTP; facts from OpenBao's rekey.go and http/sys_rekey.go (own code):
// - one rekey at a time, with a nonce; shares of the current key are collected like generate-root's (a
//   repeat is an error); at the threshold they are combined and progress resets whatever the outcome;
// - without verification the new key takes effect at once; with `require_verification` the new shares are
//   handed out first and take effect only once a quorum of them, sent to sys/rekey/verify with the
//   verification nonce, combines to the new key. Until then the current shares stay the valid ones;
// - with `pgp_keys` (one per new share) each new share is handed out encrypted to its operator's key (pgp.ts);
//   their backup copy in storage (`backup`) is not supported.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { CofferError } from '../../runtime/errors.js';
import { validateSealConfig, type SealConfig } from './seal.js';
import { UnsealProgress } from './unseal-progress.js';

export interface RekeyStatus {
  nonce: string;
  started: boolean;
  t: number;
  n: number;
  progress: number;
  required: number;
  pgp_fingerprints: string[] | null;
  backup: false;
  verification_required: boolean;
  verification_nonce?: string;
}

export interface RekeyUpdateResult {
  nonce: string;
  complete: true;
  keys: string[];
  keys_base64: string[];
  pgp_fingerprints: string[] | null;
  backup: false;
  verification_required: boolean;
  verification_nonce?: string;
}

export interface RekeyVerifyStatus {
  nonce: string;
  started: boolean;
  t: number;
  n: number;
  progress: number;
}

/** The new unseal key and its shares, made when the current shares were accepted. */
export interface NewUnsealKey {
  shares: Buffer[];
  kek: Buffer;
}

interface PendingVerification {
  key: NewUnsealKey;
  nonce: string;
  shares: UnsealProgress;
}

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

export function idleRekeyStatus(current: SealConfig): RekeyStatus {
  return { nonce: '', started: false, t: 0, n: 0, progress: 0, required: current.secret_threshold, pgp_fingerprints: null, backup: false, verification_required: false };
}

export class RekeyAttempt {
  readonly nonce = randomUUID();
  readonly next: SealConfig;
  readonly verificationRequired: boolean;
  /** One PGP key per new share, or none (then the shares are handed out as they are). */
  readonly pgpKeys: string[];
  readonly #fingerprints: string[] | null;
  readonly #current: SealConfig;
  readonly #shares: UnsealProgress;
  /** Set once the current shares were accepted and verification is required. */
  #pending: PendingVerification | null = null;

  constructor(current: SealConfig, opts: { secretShares: number; secretThreshold: number; requireVerification: boolean; pgpKeys: string[]; pgpFingerprints: string[]; backup: boolean }) {
    if (opts.backup) throw invalid('key backup is not supported by this server');
    if (opts.secretThreshold > opts.secretShares) throw invalid('provided threshold greater than the total shares');
    const bad = validateSealConfig(opts.secretShares, opts.secretThreshold);
    if (bad !== null) throw invalid(bad.replace('invalid seal configuration: ', 'invalid rekey seal configuration: '));
    if (opts.pgpKeys.length > 0 && opts.pgpKeys.length !== opts.secretShares) throw invalid('count mismatch between number of provided PGP keys and number of shares');
    this.pgpKeys = opts.pgpKeys;
    this.#fingerprints = opts.pgpKeys.length > 0 ? opts.pgpFingerprints : null;
    this.#current = current;
    this.next = { type: 'shamir', secret_shares: opts.secretShares, secret_threshold: opts.secretThreshold };
    this.verificationRequired = opts.requireVerification;
    this.#shares = new UnsealProgress(current);
  }

  get verificationNonce(): string | null {
    return this.#pending?.nonce ?? null;
  }

  status(): RekeyStatus {
    const s: RekeyStatus = {
      nonce: this.nonce,
      started: true,
      t: this.next.secret_threshold,
      n: this.next.secret_shares,
      progress: this.#shares.progress,
      required: this.#current.secret_threshold,
      pgp_fingerprints: this.#fingerprints,
      backup: false,
      verification_required: this.verificationRequired,
    };
    if (this.#pending) s.verification_nonce = this.#pending.nonce;
    return s;
  }

  /** One current share; the combined current unseal key (KEK) at the threshold, else null. */
  async submit(keyText: string, nonce: string): Promise<Buffer | null> {
    if (this.#pending) throw invalid(`rekey operation already finished; verification must be performed; nonce for the verification operation is "${this.#pending.nonce}"`);
    if (nonce !== this.nonce) throw invalid(`incorrect nonce supplied; nonce for this rekey operation is "${this.nonce}"`);
    return this.#shares.submitDistinct(keyText, 'generation');
  }

  /** The answer to the share that completed the rekey; with verification, the new shares wait for it. */
  /** `handedOut`: the new shares as they leave the server (PGP-encrypted when pgp_keys were given). */
  completed(key: NewUnsealKey, handedOut: Buffer[]): RekeyUpdateResult {
    const result: RekeyUpdateResult = {
      nonce: this.nonce,
      complete: true,
      keys: handedOut.map((s) => s.toString('hex')),
      keys_base64: handedOut.map((s) => s.toString('base64')),
      pgp_fingerprints: this.#fingerprints,
      backup: false,
      verification_required: this.verificationRequired,
    };
    if (this.verificationRequired) {
      this.#pending = { key, nonce: randomUUID(), shares: new UnsealProgress(this.next) };
      result.verification_nonce = this.#pending.nonce;
    }
    return result;
  }

  verifyStatus(): RekeyVerifyStatus {
    const p = this.#requirePending();
    return { nonce: p.nonce, started: true, t: this.next.secret_threshold, n: this.next.secret_shares, progress: p.shares.progress };
  }

  /** Starts the verification over: progress dropped, a new verification nonce (sys/rekey/verify DELETE). */
  restartVerification(): RekeyVerifyStatus {
    const p = this.#requirePending();
    p.shares.reset();
    this.#pending = { ...p, nonce: randomUUID() };
    return this.verifyStatus();
  }

  /** One new share; the new key once a quorum of new shares combines to it, else null. */
  async verify(keyText: string, nonce: string): Promise<NewUnsealKey | null> {
    const p = this.#requirePending();
    if (nonce !== p.nonce) throw invalid(`incorrect nonce supplied; nonce for this verify operation is "${p.nonce}"`);
    const kek = await p.shares.submitDistinct(keyText, 'verify');
    if (kek === null) return null;
    const ok = kek.length === p.key.kek.length && timingSafeEqual(kek, p.key.kek);
    kek.fill(0);
    if (!ok) throw invalid('failed to verify key: the new shares do not combine to the new key');
    return p.key;
  }

  #requirePending(): PendingVerification {
    if (!this.verificationRequired) throw invalid('no rekey verification is in progress: this rekey does not require verification');
    if (!this.#pending) throw invalid('no rekey verification is in progress: the rekey itself has not finished');
    return this.#pending;
  }

  /** Zeroes what the attempt holds (shares of the new key, the new KEK). */
  discard(): void {
    this.#shares.reset();
    if (this.#pending) {
      this.#pending.shares.reset();
      this.#pending.key.kek.fill(0);
      for (const s of this.#pending.key.shares) s.fill(0);
    }
    this.#pending = null;
  }
}
