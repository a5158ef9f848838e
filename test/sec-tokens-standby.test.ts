// SEC-TOKENS, the standby half (RELIABILITY.md §7.2): a token revoked through the active node is refused by
// every standby for any request that presents the revocation's X-Vault-Index (the standby waits until it
// has applied it), and is refused by every standby without the header once the revocation has replicated.
// The revocation window without the header (from the revoke's answer to the first refusal on a standby) is
// measured per standby and printed with its p50/p99: it is replication lag, bounded by the standbys'
// staleness limit (2 s), and is what a client that does not pass X-Vault-Index can observe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { http } from './helpers/server-process.js';

const TOKENS = 40; // even: checked with the revoke index; odd: the window without it
const WINDOW_GIVE_UP_MS = 10_000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

describe('SEC-TOKENS on standbys: revocation reaches every node (3 processes)', { timeout: 180_000 }, () => {
  let c: HaCluster;
  before(async () => {
    c = await startHaCluster('sec-tokens-sb', 3);
  });
  after(async () => {
    await c?.close();
  });

  it('a revoked token: refused on every standby with the revoke index; without it, refused once replicated', async (t) => {
    const standbys = [1, 2];
    const tokens: string[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const r = await http(c.url(0), 'POST', 'auth/token/create', { token: c.root, body: { policies: ['default'], ttl: '1h' } });
      assert.equal(r.status, 200, r.text);
      tokens.push(r.body.auth.client_token);
    }
    // Every standby knows every token before the revocations (otherwise a refusal proves nothing).
    for (const tok of tokens) {
      for (const s of standbys) {
        let ok = false;
        for (let i = 0; i < 100 && !ok; i++) {
          ok = (await http(c.url(s), 'GET', 'auth/token/lookup-self', { token: tok })).status === 200;
          if (!ok) await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(ok, `n${s + 1} never learned a token`);
      }
    }

    let acceptancesAfterIndex = 0;
    let checkedWithIndex = 0;
    const windows: number[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const tok = tokens[i] as string;
      const viaAccessor = i % 4 >= 2; // half by token, half by accessor, in both kinds of check
      let rev;
      if (viaAccessor) {
        const acc = (await http(c.url(0), 'GET', 'auth/token/lookup-self', { token: tok })).body.data.accessor as string;
        rev = await http(c.url(0), 'POST', 'auth/token/revoke-accessor', { token: c.root, body: { accessor: acc } });
      } else {
        rev = await http(c.url(0), 'POST', 'auth/token/revoke', { token: c.root, body: { token: tok } });
      }
      assert.equal(rev.status, 204, rev.text);
      const revokedAt = performance.now();
      const index = rev.headers.get('x-vault-index');
      assert.ok(index, 'the revoke answer carries X-Vault-Index');
      if (i % 2 === 0) {
        // With the revoke's index, at once on both standbys (in parallel): each must wait until it has
        // applied the revocation, then refuse.
        const checks = standbys.flatMap((sb) =>
          (
            [
              ['GET', 'auth/token/lookup-self'],
              ['GET', 'sys/mounts'],
              ['POST', 'sys/capabilities-self'],
            ] as const
          ).map(([method, path]) => http(c.url(sb), method, path, { token: tok, headers: { 'X-Vault-Index': index as string }, ...(method === 'POST' ? { body: { paths: ['secret/x'] } } : {}) })),
        );
        for (const r of await Promise.all(checks)) {
          checkedWithIndex++;
          if (r.status !== 403) acceptancesAfterIndex++;
        }
        continue;
      }
      // Without the header: the window a client without X-Vault-Index can see, on one standby per
      // revocation, alternating.
      const s = standbys[((i - 1) / 2) % 2] as number;
      for (;;) {
        const r = await http(c.url(s), 'GET', 'auth/token/lookup-self', { token: tok });
        if (r.status === 403) {
          windows.push(performance.now() - revokedAt);
          break;
        }
        assert.ok(r.status === 200 || r.status === 503, `n${s + 1}: ${r.status} ${r.text}`);
        assert.ok(performance.now() - revokedAt < WINDOW_GIVE_UP_MS, `n${s + 1} still accepts a token revoked ${WINDOW_GIVE_UP_MS} ms ago`);
        await new Promise((r2) => setTimeout(r2, 2));
      }
    }
    const line = `revoked-token acceptances after index: ${acceptancesAfterIndex} of ${checkedWithIndex}; revocation window without header (revoke answer -> first refusal on a standby, ${windows.length} revocations): p50 ${quantile(windows, 0.5).toFixed(1)} ms, p99 ${quantile(windows, 0.99).toFixed(1)} ms, max ${Math.max(...windows).toFixed(1)} ms`;
    t.diagnostic(line);
    console.log(line);
    assert.equal(acceptancesAfterIndex, 0, line);
    assert.equal(windows.length, TOKENS / 2);
    assert.equal(checkedWithIndex, (TOKENS / 2) * 6);
  });
});
