#!/usr/bin/env node
// The `coffer` command line: Vault's CLI habits (single-dash flags, VAULT_ADDR/VAULT_TOKEN, table or
// -format=json output, exit code 2 for a sealed `status`) on top of commander.
import { Command, Option } from 'commander';
import type { RunningNode } from '../actors/node/node.js';
import { ApiError, Client } from '../sdk/client.js';
import { CliError, cliToken, pgpKeyFiles } from './common.js';
import { registerAudit } from './commands/audit.js';
import { registerGeneric } from './commands/generic.js';
import { registerKv } from './commands/kv.js';
import { registerLease } from './commands/lease.js';
import { registerLogin } from './commands/login.js';
import { registerOperatorGenerateRoot } from './operator-generate-root.js';
import { registerOperatorKeys } from './operator-keys.js';
import { registerOperatorRaft } from './operator-raft.js';
import { registerOperatorRekey } from './operator-rekey.js';
import { registerNamespace } from './commands/namespace.js';
import { registerPolicy } from './commands/policy.js';
import { registerAuth, registerSecrets } from './commands/secrets.js';
import { registerToken } from './commands/token.js';
import { normaliseArgv, printTable, takeNamespaceFlag } from './output.js';
import { COFFER_VERSION } from '../runtime/version.js';

const program = new Command();
program.name('coffer').description('A Vault/OpenBao-compatible secrets manager').showHelpAfterError();

/** The lifecycle commands (init, unseal, seal, status) talk to the node itself, outside any namespace. */
function client(): Client {
  return new Client({ token: cliToken(), namespace: null });
}

function format(opts: { format?: string }): 'table' | 'json' {
  const f = opts.format ?? process.env.VAULT_FORMAT ?? 'table';
  if (f !== 'table' && f !== 'json') throw new Error(`unknown format "${f}": use table or json`);
  return f;
}

const formatOption = () => new Option('--format <format>', 'output format: table or json').default(undefined);

// ---- server --------------------------------------------------------------------------------------

program
  .command('server')
  .description('start a Coffer server')
  .option('--dev', 'in-process dev mode: temp storage, one unseal share, unsealed, KV at secret/')
  .option('--dev-three-node', 'a three-node Raft cluster on 127.0.0.1 in a temp dir, initialised, joined and unsealed')
  .option('--dev-root-token-id <id>', 'the root token of the dev server', process.env.COFFER_DEV_ROOT_TOKEN_ID ?? process.env.VAULT_DEV_ROOT_TOKEN_ID)
  .option('--dev-listen-address <addr>', 'address of the dev listener', process.env.COFFER_DEV_LISTEN_ADDRESS ?? process.env.VAULT_DEV_LISTEN_ADDRESS ?? '127.0.0.1:8200')
  .option('--config <file>', 'server configuration file (HCL)')
  .option('--log-level <level>', 'trace, debug, info, warn, error', process.env.COFFER_LOG_LEVEL ?? 'info')
  .action(async (opts: { dev?: boolean; devThreeNode?: boolean; devRootTokenId?: string; devListenAddress: string; config?: string; logLevel: string }) => {
    // The server modules load only for `server`, so client commands start faster.
    const { createLogger, startDevNode, startNode } = await import('../actors/node/node.js');
    const { parseConfigFile } = await import('./config.js');
    const log = createLogger(opts.logLevel);
    let node: Pick<RunningNode, 'close'>;
    if (opts.devThreeNode) {
      const { startDevCluster } = await import('../actors/cluster/dev-cluster.js');
      const cluster = await startDevCluster(
        { listenAddress: opts.devListenAddress, rootTokenId: opts.devRootTokenId ?? null, progress: (line) => process.stdout.write(`${line}\n`) },
        log,
      );
      node = cluster;
      process.stdout.write(
        [
          '',
          'WARNING! dev three-node mode is enabled! Three nodes run in this process with their storage in a',
          'temporary directory, initialised, joined and unsealed. Do not run dev mode in production.',
          '',
          ...cluster.nodes.map((n, i) => `${n.id}: API ${n.url}, cluster ${n.clusterAddr}${i === 0 ? ' (active)' : ' (standby)'}`),
          '',
          `    $ export VAULT_ADDR='${cluster.nodes[0]!.url}'`,
          '',
          `Unseal Key: ${cluster.unsealKey}`,
          `Root Token: ${cluster.rootToken}`,
          '',
          `Storage: ${cluster.baseDir}`,
          '',
        ].join('\n'),
      );
    } else if (opts.dev) {
      const dev = await startDevNode({ listenAddress: opts.devListenAddress, rootTokenId: opts.devRootTokenId ?? null }, log);
      node = dev;
      process.stdout.write(
        [
          'WARNING! dev mode is enabled! In this mode, Coffer runs with its storage in a temporary',
          'directory, already initialized and unsealed, and prints its root token. Do not run dev mode in production.',
          '',
          'You may need to set the following environment variables:',
          '',
          `    $ export VAULT_ADDR='${dev.url}'`,
          '',
          'The unseal key and root token are displayed below in case you want to seal/unseal the Vault',
          'or re-authenticate.',
          '',
          `Unseal Key: ${dev.unsealKey}`,
          `Root Token: ${dev.rootToken}`,
          '',
          `Storage: ${dev.dataDir}`,
          '',
        ].join('\n'),
      );
    } else if (opts.config) {
      const config = await parseConfigFile(opts.config);
      const started = await startNode({ ...config, logLevel: opts.logLevel }, log);
      node = started;
      process.stdout.write(`Coffer server started. Listening on ${started.url}; storage at ${config.dataDir}.\n`);
    } else {
      throw new Error('either -dev or -config=FILE is required');
    }
    // The front runs on this thread: it gives its heap back after bursts as the actor workers do. Only
    // the server command starts it; an application embedding a node through the SDK keeps its own GC.
    const { trimThisThreadWhenIdle } = await import('../runtime/heap-trim.js');
    trimThisThreadWhenIdle((e) => log.debug({ heapBytesBefore: e.heapBytesBefore, heapBytesAfter: e.heapBytesAfter }, 'main thread heap trimmed'));
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      node.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

// ---- operator ------------------------------------------------------------------------------------

const operator = program.command('operator').description('operate a Coffer server: init, unseal, seal, generate-root, rekey, key-status, rotate, step-down, raft');

operator
  .command('init')
  .description('initialise the server: generates the unseal key shares and the initial root token')
  .option('--key-shares <n>', 'number of key shares', '5')
  .option('--key-threshold <n>', 'number of shares needed to unseal', '3')
  .option('--pgp-keys <files>', 'comma-separated files with one PGP public key per share (binary or base64): each share comes back encrypted to its key')
  .option('--root-token-pgp-key <file>', 'a file with a PGP public key the initial root token is encrypted to')
  .addOption(formatOption())
  .action(async (opts: { keyShares: string; keyThreshold: string; pgpKeys?: string; rootTokenPgpKey?: string; format?: string }) => {
    const pgp = pgpKeyFiles(opts.pgpKeys, 'pgp-keys');
    const rootPgp = pgpKeyFiles(opts.rootTokenPgpKey, 'root-token-pgp-key')[0];
    const result = await client().init({ secret_shares: Number(opts.keyShares), secret_threshold: Number(opts.keyThreshold), ...(pgp.length > 0 ? { pgp_keys: pgp } : {}), ...(rootPgp ? { root_token_pgp_key: rootPgp } : {}) });
    if (format(opts) === 'json') {
      const json = { unseal_keys_b64: result.keys_base64, unseal_keys_hex: result.keys, unseal_shares: Number(opts.keyShares), unseal_threshold: Number(opts.keyThreshold), root_token: result.root_token };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    const lines = result.keys_base64.map((k, i) => `Unseal Key ${i + 1}: ${k}`);
    lines.push('', `Initial Root Token: ${result.root_token}`, '');
    lines.push(`Coffer initialized with ${opts.keyShares} key shares and a key threshold of ${opts.keyThreshold}. Unseal the server with`);
    lines.push(`${opts.keyThreshold} of these keys (coffer operator unseal), and keep them apart: they are the only way to unseal.`);
    process.stdout.write(`${lines.join('\n')}\n`);
  });

operator
  .command('unseal')
  .description('submit one unseal key share')
  .argument('[key]', 'the key share (hex or base64); read from stdin when omitted')
  .option('--reset', 'discard the shares submitted so far')
  .addOption(formatOption())
  .action(async (key: string | undefined, opts: { reset?: boolean; format?: string }) => {
    const c = client();
    let status;
    if (opts.reset) status = await c.unsealReset();
    else {
      const share = key ?? (await readStdin()).trim();
      if (!share) throw new Error('an unseal key is required');
      status = await c.unseal(share);
    }
    printSealStatus(status, format(opts));
  });

operator
  .command('seal')
  .description('seal the server: it forgets its keys until unsealed again')
  .action(async () => {
    await client().seal();
    process.stdout.write('Success! Coffer is sealed.\n');
  });

// ---- version -------------------------------------------------------------------------------------

// `coffer version`, `coffer -version` and `coffer -v`, as Vault's CLI answers all three.
const printVersion = (): void => {
  process.stdout.write(`Coffer v${COFFER_VERSION}, node ${process.version}\n`);
};
program.option('-v, --version', 'print the version').on('option:version', () => {
  printVersion();
  process.exit(0);
});
program.command('version').description('print the version').action(printVersion);

// ---- status --------------------------------------------------------------------------------------

program
  .command('status')
  .description('print the seal status; exit code 2 when sealed')
  .addOption(formatOption())
  .action(async (opts: { format?: string }) => {
    const c = client();
    const status = await c.sealStatus();
    printSealStatus(status, format(opts), status.sealed ? null : await c.leader().catch(() => null));
    if (status.sealed) process.exitCode = 2;
  });

interface LeaderStatus {
  ha_enabled: boolean;
  is_self?: boolean;
  active_time?: string;
  leader_address?: string;
  leader_cluster_address?: string;
  raft_committed_index?: number;
  raft_applied_index?: number;
}

function printSealStatus(status: Awaited<ReturnType<Client['sealStatus']>>, fmt: 'table' | 'json', leader: LeaderStatus | null = null): void {
  if (fmt === 'json') {
    process.stdout.write(`${JSON.stringify({ ...status, ...(leader ?? {}) }, null, 2)}\n`);
    return;
  }
  const rows: [string, string][] = [
    ['Seal Type', status.type],
    ['Initialized', String(status.initialized)],
    ['Sealed', String(status.sealed)],
    ['Total Shares', String(status.n)],
    ['Threshold', String(status.t)],
  ];
  if (status.sealed) rows.push(['Unseal Progress', `${status.progress}/${status.t}`], ['Unseal Nonce', status.nonce || 'n/a']);
  rows.push(['Version', status.version], ['Storage Type', status.storage_type]);
  if (status.cluster_name) rows.push(['Cluster Name', status.cluster_name], ['Cluster ID', status.cluster_id ?? '']);
  if (leader) rows.push(['HA Enabled', String(leader.ha_enabled)]);
  if (leader?.ha_enabled) {
    rows.push(['HA Cluster', leader.leader_cluster_address ?? 'n/a'], ['HA Mode', leader.is_self ? 'active' : 'standby']);
    if (leader.is_self && leader.active_time) rows.push(['Active Since', leader.active_time]);
    if (!leader.is_self) rows.push(['Active Node Address', leader.leader_address ?? '<none>']);
    rows.push(['Raft Committed Index', String(leader.raft_committed_index ?? 0)], ['Raft Applied Index', String(leader.raft_applied_index ?? 0)]);
  }
  printTable(['Key', 'Value'], rows);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Unseal Key (will be hidden): ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

registerKv(program);
registerGeneric(program);
registerToken(program);
registerPolicy(program);
registerNamespace(program);
registerAudit(program);
registerLease(program);
registerSecrets(program);
registerAuth(program);
registerLogin(program);
registerOperatorRaft(operator);
registerOperatorGenerateRoot(operator);
registerOperatorRekey(operator);
registerOperatorKeys(operator);

// Exit codes: the kv/token/policy/secrets/auth/login/read/write/delete/list/unwrap commands exit 2 for an error returned by the
// server and 1 for a local one (bad flags, unreadable file), as Vault's CLI does. The older
// operator/status commands still exit 1 on API errors (see docs/cli.md).
program.parseAsync(normaliseArgv(takeNamespaceFlag(process.argv))).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ApiError) process.stderr.write(`Error: ${err.message}\n`);
  else process.stderr.write(`Error: ${(err as Error).message}\n`);
  process.exit(1);
});
