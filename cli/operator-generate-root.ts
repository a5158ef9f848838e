// `coffer operator generate-root` as Vault's: -init starts an attempt and prints the OTP, a key share
// (argument, or stdin with "-") advances it with -nonce, -status and -cancel, and -decode with -otp turns
// the encoded token into the root token. The decode is local: the token never crosses the wire in clear.
import type { Command } from 'commander';
import { decodeRootToken, type GenerateRootStatus } from '../actors/barrier/root-generation.js';
import { CliError, formatOption, outputFormat, pgpKeyFiles, readStdin, Session } from './common.js';
import { printJson, printTable } from './output.js';

interface Opts {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  decode?: string;
  otp?: string;
  nonce?: string;
  pgpKey?: string;
  format?: string;
}

function printStatus(s: GenerateRootStatus, opts: Opts): void {
  if (outputFormat(opts) === 'json') return printJson(s);
  const rows: string[][] = [
    ['Nonce', s.nonce],
    ['Started', String(s.started)],
    ['Progress', `${s.progress}/${s.required}`],
    ['Complete', String(s.complete)],
  ];
  if (s.otp !== '') rows.push(['OTP', s.otp]);
  rows.push(['OTP Length', String(s.otp_length)]);
  if (s.encoded_token !== '') rows.push(['Encoded Token', s.encoded_token]);
  printTable(['Key', 'Value'], rows);
}

export function registerOperatorGenerateRoot(operator: Command): void {
  operator
    .command('generate-root')
    .description('generate a new root token from a quorum of unseal key shares')
    .argument('[key]', 'an unseal key share; "-" reads it from stdin')
    .option('--init', 'start a root token generation (prints the OTP)')
    .option('--cancel', 'cancel the generation in progress')
    .option('--status', 'print the status of the generation in progress')
    .option('--decode <encoded>', 'decode an encoded root token (with -otp)')
    .option('--otp <otp>', 'the OTP printed by -init')
    .option('--nonce <nonce>', 'the nonce of the generation in progress')
    .option('--pgp-key <file>', 'with -init: encrypt the new root token to this PGP public key (file, binary or base64) instead of an OTP')
    .addOption(formatOption())
    .action(async (key: string | undefined, opts: Opts) => {
      if (opts.decode !== undefined) {
        if (!opts.otp) throw new CliError('Error: -decode needs -otp, the OTP printed by -init', 1);
        try {
          process.stdout.write(`${decodeRootToken(opts.decode, opts.otp)}\n`);
        } catch (e) {
          throw new CliError(`Error decoding the root token: ${(e as Error).message}`, 1);
        }
        return;
      }
      const s = new Session();
      const ask = (what: string, method: string, path: string, body?: unknown) =>
        s.api(what, async (c) => (await c.request<GenerateRootStatus>(method, path, body)).body);
      if (opts.cancel) {
        await ask('canceling root token generation', 'DELETE', 'sys/generate-root/attempt');
        process.stdout.write('Success! Root token generation canceled (if there was one)\n');
        return;
      }
      if (opts.init) {
        const pgp = pgpKeyFiles(opts.pgpKey, 'pgp-key')[0];
        return printStatus(await ask('starting root token generation', 'PUT', 'sys/generate-root/attempt', pgp ? { pgp_key: pgp } : {}), opts);
      }
      if (opts.status || key === undefined) return printStatus(await ask('reading root token generation status', 'GET', 'sys/generate-root/attempt'), opts);
      const share = key === '-' ? (await readStdin()).trim() : key;
      let nonce = opts.nonce;
      if (!nonce) nonce = (await ask('reading root token generation status', 'GET', 'sys/generate-root/attempt')).nonce;
      printStatus(await ask('submitting an unseal key share', 'PUT', 'sys/generate-root/update', { key: share, nonce }), opts);
    });
}
