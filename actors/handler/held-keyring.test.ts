// When a handler worker asks the core for a keyring, and what concurrent requests decrypt with meanwhile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeldKeyring, type KeyringAnswer } from './held-keyring.js';

function setup() {
  const state = { epoch: 1, stored: Buffer.from('keyring-1') as Buffer | undefined, fetches: 0 };
  let answer: KeyringAnswer<string> = { epoch: 1, barrier: 'ring-1', source: Buffer.from('keyring-1') };
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const held = new HeldKeyring<string>({
    epoch: () => state.epoch,
    stored: () => state.stored,
    fetch: async () => {
      state.fetches++;
      if (gate !== null) await gate;
      return answer;
    },
  });
  return {
    state,
    held,
    answerWith: (a: KeyringAnswer<string>) => (answer = a),
    hold: () => (gate = new Promise<void>((r) => (release = r))),
    release: () => {
      gate = null;
      release?.();
    },
  };
}

describe('HeldKeyring', () => {
  it('asks once at the start and again only when the epoch or the stored keyring moves', async () => {
    const t = setup();
    assert.equal(await t.held.current(), 'ring-1');
    assert.equal(await t.held.current(), 'ring-1');
    assert.equal(t.state.fetches, 1);
    t.state.epoch = 2;
    t.answerWith({ epoch: 2, barrier: 'ring-1b', source: Buffer.from('keyring-1') });
    assert.equal(await t.held.current(), 'ring-1b');
    assert.equal(t.state.fetches, 2);
    // A rotation replicated here: the snapshot's core/keyring changed.
    t.state.stored = Buffer.from('keyring-2');
    t.answerWith({ epoch: 3, barrier: 'ring-2', source: Buffer.from('keyring-2') });
    t.state.epoch = 3;
    assert.equal(await t.held.current(), 'ring-2');
    assert.equal(t.state.fetches, 3);
  });

  it('a stored keyring the core cannot open yet is asked about once, not on every request', async () => {
    const t = setup();
    await t.held.current();
    t.state.stored = Buffer.from('keyring-unopenable');
    // The core keeps its keyring (it cannot open the new one yet): same epoch, old source.
    assert.equal(await t.held.current(), 'ring-1');
    assert.equal(await t.held.current(), 'ring-1');
    assert.equal(t.state.fetches, 2);
  });

  it('a request that finds the new keyring while another request asks for it waits for the answer', async () => {
    const t = setup();
    await t.held.current();
    t.state.stored = Buffer.from('keyring-2');
    t.answerWith({ epoch: 2, barrier: 'ring-2', source: Buffer.from('keyring-2') });
    t.state.epoch = 2;
    t.hold();
    const first = t.held.current(); // asks; the answer is held back
    const second = t.held.current(); // sees the same new keyring while the ask is in flight
    t.release();
    assert.deepEqual(await Promise.all([first, second]), ['ring-2', 'ring-2']);
    assert.equal(t.state.fetches, 2, 'one ask for both');
  });
});
