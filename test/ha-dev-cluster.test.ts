// `coffer server -dev-three-node` as a real process: three in-process nodes joined and unsealed; the CLI's
// `operator raft list-peers` and `status` against it; a write through node1 is readable on node3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { COFFER_BIN, http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';
import { until } from './helpers/cluster.js';

const run = promisify(execFile);

describe('coffer server -dev-three-node', { timeout: 60_000 }, () => {
  let proc: ServerProcess | null = null;
  after(async () => {
    await proc?.kill('SIGTERM');
  });

  it('starts three nodes, prints their addresses and the root token; the CLI sees 3 voters and a standby', async () => {
    // The six ports from `base` are fixed, as a user gives them. They are drawn below the kernel's ephemeral
    // range (32768-60999 here), where the other tests' listen(0) sockets and outgoing connections take
    // theirs (a base of 50856 once collided with one: EADDRINUSE); a port that is still taken gets another base.
    let base = 0;
    for (let attempt = 1; proc === null; attempt++) {
      base = 20_000 + Math.floor(Math.random() * 6_000) * 2;
      try {
        proc = await spawnCoffer(['server', '-dev-three-node', `-dev-listen-address=127.0.0.1:${base}`], /Root Token: (\S+)/);
      } catch (err) {
        if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
      }
    }
    let out = '';
    proc.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const root = proc.url; // the ready regexp's group 1 is the root token here
    const urls = [0, 2, 4].map((k) => `http://127.0.0.1:${base + k}`);
    const env = { ...process.env, VAULT_TOKEN: root };
    const peers = await run(process.execPath, [COFFER_BIN, 'operator', 'raft', 'list-peers', '-format=json'], { env: { ...env, VAULT_ADDR: urls[0] } });
    const servers = JSON.parse(peers.stdout).data.config.servers as { node_id: string; voter: boolean; leader: boolean }[];
    assert.deepEqual(servers.map((s) => s.node_id).sort(), ['node1', 'node2', 'node3']);
    assert.ok(servers.every((s) => s.voter));
    const status = await run(process.execPath, [COFFER_BIN, 'status'], { env: { ...env, VAULT_ADDR: urls[1] } });
    assert.match(status.stdout, /HA Mode\s+standby/);
    assert.match(status.stdout, /Raft Applied Index\s+\d+/);
    const w = await http(urls[0]!, 'PUT', 'secret/data/dev3', { token: root, body: { data: { a: 'b' } } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const r = await until('the write on node3', 10_000, async () => {
      const x = await http(urls[2]!, 'GET', 'secret/data/dev3', { token: root });
      return x.status === 200 ? x.body.data.data : null;
    });
    assert.deepEqual(r, { a: 'b' });
    assert.ok(out.length >= 0);
  });
});
