// `coffer namespace create|list|lookup|patch|lock|unlock|delete|seal|unseal|seal-status|delete-sealed` (OpenBao's `bao namespace`), each acting below the
// namespace the CLI works in (the global -namespace flag, or COFFER_NAMESPACE / VAULT_NAMESPACE / BAO_NAMESPACE).
import type { Command } from 'commander';
import type { NamespaceInfo, NamespaceSealStatus } from '../../sdk/client.js';
import { CliError, Session, collectRaw, formatOption, pairs, success } from '../common.js';
import { kvRows, printJson, printTable } from '../output.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

function printNamespace(s: Session, ns: NamespaceInfo): void {
  if (s.json) return printJson(s.last?.body);
  printTable(['Key', 'Value'], kvRows(ns as unknown as Record<string, unknown>));
}

export function registerNamespace(program: Command): void {
  const namespace = program.command('namespace').description('create, list, look up, patch and delete namespaces');

  namespace
    .command('create')
    .description('create a namespace below the current one (an existing one gets the given metadata)')
    .argument('<path>', 'name of the new namespace')
    .option('--custom-metadata <k=v>', 'custom metadata, repeatable', collectRaw, [])
    .option('-n, --key-shares <n>', 'a sealable namespace: shares of its own unseal key')
    .option('-t, --key-threshold <t>', 'a sealable namespace: shares needed to unseal it')
    .option('--pgp-keys <keys>', 'a sealable namespace: comma-separated base64 PGP public keys, one per share')
    .addOption(formatOption())
    .action(async (path: string, opts: { customMetadata: string[]; keyShares?: string; keyThreshold?: string; pgpKeys?: string; format?: string }) => {
      const s = new Session(opts);
      const metadata = pairs(opts.customMetadata, '-custom-metadata');
      if (opts.keyShares === undefined && opts.keyThreshold === undefined) return printNamespace(s, await s.api('creating namespace', (c) => c.namespaceCreate(path, metadata)));
      const shares = Number(opts.keyShares ?? '1');
      const threshold = Number(opts.keyThreshold ?? '1');
      if (!Number.isSafeInteger(shares) || !Number.isSafeInteger(threshold)) throw new CliError('-key-shares and -key-threshold must be integers');
      const pgpKeys = (opts.pgpKeys ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
      const created = await s.api('creating namespace', (c) => c.namespaceCreateSealable(path, { shares, threshold, pgpKeys }, metadata));
      if (s.json) return printJson(s.last?.body);
      const { key_shares: keys, key_threshold: t, ...ns } = created;
      keys.forEach((k, i) => process.stdout.write(`Unseal Key ${i + 1}: ${k}\n`));
      process.stdout.write(
        `\nNamespace initialized with ${keys.length} key shares and a key threshold of ${t}. Please\nsecurely distribute the key shares printed above. When the namespace is\nre-sealed, you must supply at least ${t} of these keys to unseal it.\n\n`,
      );
      printNamespace(s, ns);
    });

  const printSealStatus = (s: Session, st: NamespaceSealStatus) => {
    if (s.json) return printJson(s.last?.body);
    printTable(['Key', 'Value'], [
      ['Seal Type', st.type],
      ['Initialized', String(st.initialized)],
      ['Sealed', String(st.sealed)],
      ['Total Shares', String(st.n)],
      ['Threshold', String(st.t)],
      ['Unseal Progress', `${st.progress}/${st.t}`],
      ['Unseal Nonce', st.nonce || 'n/a'],
    ]);
  };

  namespace
    .command('seal-status')
    .description('the seal status of a sealable namespace below the current one')
    .argument('<path>', 'name of the namespace')
    .addOption(formatOption())
    .action(async (path: string, opts: { format?: string }) => {
      const s = new Session(opts);
      printSealStatus(s, await s.api('reading seal status', (c) => c.namespaceSealStatus(path)));
    });

  namespace
    .command('unseal')
    .description('give one share of a sealable namespace\'s unseal key')
    .argument('<path>', 'name of the namespace')
    .argument('[key]', 'the share (hex or base64); read from stdin when omitted')
    .option('--reset', 'discard the shares given so far')
    .addOption(formatOption())
    .action(async (path: string, key: string | undefined, opts: { reset?: boolean; format?: string }) => {
      const s = new Session(opts);
      if (opts.reset) return printSealStatus(s, await s.api('resetting unseal', (c) => c.namespaceUnsealReset(path)));
      const share = (key ?? (await readStdin())).trim();
      if (share === '') throw new CliError('Missing unseal key');
      printSealStatus(s, await s.api('unsealing namespace', (c) => c.namespaceUnseal(path, share)));
    });

  namespace
    .command('seal')
    .description('seal a sealable namespace below the current one (and every sealable namespace below it)')
    .argument('<path>', 'name of the namespace')
    .action(async (path: string) => {
      const s = new Session();
      await s.api('sealing namespace', (c) => c.namespaceSeal(path));
      success(`Namespace ${JSON.stringify(path)} is sealed.`);
    });

  namespace
    .command('delete-sealed')
    .description('delete a sealed namespace (needs sudo); -force: with every namespace below it')
    .argument('<path>', 'name of the namespace')
    .option('--force', 'delete the namespaces below it too')
    .action(async (path: string, opts: { force?: boolean }) => {
      const s = new Session();
      await s.api('deleting sealed namespace', (c) => c.namespaceDeleteSealed(path, opts.force === true));
      success(`Namespace deletion scheduled: ${path.replace(/\/*$/, '/')}`);
    });

  namespace
    .command('list')
    .description('list the namespaces directly below the current one')
    .option('--detailed', 'show each namespace with its details')
    .addOption(formatOption())
    .action(async (opts: { detailed?: boolean; format?: string }) => {
      const s = new Session(opts);
      const listed = await s.api('listing namespaces', (c) => c.namespaceList());
      if (s.json) return printJson(s.last?.body ?? { data: listed });
      if (listed.keys.length === 0) throw new CliError('No namespaces found', 2);
      if (!opts.detailed) return printTable(['Keys'], listed.keys.map((k) => [k]));
      printTable(
        ['Keys', 'ID', 'Path', 'Custom Metadata'],
        listed.keys.map((k) => {
          const i = listed.key_info[k];
          return [k, i?.id ?? '', i?.path ?? '', JSON.stringify(i?.custom_metadata ?? {})];
        }),
      );
    });

  namespace
    .command('lookup')
    .description('show one namespace below the current one')
    .argument('<path>', 'name of the namespace')
    .addOption(formatOption())
    .action(async (path: string, opts: { format?: string }) => {
      const s = new Session(opts);
      const ns = await s.api('looking up namespace', (c) => c.namespaceRead(path));
      if (ns === null) throw new CliError('Namespace not found', 2);
      printNamespace(s, ns);
    });

  namespace
    .command('patch')
    .description("change a namespace's custom metadata")
    .argument('<path>', 'name of the namespace')
    .option('--custom-metadata <k=v>', 'set a metadata key, repeatable', collectRaw, [])
    .option('--remove-custom-metadata <k>', 'remove a metadata key, repeatable', collectRaw, [])
    .addOption(formatOption())
    .action(async (path: string, opts: { customMetadata: string[]; removeCustomMetadata: string[]; format?: string }) => {
      if (opts.customMetadata.length === 0 && opts.removeCustomMetadata.length === 0) throw new CliError('Must supply at least one of -custom-metadata or -remove-custom-metadata');
      const patch: Record<string, string | null> = pairs(opts.customMetadata, '-custom-metadata');
      for (const k of opts.removeCustomMetadata) patch[k] = null;
      const s = new Session(opts);
      printNamespace(s, await s.api('patching namespace', (c) => c.namespacePatch(path, patch)));
    });

  namespace
    .command('lock')
    .description('API-lock the current namespace, or PATH below it: requests there answer 503 until it is unlocked')
    .argument('[path]', 'namespace below the current one (default: the current one)')
    .addOption(formatOption())
    .action(async (path: string | undefined, opts: { format?: string }) => {
      const s = new Session(opts);
      const key = await s.api('locking namespace', (c) => c.namespaceLock(path ?? ''));
      if (s.json) return printJson(s.last?.body);
      process.stdout.write(`Unlock Key: ${key}\n`);
    });

  namespace
    .command('unlock')
    .description('unlock an API-locked namespace with its key (or without one, with sudo)')
    .argument('[path]', 'namespace below the current one (default: the current one)')
    .option('--unlock-key <key>', 'the key the lock answered')
    .action(async (path: string | undefined, opts: { unlockKey?: string }) => {
      const s = new Session();
      await s.api('unlocking namespace', (c) => c.namespaceUnlock(path ?? '', opts.unlockKey));
      success(`Namespace unlocked: ${path ?? '(current)'}`);
    });

  namespace
    .command('delete')
    .description('delete a namespace below the current one, with everything in it')
    .argument('<path>', 'name of the namespace')
    .action(async (path: string) => {
      const s = new Session();
      const existed = await s.api('deleting namespace', (c) => c.namespaceDelete(path));
      if (existed) success(`Namespace deleted: ${path.replace(/\/*$/, '/')}`);
      else process.stdout.write('WARNING! Requested namespace does not exist\n');
    });
}
