// `coffer login [TOKEN]`: checks the token with auth/token/lookup-self and stores it in ~/.coffer-token,
// which the CLI reads when COFFER_TOKEN / VAULT_TOKEN are unset (then ~/.vault-token).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuthInfo, TokenLookup } from '../../sdk/client.js';
import { CliError, Session, formatOption, readStdin, tokenFiles } from '../common.js';
import { printJson, printTable } from '../output.js';
import { authRows } from './token.js';

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('authenticate with a token (verified by lookup-self) and store it for later commands')
    .argument('[token]', 'the token; read from stdin when omitted or "-"')
    .option('--method <method>', 'auth method; only "token" is supported', 'token')
    .option('--no-store', 'verify and print, but do not write the token file')
    .option('--field <name>', 'print only this field (e.g. token)')
    .addOption(formatOption())
    .action(async (arg: string | undefined, opts: { method: string; store: boolean; field?: string; format?: string }) => {
      if (opts.method !== 'token') throw new CliError(`Unsupported auth method "${opts.method}": only -method=token is available`);
      let token = arg;
      if (token === undefined || token === '-') {
        if (process.stdin.isTTY) process.stderr.write('Token (will be hidden): ');
        token = (await readStdin()).trim();
      }
      if (!token) throw new CliError('Error authenticating: no token provided');
      const s = new Session(opts, token);
      const info = await s.api('authenticating', (c) => c.tokenLookupSelf());
      if (opts.store) {
        const file = tokenFiles().write;
        try {
          writeFileSync(file, token, { mode: 0o600 });
        } catch (e) {
          throw new CliError(`Error storing token in ${file}: ${(e as Error).message}`);
        }
      }
      const auth = authFromLookup(token, info);
      if (opts.field !== undefined) {
        const row = authRows(auth).find(([k]) => k === opts.field);
        if (!row) throw new CliError(`Field "${opts.field}" not present in secret`);
        process.stdout.write(`${row[1]}\n`);
        return;
      }
      if (s.json) return printJson({ ...(s.last?.body as Record<string, unknown>), auth });
      process.stdout.write(
        opts.store
          ? 'Success! You are now authenticated. The token information displayed below\nis already stored in the token helper. You do NOT need to run "coffer login"\nagain. Future requests will automatically use this token.\n\n'
          : 'Success! The token is valid. It was not stored (-no-store): set COFFER_TOKEN or VAULT_TOKEN to use it.\n\n',
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
