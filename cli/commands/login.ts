// `coffer login [TOKEN]`: checks the token with auth/token/lookup-self and stores it in ~/.coffer-token,
// which the CLI reads when COFFER_TOKEN / VAULT_TOKEN are unset (then ~/.vault-token).
// `coffer login -method=userpass username=U [password=P]` and `-method=approle role_id=R secret_id=S`
// log in through the auth method (unauthenticated PUT auth/<path>/login[/<username>]) and store the
// token the same way.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuthInfo, Envelope, TokenLookup } from '../../sdk/client.js';
import { CliError, Session, formatOption, readStdin, tokenFiles } from '../common.js';
import { printJson, printTable } from '../output.js';
import { authRows } from './token.js';

const METHODS = ['token', 'userpass', 'approle'] as const;
type Method = (typeof METHODS)[number];

interface LoginOpts {
  method: string;
  path?: string;
  store: boolean;
  field?: string;
  format?: string;
}

/** `k=v` login arguments (Vault's `vault login -method=X k=v`). */
function loginPairs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw new CliError(`Error parsing configuration: invalid key/value pair "${a}": format must be key=value`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

async function promptStdin(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  return (await readStdin()).replace(/\r?\n$/, '');
}

/** Logs in through userpass or approle; returns the session (its last body is the login response) and the auth block. */
async function methodLogin(method: Exclude<Method, 'token'>, args: string[], opts: LoginOpts): Promise<{ s: Session; auth: AuthInfo }> {
  const kv = loginPairs(args);
  const mount = (opts.path ?? method).replace(/^\/+|\/+$/g, '');
  const s = new Session(opts, null);
  let path: string;
  let body: Record<string, string>;
  if (method === 'userpass') {
    const { username, password, ...rest } = kv;
    if (!username) throw new CliError('Error authenticating: username=<username> is required');
    const pw = password ?? (await promptStdin('Password (will be hidden): '));
    if (!pw) throw new CliError('Error authenticating: no password provided');
    path = `auth/${mount}/login/${encodeURIComponent(username)}`;
    body = { ...rest, password: pw };
  } else {
    if (!kv.role_id) throw new CliError('Error authenticating: role_id=<role ID> is required');
    if (kv.secret_id === '-') kv.secret_id = await promptStdin('Secret ID (will be hidden): ');
    path = `auth/${mount}/login`;
    body = kv;
  }
  const res = await s.api('authenticating', (c) => c.request<Envelope<unknown>>('PUT', path, body));
  const auth = res.body?.auth;
  if (!auth?.client_token) throw new CliError('Error authenticating: the response carried no token', 2);
  return { s, auth };
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('authenticate (a token, or -method=userpass|approle with key=value pairs) and store the token for later commands')
    .argument('[args...]', 'the token ("-" or omitted: stdin) for -method=token; key=value pairs for other methods')
    .option('--method <method>', 'auth method: token, userpass or approle', 'token')
    .option('--path <path>', 'the mount path of the auth method (default: the method name)')
    .option('--no-store', 'verify and print, but do not write the token file')
    .option('--field <name>', 'print only this field (e.g. token)')
    .addOption(formatOption())
    .action(async (args: string[], opts: LoginOpts) => {
      if (!(METHODS as readonly string[]).includes(opts.method)) throw new CliError(`Unknown auth method: ${opts.method}. Use "token", "userpass" or "approle".`);
      const method = opts.method as Method;
      let s: Session;
      let auth: AuthInfo;
      let json: unknown;
      if (method === 'token') {
        if (args.length > 1) throw new CliError(`Too many arguments (expected 0 or 1, got ${args.length})`);
        let token = args[0]?.startsWith('token=') ? args[0].slice('token='.length) : args[0];
        if (token === undefined || token === '-') token = (await promptStdin('Token (will be hidden): ')).trim();
        if (!token) throw new CliError('Error authenticating: no token provided');
        s = new Session(opts, token);
        const info = await s.api('authenticating', (c) => c.tokenLookupSelf());
        auth = authFromLookup(token, info);
        json = { ...(s.last?.body as Record<string, unknown>), auth };
      } else {
        ({ s, auth } = await methodLogin(method, args, opts));
        json = s.last?.body;
      }
      if (opts.store) {
        const file = tokenFiles().write;
        try {
          writeFileSync(file, auth.client_token, { mode: 0o600 });
        } catch (e) {
          throw new CliError(`Error storing token in ${file}: ${(e as Error).message}`);
        }
      }
      if (opts.field !== undefined) {
        const row = authRows(auth).find(([k]) => k === opts.field);
        if (!row) throw new CliError(`Field "${opts.field}" not present in secret`);
        process.stdout.write(`${row[1]}\n`);
        return;
      }
      if (s.json) return printJson(json);
      process.stdout.write(
        opts.store
          ? 'Success! You are now authenticated. The token information displayed below\nis already stored in the token helper. You do NOT need to run "coffer login"\nagain. Future requests will automatically use this token.\n\n'
          : method === 'token'
            ? 'Success! The token is valid. It was not stored (-no-store): set COFFER_TOKEN or VAULT_TOKEN to use it.\n\n'
            : 'Success! You are now authenticated. The token was not stored (-no-store): set COFFER_TOKEN or VAULT_TOKEN to use it.\n\n',
      );
      printTable(['Key', 'Value'], authRows(auth));
    });
}

/** Vault's token login answers with an auth block built from the lookup-self data. */
function authFromLookup(token: string, d: TokenLookup): AuthInfo {
  return {
    client_token: token,
    accessor: d.accessor,
    policies: d.policies ?? [],
    token_policies: d.policies ?? [],
    identity_policies: d.identity_policies ?? [],
    metadata: d.meta ?? null,
    lease_duration: d.ttl ?? 0,
    renewable: Boolean(d.renewable),
    entity_id: d.entity_id ?? '',
    token_type: d.type ?? 'service',
    orphan: Boolean(d.orphan),
    num_uses: d.num_uses ?? 0,
  };
}
