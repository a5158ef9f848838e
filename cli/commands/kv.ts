// `coffer kv ...`: Vault's `vault kv` on top of the SDK. The mount and its KV version come from
// `sys/internal/ui/mounts/<path>`, as the real CLI does; `-mount=secret foo` and `secret/foo` both work.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { KvSecret } from '../../sdk/client.js';
import { ApiError } from '../../sdk/client.js';
import { CliError, Session, collectRaw, formatOption, intFlag, boolFlag, durationFlag, pairs, readStdin, remoteError, success } from '../common.js';
import { formatValue, humanDuration, kvRows, printJson, printSection, printTable, sectionHeader } from '../output.js';

export interface KvTarget {
  /** Mount path with its trailing slash: "secret/". */
  mount: string;
  /** The key inside the mount, no leading slash. */
  key: string;
  v2: boolean;
}

const trimSlashes = (p: string) => p.replace(/^\/+|\/+$/g, '');

/** Finds the mount serving the path and its KV version (404 from an older server: assume v1). */
export async function resolveKv(s: Session, pathArg: string, mountFlag: string | undefined): Promise<KvTarget> {
  const lookup = mountFlag !== undefined ? trimSlashes(mountFlag) : trimSlashes(pathArg);
  let mount: string;
  let v2 = false;
  try {
    const m = await s.client.mountForPath(lookup);
    mount = m.path.endsWith('/') ? m.path : `${m.path}/`;
    v2 = m.options?.version === '2';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && mountFlag === undefined) return { mount: '', key: trimSlashes(pathArg), v2: false };
    if (e instanceof ApiError && e.status === 403) {
      throw new CliError(`Error making API request: preflight capability check returned 403, please ensure client's policies grant access to path "${lookup}/"`, 2);
    }
    throw remoteError('determining the KV version of the mount', e);
  }
  if (mountFlag !== undefined) return { mount, key: trimSlashes(pathArg), v2 };
  const full = `${trimSlashes(pathArg)}/`;
  const key = full.startsWith(mount) ? trimSlashes(full.slice(mount.length)) : trimSlashes(pathArg);
  return { mount, key, v2 };
}

/** The HTTP path a KV operation uses, for messages: secret/data/foo, kv1/foo. */
export function apiPath(t: KvTarget, kind: 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy'): string {
  if (!t.v2) return `${t.mount}${t.key}`;
  return `${t.mount}${kind}/${t.key}`.replace(/\/$/, '');
}

/** `key=value`, `key=@file`, `key=-` (stdin), or a single `-` / `@file.json` holding a JSON object. */
export async function parseKvData(args: string[]): Promise<Record<string, unknown>> {
  if (args.length === 1 && (args[0] === '-' || /^@[^=]*$/.test(args[0] as string))) {
    const text = args[0] === '-' ? await readStdin() : readFile((args[0] as string).slice(1));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliError(`Failed to parse K=V data: invalid JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError('Failed to parse K=V data: the JSON must be an object');
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  let stdinUsed = false;
  for (const arg of args) {
    const i = arg.indexOf('=');
    if (i <= 0) throw new CliError(`Failed to parse K=V data: invalid key/value pair "${arg}": format must be key=value`);
    const k = arg.slice(0, i);
    let v = arg.slice(i + 1);
    if (v === '-') {
      if (stdinUsed) throw new CliError('Failed to parse K=V data: stdin (-) can be used only once');
      stdinUsed = true;
      v = (await readStdin()).replace(/\n$/, '');
    } else if (v.startsWith('@')) v = readFile(v.slice(1));
    out[k] = v;
  }
  return out;
}

function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`Failed to read ${path}: ${(e as Error).message}`);
  }
}

function versionsFlag(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (list.length === 0 || list.some((v) => !/^\d+$/.test(v))) throw new CliError(`Invalid -versions "${value}": expected numbers like 1,2`);
  return list.map(Number);
}

function metaValue(k: string, v: unknown): string {
  if (k === 'deletion_time' && v === '') return 'n/a';
  return formatValue(v);
}

function printSecretPath(path: string, label = 'Secret Path'): void {
  process.stdout.write(`${sectionHeader(label, path.length)}\n${path}\n\n`);
}

function printKvSecret(t: KvTarget, secret: KvSecret, field?: string): void {
  if (field !== undefined) return printField(secret.data ?? {}, field);
  printSecretPath(apiPath(t, 'data'));
  printSection('Metadata', kvRows(secret.metadata as unknown as Record<string, unknown>, metaValue));
  if (secret.data !== null) {
    process.stdout.write('\n');
    printSection('Data', kvRows(secret.data));
  }
}

function printField(data: Record<string, unknown>, field: string): void {
  if (!(field in data)) throw new CliError(`Field "${field}" not present in secret`);
  const v = data[field];
  process.stdout.write(`${typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : formatValue(v)}\n`);
}

function requireV2(t: KvTarget, what: string): void {
  if (!t.v2) throw new CliError(`${what} is not supported on KV version 1 (mount ${t.mount || '(unknown)'})`);
}

/** RFC 7386 merge (for `kv patch -method=rw`). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Common {
  mount?: string;
  format?: string;
}

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('read, write and manage secrets in KV v1 and v2 mounts');

  kv.command('get')
    .description('read a secret (KV v2: the latest or -version=N)')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .option('--mount <path>', 'the KV mount; the path argument is then relative to it')
    .option('--version <n>', 'KV v2: the version to read')
    .option('--field <name>', 'print only this field of the data')
    .addOption(formatOption())
    .action(async (path: string, opts: Common & { version?: string; field?: string }) => {
      const s = new Session(opts);
      const t = await resolveKv(s, path, opts.mount);
      const version = intFlag(opts.version, 'version');
      if (!t.v2) {
        if (version !== undefined) throw new CliError('Versions are not supported on KV version 1');
        const data = await s.api(`reading ${apiPath(t, 'data')}`, (c) => c.kv1Read(t.mount, t.key));
        if (data === null) throw new CliError(`No value found at ${apiPath(t, 'data')}`, 2);
        if (opts.field !== undefined) return printField(data, opts.field);
        if (s.json) return printJson(s.last?.body);
        const rows = kvRows(data);
        const lease = (s.last?.body as { lease_duration?: number } | null)?.lease_duration;
        if (lease) rows.unshift(['refresh_interval', humanDuration(lease)]);
        return printTable(['Key', 'Value'], rows);
      }
      const secret = await s.api(`reading ${apiPath(t, 'data')}`, (c) => c.kvRead(t.mount, t.key, version !== undefined ? { version } : {}));
      if (secret === null) throw new CliError(`No value found at ${apiPath(t, 'data')}${version !== undefined ? ` (version ${version})` : ''}`, 2);
      if (s.json && opts.field === undefined) return printJson(s.last?.body);
      printKvSecret(t, secret, opts.field);
    });

  kv.command('put')
    .description('write a secret: key=value, key=@file, key=- (stdin), or - / @file.json for a JSON object')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .argument('<data...>', 'key=value pairs')
    .option('--mount <path>', 'the KV mount')
    .option('--cas <n>', 'KV v2 check-and-set: 0 writes only if absent, N only if N is the current version')
    .addOption(formatOption())
    .action(async (path: string, args: string[], opts: Common & { cas?: string }) => {
      const s = new Session(opts);
      const data = await parseKvData(args);
      const t = await resolveKv(s, path, opts.mount);
      const cas = intFlag(opts.cas, 'cas');
      if (!t.v2) {
        if (cas !== undefined) throw new CliError('Check-and-set (-cas) is not supported on KV version 1');
        await s.api(`writing data to ${apiPath(t, 'data')}`, (c) => c.kv1Write(t.mount, t.key, data));
        if (s.json) return printJson(s.last?.body ?? null);
        return success(`Data written to: ${apiPath(t, 'data')}`);
      }
      const meta = await s.api(`writing data to ${apiPath(t, 'data')}`, (c) => c.kvWrite(t.mount, t.key, data, cas !== undefined ? { cas } : {}));
      if (s.json) return printJson(s.last?.body);
      printSecretPath(apiPath(t, 'data'));
      printSection('Metadata', kvRows(meta as unknown as Record<string, unknown>, metaValue));
    });

  kv.command('patch')
    .description('KV v2: merge key=value pairs into the latest version (HTTP PATCH, or read+write with -method=rw)')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .argument('<data...>', 'key=value pairs')
    .option('--mount <path>', 'the KV mount')
    .option('--cas <n>', 'check-and-set version')
    .option('--method <method>', 'patch (HTTP PATCH) or rw (read, merge, write with cas); default: patch, then rw on 403')
    .addOption(formatOption())
    .action(async (path: string, args: string[], opts: Common & { cas?: string; method?: string }) => {
      const s = new Session(opts);
      const data = await parseKvData(args);
      const t = await resolveKv(s, path, opts.mount);
      requireV2(t, 'Patch');
      const cas = intFlag(opts.cas, 'cas');
      if (opts.method !== undefined && opts.method !== 'patch' && opts.method !== 'rw') throw new CliError(`Invalid -method "${opts.method}": use patch or rw`);
      const where = apiPath(t, 'data');
      const rw = async () => {
        const current = await s.api(`reading ${where}`, (c) => c.kvRead(t.mount, t.key));
        if (current === null || current.data === null) throw new CliError(`No value found at ${where}`, 2);
        const merged = mergePatch(current.data, data) as Record<string, unknown>;
        return s.api(`writing data to ${where}`, (c) => c.kvWrite(t.mount, t.key, merged, { cas: cas ?? current.metadata.version }));
      };
      let meta;
      if (opts.method === 'rw') meta = await rw();
      else {
        try {
          meta = await s.client.kvPatch(t.mount, t.key, data, cas !== undefined ? { cas } : {});
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) throw new CliError(`No value found at ${where}`, 2);
          if (opts.method === undefined && e instanceof ApiError && e.status === 403) meta = await rw();
          else throw remoteError(`writing data to ${where}`, e);
        }
      }
      if (s.json) return printJson(s.last?.body);
      printSecretPath(where);
      printSection('Metadata', kvRows(meta as unknown as Record<string, unknown>, metaValue));
    });

  kv.command('delete')
    .description('soft-delete the latest version, or -versions=1,2 (KV v2); delete the key (KV v1)')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .option('--mount <path>', 'the KV mount')
    .option('--versions <list>', 'KV v2: versions to delete, e.g. 1,2')
    .action(async (path: string, opts: Common & { versions?: string }) => {
      const s = new Session(opts);
      const t = await resolveKv(s, path, opts.mount);
      const versions = versionsFlag(opts.versions);
      if (!t.v2) {
        if (versions) throw new CliError('Versions are not supported on KV version 1');
        await s.api(`deleting ${apiPath(t, 'data')}`, (c) => c.kv1Delete(t.mount, t.key));
        return success(`Data deleted (if it existed) at: ${apiPath(t, 'data')}`);
      }
      if (versions) {
        await s.api(`deleting ${apiPath(t, 'delete')}`, (c) => c.kvDeleteVersions(t.mount, t.key, versions));
        return success(`Data deleted (if it existed) at: ${apiPath(t, 'delete')}`);
      }
      await s.api(`deleting ${apiPath(t, 'data')}`, (c) => c.kvDelete(t.mount, t.key));
      success(`Data deleted (if it existed) at: ${apiPath(t, 'data')}`);
    });

  for (const [name, verb] of [
    ['undelete', 'restore soft-deleted versions'],
    ['destroy', 'permanently remove the data of versions'],
  ] as const) {
    kv.command(name)
      .description(`KV v2: ${verb} (-versions=1,2 required)`)
      .argument('<path>', 'secret/foo, or foo with -mount=secret')
      .option('--mount <path>', 'the KV mount')
      .option('--versions <list>', 'versions, e.g. 1,2')
      .action(async (path: string, opts: Common & { versions?: string }) => {
        const versions = versionsFlag(opts.versions);
        if (!versions) throw new CliError('Missing -versions flag');
        const s = new Session(opts);
        const t = await resolveKv(s, path, opts.mount);
        requireV2(t, name === 'undelete' ? 'Undelete' : 'Destroy');
        const where = apiPath(t, name);
        await s.api(`writing data to ${where}`, (c) => (name === 'undelete' ? c.kvUndelete(t.mount, t.key, versions) : c.kvDestroy(t.mount, t.key, versions)));
        success(`Data written to: ${where}`);
      });
  }

  kv.command('list')
    .description('list the keys under a path (folders end in /)')
    .argument('[path]', 'secret/ or secret/dir, or a folder with -mount=secret', '')
    .option('--mount <path>', 'the KV mount')
    .addOption(formatOption())
    .action(async (path: string, opts: Common) => {
      const s = new Session(opts);
      if (path === '' && opts.mount === undefined) throw new CliError('Not enough arguments (expected 1, got 0)');
      const t = await resolveKv(s, path, opts.mount);
      const where = `${apiPath(t, 'metadata')}/`.replace(/\/+$/, '/');
      const keys = await s.api(`listing ${where}`, (c) => (t.v2 ? c.kvList(t.mount, t.key) : c.kv1List(t.mount, t.key)));
      if (keys.length === 0) throw new CliError(`No value found at ${where}`, 2);
      if (s.json) return printJson(s.last?.body);
      process.stdout.write(`Keys\n----\n${keys.join('\n')}\n`);
    });

  const metadata = kv.command('metadata').description('KV v2: read and manage the metadata of a key (all its versions)');

  metadata
    .command('get')
    .description('the metadata and every version of a key')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .option('--mount <path>', 'the KV mount')
    .addOption(formatOption())
    .action(async (path: string, opts: Common) => {
      const s = new Session(opts);
      const t = await resolveKv(s, path, opts.mount);
      requireV2(t, 'Metadata');
      const where = apiPath(t, 'metadata');
      const meta = await s.api(`reading ${where}`, (c) => c.kvReadMetadata(t.mount, t.key));
      if (meta === null) throw new CliError(`No value found at ${where}`, 2);
      if (s.json) return printJson(s.last?.body);
      printSecretPath(where, 'Metadata Path');
      const { versions, ...rest } = meta;
      printSection('Metadata', kvRows(rest as Record<string, unknown>));
      for (const v of Object.keys(versions ?? {}).sort((a, b) => Number(a) - Number(b))) {
        process.stdout.write('\n');
        printSection(`Version ${v}`, kvRows((versions as Record<string, Record<string, unknown>>)[v] as Record<string, unknown>, metaValue));
      }
    });

  metadata
    .command('put')
    .description('set max-versions, cas-required, delete-version-after and custom metadata of a key')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .option('--mount <path>', 'the KV mount')
    .option('--max-versions <n>', 'versions to keep (0: the mount default)')
    .option('--cas-required <bool>', 'require -cas on every write: true or false')
    .option('--delete-version-after <duration>', 'soft-delete versions after this long ("0s": never)')
    .option('--custom-metadata <k=v>', 'custom metadata, repeatable', collectRaw, [])
    .addOption(formatOption())
    .action(async (path: string, opts: Common & { maxVersions?: string; casRequired?: string; deleteVersionAfter?: string; customMetadata: string[] }) => {
      const s = new Session(opts);
      const input: Record<string, unknown> = {};
      const mv = intFlag(opts.maxVersions, 'max-versions');
      if (mv !== undefined) input['max_versions'] = mv;
      const cr = boolFlag(opts.casRequired, 'cas-required');
      if (cr !== undefined) input['cas_required'] = cr;
      const dva = durationFlag(opts.deleteVersionAfter, 'delete-version-after');
      if (dva !== undefined) input['delete_version_after'] = dva;
      if (opts.customMetadata.length > 0) input['custom_metadata'] = pairs(opts.customMetadata, '-custom-metadata');
      const t = await resolveKv(s, path, opts.mount);
      requireV2(t, 'Metadata');
      const where = apiPath(t, 'metadata');
      await s.api(`writing data to ${where}`, (c) => c.kvWriteMetadata(t.mount, t.key, input));
      success(`Data written to: ${where}`);
    });

  metadata
    .command('delete')
    .description('delete a key: every version and its metadata')
    .argument('<path>', 'secret/foo, or foo with -mount=secret')
    .option('--mount <path>', 'the KV mount')
    .action(async (path: string, opts: Common) => {
      const s = new Session(opts);
      const t = await resolveKv(s, path, opts.mount);
      requireV2(t, 'Metadata');
      const where = apiPath(t, 'metadata');
      await s.api(`deleting ${where}`, (c) => c.kvDeleteMetadata(t.mount, t.key));
      success(`Data deleted (if it existed) at: ${where}`);
    });
}

