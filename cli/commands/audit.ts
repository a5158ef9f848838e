// `coffer audit enable|disable|list`: audit devices through sys/audit, with Vault's CLI shape:
//   audit enable [-path=P] [-description=D] [-local] TYPE [K=V ...]   (K=V are the device options,
//                                                                        e.g. file_path=/var/log/audit.log)
//   audit disable PATH
//   audit list [-detailed] [-format=json]
// Enabling over the API needs `unsafe_allow_api_audit_creation = true` in the server config (OpenBao's
// default is off); the server's 400 then comes back as the usual "Error enabling audit device" message.
import type { Command } from 'commander';
import { CliError, Session, formatOption, pairs, success } from '../common.js';
import { printJson, printTable } from '../output.js';

const withSlash = (p: string) => `${p.replace(/^\/+|\/+$/g, '')}/`;

interface AuditDevice {
  type: string;
  description?: string;
  path?: string;
  local?: boolean;
  options?: Record<string, string> | null;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('enable, disable and list audit devices');

  audit
    .command('enable')
    .description('enable an audit device: TYPE (file) then its options as K=V, e.g. file_path=/var/log/coffer-audit.log')
    .argument('<type>', 'device type (file)')
    .argument('[options...]', 'device options as key=value')
    .option('--path <path>', 'where to enable it (default: the type name)')
    .option('--description <text>', 'human-friendly description')
    .option('--local', 'local device, not replicated')
    .action(async (type: string, options: string[], opts: { path?: string; description?: string; local?: boolean }) => {
      const path = withSlash(opts.path ?? type);
      const body: Record<string, unknown> = { type, options: pairs(options, 'option') };
      if (opts.description !== undefined) body.description = opts.description;
      if (opts.local) body.local = true;
      const s = new Session();
      await s.api('enabling audit device', (c) => c.request('PUT', `sys/audit/${encodeURIComponent(path.slice(0, -1))}`, body));
      success(`Enabled the ${type} audit device at: ${path}`);
    });

  audit
    .command('disable')
    .description('disable an audit device (its log file is left in place)')
    .argument('<path>', 'device path')
    .action(async (path: string) => {
      const s = new Session();
      await s.api('disabling audit device', (c) => c.request('DELETE', `sys/audit/${encodeURIComponent(withSlash(path).slice(0, -1))}`));
      success(`Disabled audit device (if it was enabled) at: ${withSlash(path)}`);
    });

  audit
    .command('list')
    .description('list the enabled audit devices')
    .option('--detailed', 'more columns: replication, options')
    .addOption(formatOption())
    .action(async (opts: { detailed?: boolean; format?: string }) => {
      const s = new Session(opts);
      const r = await s.api('listing audits', (c) => c.request<{ data?: Record<string, AuditDevice> }>('GET', 'sys/audit'));
      if (s.json) return printJson(r.body);
      const devices = r.body?.data ?? {};
      const paths = Object.keys(devices).sort();
      if (paths.length === 0) throw new CliError('No audit devices are enabled.', 2);
      if (!opts.detailed) {
        printTable(['Path', 'Type', 'Description'], paths.map((p) => [p, devices[p]!.type, devices[p]!.description ?? '']));
        return;
      }
      printTable(
        ['Path', 'Type', 'Description', 'Replication', 'Options'],
        paths.map((p) => {
          const d = devices[p]!;
          const o = d.options ?? {};
          return [p, d.type, d.description ?? '', d.local ? 'local' : 'replicated', `map[${Object.keys(o).sort().map((k) => `${k}:${o[k]}`).join(' ')}]`];
        }),
      );
    });
}
