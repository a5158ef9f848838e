// The storage view a handler sees: scoped to its mount's prefix, decrypting on read, buffering writes.
// Each key read is remembered with a hash of the ciphertext that was read (or "absent"); the commit
// refuses the write-set if any of them changed since (docs/concurrency.md), and the pipeline runs the
// request again on fresh state. Ciphertexts carry a random nonce, so a hash identifies one version.
import { versionHash, type Guard } from '../../storage/guarded-commit.js';
import type { StorageOp } from '../../storage/write-set.js';
import type { StorageView } from './types.js';

/** Physical storage as the handler worker reads it: ciphertext by full key. */
export interface PhysicalReader {
  get(key: string): Buffer | undefined;
  /** Vault list semantics over full keys. */
  list(prefix: string): string[];
}

export interface ValueCrypto {
  encrypt(path: string, plaintext: Uint8Array): Buffer;
  decrypt(path: string, blob: Uint8Array): Buffer;
  /**
   * Encrypts a value for `path` with the keyring that encrypts `viaPath` (SegmentedBarrier): the first
   * entries of a namespace created below a sealable one, which the committed namespace list does not name yet.
   */
  encryptVia?(viaPath: string, path: string, plaintext: Uint8Array): Buffer;
}

export interface WriteSetWithGuards {
  ops: StorageOp[];
  guards: Guard[];
}

export { versionHash, type Guard };

export class ScopedStorage implements StorageView {
  /**
   * The ciphertext first read per key (null = absent). Hashed only in writeSet(): most requests are
   * reads that never build a write-set, and a sha256 per key read was ~2% of a handler's KV read.
   * The blob is the reader's own copy (lmdb get copies; MemoryPhysical never mutates a stored value).
   */
  private readonly guards: Map<string, Buffer | null>;
  /** Pending writes by full key: plaintext, or null for a delete. Reads see them (read-your-writes). */
  private readonly pending: Map<string, Buffer | null>;
  /** Full keys whose pending value is stored as it is (putRaw): already encrypted, or plain seal config. */
  private readonly raw: Set<string>;
  /** Full keys to encrypt with the keyring of another key (putVia). */
  private readonly via: Map<string, string>;

  constructor(
    readonly prefix: string,
    private readonly physical: PhysicalReader,
    private readonly crypto: ValueCrypto,
    shared?: { guards: Map<string, Buffer | null>; pending: Map<string, Buffer | null>; raw: Set<string>; via: Map<string, string> },
  ) {
    this.guards = shared?.guards ?? new Map();
    this.pending = shared?.pending ?? new Map();
    this.raw = shared?.raw ?? new Set();
    this.via = shared?.via ?? new Map();
  }

  /**
   * A view of another prefix in the SAME write-set (shared buffer and guards). Only for built-in
   * stores whose one transaction spans areas: revoking a token also destroys its cubbyhole and its
   * leases (actors/expiration/revoke-token.ts), a wrapped response lands in a cubbyhole.
   */
  rebase(prefix: string): ScopedStorage {
    return new ScopedStorage(prefix, this.physical, this.crypto, { guards: this.guards, pending: this.pending, raw: this.raw, via: this.via });
  }

  private full(key: string): string {
    // The split only when '..' occurs at all: this runs for every storage access of every request.
    if (key.startsWith('/') || (key.includes('..') && key.split('/').includes('..'))) throw new Error(`storage key "${key}" escapes its mount`);
    return this.prefix + key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const full = this.full(key);
    if (this.raw.has(full)) throw new Error(`storage key "${key}" was written raw in this request`);
    if (this.pending.has(full)) return this.pending.get(full) ?? undefined;
    const blob = this.physical.get(full);
    if (!this.guards.has(full)) this.guards.set(full, blob ?? null);
    return blob === undefined ? undefined : this.crypto.decrypt(full, blob);
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw.toString('utf8')) as T);
  }

  async list(prefix: string): Promise<string[]> {
    const full = this.full(prefix);
    const names = new Set(this.physical.list(full));
    for (const [key, value] of this.pending) {
      if (!key.startsWith(full)) continue;
      const rest = key.slice(full.length);
      const slash = rest.indexOf('/');
      const name = slash >= 0 ? rest.slice(0, slash + 1) : rest;
      if (value !== null) names.add(name);
      else if (slash < 0) names.delete(name);
    }
    return [...names].sort();
  }

  put(key: string, value: Uint8Array): void {
    const full = this.full(key);
    this.raw.delete(full);
    this.via.delete(full);
    this.pending.set(full, Buffer.from(value));
  }

  putRaw(key: string, bytes: Uint8Array): void {
    const full = this.full(key);
    this.raw.add(full);
    this.pending.set(full, Buffer.from(bytes));
  }

  /** As putJson, encrypted with the keyring that encrypts `viaKey` (ValueCrypto.encryptVia). */
  putJsonVia(key: string, value: unknown, viaKey: string): void {
    this.put(key, Buffer.from(JSON.stringify(value)));
    this.via.set(this.full(key), this.full(viaKey));
  }

  putJson(key: string, value: unknown): void {
    this.put(key, Buffer.from(JSON.stringify(value)));
  }

  delete(key: string): void {
    const full = this.full(key);
    this.raw.delete(full);
    this.via.delete(full);
    this.pending.set(full, null);
  }

  get hasWrites(): boolean {
    return this.pending.size > 0;
  }

  /** The request's write-set, values encrypted under their full path, with the guards of what was read. */
  writeSet(): WriteSetWithGuards {
    const ops: StorageOp[] = [];
    for (const [key, value] of this.pending) {
      if (value === null) {
        ops.push({ t: 'delete', key });
        continue;
      }
      const via = this.via.get(key);
      const stored = this.raw.has(key) ? value : via !== undefined && this.crypto.encryptVia ? this.crypto.encryptVia(via, key, value) : this.crypto.encrypt(key, value);
      ops.push({ t: 'put', key, value: stored });
    }
    return { ops, guards: [...this.guards].map(([key, blob]) => ({ key, hash: versionHash(blob ?? undefined) })) };
  }
}

/** An in-memory physical store with identity-free test crypto, for backend unit tests. */
export class MemoryPhysical implements PhysicalReader {
  readonly data = new Map<string, Buffer>();
  get(key: string): Buffer | undefined {
    return this.data.get(key);
  }
  list(prefix: string): string[] {
    const out = new Set<string>();
    for (const key of this.data.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      out.add(slash >= 0 ? rest.slice(0, slash + 1) : rest);
    }
    return [...out].sort();
  }
  /** Applies a write-set if its guards still hold; returns the conflicting key otherwise. */
  commit(ws: WriteSetWithGuards): string | null {
    for (const g of ws.guards) if (versionHash(this.data.get(g.key)) !== g.hash) return g.key;
    for (const op of ws.ops) {
      if (op.t === 'put') this.data.set(op.key, Buffer.from(op.value));
      else this.data.delete(op.key);
    }
    return null;
  }
}

/**
 * Test crypto: a reversible, path-bound framing with a per-write counter, so every write yields a new
 * "ciphertext" (as real nonces do) and a value read under the wrong path is noticed.
 */
let testCounter = 0;
export const testCrypto: ValueCrypto = {
  encrypt: (path, plaintext) => {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(++testCounter));
    return Buffer.concat([Buffer.from(`${path}\0`), counter, Buffer.from(plaintext)]);
  },
  decrypt: (path, blob) => {
    const b = Buffer.from(blob);
    const head = Buffer.from(`${path}\0`);
    if (!b.subarray(0, head.length).equals(head)) throw new Error(`value read under the wrong path: ${path}`);
    return b.subarray(head.length + 8);
  },
};
