// Raft snapshots with real processes: cluster A (one node) gets 500 KV v2 secrets and is saved with
// `coffer operator raft snapshot save FILE` (streamed; progress on stderr). Cluster B (three nodes,
// joined) refuses the snapshot without force (other unseal keys), refuses a corrupted and a truncated
// file with a clear error and nothing changes, answers a standby's snapshot request with a 307, then
// restores it with `snapshot restore -force`: through Raft (followers by InstallSnapshot), every node
// seals, is unsealed with A's keys, and serves all 500 secrets (leader and followers) with A's root token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, startClusterNode, until, untilVoters, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { COFFER_BIN, http, tempDir, type ServerProcess } from './helpers/server-process.js';

const SECRETS = 500;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [COFFER_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function rawPost(url: string, path: string, token: string, body: Buffer) {
  const res = await fetch(`${url}/v1/${path}`, { method: 'POST', headers: { 'X-Vault-Token': token, 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(body), redirect: 'manual' });
  const text = await res.text();
  let json: any = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

describe('raft snapshots: save on one cluster, restore (force) on another', { timeout: 90_000 }, () => {
  const dirs = [tempDir('snap-a1'), tempDir('snap-b1'), tempDir('snap-b2'), tempDir('snap-b3')];
  const specs: ClusterNodeSpec[] = [];
  const procs: ServerProcess[] = [];
  let keysA: string[] = [];
  let rootA = '';
  let keysB: string[] = [];
  let rootB = '';
  const file = join(dirs[0]!.path, 'a.snap');
  const url = (i: number) => apiUrl(specs[i] as ClusterNodeSpec);
  const dump = () => procs.map((p, i) => `--- ${specs[i]?.nodeId}\n${p.stderr().slice(-2000)}`).join('\n');

  before(async () => {
    specs.push(await nodeSpec('a1', dirs[0]!.path));
    specs.push(await nodeSpec('b1', dirs[1]!.path));
    specs.push(await nodeSpec('b2', dirs[2]!.path));
    specs.push(await nodeSpec('b3', dirs[3]!.path));
    procs.push(...(await Promise.all(specs.map((s) => startClusterNode(s)))));
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => p.kill('SIGKILL')));
    for (const d of dirs) d.remove();
  });

  it('cluster A: 500 KV secrets, saved with `operator raft snapshot save` (streamed, progress)', async () => {
    const init = await http(url(0), 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
    assert.equal(init.status, 200);
    keysA = init.body.keys_base64;
    rootA = init.body.root_token;
    assert.equal((await unsealWith(url(0), keysA.slice(0, 2))).body.sealed, false);
    await until('a1 active', 10_000, async () => (await healthStatus(url(0))) === 200);
    const m = await http(url(0), 'POST', 'sys/mounts/secret', { token: rootA, body: { type: 'kv', options: { version: '2' } } });
    assert.ok(m.status < 300, JSON.stringify(m.body));
    for (let i = 0; i < SECRETS; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(SECRETS, i + 25); j++) batch.push(http(url(0), 'PUT', `secret/data/s${j}`, { token: rootA, body: { data: { v: `value-${j}`, pad: 'x'.repeat(200) } } }));
      for (const r of await Promise.all(batch)) assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const r = await cli(['operator', 'raft', 'snapshot', 'save', file], { VAULT_ADDR: url(0), VAULT_TOKEN: rootA });
    assert.equal(r.code, 0, r.stderr);
    const size = statSync(file).size;
    assert.match(r.stderr, new RegExp(`Snapshot saved: ${size} bytes`));
    assert.ok(size > SECRETS * 200, `snapshot of ${size} bytes`);
    // Barrier ciphertext only: no plaintext value in the file.
    const bytes = readFileSync(file);
    assert.equal(bytes.includes(Buffer.from('value-123')), false);
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'CFSNAP01');
    // Without a token: refused.
    assert.equal((await http(url(0), 'GET', 'sys/storage/raft/snapshot')).status, 403);
  });

  it('cluster B forms (3 nodes); a standby answers snapshot requests with a 307 to the active node', async () => {
    const init = await http(url(1), 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    keysB = init.body.keys_base64;
    rootB = init.body.root_token;
    await unsealWith(url(1), keysB);
    await until('b1 active', 10_000, async () => (await healthStatus(url(1))) === 200);
    for (const i of [2, 3]) {
      const j = await http(url(i), 'POST', 'sys/storage/raft/join', { body: { leader_api_addr: url(1) } });
      assert.deepEqual(j.body, { joined: true }, dump());
      const u = await unsealWith(url(i), keysB);
      assert.equal(u.status, 200, JSON.stringify(u.body) + dump());
    }
    await untilVoters(url(1), rootB, 3, 20_000);
    const m = await http(url(1), 'POST', 'sys/mounts/secret', { token: rootB, body: { type: 'kv', options: { version: '2' } } });
    assert.ok(m.status < 300);
    assert.equal((await http(url(1), 'PUT', 'secret/data/only-in-b', { token: rootB, body: { data: { v: 'b' } } })).status, 200);

    const g = await fetch(`${url(2)}/v1/sys/storage/raft/snapshot`, { headers: { 'X-Vault-Token': rootB }, redirect: 'manual' });
    await g.arrayBuffer();
    assert.equal(g.status, 307);
    assert.equal(g.headers.get('location'), `${url(1)}/v1/sys/storage/raft/snapshot`);
    const p = await rawPost(url(3), 'sys/storage/raft/snapshot-force', rootB, readFileSync(file));
    assert.equal(p.status, 307);
    assert.equal(p.headers.get('location'), `${url(1)}/v1/sys/storage/raft/snapshot-force`);
  });

  it('refuses: other unseal keys without force, a corrupted file, a truncated file — and nothing changes', async () => {
    const good = readFileSync(file);
    const plain = await rawPost(url(1), 'sys/storage/raft/snapshot', rootB, good);
    assert.equal(plain.status, 400);
    assert.match(plain.body.errors[0], /could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API/);

    const corrupted = Buffer.from(good);
    const mid = Math.floor(corrupted.length / 2);
    corrupted[mid] = (corrupted[mid] as number) ^ 0xff;
    const bad = join(dirs[0]!.path, 'corrupted.snap');
    writeFileSync(bad, corrupted);
    const r = await cli(['operator', 'raft', 'snapshot', 'restore', '-force', bad], { VAULT_ADDR: url(1), VAULT_TOKEN: rootB });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /Code: 400/);
    assert.match(r.stderr, /invalid snapshot: (snapshot integrity check failed: SHA-256 mismatch|snapshot is corrupted)/);

    const truncated = await rawPost(url(1), 'sys/storage/raft/snapshot-force', rootB, good.subarray(0, good.length - 100));
    assert.equal(truncated.status, 400);
    assert.match(truncated.body.errors[0], /invalid snapshot: .*(truncated|mismatch|corrupted)/);

    // Nothing changed: B is unsealed, its own data and token still work, A's is not there.
    assert.equal((await http(url(1), 'GET', 'sys/seal-status')).body.sealed, false);
    const own = await http(url(1), 'GET', 'secret/data/only-in-b', { token: rootB });
    assert.equal(own.status, 200);
    assert.equal((await http(url(1), 'GET', 'secret/data/s1', { token: rootB })).status, 404);
  });

  it('restore -force through Raft: every node seals, unseals with A\'s keys, and serves all 500 secrets', async () => {
    const before = await http(url(1), 'GET', 'sys/leader');
    const r = await cli(['operator', 'raft', 'snapshot', 'restore', '-force', file], { VAULT_ADDR: url(1), VAULT_TOKEN: rootB });
    assert.equal(r.code, 0, r.stderr + dump());
    assert.match(r.stdout, /Snapshot restored/);
    assert.ok(before.body.raft_committed_index > 0);
    // Every node seals: the leader at once, the followers when the restore reaches them (InstallSnapshot).
    for (const i of [1, 2, 3]) await until(`b${i} sealed`, 15_000, async () => (await http(url(i), 'GET', 'sys/seal-status')).body.sealed === true);
    const status = await http(url(1), 'GET', 'sys/seal-status');
    assert.equal(status.body.t, 2); // A's seal configuration
    assert.equal(status.body.n, 3);
    // B's keys no longer open it.
    const wrong = await http(url(1), 'PUT', 'sys/unseal', { body: { key: keysB[0] } });
    assert.notEqual(wrong.body?.sealed, false);
    await http(url(1), 'PUT', 'sys/unseal', { body: { reset: true } });
    for (const i of [1, 2, 3]) {
      const u = await unsealWith(url(i), keysA.slice(1, 3));
      assert.equal(u.status, 200, JSON.stringify(u.body) + dump());
      assert.equal(u.body.sealed, false);
    }
    await until('an active node in B', 15_000, async () => (await healthStatus(url(1))) === 200);
    // Every secret, on the leader; a sample on each follower (local FSM reads).
    for (let i = 0; i < SECRETS; i += 50) {
      const reads = [];
      for (let j = i; j < Math.min(SECRETS, i + 50); j++) reads.push(http(url(1), 'GET', `secret/data/s${j}`, { token: rootA }).then((x) => [j, x] as const));
      for (const [j, x] of await Promise.all(reads)) {
        assert.equal(x.status, 200, `s${j}: ${JSON.stringify(x.body)}`);
        assert.equal(x.body.data.data.v, `value-${j}`);
      }
    }
    for (const i of [2, 3]) {
      for (const j of [0, 250, 499]) {
        const x = await until(`s${j} on b${i}`, 10_000, async () => {
          const y = await http(url(i), 'GET', `secret/data/s${j}`, { token: rootA });
          return y.status === 200 ? y : null;
        });
        assert.equal(x.body.data.data.v, `value-${j}`);
      }
    }
    // B's own data and token are gone; the cluster keeps B's membership and writes commit.
    assert.equal((await http(url(1), 'GET', 'secret/data/only-in-b', { token: rootA })).status, 404);
    assert.equal((await http(url(1), 'GET', 'secret/data/s1', { token: rootB })).status, 403);
    const cfg = await http(url(1), 'GET', 'sys/storage/raft/configuration', { token: rootA });
    assert.deepEqual(cfg.body.data.config.servers.map((s: { node_id: string }) => s.node_id).sort(), ['b1', 'b2', 'b3']);
    const w = await http(url(1), 'PUT', 'secret/data/after', { token: rootA, body: { data: { v: 'after' } } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const after = await until('after on b3', 10_000, async () => {
      const y = await http(url(3), 'GET', 'secret/data/after', { token: rootA });
      return y.status === 200 ? y : null;
    });
    assert.equal(after.body.data.data.v, 'after');
  });
});
