// `coffer policy write|read|list|delete`: ACL policies through sys/policies/acl.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError } from '../../sdk/client.js';
import { CliError, Session, formatOption, readStdin, remoteError, success } from '../common.js';
import { printJson } from '../output.js';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('write, read, list and delete ACL policies');

  policy
    .command('write')
    .description('upload a policy from a file (HCL or JSON), or from stdin with -')
    .argument('<name>', 'policy name')
    .argument('<file>', 'path to the policy file, or - for stdin')
    .action(async (name: string, file: string) => {
      let text: string;
      try {
        text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`Error opening policy file: ${(e as Error).message}`);
      }
      const s = new Session();
      await s.api('uploading policy', (c) => c.policyWrite(name, text));
      success(`Uploaded policy: ${name}`);
    });

  policy
    .command('read')
    .description('print a policy exactly as it was written')
    .argument('<name>', 'policy name')
    .addOption(formatOption())
    .action(async (name: string, opts: { format?: string }) => {
      const s = new Session(opts);
      let text: string | null;
      try {
        text = await s.client.policyRead(name);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) text = null;
        else throw remoteError(`reading policy named ${name}`, e);
      }
      if (text === null) throw new CliError(`No policy named: ${name}`, 2);
      if (s.json) return printJson(s.last?.body);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });

  policy
    .command('list')
    .description('list the policy names')
    .addOption(formatOption())
    .action(async (opts: { format?: string }) => {
      const s = new Session(opts);
      const names = await s.api('listing policies', (c) => c.policyList());
      if (s.json) return printJson(s.last?.body);
      process.stdout.write(names.map((n) => `${n}\n`).join(''));
    });

  policy
    .command('delete')
    .description('delete a policy (tokens keep its name, which then grants nothing)')
    .argument('<name>', 'policy name')
    .action(async (name: string) => {
      const s = new Session();
      await s.api(`deleting ${name}`, (c) => c.policyDelete(name));
      success(`Deleted policy: ${name}`);
    });
}
