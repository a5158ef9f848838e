// `coffer secrets enable|disable|move|list|tune` and `coffer auth enable|disable|move|list|tune`: mounts through
// sys/mounts and sys/auth.
import type { Command } from 'commander';
import type { MountEntry, MountInput, MountTuneInput } from '../../sdk/client.js';
import { CliError, Session, collectRaw, durationFlag, formatOption, pairs, success } from '../common.js';
import { humanDuration, printJson, printTable } from '../output.js';

const withSlash = (p: string) => `${p.replace(/^\/+|\/+$/g, '')}/`;

interface EnableOpts {
  path?: string;
  description?: string;
  version?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  options: string[];
  local?: boolean;
  sealWrap?: boolean;
  listingVisibility?: string;
}

function enableInput(type: string, opts: EnableOpts): MountInput {
  const input: MountInput = { type };
  // `kv-v2` is Vault's shorthand for kv with options.version=2.
  const options = pairs(opts.options, '-options');
  if (type === 'kv-v2') {
    input.type = 'kv';
    options['version'] = '2';
  }
  if (opts.version !== undefined) {
    if (!/^\d+$/.test(opts.version)) throw new CliError(`Invalid -version "${opts.version}"`);
    options['version'] = opts.version;
  }
  if (Object.keys(options).length > 0) input.options = options;
  if (opts.description !== undefined) input.description = opts.description;
  const config: NonNullable<MountInput['config']> = {};
  const dl = durationFlag(opts.defaultLeaseTtl, 'default-lease-ttl');
  if (dl !== undefined) config.default_lease_ttl = dl;
  const ml = durationFlag(opts.maxLeaseTtl, 'max-lease-ttl');
  if (ml !== undefined) config.max_lease_ttl = ml;
  if (opts.listingVisibility !== undefined) config.listing_visibility = opts.listingVisibility as 'unauth' | 'hidden' | '';
  if (Object.keys(config).length > 0) input.config = config;
  if (opts.local) input.local = true;
  if (opts.sealWrap) input.seal_wrap = true;
  return input;
}

function tuneInput(opts: { description?: string; defaultLeaseTtl?: string; maxLeaseTtl?: string; options: string[]; listingVisibility?: string; version?: string }): MountTuneInput {
  const input: MountTuneInput = {};
  if (opts.description !== undefined) input.description = opts.description;
  const dl = durationFlag(opts.defaultLeaseTtl, 'default-lease-ttl');
  if (dl !== undefined) input.default_lease_ttl = dl;
  const ml = durationFlag(opts.maxLeaseTtl, 'max-lease-ttl');
  if (ml !== undefined) input.max_lease_ttl = ml;
  const options = pairs(opts.options, '-options');
  if (opts.version !== undefined) options['version'] = opts.version;
  if (Object.keys(options).length > 0) input.options = options;
  if (opts.listingVisibility !== undefined) input.listing_visibility = opts.listingVisibility as 'unauth' | 'hidden' | '';
  if (Object.keys(input).length === 0) throw new CliError('Nothing to tune: give at least one of -description, -default-lease-ttl, -max-lease-ttl, -options, -listing-visibility');
  return input;
}

const ttl = (n: number | undefined) => (n ? humanDuration(n) : 'system');

function printMounts(mounts: Record<string, MountEntry>, detailed: boolean): void {
  const paths = Object.keys(mounts).sort();
  if (!detailed) {
    printTable(
      ['Path', 'Type', 'Accessor', 'Description'],
      paths.map((p) => {
        const m = mounts[p] as MountEntry;
        return [p, m.type, m.accessor, m.description ?? ''];
      }),
    );
    return;
  }
  printTable(
    ['Path', 'Type', 'Accessor', 'Default TTL', 'Max TTL', 'Local', 'Seal Wrap', 'Options', 'Description', 'UUID'],
    paths.map((p) => {
      const m = mounts[p] as MountEntry;
      const opts = m.options ? `map[${Object.entries(m.options).map(([k, v]) => `${k}:${v}`).join(' ')}]` : 'map[]';
      return [p, m.type, m.accessor, ttl(m.config?.default_lease_ttl), ttl(m.config?.max_lease_ttl), String(m.local), String(m.seal_wrap), opts, m.description ?? '', m.uuid ?? ''];
    }),
  );
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('enable, disable, list and tune secrets engines');

  secrets
    .command('enable')
    .description('enable a secrets engine (kv; kv-v2 or -version=2 for KV v2)')
    .argument('<type>', 'engine type')
    .option('--path <path>', 'where to mount it (default: the type name)')
    .option('--description <text>', 'human-friendly description')
    .option('--version <n>', 'engine version (KV: 1 or 2), sent as options.version')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .option('--options <k=v>', 'engine options, repeatable', collectRaw, [])
    .option('--listing-visibility <v>', 'unauth or hidden')
    .option('--local', 'local mount, not replicated')
    .option('--seal-wrap', 'seal-wrap the engine\'s storage')
    .action(async (type: string, opts: EnableOpts) => {
      const path = withSlash(opts.path ?? (type === 'kv-v2' ? 'kv' : type));
      const input = enableInput(type, opts);
      const s = new Session();
      await s.api('enabling', (c) => c.mountEnable(path, input));
      success(`Enabled the ${type} secrets engine at: ${path}`);
    });

  secrets
    .command('disable')
    .description('disable a secrets engine: its data is deleted')
    .argument('<path>', 'mount path')
    .action(async (path: string) => {
      const s = new Session();
      await s.api(`disabling secrets engine at ${withSlash(path)}`, (c) => c.mountDisable(path));
      success(`Disabled the secrets engine (if it existed) at: ${withSlash(path)}`);
    });

  secrets
    .command('move')
    .description('move a secrets engine to a new path: its data moves with it, its leases are revoked')
    .argument('<source>', 'current mount path')
    .argument('<destination>', 'new mount path')
    .action(async (source: string, destination: string) => {
      const s = new Session();
      const id = await s.api(`moving secrets engine ${withSlash(source)} to ${withSlash(destination)}`, (c) => c.mountMove(source, destination));
      success(`Finished moving secrets engine ${withSlash(source)} to ${withSlash(destination)}, with migration ID ${id}`);
    });

  secrets
    .command('list')
    .description('list the enabled secrets engines')
    .option('--detailed', 'more columns: TTLs, options, UUID')
    .addOption(formatOption())
    .action(async (opts: { detailed?: boolean; format?: string }) => {
      const s = new Session(opts);
      const mounts = await s.api('listing secrets engines', (c) => c.mountList());
      if (s.json) return printJson(s.last?.body);
      printMounts(mounts, Boolean(opts.detailed));
    });

  secrets
    .command('tune')
    .description('tune a secrets engine: TTLs, description, options')
    .argument('<path>', 'mount path')
    .option('--description <text>', 'new description')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .option('--options <k=v>', 'engine options, repeatable', collectRaw, [])
    .option('--version <n>', 'engine version (options.version; KV 1 → 2 upgrades)')
    .option('--listing-visibility <v>', 'unauth or hidden')
    .action(async (path: string, opts: { description?: string; defaultLeaseTtl?: string; maxLeaseTtl?: string; options: string[]; listingVisibility?: string; version?: string }) => {
      const input = tuneInput(opts);
      const s = new Session();
      await s.api(`tuning secrets engine ${withSlash(path)}`, (c) => c.mountTune(path, input));
      success(`Tuned the secrets engine at: ${withSlash(path)}`);
    });
}

export function registerAuth(program: Command): void {
  const auth = program.command('auth').description('enable, disable, list and tune auth methods');

  auth
    .command('enable')
    .description('enable an auth method')
    .argument('<type>', 'auth method type')
    .option('--path <path>', 'where to mount it under auth/ (default: the type name)')
    .option('--description <text>', 'human-friendly description')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .option('--options <k=v>', 'method options, repeatable', collectRaw, [])
    .option('--listing-visibility <v>', 'unauth or hidden')
    .option('--local', 'local mount, not replicated')
    .option('--seal-wrap', 'seal-wrap the method\'s storage')
    .action(async (type: string, opts: EnableOpts) => {
      const path = withSlash(opts.path ?? type);
      const input = enableInput(type, opts);
      const s = new Session();
      await s.api('enabling', (c) => c.authEnable(path, input));
      success(`Enabled ${type} auth method at: ${path}`);
    });

  auth
    .command('disable')
    .description('disable an auth method: its tokens are revoked')
    .argument('<path>', 'auth mount path (without auth/)')
    .action(async (path: string) => {
      const s = new Session();
      await s.api(`disabling auth method at ${withSlash(path)}`, (c) => c.authDisable(path));
      success(`Disabled the auth method (if it existed) at: ${withSlash(path)}`);
    });

  auth
    .command('move')
    .description('move an auth method to a new path: the tokens its logins issued are revoked')
    .argument('<source>', 'current auth mount path (with or without auth/)')
    .argument('<destination>', 'new auth mount path (with or without auth/)')
    .action(async (source: string, destination: string) => {
      const s = new Session();
      const full = (p: string) => (withSlash(p).startsWith('auth/') ? withSlash(p) : `auth/${withSlash(p)}`);
      const id = await s.api(`moving auth method ${full(source)} to ${full(destination)}`, (c) => c.mountMove(full(source), full(destination)));
      success(`Finished moving auth method ${full(source)} to ${full(destination)}, with migration ID ${id}`);
    });

  auth
    .command('list')
    .description('list the enabled auth methods')
    .option('--detailed', 'more columns: TTLs, options, UUID')
    .addOption(formatOption())
    .action(async (opts: { detailed?: boolean; format?: string }) => {
      const s = new Session(opts);
      const methods = await s.api('listing enabled authentications', (c) => c.authList());
      if (s.json) return printJson(s.last?.body);
      printMounts(methods, Boolean(opts.detailed));
    });

  auth
    .command('tune')
    .description('tune an auth method: TTLs, description, options')
    .argument('<path>', 'auth mount path (without auth/)')
    .option('--description <text>', 'new description')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .option('--options <k=v>', 'method options, repeatable', collectRaw, [])
    .option('--listing-visibility <v>', 'unauth or hidden')
    .action(async (path: string, opts: { description?: string; defaultLeaseTtl?: string; maxLeaseTtl?: string; options: string[]; listingVisibility?: string }) => {
      const input = tuneInput(opts);
      const s = new Session();
      await s.api(`tuning auth method ${withSlash(path)}`, (c) => c.authTune(path, input));
      success(`Tuned the auth method at: ${withSlash(path)}`);
    });
}
