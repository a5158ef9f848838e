// userpass login: an unknown user costs the same work as a known user with a wrong password (the
// password hash is verified against a dummy hash). N interleaved attempts of each against a dev node;
// the ratio of the medians must lie in [0.5, 2]. A fast path for unknown users (no hash: ~100x faster)
// fails it; scheduler noise does not. Not a performance assertion: it proves equal work.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';
import { http } from './helpers/server-process.js';

const N = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

describe('userpass login timing', () => {
  let node: EmbeddedNode;

  before(async () => {
    node = await startNode();
    assert.equal((await http(node.address, 'POST', 'sys/auth/userpass', { token: node.rootToken, body: { type: 'userpass' } })).status, 204);
    assert.equal((await http(node.address, 'POST', 'auth/userpass/users/alice', { token: node.rootToken, body: { password: 'the-right-password' } })).status, 204);
  });
  after(async () => {
    await node?.close();
  });

  it(`unknown user vs wrong password: medians of ${N} interleaved attempts within a factor of 2`, async () => {
    const attempt = async (user: string) => {
      const t0 = process.hrtime.bigint();
      const r = await http(node.address, 'PUT', `auth/userpass/login/${user}`, { body: { password: 'a-wrong-password' } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { errors: ['invalid username or password'] });
      return ms;
    };
    // Warm-up: the CPU pool's first scrypt, JIT.
    await attempt('alice');
    await attempt('nobody');
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < N; i++) {
      // Alternate which goes first so a drift in load hits both sides alike.
      if (i % 2 === 0) {
        unknown.push(await attempt(`nobody-${i}`));
        wrong.push(await attempt('alice'));
      } else {
        wrong.push(await attempt('alice'));
        unknown.push(await attempt(`nobody-${i}`));
      }
    }
    const mu = median(unknown);
    const mw = median(wrong);
    const ratio = mu / mw;
    console.log(`userpass login medians over ${N}: unknown user ${mu.toFixed(2)} ms, wrong password ${mw.toFixed(2)} ms, ratio ${ratio.toFixed(3)}`);
    assert.ok(ratio >= 0.5 && ratio <= 2, `unknown-user median ${mu.toFixed(2)} ms vs wrong-password median ${mw.toFixed(2)} ms: ratio ${ratio.toFixed(3)} outside [0.5, 2]`);
  });
});
