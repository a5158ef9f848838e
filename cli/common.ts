// Shared plumbing of the client commands: the token (env, then ~/.coffer-token, then ~/.vault-token),
// the output format, Vault-style errors and exit codes (1 local, 2 returned by the server).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import { ApiError, Client, type ResponseRecord } from '../sdk/client.js';

/** An error the CLI prints as `Error ...` and exits with `exitCode` (1 local, 2 from the server). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** Where `coffer login` stores the token, and the files read when no token is in the environment. */
export function tokenFiles(): { write: string; read: string[] } {
  const home = homedir();
  return { write: join(home, '.coffer-token'), read: [join(home, '.coffer-token'), join(home, '.vault-token')] };
}

/** COFFER_TOKEN, VAULT_TOKEN, then the token helper files; null when there is none. */
export function cliToken(): string | null {
  const env = process.env.COFFER_TOKEN ?? process.env.VAULT_TOKEN;
  if (env) return env;
  for (const f of tokenFiles().read) {
    if (!existsSync(f)) continue;
    const t = readFileSync(f, 'utf8').trim();
    if (t) return t;
  }
  return null;
}

export type Format = 'table' | 'json';

export function outputFormat(opts: { format?: string }): Format {
  const f = opts.format ?? process.env.COFFER_FORMAT ?? process.env.VAULT_FORMAT ?? 'table';
  if (f !== 'table' && f !== 'json') throw new CliError(`Invalid output format: ${f}`);
  return f;
}

export const formatOption = () => new Option('--format <format>', 'output format: table or json');

/** A client for one command, remembering the last response body for `-format=json`. */
export class Session {
  readonly client: Client;
  last: ResponseRecord | null = null;
  readonly format: Format;

  constructor(opts: { format?: string } = {}, token: string | null = cliToken()) {
    this.format = outputFormat(opts);
    this.client = new Client({ token });
    this.client.onResponse = (r) => (this.last = r);
  }

  get json(): boolean {
    return this.format === 'json';
  }

  /** Runs one API call; a server error becomes Vault's "Error <what>: Error making API request." (exit 2). */
  async api<T>(what: string, call: (c: Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (e) {
      throw remoteError(what, e);
    }
  }
}

export function remoteError(what: string, e: unknown): Error {
  if (e instanceof ApiError) {
    const lines = [`Error ${what}: Error making API request.`, ''];
    if (e.url) lines.push(`URL: ${e.method} ${e.url}`);
    lines.push(e.message);
    return new CliError(lines.join('\n'), 2);
  }
  if (e instanceof CliError) return e;
  // fetch failures (connection refused, DNS): also "remote" for Vault's CLI.
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return new CliError(`Error ${what}: ${(e as Error).message}${cause ? `: ${cause}` : ''}`, 2);
}

/** Commander collector for repeated flags (`-policy=a -policy=b`, also `-policy=a,b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

/** Collector that keeps commas (for `k=v` pairs whose values may contain them). */
export function collectRaw(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v` pairs into an object (`-metadata`, `-options`, `-custom-metadata`). */
export function pairs(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new CliError(`Invalid ${flag} "${item}": expected key=value`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** A non-negative integer flag value. */
export function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new CliError(`Invalid value "${value}" for flag -${flag}: expected an integer`);
  return Number(value);
}

/** A Go-style bool flag value ("true", "false", "1", "0", "t", "f"). */
export function boolFlag(value: string | boolean | undefined, flag: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  const v = value.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new CliError(`Invalid boolean value "${value}" for flag -${flag}`);
}

/** A duration flag: Go-style ("1h30m", "768h", "10s") or plain seconds, passed through for the server. */
export function durationFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^(\d+|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d))+)$/.test(value)) throw new CliError(`Invalid duration "${value}" for flag -${flag}`);
  return value;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function success(message: string): void {
  process.stdout.write(`Success! ${message}\n`);
}

/**
 * Vault's PubKeyFilesFlag: each comma-separated entry is a file holding a PGP public key, binary or base64
 * (armored keys are not accepted, as in Vault), or `keybase:<user>` passed through; returns base64 strings.
 */
export function pgpKeyFiles(list: string | undefined, flag: string): string[] {
  if (list === undefined || list.trim() === '') return [];
  return list.split(',').map((entry) => {
    const name = entry.trim();
    if (name.startsWith('keybase:')) return name;
    let content: Buffer;
    try {
      content = readFileSync(name);
    } catch (e) {
      throw new CliError(`Invalid -${flag}: cannot read ${name}: ${(e as Error).message}`);
    }
    const text = content.toString('utf8').trim();
    if (text.startsWith('-----BEGIN PGP')) throw new CliError(`Invalid -${flag}: ${name} is ASCII-armored; give the binary key or its base64 (gpg --export <id> | base64)`);
    return /^[A-Za-z0-9+/\s]+={0,2}$/.test(text) ? text.replace(/\s+/g, '') : content.toString('base64');
  });
}
