// `coffer lease lookup|renew|revoke`, Vault's CLI shape over sys/leases:
//   lease lookup ID                           PUT sys/leases/lookup        {lease_id}
//   lease renew [-increment=DUR] ID           PUT sys/leases/renew         {lease_id, increment}
//   lease revoke [-prefix] [-force] [-sync] ID   PUT sys/leases/revoke {lease_id, sync}, or
//                                             revoke-prefix/ID {sync}, or revoke-force/ID (needs -prefix)
// Without -sync Vault answers "All revocation operations queued successfully!"; with it, "Success! ...".
import type { Command } from 'commander';
import { CliError, Session, durationFlag, formatOption, success } from '../common.js';
import { humanDuration, kvRows, printJson, printTable } from '../output.js';

interface LeaseBody {
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: Record<string, unknown> | null;
}

export function registerLease(program: Command): void {
  const lease = program.command('lease').description('look up, renew and revoke leases');

  lease
    .command('lookup')
    .description('show a lease: issue and expire time, TTL, renewable')
    .argument('<lease_id>', 'the lease id')
    .addOption(formatOption())
    .action(async (leaseId: string, opts: { format?: string }) => {
      const s = new Session(opts);
      const r = await s.api(`looking up lease id ${leaseId}`, (c) => c.request<LeaseBody>('PUT', 'sys/leases/lookup', { lease_id: leaseId }));
      if (s.json) return printJson(r.body);
      printTable(['Key', 'Value'], kvRows(r.body?.data ?? {}));
    });

  lease
    .command('renew')
    .description('extend a lease by -increment (the backend may grant less)')
    .argument('<lease_id>', 'the lease id')
    .option('--increment <duration>', 'requested extension, e.g. 1h')
    .addOption(formatOption())
    .action(async (leaseId: string, opts: { increment?: string; format?: string }) => {
      const increment = durationFlag(opts.increment, 'increment');
      const s = new Session(opts);
      const body: Record<string, unknown> = { lease_id: leaseId };
      if (increment !== undefined) body.increment = increment;
      const r = await s.api(`renewing ${leaseId}`, (c) => c.request<LeaseBody>('PUT', 'sys/leases/renew', body));
      if (s.json) return printJson(r.body);
      const b = r.body ?? {};
      printTable(['Key', 'Value'], [['lease_id', b.lease_id ?? leaseId], ['lease_duration', humanDuration(b.lease_duration ?? 0)], ['lease_renewable', String(Boolean(b.renewable))]]);
    });

  lease
    .command('revoke')
    .description('revoke a lease, or with -prefix every lease under a prefix (-force ignores backend errors)')
    .argument('<id>', 'the lease id, or the prefix with -prefix')
    .option('--prefix', 'treat the argument as a prefix')
    .option('--force', 'delete the leases even if the backend fails to revoke them (needs -prefix)')
    .option('--sync', 'wait until the revocation is done')
    .action(async (id: string, opts: { prefix?: boolean; force?: boolean; sync?: boolean }) => {
      if (opts.force && !opts.prefix) throw new CliError('Specifying -force requires also specifying -prefix');
      const s = new Session();
      const sync = opts.sync === true;
      const clean = id.replace(/^\/+/, '');
      if (opts.force) {
        await s.api(`force revoking ${clean}`, (c) => c.request('PUT', `sys/leases/revoke-force/${clean}`));
        return success(`Force revoked any leases with prefix: ${clean}`);
      }
      if (opts.prefix) {
        await s.api(`revoking prefix ${clean}`, (c) => c.request('PUT', `sys/leases/revoke-prefix/${clean}`, { sync }));
        return sync ? success(`Revoked any leases with prefix: ${clean}`) : void process.stdout.write('All revocation operations queued successfully!\n');
      }
      await s.api(`revoking ${clean}`, (c) => c.request('PUT', 'sys/leases/revoke', { lease_id: clean, sync }));
      return sync ? success(`Revoked lease: ${clean}`) : void process.stdout.write('All revocation operations queued successfully!\n');
    });
}
