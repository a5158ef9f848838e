// Cluster/HA endpoints with policy tokens, not only root (actors/cluster/authorize.ts). As OpenBao
// declares them: sys/step-down and sys/seal are root-protected (the operation's capability AND sudo);
// sys/storage/raft/* (configuration, remove-peer, promote, demote, autopilot, snapshot) and
// sys/ha-status are ordinary ACL paths. A one-node Raft cluster (a real `coffer server` process with a
// cluster_addr) is enough: the checks are made before anything cluster-wide happens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiUrl, healthStatus, nodeSpec, startClusterNode, until, unsealWith, type ClusterNodeSpec } from './helpers/cluster.js';
import { http, tempDir, type ServerProcess } from './helpers/server-process.js';

const OPERATOR = `
path "sys/step-down" { capabilities = ["update", "sudo"] }
path "sys/seal" { capabilities = ["update", "sudo"] }
path "sys/ha-status" { capabilities = ["read"] }
path "sys/storage/raft/*" { capabilities = ["read", "update"] }
`;
// Everything OPERATOR has, but no sudo: the root-protected paths must refuse it.
const NO_SUDO = `
path "sys/step-down" { capabilities = ["update"] }
path "sys/seal" { capabilities = ["update"] }
path "sys/ha-status" { capabilities = ["read"] }
path "sys/storage/raft/configuration" { capabilities = ["read"] }
`;
// Read-only on raft: the update endpoints must refuse it.
const READER = `
path "sys/storage/raft/*" { capabilities = ["read"] }
`;

describe('HA endpoints accept policy tokens: capability on raft paths, sudo on step-down/seal', { timeout: 60_000 }, () => {
  const dir = tempDir('ha-acl');
  let spec: ClusterNodeSpec;
  let proc: ServerProcess;
  let root = '';
  const tokens: Record<string, string> = {};
  let url = '';

  before(async () => {
    spec = await nodeSpec('acl1', dir.path);
    url = apiUrl(spec);
    proc = await startClusterNode(spec);
    const init = await http(url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    root = init.body.root_token;
    await unsealWith(url, init.body.keys_base64);
    await until('active', 15_000, async () => (await healthStatus(url)) === 200);
    for (const [name, text] of Object.entries({ operator: OPERATOR, nosudo: NO_SUDO, reader: READER })) {
      const p = await http(url, 'PUT', `sys/policies/acl/${name}`, { token: root, body: { policy: text } });
      assert.equal(p.status, 204, JSON.stringify(p.body) + proc.stderr().slice(-3000));
      const t = await http(url, 'POST', 'auth/token/create', { token: root, body: { policies: [name], ttl: '1h' } });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      tokens[name] = t.body.auth.client_token;
    }
    const d = await http(url, 'POST', 'auth/token/create', { token: root, body: { policies: ['default'], ttl: '1h' } });
    tokens.plain = d.body.auth.client_token;
  });

  after(async () => {
    await proc?.kill('SIGKILL');
    dir.remove();
  });

  let decisions = 0; // every answer below is asserted (allowed or 403)
  const status = async (who: string, method: string, path: string, body?: unknown) => {
    decisions++;
    return http(url, method, path, { token: tokens[who] ?? root, ...(body !== undefined ? { body } : {}) });
  };

  it('raft read endpoints: a token with read works; a token without the capability gets 403', async () => {
    for (const path of ['sys/storage/raft/configuration', 'sys/storage/raft/autopilot/state', 'sys/storage/raft/autopilot/configuration']) {
      for (const who of ['operator', 'reader']) {
        const r = await status(who, 'GET', path);
        assert.equal(r.status, 200, `${who} GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      }
      const denied = await status('plain', 'GET', path);
      assert.equal(denied.status, 403, `default-policy GET ${path}`);
      assert.deepEqual(denied.body, { errors: ['permission denied'] });
    }
    const conf = await status('operator', 'GET', 'sys/storage/raft/configuration');
    assert.equal(conf.body.data.config.servers[0].node_id, 'acl1');
    // The snapshot stream: read on sys/storage/raft/snapshot.
    const snap = await fetch(`${url}/v1/sys/storage/raft/snapshot`, { headers: { 'X-Vault-Token': tokens.reader as string } });
    const bytes = Buffer.from(await snap.arrayBuffer());
    assert.equal(snap.status, 200);
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'CFSNAP01', 'a Coffer snapshot');
    const noSnap = await status('plain', 'GET', 'sys/storage/raft/snapshot');
    assert.equal(noSnap.status, 403);
    assert.equal((await status('nosudo', 'GET', 'sys/ha-status')).status, 200);
    assert.equal((await status('plain', 'GET', 'sys/ha-status')).status, 403);
  });

  it('raft update endpoints: update works (the handler answers), read-only gets 403', async () => {
    // promote/demote/remove-peer of an unknown server pass the ACL and fail in the cluster logic.
    for (const [path, want] of [['sys/storage/raft/promote', 500], ['sys/storage/raft/demote', 500]] as const) {
      const ok = await status('operator', 'POST', path, { server_id: 'nope' });
      assert.equal(ok.status, want, `${path}: ${JSON.stringify(ok.body)}`);
      assert.match(ok.body.errors[0], /server nope not found in raft configuration/);
      for (const who of ['reader', 'plain', 'nosudo']) assert.equal((await status(who, 'POST', path, { server_id: 'nope' })).status, 403, `${who} ${path}`);
    }
    const rm = await status('operator', 'POST', 'sys/storage/raft/remove-peer', { server_id: '' });
    assert.equal(rm.status, 400, JSON.stringify(rm.body));
    assert.equal((await status('reader', 'POST', 'sys/storage/raft/remove-peer', { server_id: 'nope' })).status, 403);
    const cfg = await status('operator', 'POST', 'sys/storage/raft/autopilot/configuration', { server_stabilization_time: '5s' });
    assert.equal(cfg.status, 204, JSON.stringify(cfg.body));
    assert.equal((await status('reader', 'POST', 'sys/storage/raft/autopilot/configuration', { server_stabilization_time: '6s' })).status, 403);
    assert.equal((await status('operator', 'GET', 'sys/storage/raft/autopilot/configuration')).body.data.server_stabilization_time, '5s');
    // Restore: update on snapshot-force lets the body through to the snapshot reader (garbage → 400).
    const restore = await fetch(`${url}/v1/sys/storage/raft/snapshot-force`, { method: 'POST', headers: { 'X-Vault-Token': tokens.operator as string }, body: Buffer.from('not a snapshot') });
    const restoreBody = await restore.text();
    assert.ok(restore.status !== 403 && restore.status >= 400 && restore.status < 500, `operator restore of garbage: ${restore.status} ${restoreBody}`);
    const denied = await fetch(`${url}/v1/sys/storage/raft/snapshot-force`, { method: 'POST', headers: { 'X-Vault-Token': tokens.reader as string }, body: Buffer.from('not a snapshot') });
    assert.equal(denied.status, 403, await denied.text());
  });

  it('sys/step-down and sys/seal need sudo: update alone gets 403, update+sudo works', async (t) => {
    const noSudo = await status('nosudo', 'PUT', 'sys/step-down');
    assert.equal(noSudo.status, 403, JSON.stringify(noSudo.body));
    assert.equal((await status('plain', 'PUT', 'sys/step-down')).status, 403);
    // A lone voter has nobody to hand leadership to: 204 and it stays active.
    const sd = await status('operator', 'PUT', 'sys/step-down');
    assert.equal(sd.status, 204, JSON.stringify(sd.body));
    assert.equal((await status('nosudo', 'PUT', 'sys/seal')).status, 403);
    assert.equal((await http(url, 'GET', 'sys/seal-status')).body.sealed, false);
    const sealed = await status('operator', 'PUT', 'sys/seal');
    assert.equal(sealed.status, 204, JSON.stringify(sealed.body));
    assert.equal((await http(url, 'GET', 'sys/seal-status')).body.sealed, true);
    const line = `HA endpoint decisions with policy tokens checked: ${decisions} of ${decisions} as OpenBao declares them (capability on raft paths, sudo on step-down/seal)`;
    t.diagnostic(line);
    console.log(line);
  });
});
