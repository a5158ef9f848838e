// PEER-LIVENESS: every Raft peer connection of a 3-node cluster goes silent at once, without a close or a
// reset, as when a firewall or NAT forgets its flows (test/harness/proxy.ts freezeConnections: each
// proxied connection drops its bytes from then on; new connections pass). TCP on both ends still calls
// those connections up, so a node that waited for TCP to notice would never hear its peers again: no
// quorum, no leader, no writes, for many minutes. Each outbound peer connection carries pings that the
// peer answers (actors/raft/transport.ts); one silent for peerSilentMaxMs is redialled. Checked: writes
// are served again in bounded time, every node applies them, and the redials are counted in
// coffer_raft_peer_silent_redials_total.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { raftLimits } from '../runtime/limits.js';
import { sleep, until } from './helpers/cluster.js';
import { startProxiedCluster, type ProxiedCluster } from './helpers/ha-proxied.js';

/** A KV write through node `url` that must answer within `limitMs` (no answer is a failure, not a hang). */
async function put(url: string, token: string, key: string, v: string, limitMs: number): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/secret/data/${key}`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { v } }),
      signal: AbortSignal.timeout(limitMs),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function silentRedials(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': token }, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const m = /^coffer_raft_peer_silent_redials_total (\d+)/m.exec(text);
  assert.ok(m, `sys/metrics has coffer_raft_peer_silent_redials_total (status ${res.status})`);
  return Number(m[1]);
}

describe('PEER-LIVENESS: peer connections that go silent without closing are redialled (3 processes, proxied links)', { timeout: 120_000 }, () => {
  let c: ProxiedCluster;

  before(async () => {
    c = await startProxiedCluster({ name: 'liveness' });
  });

  afterEach((t) => c?.reportIfFailed(t));

  after(async () => {
    await c?.close();
  });

  it('every Raft connection frozen at once: writes are served again in bounded time and every node applies them', async (t) => {
    const root = c.root;
    assert.equal(await put(c.url(0), root, 'before', 'b', 10_000), 200);
    const redialsBefore = (await Promise.all([0, 1, 2].map((i) => silentRedials(c.url(i), root)))).reduce((a, b) => a + b, 0);
    assert.equal(redialsBefore, 0, 'no connection was called silent while the cluster was healthy');

    const frozenAt = performance.now();
    for (let from = 0; from < c.size; from++) for (let to = 0; to < c.size; to++) if (from !== to) c.raftLink(from, to).freezeConnections();

    // Writes through the node that was active (it forwards once another node leads). Until the links are
    // redialled no quorum exists, so a write fails or waits; each try is bounded.
    let servedAfterMs = -1;
    let tries = 0;
    // Bounded at 30 s: a few silence windows plus an election; without the pings this never ends.
    const deadline = frozenAt + 30_000;
    while (performance.now() < deadline) {
      tries++;
      const status = await put(c.url(0), root, 'after', 'a', 8_000);
      if (status === 200) {
        servedAfterMs = Math.round(performance.now() - frozenAt);
        break;
      }
      await sleep(250);
    }
    const line = `PEER-LIVENESS: writes served again ${servedAfterMs} ms after every Raft connection went silent (${tries} tries; peerSilentMaxMs ${raftLimits.peerSilentMaxMs})`;
    t.diagnostic(line);
    console.log(line);
    assert.ok(servedAfterMs >= 0, `no write was served within ${Math.round(deadline - frozenAt)} ms of the freeze\n${c.dump()}`);

    // Every node applies it (each one's FSM, read on that node).
    for (let i = 0; i < c.size; i++) {
      await until(`n${i + 1} has the write`, 15_000, async () => {
        const r = await fetch(`${c.url(i)}/v1/secret/data/after`, { headers: { 'X-Vault-Token': root }, signal: AbortSignal.timeout(5_000) }).catch(() => null);
        if (r === null || r.status !== 200) return null;
        return ((await r.json()) as { data: { data: { v: string } } }).data.data.v === 'a' ? true : null;
      });
    }
    const redials = await Promise.all([0, 1, 2].map((i) => silentRedials(c.url(i), root)));
    console.log(`PEER-LIVENESS: connections redialled for silence per node: ${redials.join(' / ')}`);
    // Every node had two frozen outbound connections; at least the ones a quorum needs were redialled.
    assert.ok(redials.reduce((a, b) => a + b, 0) >= 2, `silent connections redialled: ${redials.join(' / ')}`);
  });
});
