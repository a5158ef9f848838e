// `coffer operator rekey` as Vault's: -init with -key-shares/-key-threshold (and -verify to require the new
// shares be confirmed) starts a rekey, a current share (argument, or stdin with "-") advances it with
// -nonce, -status and -cancel; with -verify, new shares confirm the new key.
import type { Command } from 'commander';
import type { RekeyStatus, RekeyUpdateResult, RekeyVerifyStatus } from '../actors/barrier/rekey.js';
import { formatOption, intFlag, outputFormat, pgpKeyFiles, readStdin, Session } from './common.js';
import { printJson, printTable } from './output.js';

interface Opts {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  verify?: boolean;
  keyShares?: string;
  keyThreshold?: string;
  nonce?: string;
  pgpKeys?: string;
  format?: string;
}

type Reply = RekeyStatus | RekeyUpdateResult | RekeyVerifyStatus | { nonce: string; complete: true };

function print(r: Reply, opts: Opts): void {
  if (outputFormat(opts) === 'json') return printJson(r);
  if ('keys_base64' in r) {
    const lines = r.keys_base64.map((k, i) => `Key ${i + 1}: ${k}`);
    lines.push('', `Operation nonce: ${r.nonce}`, '');
    if (r.verification_required) {
      lines.push(`The new shares take effect only once a quorum of them is given to "coffer operator rekey -verify"`);
      lines.push(`with -nonce=${r.verification_nonce ?? ''}. Until then the current shares stay valid.`);
    } else {
      lines.push(`Coffer rekeyed with ${r.keys_base64.length} key shares. The old shares no longer unseal it: keep these apart.`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if ('complete' in r) {
    process.stdout.write(`Success! Rekey verified (nonce ${r.nonce}): the new shares are now the unseal keys.\n`);
    return;
  }
  const rows: string[][] = [
    ['Nonce', r.nonce],
    ['Started', String(r.started)],
    ['Rekey Progress', `${r.progress}/${'required' in r ? r.required : r.t}`],
    ['New Shares', String(r.n)],
    ['New Threshold', String(r.t)],
  ];
  if ('verification_required' in r) rows.push(['Verification Required', String(r.verification_required)]);
  if ('verification_nonce' in r && r.verification_nonce) rows.push(['Verification Nonce', r.verification_nonce]);
  printTable(['Key', 'Value'], rows);
}

export function registerOperatorRekey(operator: Command): void {
  operator
    .command('rekey')
    .description('replace the unseal key shares (and the root key) using a quorum of the current ones')
    .argument('[key]', 'a current unseal key share (a new one with -verify); "-" reads it from stdin')
    .option('--init', 'start a rekey')
    .option('--key-shares <n>', 'number of new key shares (with -init)', '5')
    .option('--key-threshold <n>', 'number of new shares needed to unseal (with -init)', '3')
    .option('--verify', 'with -init: require the new shares be confirmed; with a key: confirm one')
    .option('--cancel', 'cancel the rekey in progress (with -verify: start the verification over)')
    .option('--status', 'print the status of the rekey in progress')
    .option('--nonce <nonce>', 'the nonce of the rekey (or of its verification)')
    .option('--pgp-keys <files>', 'with -init: comma-separated files with one PGP public key per new share (binary or base64)')
    .addOption(formatOption())
    .action(async (key: string | undefined, opts: Opts) => {
      const s = new Session();
      const ask = (what: string, method: string, path: string, body?: unknown) => s.api(what, async (c) => (await c.request<Reply>(method, path, body)).body);
      const base = opts.verify ? 'sys/rekey/verify' : 'sys/rekey/init';
      if (opts.init) {
        const pgp = pgpKeyFiles(opts.pgpKeys, 'pgp-keys');
        const body = { secret_shares: intFlag(opts.keyShares, 'key-shares'), secret_threshold: intFlag(opts.keyThreshold, 'key-threshold'), require_verification: opts.verify === true, ...(pgp.length > 0 ? { pgp_keys: pgp } : {}) };
        return print(await ask('starting the rekey', 'PUT', 'sys/rekey/init', body), opts);
      }
      if (opts.cancel) {
        if (opts.verify) return print(await ask('restarting the rekey verification', 'DELETE', base), opts);
        await ask('canceling the rekey', 'DELETE', base);
        process.stdout.write('Success! Canceled rekeying (if it was started)\n');
        return;
      }
      if (opts.status || key === undefined) return print(await ask('reading the rekey status', 'GET', base), opts);
      const share = key === '-' ? (await readStdin()).trim() : key;
      const nonce = opts.nonce || (await ask('reading the rekey status', 'GET', base)).nonce;
      const path = opts.verify ? 'sys/rekey/verify' : 'sys/rekey/update';
      print(await ask('submitting an unseal key share', 'PUT', path, { key: share, nonce }), opts);
    });
}
