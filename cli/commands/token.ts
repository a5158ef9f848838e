// `coffer token create|lookup|renew|revoke|capabilities`: Vault's `vault token` on the SDK.
import type { Command } from 'commander';
import type { AuthInfo, TokenCreateRequest } from '../../sdk/client.js';
import { CliError, Session, collect, collectRaw, durationFlag, formatOption, intFlag, pairs, success, boolFlag } from '../common.js';
import { formatValue, humanDuration, kvRows, printJson, printTable } from '../output.js';

const quoted = (list: string[] | undefined | null) => `[${(list ?? []).map((p) => JSON.stringify(p)).join(' ')}]`;

/** The auth block as Vault prints it after token create / renew / login. */
export function authRows(auth: AuthInfo): string[][] {
  const rows: string[][] = [
    ['token', auth.client_token],
    ['token_accessor', auth.accessor],
    ['token_duration', auth.lease_duration === 0 ? '∞' : humanDuration(auth.lease_duration)],
    ['token_renewable', String(auth.renewable)],
    ['token_policies', quoted(auth.token_policies)],
    ['identity_policies', quoted(auth.identity_policies)],
    ['policies', quoted(auth.policies)],
  ];
  for (const [k, v] of Object.entries(auth.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) rows.push([`token_meta_${k}`, v]);
  return rows;
}

const DURATION_FIELDS = new Set(['ttl', 'creation_ttl', 'explicit_max_ttl', 'period']);

export function lookupRows(data: Record<string, unknown>): string[][] {
  return kvRows(data, (k, v) => (DURATION_FIELDS.has(k) && typeof v === 'number' ? humanDuration(v) : formatValue(v)));
}

function printAuth(s: Session, auth: AuthInfo, field?: string): void {
  if (field !== undefined) {
    const row = authRows(auth).find(([k]) => k === field);
    if (!row) throw new CliError(`Field "${field}" not present in secret`);
    process.stdout.write(`${row[1]}\n`);
    return;
  }
  if (s.json) return printJson(s.last?.body);
  const warnings = (s.last?.body as { warnings?: string[] | null } | null)?.warnings ?? [];
  for (const w of warnings) process.stderr.write(`WARNING! ${w}\n`);
  printTable(['Key', 'Value'], authRows(auth));
}

interface CreateOpts {
  policy: string[];
  ttl?: string;
  explicitMaxTtl?: string;
  numUses?: string;
  useLimit?: string;
  orphan?: boolean;
  period?: string;
  displayName?: string;
  metadata: string[];
  renewable?: string;
  noDefaultPolicy?: boolean;
  id?: string;
  type?: string;
  role?: string;
  entityAlias?: string;
  field?: string;
  format?: string;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('create, look up, renew and revoke tokens');

  token
    .command('create')
    .description('create a token (a child of the calling token unless -orphan)')
    .option('--policy <name>', 'a policy of the new token, repeatable (default: the caller\'s policies)', collect, [])
    .option('--ttl <duration>', 'initial TTL, e.g. 1h or 3600')
    .option('--explicit-max-ttl <duration>', 'hard maximum lifetime, across renewals')
    .option('--num-uses <n>', 'number of uses before the token is revoked (0: unlimited)')
    .option('--use-limit <n>', 'Vault\'s name for -num-uses')
    .option('--orphan', 'create the token without a parent (root or sudo)')
    .option('--period <duration>', 'periodic token: each renewal resets the TTL to this')
    .option('--display-name <name>', 'display name (stored as token-<name>)')
    .option('--metadata <k=v>', 'metadata, repeatable', collectRaw, [])
    .option('--renewable <bool>', 'whether the token can be renewed (default true)')
    .option('--no-default-policy', 'do not attach the "default" policy')
    .option('--id <id>', 'the token value itself (root or sudo)')
    .option('--type <type>', 'service or batch')
    .option('--role <name>', 'create through auth/token/create/<role>')
    .option('--entity-alias <name>', 'entity alias to attach')
    .option('--field <name>', 'print only this field (e.g. token)')
    .addOption(formatOption())
    .action(async (opts: CreateOpts) => {
      const s = new Session(opts);
      const req: TokenCreateRequest = {};
      if (opts.policy.length > 0) req.policies = opts.policy;
      const ttl = durationFlag(opts.ttl, 'ttl');
      if (ttl !== undefined) req.ttl = ttl;
      const emt = durationFlag(opts.explicitMaxTtl, 'explicit-max-ttl');
      if (emt !== undefined) req.explicit_max_ttl = emt;
      const uses = intFlag(opts.numUses ?? opts.useLimit, opts.numUses !== undefined ? 'num-uses' : 'use-limit');
      if (uses !== undefined) req.num_uses = uses;
      const period = durationFlag(opts.period, 'period');
      if (period !== undefined) req.period = period;
      if (opts.displayName !== undefined) req.display_name = opts.displayName;
      if (opts.metadata.length > 0) req.meta = pairs(opts.metadata, '-metadata');
      const renewable = boolFlag(opts.renewable, 'renewable');
      if (renewable !== undefined) req.renewable = renewable;
      // commander's --no-default-policy makes `defaultPolicy: false`; it is read from there.
      if ((opts as unknown as { defaultPolicy?: boolean }).defaultPolicy === false) req.no_default_policy = true;
      if (opts.id !== undefined) req.id = opts.id;
      if (opts.type !== undefined) {
        if (opts.type !== 'service' && opts.type !== 'batch') throw new CliError(`Invalid -type "${opts.type}": use service or batch`);
        req.type = opts.type;
      }
      if (opts.entityAlias !== undefined) req.entity_alias = opts.entityAlias;
      if (opts.orphan) req.no_parent = true;
      let auth: AuthInfo;
      if (opts.role !== undefined) auth = await s.api('creating token', (c) => c.tokenCreate({ ...req, role_name: opts.role as string }));
      else if (opts.orphan) auth = await s.api('creating token', (c) => c.tokenCreateOrphan(req));
      else auth = await s.api('creating token', (c) => c.tokenCreate(req));
      printAuth(s, auth, opts.field);
    });

  token
    .command('lookup')
    .description('look up a token (default: the calling token); -accessor to look up by accessor')
    .argument('[token]', 'the token, or its accessor with -accessor')
    .option('--accessor', 'the argument is an accessor')
    .addOption(formatOption())
    .action(async (arg: string | undefined, opts: { accessor?: boolean; format?: string }) => {
      const s = new Session(opts);
      if (opts.accessor && arg === undefined) throw new CliError('Not enough arguments (expected 1, got 0): -accessor needs the accessor');
      const data = await s.api('looking up token', (c) => (opts.accessor ? c.tokenLookupAccessor(arg as string) : arg !== undefined ? c.tokenLookup(arg) : c.tokenLookupSelf()));
      if (s.json) return printJson(s.last?.body);
      printTable(['Key', 'Value'], lookupRows(data as unknown as Record<string, unknown>));
    });

  token
    .command('renew')
    .description('renew a token (default: the calling token)')
    .argument('[token]', 'the token, or its accessor with -accessor')
    .option('--increment <duration>', 'requested new TTL, e.g. 1h')
    .option('--accessor', 'the argument is an accessor')
    .addOption(formatOption())
    .action(async (arg: string | undefined, opts: { increment?: string; accessor?: boolean; format?: string }) => {
      const s = new Session(opts);
      const inc = durationFlag(opts.increment, 'increment');
      if (opts.accessor && arg === undefined) throw new CliError('Not enough arguments (expected 1, got 0): -accessor needs the accessor');
      const auth = await s.api('renewing token', (c) =>
        opts.accessor ? c.tokenRenewAccessor(arg as string, inc) : arg !== undefined ? c.tokenRenew(arg, inc) : c.tokenRenewSelf(inc),
      );
      printAuth(s, auth);
    });

  token
    .command('revoke')
    .description('revoke a token and its children (-mode=orphan keeps the children)')
    .argument('[token]', 'the token, or its accessor with -accessor')
    .option('--self', 'revoke the calling token')
    .option('--accessor', 'the argument is an accessor')
    .option('--mode <mode>', 'orphan: revoke only this token, its children become orphans')
    .action(async (arg: string | undefined, opts: { self?: boolean; accessor?: boolean; mode?: string }) => {
      if (opts.self && arg !== undefined) throw new CliError('Too many arguments: -self takes no token');
      if (!opts.self && arg === undefined) throw new CliError('Not enough arguments (expected 1, got 0)');
      if (opts.mode !== undefined && opts.mode !== 'orphan' && opts.mode !== 'path') throw new CliError(`Invalid -mode "${opts.mode}": use orphan`);
      if (opts.mode === 'path') throw new CliError('-mode=path (revoke by path prefix) is not supported yet');
      if (opts.mode === 'orphan' && (opts.self || opts.accessor)) throw new CliError('-mode=orphan cannot be combined with -self or -accessor');
      const s = new Session();
      await s.api('revoking token', (c) =>
        opts.self ? c.tokenRevokeSelf() : opts.accessor ? c.tokenRevokeAccessor(arg as string) : opts.mode === 'orphan' ? c.tokenRevokeOrphan(arg as string) : c.tokenRevoke(arg as string),
      );
      success('Revoked token (if it existed)');
    });

  token
    .command('capabilities')
    .description('the capabilities of a token (default: the calling token) on a path')
    .argument('<args...>', '[TOKEN] PATH')
    .option('--accessor', 'the token argument is an accessor')
    .addOption(formatOption())
    .action(async (args: string[], opts: { accessor?: boolean; format?: string }) => {
      if (args.length > 2) throw new CliError(`Too many arguments (expected 1 or 2, got ${args.length})`);
      const s = new Session(opts);
      const path = args[args.length - 1] as string;
      const who = args.length === 2 ? (args[0] as string) : undefined;
      const caps = await s.api('getting capabilities', (c) =>
        who === undefined ? c.capabilitiesSelf([path]) : opts.accessor ? c.capabilitiesAccessor(who, [path]) : c.capabilities(who, [path]),
      );
      if (s.json) return printJson(s.last?.body);
      process.stdout.write(`${(caps[path] ?? []).join(', ')}\n`);
    });
}
