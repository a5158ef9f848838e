// SEC-CLUSTER-MTLS (RELIABILITY.md §7.2, §5.1 "server-to-server traffic uses mutual TLS"; §5.3
// HCSEC-2024-26): against a real 3-node cluster, the cluster ports (each node's Raft transport, and the
// active node's request-forwarding listener) admit no connection without a certificate from the cluster
// CA: no client certificate, a certificate from another CA (with a member's node id as CN), or ALPN
// offered without a cert. A well-formed Raft frame over such a connection never reaches Raft (the
// target's term does not move). A node that did join (the test performs the real challenge/answer
// with the unseal key, so it holds a CA-issued cert for its own id) cannot speak for another member: a
// frame claiming to be from n2 is dropped. The unauthenticated join endpoints survive a flood of
// challenges and wrong answers with bounded memory, wrong answers are refused, and the answer is
// compared in constant time.
//
// ALPN: Coffer's cluster listeners select nothing by ALPN (Vault multiplexes handlers on one port by
// ALPN; Coffer has one port per handler, and neither TLS server sets ALPNProtocols), so a "wrong ALPN"
// cannot reach another handler; what is tested is that offering one does not bypass the certificate.
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, type ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createClusterCa, issueNodeCert, type NodeCert } from '../actors/raft/tls.js';
import { frame } from '../actors/raft/transport.js';
import { until } from './helpers/cluster.js';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { http } from './helpers/server-process.js';

const CHALLENGE_AAD = 'coffer-raft-peer-challenge';
/** How long a connection the server has not closed counts as "not yet refused". */
const OPEN_WAIT_MS = 3_000;

/** TCP ports a process listens on (/proc/net/tcp LISTEN sockets whose inode is one of its fds). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9] as string)) ports.push(parseInt((f[1] as string).split(':')[1] as string, 16));
  }
  return ports;
}

/**
 * Opens a TLS connection, writes `payload` once the client side of the handshake is done, and reports
 * whether the server let it stand: 'refused' when the server closed or errored it, 'accepted' when it
 * was still open after OPEN_WAIT_MS or the server answered with data.
 */
function attempt(port: number, opts: Partial<ConnectionOptions>, payload: Buffer): Promise<{ verdict: 'refused' | 'accepted'; detail: string }> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (verdict: 'refused' | 'accepted', detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ verdict, detail });
    };
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
    socket.on('secureConnect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => finish('accepted', `server answered: ${d.toString('latin1').split('\r\n')[0]}`));
    socket.on('error', (err) => finish('refused', err.message));
    socket.on('close', () => finish('refused', 'closed'));
    const timer = setTimeout(() => finish('accepted', `still open after ${OPEN_WAIT_MS} ms`), OPEN_WAIT_MS);
  });
}

async function raftTerm(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': token } });
  const m = /^coffer_raft_term(?:\{[^}]*\})? (\d+)/m.exec(await res.text());
  if (!m) throw new Error('no coffer_raft_term in sys/metrics');
  return Number(m[1]);
}

function rssMb(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

describe('SEC-CLUSTER-MTLS: cluster ports admit only cluster-CA peers; join endpoints under abuse', { timeout: 120_000 }, () => {
  let c: HaCluster;
  let foreign: NodeCert;
  let tried = 0;
  let accepted = 0;

  before(async () => {
    c = await startHaCluster('sec-mtls', 3);
    // Valid-looking, from another CA, naming a real member.
    foreign = await issueNodeCert(await createClusterCa({ name: 'Rogue CA' }), 'n2');
  });
  after(async () => {
    await c?.close();
  });

  it('no cert, a foreign-CA cert, or ALPN alone: refused on every Raft port and the forwarding listener; a frame sent over them never reaches Raft', async () => {
    const pids = c.procs.map((p) => p.child.pid as number);
    const activePorts = listeningPorts(pids[0]!);
    const forwardPorts = activePorts.filter((p) => p !== c.specs[0]!.apiPort && p !== c.specs[0]!.clusterPort);
    assert.equal(forwardPorts.length, 1, `the active node listens on api, raft and forwarding ports: ${activePorts.join(',')}`);
    const termsBefore = await Promise.all([0, 1, 2].map((i) => raftTerm(c.url(i), c.root)));
    const cases: { name: string; port: number; to: string; opts: Partial<ConnectionOptions> }[] = [];
    const targets = [
      ...c.specs.map((s) => ({ kind: `raft ${s.nodeId}`, port: s.clusterPort, to: s.nodeId })),
      { kind: 'forwarding n1', port: forwardPorts[0]!, to: 'n1' },
    ];
    for (const t of targets) {
      cases.push({ name: `${t.kind}: no client cert`, port: t.port, to: t.to, opts: {} });
      cases.push({ name: `${t.kind}: cert from another CA (CN n2)`, port: t.port, to: t.to, opts: { cert: foreign.certPem, key: foreign.keyPem } });
      cases.push({ name: `${t.kind}: ALPN offered, no cert`, port: t.port, to: t.to, opts: { ALPNProtocols: ['raft_storage_v1', 'req_fw_sb-act_v1', 'h2', 'http/1.1'] } });
      cases.push({ name: `${t.kind}: ALPN + foreign cert`, port: t.port, to: t.to, opts: { ALPNProtocols: ['raft_storage_v1'], cert: foreign.certPem, key: foreign.keyPem } });
    }
    const results = await Promise.all(
      cases.map(async (k) => {
        // A well-formed frame from "n2" with a term far ahead (Raft would adopt it); an HTTP request posing
        // as a forwarded one for the forwarding listener.
        const payload = k.name.startsWith('forwarding')
          ? Buffer.from(`PUT /v1/sys/seal HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${c.root}\r\nX-Coffer-Forwarded-For: 10.0.0.1\r\nContent-Length: 0\r\n\r\n`)
          : frame({ t: 'heartbeat', from: 'n2', to: k.to, term: 1_000_000, commit: 0, readSeq: 0 });
        return { ...k, ...(await attempt(k.port, k.opts, payload)) };
      }),
    );
    for (const r of results) {
      tried++;
      if (r.verdict === 'accepted') accepted++;
    }
    assert.deepEqual(results.filter((r) => r.verdict === 'accepted').map((r) => `${r.name}: ${r.detail}`), []);
    // Nothing reached Raft: no node jumped to the forged term, and nothing was sealed.
    const termsAfter = await Promise.all([0, 1, 2].map((i) => raftTerm(c.url(i), c.root)));
    for (let i = 0; i < 3; i++) assert.ok(termsAfter[i]! < 1_000_000, `n${i + 1} term ${termsBefore[i]} -> ${termsAfter[i]}`);
    assert.equal((await http(c.url(0), 'GET', 'sys/health')).status, 200, 'the active node is still unsealed and active');
  });

  it('a node that joined cannot speak for another member: a frame claiming to be from n2 is dropped', async () => {
    // The real join, as a new node would do it: the challenge is opened with the unseal key (one share:
    // the key itself is the KEK), the answer buys the cluster CA; issue a cert for our own id "rogue".
    const ch = await http(c.url(0), 'POST', 'sys/storage/raft/bootstrap/challenge', { body: { server_id: 'rogue' } });
    assert.equal(ch.status, 200, JSON.stringify(ch.body));
    const blob = Buffer.from(ch.body.data.challenge, 'base64');
    const kek = Buffer.from(c.keys[0]!, 'base64');
    const d = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(Buffer.from(CHALLENGE_AAD));
    d.setAuthTag(blob.subarray(blob.length - 16));
    const answer = Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
    const ans = await http(c.url(0), 'POST', 'sys/storage/raft/bootstrap/answer', { body: { server_id: 'rogue', answer: answer.toString('base64'), cluster_addr: '127.0.0.1:9', non_voter: true } });
    assert.equal(ans.status, 200, JSON.stringify(ans.body));
    const mine = await issueNodeCert({ certPem: ans.body.data.tls_keyring.ca_cert, keyPem: ans.body.data.tls_keyring.ca_key }, 'rogue');
    try {
      const target = c.specs[2]!;
      const before = await raftTerm(c.url(2), c.root);
      // Authenticated as "rogue" (the connection stands), but every frame claims another sender.
      const forged = Buffer.concat([
        frame({ t: 'heartbeat', from: 'n2', to: 'n3', term: 1_000_000, commit: 0, readSeq: 0 }),
        frame({ t: 'timeout-now', from: 'n1', to: 'n3', term: before }),
        frame({ t: 'heartbeat', from: 'n1', to: 'n3', term: 1_000_001, commit: 0, readSeq: 0 }),
      ]);
      const r = await attempt(target.clusterPort, { cert: mine.certPem, key: mine.keyPem, ca: mine.caPem }, forged);
      assert.equal(r.verdict, 'accepted', `a CA-issued cert is a valid peer connection (${r.detail})`);
      const afterTerm = await raftTerm(c.url(2), c.root);
      assert.ok(afterTerm < 1_000_000, `n3 adopted a forged term: ${before} -> ${afterTerm}`);
      assert.equal(afterTerm, before, 'no election was triggered by a forged timeout-now');
    } finally {
      assert.equal((await http(c.url(0), 'POST', 'sys/storage/raft/remove-peer', { token: c.root, body: { server_id: 'rogue' } })).status, 204);
    }
  });

  it('join flood: challenges and wrong answers are refused with bounded memory, membership unchanged, node serving', async () => {
    const pid = c.procs[0]!.child.pid as number;
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const base = rssMb(pid);
    const FLOOD = 600;
    let challenges = 0;
    let refusedAnswers = 0;
    for (let i = 0; i < FLOOD; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const id = `flood-${i + j}`;
          const chal = await http(c.url(0), 'POST', 'sys/storage/raft/bootstrap/challenge', { body: { server_id: id, pad: 'x'.repeat(16_000) } });
          const wrong = await http(c.url(0), 'POST', 'sys/storage/raft/bootstrap/answer', { body: { server_id: id, answer: Buffer.alloc(24, j).toString('base64'), cluster_addr: '127.0.0.1:9' } });
          return { chal, wrong };
        }),
      );
      for (const { chal, wrong } of batch) {
        if (chal.status === 200) challenges++;
        if (wrong.status === 400 && JSON.stringify(wrong.body) === JSON.stringify({ errors: ['invalid answer given'] })) refusedAnswers++;
      }
    }
    assert.equal(refusedAnswers, FLOOD, 'every wrong answer refused with 400 invalid answer given');
    // Wrong lengths and undecodable answers too.
    for (const bad of ['', 'AA==', 'not base64 at all !', Buffer.alloc(4096, 1).toString('base64')]) {
      const r = await http(c.url(0), 'POST', 'sys/storage/raft/bootstrap/answer', { body: { server_id: 'flood-x', answer: bad, cluster_addr: '127.0.0.1:9' } });
      assert.equal(r.status, 400, `answer ${JSON.stringify(bad.slice(0, 20))}`);
    }
    const growth = rssMb(pid) - base;
    console.log(`# join flood: ${challenges} challenges issued, ${refusedAnswers} wrong answers refused; peak RSS growth ${growth.toFixed(0)} MB`);
    assert.ok(growth < 64, `peak RSS grew ${growth.toFixed(0)} MB under the join flood`);
    const cfg = await until('configuration', 10_000, async () => (await http(c.url(0), 'GET', 'sys/storage/raft/configuration', { token: c.root })).body?.data?.config);
    assert.deepEqual(cfg.servers.map((s: { node_id: string }) => s.node_id).sort(), ['n1', 'n2', 'n3'], 'no flooder became a member');
    assert.equal((await http(c.url(0), 'GET', 'sys/health')).status, 200);
  });

  it('the join answer is compared in constant time (timingSafeEqual, never == or equals)', () => {
    const src = readFileSync(fileURLToPath(new URL('../../actors/cluster/cluster.ts', import.meta.url)), 'utf8');
    const answer = src.slice(src.indexOf('async answer('), src.indexOf('private expectedAnswer('));
    assert.match(answer, /timingSafeEqual\(given, expected\)/);
    assert.doesNotMatch(answer, /given\.equals\(|given\s*===?\s*expected|expected\s*===?\s*given|\.compare\(/);
    console.log(`unauthenticated cluster connections accepted: ${accepted} of ${tried}`);
    assert.ok(tried > 0);
  });
});
