// The file audit device (OpenBao builtin/audit/file/backend.go; facts only, own code): options, and the
// sink that appends one JSON line per entry. Each handler worker holds its own descriptor opened with
// O_APPEND and writes a whole line with one write(2), so lines from several workers never interleave.
// Before each line the path is stat'ed: a file that was renamed or removed (log rotation, an operator
// replacing it) is reopened, and a path that can no longer be opened for writing (a directory now,
// permissions) makes the write fail, which the broker turns into a refused request (fail closed).
import { closeSync, fstatSync, mkdirSync, openSync, statSync, writeSync, chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface FileDeviceOptions {
  /** Absolute path, or "stdout" / "discard". */
  filePath: string;
  /** Permission bits for the file; 0 = leave the existing file's mode alone. */
  mode: number;
  prefix: string;
  logRaw: boolean;
  hmacAccessor: boolean;
  elideListResponses: boolean;
}

/** Go's strconv.ParseBool, with its error text. */
function parseGoBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** Validates a file device's options as OpenBao's factory does; throws with its messages. */
export function parseFileOptions(options: Record<string, string>): FileDeviceOptions {
  let filePath = options.file_path ?? options.path;
  if (filePath === undefined) throw new Error('file_path is required');
  if (filePath.toLowerCase() === 'stdout') filePath = 'stdout';
  else if (filePath.toLowerCase() === 'discard') filePath = 'discard';
  else if (filePath === '') throw new Error('file_path is required');
  else filePath = resolve(filePath);
  const format = options.format ?? 'json';
  if (format === 'jsonx') throw new Error('jsonx formatting has been removed, consider switching to json by omitting "format" or setting it to "json"');
  if (format !== 'json') throw new Error(`unknown format type ${JSON.stringify(format)}`);
  const hmacAccessor = options.hmac_accessor === undefined ? true : parseGoBool(options.hmac_accessor);
  const logRaw = options.log_raw === undefined ? false : parseGoBool(options.log_raw);
  const elideListResponses = options.elide_list_responses === undefined ? false : parseGoBool(options.elide_list_responses);
  let mode = 0o600;
  if (options.mode !== undefined) {
    if (!/^[0-7]+$/.test(options.mode)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(options.mode)}: invalid syntax`);
    const m = parseInt(options.mode, 8);
    if (m > 0o777) throw new Error('file mode does not represent a regular file');
    // Executable bits are stripped (HCSEC-2025-14: an audit file must never become a program).
    mode = m & ~0o111;
    if (m === 0) mode = 0;
  }
  const prefix = options.prefix ?? '';
  // Hardening beyond OpenBao: a prefix may not start new lines or carry control characters.
  if (/[\u0000-\u001f\u007f]/.test(prefix)) throw new Error('prefix may not contain control characters');
  return { filePath, mode, prefix, logRaw, hmacAccessor, elideListResponses };
}

export class FileSink {
  private fd: number | null = null;
  private ino = 0;
  private dev = 0;

  constructor(private readonly opts: Pick<FileDeviceOptions, 'filePath' | 'mode'>) {}

  /** Appends `line` (which ends with "\n") in one write; throws when it cannot. */
  write(line: string): void {
    const { filePath } = this.opts;
    if (filePath === 'discard') return;
    const buf = Buffer.from(line, 'utf8');
    if (filePath === 'stdout') return writeAll(1, buf);
    try {
      this.ensureOpen();
      writeAll(this.fd as number, buf);
    } catch {
      // As OpenBao: on a failed write, reopen once and try again; a second failure is the device's.
      this.close();
      this.ensureOpen();
      writeAll(this.fd as number, buf);
    }
  }

  /** Opens the file now (the enable-time sanity check); throws when it cannot be opened for writing. */
  open(): void {
    if (this.opts.filePath === 'stdout' || this.opts.filePath === 'discard') return;
    this.ensureOpen();
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = null;
    }
  }

  private ensureOpen(): void {
    const { filePath, mode } = this.opts;
    if (this.fd !== null) {
      let same = false;
      try {
        const st = statSync(filePath);
        same = st.ino === this.ino && st.dev === this.dev;
      } catch {
        same = false;
      }
      if (same) return;
      this.close();
    }
    mkdirSync(dirname(filePath), { recursive: true, mode: 0o700 });
    const fd = openSync(filePath, 'a', mode === 0 ? 0o600 : mode);
    try {
      const st = fstatSync(fd);
      if (mode !== 0 && filePath !== '/dev/null') chmodSync(filePath, mode);
      this.ino = st.ino;
      this.dev = st.dev;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
