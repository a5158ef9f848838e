// Raft snapshot images as files (<dataDir>/raft-snapshot/<index>-<term>.img), written and read as streams.
// The bytes are the format the core sends in InstallSnapshot chunks and followers decode:
// msgpack {kv: [key0, value0, key1, value1, ...]} in key order (runtime/codec decodes it whole).
// Why files and streams (issue #8): the image used to be built as one buffer (plus a JS array of every
// pair, plus msgpackr's retained encode buffer), copied into a CRC record in the `hard` db, and held by
// the core for as long as it was the latest snapshot, i.e. for ever on a single node. At 100k KV secrets
// that was ~60 MB per copy and several copies. Here one pair at a time passes through a 1 MiB buffer, the
// core gets an ImageFile (reads a chunk from the file when a follower needs it), and restore parses the
// image pair by pair. An image that is not in the streaming shape (some other msgpack encoding of the
// same value) is decoded whole, as before.
import { closeSync, fstatSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { assert } from '../../runtime/assert.js';
import { decode } from '../../runtime/codec.js';
import type { Transaction } from 'lmdb';
import type { StorageEnv } from './env.js';
import { crc32 } from './crc32.js';
import { encodeRecord } from './records.js';

const fsyncAsync = promisify(fsync);

/** Directory of the image files, beside the LMDB file. */
export const IMAGE_DIR = 'raft-snapshot';
/** Bytes written or read per system call. */
const IO_CHUNK = 1024 * 1024;
/** fixmap(1), fixstr "kv", then an array32 header (count patched in once known). */
const HEAD = Buffer.from([0x81, 0xa2, 0x6b, 0x76, 0xdd, 0, 0, 0, 0]);
const COUNT_AT = 5;

/** What the `hard` db records about the current image file (the file is fsynced before this is written). */
export interface ImageFileRecord {
  file: string;
  bytes: number;
  crc32: number;
}

export function imageDir(dataDir: string): string {
  return join(dataDir, IMAGE_DIR);
}

export function imageFileName(index: number, term: number): string {
  return `${index}-${term}.img`;
}

/**
 * The image file as the Uint8Array the core holds as its snapshot's data. The core reads only `length`
 * and `slice(start, end)` of it (leader.ts sendSnapChunk: one chunk per InstallSnapshot message), so the
 * whole image never has to be in memory. It keeps its own file descriptor: the file may be renamed or
 * unlinked (a newer snapshot replaced it) while the core still holds it. The descriptor is closed by
 * close() or, failing that, when the object is collected.
 */
export class ImageFile extends Uint8Array {
  /** Where the file is (updated when a freshly written image is renamed from its temporary name). */
  path: string;
  readonly bytes: number;
  private fd: number | null;

  private static readonly closer = new FinalizationRegistry<number>((fd) => {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  });

  private constructor(path: string, fd: number, bytes: number) {
    super(0);
    this.path = path;
    this.fd = fd;
    this.bytes = bytes;
    // `length` is an accessor of %TypedArray%.prototype; an own property shadows it for this object only.
    Object.defineProperty(this, 'length', { value: bytes, enumerable: false });
    ImageFile.closer.register(this, fd, this);
  }

  /** Opens an image file; with `crc32`, checks size and checksum first (a corrupt image never reaches a follower). */
  static open(path: string, expect?: { bytes: number; crc32: number }): ImageFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new Error(`snapshot image ${path} is missing: the raft-snapshot record in the hard db names it (data dir damaged?)`);
    }
    try {
      const bytes = fstatSync(fd).size;
      if (expect !== undefined) {
        assert(bytes === expect.bytes, `snapshot image ${path}: ${bytes} bytes, the record says ${expect.bytes} (corrupt or truncated)`);
        const crc = crcOfFile(fd, bytes);
        assert(crc === expect.crc32, `snapshot image ${path}: checksum mismatch, the file is corrupt`);
      }
      return new ImageFile(path, fd, bytes);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  override slice(start = 0, end: number = this.bytes): Uint8Array<ArrayBuffer> {
    const from = clampIndex(start, this.bytes);
    const to = Math.max(from, clampIndex(end, this.bytes));
    const out = Buffer.allocUnsafe(to - from);
    this.readInto(out, from);
    return out;
  }

  /** Views would alias an empty buffer: refused, so a new use by the core fails loudly instead of reading zeros. */
  override subarray(_begin?: number, _end?: number): never {
    throw new Error('ImageFile: subarray is not supported (use slice)');
  }

  /** Copies [position, position + out.length) of the file into `out`. */
  readInto(out: Uint8Array, position: number): void {
    assert(this.fd !== null, `snapshot image ${this.path} is closed`);
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, position + done);
      assert(n > 0, `snapshot image ${this.path}: short read at ${position + done} of ${this.bytes}`);
      done += n;
    }
  }

  close(): void {
    if (this.fd === null) return;
    ImageFile.closer.unregister(this);
    closeSync(this.fd);
    this.fd = null;
  }
}

function clampIndex(i: number, size: number): number {
  const n = Math.trunc(i);
  return n < 0 ? Math.max(0, size + n) : Math.min(n, size);
}

/** Buffered, synchronous appends to a new file. */
class FileWriter {
  readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(IO_CHUNK);
  private used = 0;
  written = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w+', 0o600);
  }

  write(bytes: Uint8Array): void {
    if (bytes.length > this.buf.length - this.used) this.flush();
    if (bytes.length >= this.buf.length) {
      writeAll(this.fd, bytes, this.written);
      this.written += bytes.length;
      return;
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.used), this.written);
    this.written += this.used;
    this.used = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** A msgpack length prefix in its 8-, 16- or 32-bit form (`tags`: the three type bytes of str or bin). */
function lengthHeader(n: number, tags: readonly [number, number, number]): Buffer {
  if (n < 0x100) return Buffer.from([tags[0], n]);
  const b = Buffer.allocUnsafe(n < 0x10000 ? 3 : 5);
  if (n < 0x10000) {
    b[0] = tags[1];
    b.writeUInt16BE(n, 1);
  } else {
    b[0] = tags[2];
    b.writeUInt32BE(n, 1);
  }
  return b;
}

const STR_TAGS = [0xd9, 0xda, 0xdb] as const;
const BIN_TAGS = [0xc4, 0xc5, 0xc6] as const;
const strHeader = (n: number): Buffer => (n < 32 ? Buffer.from([0xa0 | n]) : lengthHeader(n, STR_TAGS));
const binHeader = (n: number): Buffer => lengthHeader(n, BIN_TAGS);

export interface WrittenImage {
  /** The image, open on its final path (renamed from the temporary name once synced). */
  image: ImageFile;
  record: ImageFileRecord;
  pairs: number;
  /** Resolves once the file is durable under its final name (fsync, rename, directory fsync). */
  durable: Promise<void>;
}

/**
 * Between slices of a long write, the caller's chance to let other work run: returns a promise to await
 * (the writer yields, e.g. with setImmediate) or null to go on. Asked often; it decides by the clock.
 */
export type Pace = () => Promise<void> | null;

/** The caller gave up on an image mid-write (closing, or a newer snapshot was installed meanwhile). */
export class ImageWriteAborted extends Error {
  constructor() {
    super('snapshot image write abandoned');
  }
}

export interface FsmImageOptions {
  /** The read transaction to write from (pinned by the caller, so the image equals one FSM state). */
  txn?: Transaction;
  /** Yield points (see Pace); none: the whole image is written in one synchronous stretch. */
  pace?: Pace;
  /** Checked at every yield point: true abandons the write (ImageWriteAborted) and deletes the file. */
  aborted?: () => boolean;
}

/** Pairs between two calls of `pace` (a clock read per pair would cost more than the check saves). */
const PAIRS_PER_PACE_CHECK = 64;

/**
 * Writes the FSM as an image file: from `opts.txn` when given (the Raft host pins the snapshot of the
 * applied index it names, and writes while applies go on), else from this thread's current read snapshot
 * (the caller writes between applies). Only one pair at a time is in memory. With `opts.pace` the write
 * and its checksum pass yield to the event loop between slices, so the Raft thread keeps ticking,
 * answering and persisting while a large FSM is written (a 100k-secret image took the thread away for
 * ~1 s before, and every write of the cluster stalled that long at each compaction).
 * Resolves once the file is complete; `durable` resolves once it is fsynced under its final name.
 */
export async function writeFsmImage(env: StorageEnv, dataDir: string, index: number, term: number, opts: FsmImageOptions = {}): Promise<WrittenImage> {
  if (opts.txn === undefined) env.root.resetReadTxn();
  const { tmp, path } = imagePaths(dataDir, index, term);
  const w = new FileWriter(tmp);
  const checkpoint = async (): Promise<void> => {
    const wait = opts.pace?.();
    if (wait) await wait;
    if (opts.aborted?.()) throw new ImageWriteAborted();
  };
  try {
    w.write(HEAD);
    let items = 0;
    const range = env.fsm.getRange(opts.txn !== undefined ? { transaction: opts.txn } : {});
    for (const { key, value } of range) {
      assert(typeof key === 'string', 'fsm keys are strings');
      const k = Buffer.from(key, 'utf8');
      w.write(strHeader(k.length));
      w.write(k);
      w.write(binHeader(value.length));
      w.write(value);
      items += 2;
      if (opts.pace !== undefined && (items / 2) % PAIRS_PER_PACE_CHECK === 0) await checkpoint();
    }
    w.flush();
    const count = Buffer.allocUnsafe(4);
    count.writeUInt32BE(items, 0);
    writeAll(w.fd, count, COUNT_AT);
    const crc = await crcOfFilePaced(w.fd, w.written, opts.pace !== undefined ? checkpoint : null);
    return finish(w.fd, tmp, path, w.written, items / 2, crc);
  } catch (err) {
    closeSync(w.fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes an image received in memory (InstallSnapshot) as the image file of (index, term). */
export function writeImageBytes(dataDir: string, index: number, term: number, data: Uint8Array): WrittenImage {
  const { tmp, path } = imagePaths(dataDir, index, term);
  const fd = openSync(tmp, 'w+', 0o600);
  try {
    writeAll(fd, data, 0);
    return finish(fd, tmp, path, data.length, -1);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

function imagePaths(dataDir: string, index: number, term: number): { tmp: string; path: string } {
  const dir = imageDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, imageFileName(index, term));
  return { tmp: `${path}.tmp`, path };
}

function finish(writeFd: number, tmp: string, path: string, bytes: number, pairs: number, crc32: number = crcOfFile(writeFd, bytes)): WrittenImage {
  const image = ImageFile.open(tmp);
  assert(image.bytes === bytes, `snapshot image ${tmp}: wrote ${bytes} bytes, the file holds ${image.bytes}`);
  const durable = (async () => {
    try {
      await fsyncAsync(writeFd);
    } finally {
      closeSync(writeFd);
    }
    renameSync(tmp, path);
    image.path = path;
    syncDir(dirname(path));
  })();
  durable.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
  return { image, record: { file: basename(path), bytes, crc32 }, pairs, durable };
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Deletes image files (and leftovers of interrupted writes) other than `keep`. */
export function removeOtherImages(dataDir: string, keep: string | null): void {
  const dir = imageDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name !== keep) rmSync(join(dir, name), { force: true });
}

/** Encoded `hard` db value for an image file (the same versioned CRC record as the other hard records). */
export function encodeImageRecord(meta: unknown, file: ImageFileRecord): Buffer {
  return encodeRecord({ meta, file });
}

// ---- CRC-32 over a file ------------------------------------------------------------------------

function crcOfFile(fd: number, bytes: number): number {
  const buf = Buffer.allocUnsafe(Math.min(IO_CHUNK, Math.max(1, bytes)));
  const state = { at: 0, crc: 0 };
  while (state.at < bytes) crcNextChunk(fd, buf, bytes, state);
  return state.crc;
}

/** crcOfFile with a checkpoint (yield, abort check) after every chunk. */
async function crcOfFilePaced(fd: number, bytes: number, checkpoint: (() => Promise<void>) | null): Promise<number> {
  if (checkpoint === null) return crcOfFile(fd, bytes);
  const buf = Buffer.allocUnsafe(Math.min(IO_CHUNK, Math.max(1, bytes)));
  const state = { at: 0, crc: 0 };
  while (state.at < bytes) {
    crcNextChunk(fd, buf, bytes, state);
    await checkpoint();
  }
  return state.crc;
}

function crcNextChunk(fd: number, buf: Buffer, bytes: number, state: { at: number; crc: number }): void {
  const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - state.at), state.at);
  assert(n > 0, `short read at ${state.at} of ${bytes}`);
  state.crc = crc32(buf.subarray(0, n), state.crc);
  state.at += n;
}

// ---- reading an image pair by pair -------------------------------------------------------------

/** Sequential reads from an image (a file through a 1 MiB window, or bytes already in memory). */
class ImageReader {
  private window: Uint8Array;
  private windowAt = 0;
  private pos = 0;
  private readonly fileBuf: Buffer | null;

  constructor(private readonly src: Uint8Array) {
    if (src instanceof ImageFile) {
      this.fileBuf = Buffer.allocUnsafe(Math.min(IO_CHUNK, Math.max(1, src.bytes)));
      this.window = this.fileBuf.subarray(0, 0);
    } else {
      this.fileBuf = null;
      this.window = src;
    }
  }

  get remaining(): number {
    return this.src.length - (this.windowAt + this.pos);
  }

  /** The next n bytes; a view valid until the next call. Values longer than the window are read whole. */
  take(n: number): Uint8Array {
    assert(n <= this.remaining, 'snapshot image: truncated');
    if (this.pos + n <= this.window.length) {
      const out = this.window.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const file = this.src as ImageFile;
    const at = this.windowAt + this.pos;
    if (n > (this.fileBuf as Buffer).length) {
      const out = Buffer.allocUnsafe(n);
      file.readInto(out, at);
      this.windowAt = at + n;
      this.window = (this.fileBuf as Buffer).subarray(0, 0);
      this.pos = 0;
      return out;
    }
    const len = Math.min((this.fileBuf as Buffer).length, this.src.length - at);
    this.window = (this.fileBuf as Buffer).subarray(0, len);
    file.readInto(this.window, at);
    this.windowAt = at;
    this.pos = n;
    return this.window.subarray(0, n);
  }

  byte(): number {
    return this.take(1)[0] as number;
  }

  uint(bytes: 1 | 2 | 4): number {
    const b = this.take(bytes);
    return bytes === 1 ? (b[0] as number) : bytes === 2 ? ((b[0] as number) << 8) | (b[1] as number) : (((b[0] as number) << 24) >>> 0) + (((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number));
  }
}

/** Not the streaming shape: the caller decodes the image whole instead. */
class NotStreamable extends Error {}

function strLength(r: ImageReader, t: number): number {
  if ((t & 0xe0) === 0xa0) return t & 0x1f;
  if (t === 0xd9) return r.uint(1);
  if (t === 0xda) return r.uint(2);
  if (t === 0xdb) return r.uint(4);
  throw new NotStreamable();
}

function binLength(r: ImageReader, t: number): number {
  if (t === 0xc4) return r.uint(1);
  if (t === 0xc5) return r.uint(2);
  if (t === 0xc6) return r.uint(4);
  throw new NotStreamable();
}

/**
 * Calls `pair` for every (key, value) of the image, in order. `value` is a view valid only during the
 * call (copy it to keep it). An image in another msgpack shape is decoded whole (memory as before).
 */
export function forEachImagePair(image: Uint8Array, pair: (key: string, value: Uint8Array) => void): number {
  const r = new ImageReader(image);
  let count: number;
  try {
    // One-entry map: fixmap as written here, map16 as msgpackr writes it (buildRestoreImage).
    const head = r.byte();
    const entries = head === 0x81 ? 1 : head === 0xde ? r.uint(2) : head === 0xdf ? r.uint(4) : -1;
    if (entries !== 1) throw new NotStreamable();
    const klen = strLength(r, r.byte());
    if (Buffer.from(r.take(klen)).toString('utf8') !== 'kv') throw new NotStreamable();
    const t = r.byte();
    count = (t & 0xf0) === 0x90 ? t & 0x0f : t === 0xdc ? r.uint(2) : t === 0xdd ? r.uint(4) : -1;
    if (count < 0) throw new NotStreamable();
  } catch (err) {
    if (!(err instanceof NotStreamable)) throw err;
    return forEachDecoded(image, pair);
  }
  assert(count % 2 === 0, 'snapshot image: malformed (odd number of items)');
  // Past the header, anything but str/bin pairs is a malformed image: nothing else writes one.
  for (let i = 0; i < count; i += 2) {
    let key: string;
    let value: Uint8Array;
    try {
      const k = r.take(strLength(r, r.byte()));
      key = Buffer.from(k.buffer, k.byteOffset, k.length).toString('utf8');
      value = r.take(binLength(r, r.byte()));
    } catch (err) {
      if (err instanceof NotStreamable) throw new Error('snapshot image: bad pair');
      throw err;
    }
    pair(key, value);
  }
  assert(r.remaining === 0, `snapshot image: ${r.remaining} bytes after the last pair`);
  return count / 2;
}

function forEachDecoded(image: Uint8Array, pair: (key: string, value: Uint8Array) => void): number {
  const bytes = image instanceof ImageFile ? image.slice(0, image.length) : image;
  const { kv } = decode<{ kv: (string | Uint8Array)[] }>(bytes);
  assert(Array.isArray(kv) && kv.length % 2 === 0, 'snapshot image: malformed');
  for (let i = 0; i < kv.length; i += 2) {
    const key = kv[i];
    const value = kv[i + 1];
    assert(typeof key === 'string' && value instanceof Uint8Array, 'snapshot image: bad pair');
    pair(key, value);
  }
  return kv.length / 2;
}
