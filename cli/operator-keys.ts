// `coffer operator key-status`, `operator rotate` and `operator step-down`, as Vault's CLI: the barrier's
// active key term, its rotation, and handing the active role to another node.
import type { Command } from 'commander';
import { formatOption, outputFormat, Session, success } from './common.js';
import { printJson, printTable } from './output.js';

interface KeyStatusBody {
  data: { term: number; install_time: string; encryptions: number };
}

async function printKeyStatus(s: Session, opts: { format?: string }): Promise<void> {
  const body = await s.api('reading the key status', async (c) => (await c.request<KeyStatusBody>('GET', 'sys/key-status')).body);
  if (outputFormat(opts) === 'json') return printJson(body.data);
  printTable(['Key', 'Value'], [
    ['Key Term', String(body.data.term)],
    ['Install Time', body.data.install_time],
    ['Encryption Count', String(body.data.encryptions)],
  ]);
}

export function registerOperatorKeys(operator: Command): void {
  operator
    .command('key-status')
    .description("print the barrier's active key term, its install time and encryption count")
    .addOption(formatOption())
    .action(async (opts: { format?: string }) => printKeyStatus(new Session(opts), opts));

  operator
    .command('rotate')
    .description("rotate the barrier's data key: new writes use a new term, older terms stay readable")
    .addOption(formatOption())
    .action(async (opts: { format?: string }) => {
      const s = new Session(opts);
      await s.api('rotating the key', (c) => c.request('PUT', 'sys/rotate', {}));
      if (outputFormat(opts) !== 'json') success('Rotated key\n');
      await printKeyStatus(s, opts);
    });

  operator
    .command('step-down')
    .description('make the active node step down: another voter takes over as active')
    .action(async () => {
      const s = new Session();
      await s.api('stepping down the active node', (c) => c.request('PUT', 'sys/step-down', {}));
      success(`Stepped down: ${s.client.address}`);
    });
}
