// The snapshot file format of `GET/POST sys/storage/raft/snapshot` (docs/snapshots-autopilot.md).
// Written as a stream (one FSM pair at a time, never the whole FSM in one buffer) and read back as a
// stream from a file; the SHA-256 over everything up to and including the end record is checked before
// anything is restored.
//
//   "CFSNAP01"                                      8 bytes magic
//   u32 BE n, JSON header (n bytes)                 {format, index, term, configuration, created_at, ...}
//   repeated: 'P' u32 klen key(utf8) u32 vlen value  one FSM pair (value = barrier ciphertext, opaque)
//   'E' u32 pairs                                   end record (pair count)
//   32 bytes SHA-256 of all the bytes above
//   u32 BE n, JSON trailer (n bytes)                {sealed_sha256: base64 | null}
//
// `sealed_sha256` is the SHA-256 sealed (AES-256-GCM) under the cluster's unseal key (KEK): a cluster
// with other unseal keys cannot open it, which is how a restore tells "same keys" from "other keys"
// (Vault's SHA256SUMS.sealed). The sums are not secret; the FSM values stay barrier ciphertext.
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

export const SNAPSHOT_MAGIC = Buffer.from('CFSNAP01', 'latin1');
const TAG_PAIR = 0x50; // 'P'
const TAG_END = 0x45; // 'E'
const SEAL_AAD = Buffer.from('coffer-snapshot-sha256');
/** Upper bounds while reading (a corrupted length must not allocate gigabytes). */
const HEADER_BYTES_MAX = 1024 * 1024;
const KEY_BYTES_MAX = 64 * 1024;
const VALUE_BYTES_MAX = 64 * 1024 * 1024;

export interface SnapshotHeader {
  format: 1;
  /** The FSM's applied index and term the snapshot was read at (one LMDB read transaction). */
  index: number;
  term: number;
  /** The Raft configuration at the time of the save. */
  configuration: { voters: string[]; learners: string[] };
  created_at: string;
  node_id: string;
}

export interface SnapshotTrailer {
  sealed_sha256: string | null;
}

/** A clear, user-facing refusal (the front answers 400 with this text). */
export class SnapshotFormatError extends Error {}

/** Produces the snapshot bytes piece by piece and keeps the running SHA-256. */
export class SnapshotEncoder {
  private readonly hash: Hash = createHash('sha256');
  private pairs = 0;
  bytes = 0;

  header(h: SnapshotHeader): Buffer {
    const json = Buffer.from(JSON.stringify(h), 'utf8');
    return this.out(Buffer.concat([SNAPSHOT_MAGIC, u32(json.length), json]));
  }

  pair(key: string, value: Uint8Array): Buffer {
    const k = Buffer.from(key, 'utf8');
    const out = Buffer.allocUnsafe(1 + 4 + k.length + 4 + value.length);
    out[0] = TAG_PAIR;
    out.writeUInt32BE(k.length, 1);
    k.copy(out, 5);
    out.writeUInt32BE(value.length, 5 + k.length);
    out.set(value, 9 + k.length);
    this.pairs++;
    return this.out(out);
  }

  /** The end record, the digest and the trailer; `kek` (the unseal key) seals the digest. */
  end(kek: Buffer | null): Buffer {
    const endRec = Buffer.allocUnsafe(5);
    endRec[0] = TAG_END;
    endRec.writeUInt32BE(this.pairs, 1);
    this.hash.update(endRec);
    const digest = this.hash.digest();
    const trailer: SnapshotTrailer = { sealed_sha256: kek !== null ? sealDigest(kek, digest).toString('base64') : null };
    const json = Buffer.from(JSON.stringify(trailer), 'utf8');
    const out = Buffer.concat([endRec, digest, u32(json.length), json]);
    this.bytes += out.length;
    return out;
  }

  get pairCount(): number {
    return this.pairs;
  }

  private out(b: Buffer): Buffer {
    this.hash.update(b);
    this.bytes += b.length;
    return b;
  }
}

export function sealDigest(kek: Buffer, digest: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
  c.setAAD(SEAL_AAD);
  const ct = Buffer.concat([c.update(digest), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

/** True when `sealed` opens under `kek` to exactly `digest`. */
export function verifySealedDigest(kek: Buffer, sealed: Buffer, digest: Buffer): boolean {
  if (kek.length !== 32 || sealed.length !== 12 + 32 + 16) return false;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(SEAL_AAD);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
    return plain.equals(digest);
  } catch {
    return false;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Buffered sequential reads of a file (async, bounded memory). */
class FileReader {
  private buf = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  offset = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly chunk = 1024 * 1024,
  ) {}

  async read(n: number, what: string): Promise<Buffer> {
    while (this.buf.length - this.pos < n && !this.eof) {
      const next = Buffer.allocUnsafe(Math.max(this.chunk, n));
      const { bytesRead } = await this.fh.read(next, 0, next.length, null);
      if (bytesRead === 0) this.eof = true;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), next.subarray(0, bytesRead)]);
      this.pos = 0;
    }
    if (this.buf.length - this.pos < n) throw new SnapshotFormatError(`snapshot is truncated (at byte ${this.offset}, reading ${what})`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  async atEnd(): Promise<boolean> {
    if (this.buf.length - this.pos > 0) return false;
    if (this.eof) return true;
    const next = Buffer.allocUnsafe(1);
    const { bytesRead } = await this.fh.read(next, 0, 1, null);
    if (bytesRead === 0) {
      this.eof = true;
      return true;
    }
    this.buf = next;
    this.pos = 0;
    return false;
  }
}

export interface ReadSnapshotResult {
  header: SnapshotHeader;
  trailer: SnapshotTrailer;
  pairs: number;
  digest: Buffer;
  bytes: number;
}

/**
 * Reads a snapshot file as a stream, checking its structure and its SHA-256. `onPair` sees every pair
 * (a copy) in file order; a caller that must not act on unverified data collects first and acts only
 * after this resolves. Throws SnapshotFormatError with a clear message on any damage.
 */
export async function readSnapshotFile(path: string, onPair?: (key: string, value: Buffer) => void): Promise<ReadSnapshotResult> {
  const fh = await open(path, 'r');
  try {
    const r = new FileReader(fh);
    const hash = createHash('sha256');
    const take = async (n: number, what: string): Promise<Buffer> => {
      const b = await r.read(n, what);
      hash.update(b);
      return b;
    };
    const magic = await take(SNAPSHOT_MAGIC.length, 'the magic');
    if (!magic.equals(SNAPSHOT_MAGIC)) throw new SnapshotFormatError('not a Coffer snapshot (bad magic bytes)');
    const hlen = (await take(4, 'the header length')).readUInt32BE(0);
    if (hlen > HEADER_BYTES_MAX) throw new SnapshotFormatError('snapshot header is corrupted (length)');
    let header: SnapshotHeader;
    try {
      header = JSON.parse((await take(hlen, 'the header')).toString('utf8')) as SnapshotHeader;
    } catch (err) {
      if (err instanceof SnapshotFormatError) throw err;
      throw new SnapshotFormatError('snapshot header is corrupted (not JSON)');
    }
    if (header.format !== 1 || !Number.isSafeInteger(header.index) || !Number.isSafeInteger(header.term)) throw new SnapshotFormatError('snapshot header is corrupted or of an unknown format');
    let pairs = 0;
    for (;;) {
      const tag = (await take(1, 'a record tag'))[0];
      if (tag === TAG_END) break;
      if (tag !== TAG_PAIR) throw new SnapshotFormatError(`snapshot is corrupted (bad record tag at byte ${r.offset - 1})`);
      const klen = (await take(4, 'a key length')).readUInt32BE(0);
      if (klen === 0 || klen > KEY_BYTES_MAX) throw new SnapshotFormatError(`snapshot is corrupted (bad key length at byte ${r.offset - 4})`);
      const key = (await take(klen, 'a key')).toString('utf8');
      const vlen = (await take(4, 'a value length')).readUInt32BE(0);
      if (vlen > VALUE_BYTES_MAX) throw new SnapshotFormatError(`snapshot is corrupted (bad value length at byte ${r.offset - 4})`);
      const value = await take(vlen, 'a value');
      pairs++;
      onPair?.(key, Buffer.from(value));
    }
    const count = (await take(4, 'the pair count')).readUInt32BE(0);
    const digest = hash.digest();
    const stored = await r.read(32, 'the SHA-256');
    if (!stored.equals(digest)) throw new SnapshotFormatError('snapshot integrity check failed: SHA-256 mismatch (the file is corrupted)');
    if (count !== pairs) throw new SnapshotFormatError('snapshot is corrupted (pair count mismatch)');
    const tlen = (await r.read(4, 'the trailer length')).readUInt32BE(0);
    if (tlen > HEADER_BYTES_MAX) throw new SnapshotFormatError('snapshot trailer is corrupted');
    let trailer: SnapshotTrailer;
    try {
      trailer = JSON.parse((await r.read(tlen, 'the trailer')).toString('utf8')) as SnapshotTrailer;
    } catch (err) {
      if (err instanceof SnapshotFormatError) throw err;
      throw new SnapshotFormatError('snapshot trailer is corrupted (not JSON)');
    }
    if (!(await r.atEnd())) throw new SnapshotFormatError('snapshot has trailing bytes after its end');
    return { header, trailer, pairs, digest, bytes: r.offset };
  } finally {
    await fh.close();
  }
}
