// Vault's generic commands: `coffer read|write|delete|list PATH` on any API path (transit, sys/...,
// auth/...), `-wrap-ttl=DURATION` on read/write (X-Vault-Wrap-TTL: the answer is a wrapping token),
// and `coffer unwrap [TOKEN]` (PUT sys/wrapping/unwrap).
import type { Command } from 'commander';
import { ApiError, type AuthInfo, type Envelope } from '../../sdk/client.js';
import { CliError, Session, durationFlag, formatOption, remoteError, success } from '../common.js';
import { formatValue, humanDuration, kvRows, printJson, printTable } from '../output.js';
import { parseKvData } from './kv.js';
import { authRows } from './token.js';

interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  wrapped_accessor?: string;
}

type Body = Partial<Envelope<Record<string, unknown> | null>> & { wrap_info?: WrapInfo | null; auth?: AuthInfo | null };

interface Opts {
  format?: string;
  field?: string;
  wrapTtl?: string;
}

const clean = (p: string) => p.replace(/^\/+/, '');

/**
 * One request through the session's client (token, address), with extra headers the SDK's request()
 * does not take (X-Vault-Wrap-TTL). Non-2xx → ApiError, as the SDK throws; the body is recorded in s.last.
 */
async function send(s: Session, method: string, path: string, body: unknown, wrapTtl: string | undefined): Promise<{ status: number; body: Body | null }> {
  if (wrapTtl === undefined) return s.client.request<Body | null>(method, path, body);
  const headers: Record<string, string> = { 'X-Vault-Request': 'true', 'X-Vault-Wrap-TTL': wrapTtl };
  if (s.client.token) headers['X-Vault-Token'] = s.client.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const url = `${s.client.address}/v1/${clean(path)}`;
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    if (res.ok) throw new Error(`${method} ${url}: the response is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const errors = (parsed as { errors?: unknown } | null)?.errors;
    throw new ApiError(res.status, Array.isArray(errors) ? (errors as string[]) : [], method, url, parsed);
  }
  s.last = { method, path, status: res.status, body: parsed };
  return { status: res.status, body: parsed as Body | null };
}

function wrapRows(w: WrapInfo): string[][] {
  const rows = [
    ['wrapping_token:', w.token],
    ['wrapping_accessor:', w.accessor],
    ['wrapping_token_ttl:', humanDuration(w.ttl)],
    ['wrapping_token_creation_time:', w.creation_time],
    ['wrapping_token_creation_path:', w.creation_path],
  ];
  if (w.wrapped_accessor) rows.push(['wrapped_accessor:', w.wrapped_accessor]);
  return rows;
}

/** Key/Value rows of a response as `vault read` prints them: lease fields, then data (or the auth block). */
function secretRows(b: Body): string[][] {
  if (b.wrap_info) return wrapRows(b.wrap_info);
  if (b.auth) return authRows(b.auth);
  const rows: string[][] = [];
  if (b.lease_id) rows.push(['lease_id', b.lease_id], ['lease_duration', humanDuration(b.lease_duration ?? 0)], ['lease_renewable', String(Boolean(b.renewable))]);
  else if (b.lease_duration) rows.push(['refresh_interval', humanDuration(b.lease_duration)]);
  return [...rows, ...kvRows(b.data ?? {})];
}

function fieldOf(b: Body, field: string): string {
  const v =
    b.wrap_info
      ? ({ wrapping_token: b.wrap_info.token, wrapping_accessor: b.wrap_info.accessor, wrapping_token_ttl: b.wrap_info.ttl, wrapping_token_creation_time: b.wrap_info.creation_time, wrapping_token_creation_path: b.wrap_info.creation_path, wrapped_accessor: b.wrap_info.wrapped_accessor } as Record<string, unknown>)[field]
      : b.auth
        ? authRows(b.auth).find(([k]) => k === field)?.[1]
        : (b.data ?? {})[field];
  if (v === undefined) throw new CliError(`Field "${field}" not present in secret`);
  return typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : formatValue(v);
}

/** Prints a response: -field, -format=json (the envelope), or the Key/Value table (warnings on stderr). */
function printSecret(s: Session, b: Body, field: string | undefined): void {
  if (field !== undefined) {
    process.stdout.write(`${fieldOf(b, field)}\n`);
    return;
  }
  if (s.json) return printJson(b);
  for (const w of b.warnings ?? []) process.stderr.write(`WARNING! ${w}\n`);
  printTable(['Key', 'Value'], secretRows(b));
}

const hasContent = (b: Body | null): b is Body => b !== null && (b.data != null || b.auth != null || b.wrap_info != null);

export function registerGeneric(program: Command): void {
  program
    .command('read')
    .description('read any API path (GET), e.g. sys/mounts, transit/keys/k')
    .argument('<path>', 'the API path, without /v1/')
    .option('--field <name>', 'print only this field of the data')
    .option('--wrap-ttl <duration>', 'wrap the response in a wrapping token valid this long (X-Vault-Wrap-TTL)')
    .addOption(formatOption())
    .action(async (path: string, opts: Opts) => {
      const s = new Session(opts);
      const wrapTtl = durationFlag(opts.wrapTtl, 'wrap-ttl');
      let body: Body | null;
      try {
        body = (await send(s, 'GET', clean(path), undefined, wrapTtl)).body;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && e.errors.length === 0) throw new CliError(`No value found at ${clean(path)}`, 2);
        throw remoteError(`reading ${clean(path)}`, e);
      }
      if (!hasContent(body)) throw new CliError(`No value found at ${clean(path)}`, 2);
      printSecret(s, body, opts.field);
    });

  program
    .command('write')
    .description('write to any API path (PUT): key=value, key=@file, key=- (stdin), or - / @file.json for a JSON object')
    .argument('<path>', 'the API path, without /v1/')
    .argument('[data...]', 'key=value pairs')
    .option('--field <name>', 'print only this field of the response data')
    .option('-f, --force', 'allow a write with no data')
    .option('--wrap-ttl <duration>', 'wrap the response in a wrapping token valid this long (X-Vault-Wrap-TTL)')
    .addOption(formatOption())
    .action(async (path: string, args: string[], opts: Opts & { force?: boolean }) => {
      if (args.length === 0 && !opts.force) throw new CliError('Must supply data or use -force');
      const s = new Session(opts);
      const wrapTtl = durationFlag(opts.wrapTtl, 'wrap-ttl');
      const data = args.length > 0 ? await parseKvData(args) : {};
      const where = clean(path);
      const res = await s.api(`writing data to ${where}`, () => send(s, 'PUT', where, data, wrapTtl));
      if (!hasContent(res.body)) {
        if (opts.field !== undefined) throw new CliError(`Field "${opts.field}" not present in secret`);
        if (s.json) return res.body === null ? undefined : printJson(res.body);
        return success(`Data written to: ${where}`);
      }
      printSecret(s, res.body, opts.field);
    });

  program
    .command('delete')
    .description('delete any API path (DELETE)')
    .argument('<path>', 'the API path, without /v1/')
    .addOption(formatOption())
    .action(async (path: string, opts: Opts) => {
      const s = new Session(opts);
      const where = clean(path);
      const res = await s.api(`deleting ${where}`, () => send(s, 'DELETE', where, undefined, undefined));
      if (hasContent(res.body)) return printSecret(s, res.body, undefined);
      success(`Data deleted (if it existed) at: ${where}`);
    });

  program
    .command('list')
    .description('list the keys under any API path (LIST; folders end in /)')
    .argument('<path>', 'the API path, without /v1/')
    .addOption(formatOption())
    .action(async (path: string, opts: Opts) => {
      const s = new Session(opts);
      const where = `${clean(path).replace(/\/+$/, '')}/`;
      let body: Body | null;
      try {
        body = (await send(s, 'LIST', where, undefined, undefined)).body;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && e.errors.length === 0) throw new CliError(`No value found at ${where}`, 2);
        throw remoteError(`listing ${where}`, e);
      }
      const keys = (body?.data as { keys?: unknown } | null | undefined)?.keys;
      if (!Array.isArray(keys) || keys.length === 0) throw new CliError(`No value found at ${where}`, 2);
      if (s.json) return printJson(body);
      process.stdout.write(`Keys\n----\n${keys.map(String).join('\n')}\n`);
    });

  program
    .command('unwrap')
    .description('unwrap a wrapping token (PUT sys/wrapping/unwrap); without TOKEN, the current token is the wrapping token')
    .argument('[token]', 'the wrapping token')
    .option('--field <name>', 'print only this field of the unwrapped data')
    .addOption(formatOption())
    .action(async (token: string | undefined, opts: Opts) => {
      const s = new Session(opts);
      const res = await s.api('unwrapping', () => send(s, 'PUT', 'sys/wrapping/unwrap', token !== undefined ? { token } : undefined, undefined));
      if (!hasContent(res.body)) {
        if (opts.field !== undefined) throw new CliError(`Field "${opts.field}" not present in secret`);
        if (s.json) return res.body === null ? undefined : printJson(res.body);
        return success('The wrapped response was empty.');
      }
      printSecret(s, res.body, opts.field);
    });
}
