// `coffer operator raft join|list-peers|remove-peer|promote|demote` (Vault/OpenBao's `operator raft ...`),
// and Coffer's disaster recovery: `operator raft dr status|promote` (docs/dr.md).
// Plain fetch against VAULT_ADDR (or COFFER_ADDR) with the CLI token; errors exit 2 as the other commands.
import type { Command } from 'commander';
import { registerSnapshotAutopilot } from './operator-raft-snapshot.js';
import { CliError, cliToken } from './common.js';
import { printJson, printTable } from './output.js';

function addr(): string {
  return (process.env.COFFER_ADDR ?? process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200').replace(/\/$/, '');
}

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
  const token = cliToken();
  if (token) headers['X-Vault-Token'] = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const url = `${addr()}/v1/${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new CliError(`Error: ${method} ${url}: ${(e as Error).message}`, 2);
  }
  const text = await res.text();
  const json = text === '' ? null : JSON.parse(text);
  if (!res.ok) {
    const errors = Array.isArray(json?.errors) ? json.errors.join('\n') : text;
    throw new CliError(`Error making API request.\n\nURL: ${method} ${url}\nCode: ${res.status}. Errors:\n\n* ${errors}`, 2);
  }
  return json;
}

export function registerOperatorRaft(operator: Command): void {
  const raft = operator.command('raft').description('Raft integrated storage: join, peers, membership');
  registerSnapshotAutopilot(raft, { addr, call });

  raft
    .command('join')
    .description('join this (uninitialised) node to the cluster whose leader API address is given')
    .argument('<leader-api-addr>', 'the API address of a cluster node, e.g. http://127.0.0.1:8200')
    .option('--retry', 'keep retrying in the background until the leader answers')
    .option('--non-voter', 'join as a permanent non-voter (read replica)')
    .option('--leader-ca-cert <pem>', "the leader's CA certificate (PEM)")
    .action(async (leader: string, opts: { retry?: boolean; nonVoter?: boolean; leaderCaCert?: string }) => {
      const r = await call('POST', 'sys/storage/raft/join', { leader_api_addr: leader, retry: opts.retry === true, non_voter: opts.nonVoter === true, ...(opts.leaderCaCert ? { leader_ca_cert: opts.leaderCaCert } : {}) });
      printTable(['Key', 'Value'], [['Joined', String(r.joined)]]);
    });

  raft
    .command('list-peers')
    .description('the Raft configuration as this node sees it')
    .option('--format <format>', 'table or json')
    .action(async (opts: { format?: string }) => {
      const r = await call('GET', 'sys/storage/raft/configuration');
      if ((opts.format ?? process.env.VAULT_FORMAT) === 'json') return printJson(r);
      const servers = (r.data.config.servers as { node_id: string; address: string; leader: boolean; voter: boolean }[]).map((s) => [s.node_id, s.address, s.leader ? 'leader' : 'follower', String(s.voter)]);
      printTable(['Node', 'Address', 'State', 'Voter'], servers);
    });

  for (const [name, path, done, desc] of [
    ['remove-peer', 'remove-peer', 'Peer removed successfully!', 'remove a node from the Raft configuration'],
    ['promote', 'promote', 'Server promoted successfully!', 'turn a non-voter into a voter'],
    ['demote', 'demote', 'Server demoted successfully!', 'turn a voter into a permanent non-voter'],
  ] as const) {
    raft
      .command(name)
      .description(desc)
      .argument('<server-id>', 'the node id')
      .action(async (serverId: string) => {
        await call('POST', `sys/storage/raft/${path}`, { server_id: serverId });
        process.stdout.write(`${done}\n`);
      });
  }

  const dr = raft.command('dr').description('disaster recovery: take over from a lost quorum on this node (docs/dr.md)');
  dr.command('status')
    .description("this node's log position, its voters' last contact, and whether it may take over")
    .option('--format <format>', 'table or json')
    .action(async (opts: { format?: string }) => {
      const r = await call('GET', 'sys/storage/raft/dr/status');
      if ((opts.format ?? process.env.VAULT_FORMAT) === 'json') return printJson(r);
      const d = r.data as { node_id: string; role: string; voter: boolean; leader_id: string; term: number; last_index: number; applied_index: number; voters: { node_id: string; last_contact_ms: number }[]; non_voters: string[]; fenced: string[]; promotable: boolean; reason?: string };
      const contact = (ms: number) => (ms < 0 ? 'never' : `${(ms / 1000).toFixed(1)}s ago`);
      printTable(['Key', 'Value'], [
        ['Node', d.node_id],
        ['Role', `${d.role}${d.voter ? ' (voter)' : ' (non-voter)'}`],
        ['Leader', d.leader_id || '-'],
        ['Term', String(d.term)],
        ['Last Index', String(d.last_index)],
        ['Applied Index', String(d.applied_index)],
        ['Voters', d.voters.map((v) => `${v.node_id} (${contact(v.last_contact_ms)})`).join(', ')],
        ['Non-Voters', d.non_voters.join(', ') || '-'],
        ['Fenced', d.fenced.join(', ') || '-'],
        ['Promotable', d.promotable ? 'true' : `false: ${d.reason ?? ''}`],
      ]);
    });
  dr.command('promote')
    .description('make this node the only voter of a new group, from everything in its log (the voters are lost)')
    .action(async () => {
      process.stdout.write('Taking over: this node becomes the only voter once every lost voter has been silent long enough...\n');
      const r = await call('POST', 'sys/storage/raft/dr/promote', {});
      const d = r.data as { node_id: string; term: number; index: number; removed_voters: string[]; non_voters: string[] };
      printTable(['Key', 'Value'], [
        ['Node', d.node_id],
        ['Term', String(d.term)],
        ['Recovered At Index', String(d.index)],
        ['Removed And Fenced', d.removed_voters.join(', ') || '-'],
        ['Non-Voters', d.non_voters.join(', ') || '-'],
      ]);
    });
}
