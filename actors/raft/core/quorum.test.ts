// Differential tests: the quorum math against dumb versions over many seeded random cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from './prng.js';
import { committedIndex, quorumSize, voteResult } from './quorum.js';
import { Inflights } from './inflights.js';

/** Largest index that at least a majority has acknowledged, by brute force over every candidate index. */
function committedIndexDumb(acked: number[]): number {
  if (acked.length === 0) return 0;
  let best = 0;
  for (const candidate of acked) {
    const count = acked.filter((a) => a >= candidate).length;
    if (count > acked.length / 2 && candidate > best) best = candidate;
  }
  return best;
}

function voteResultDumb(voters: number, granted: number, rejected: number): string {
  if (voters === 0) return 'won';
  if (granted * 2 > voters) return 'won';
  if ((voters - rejected) * 2 > voters) return 'pending';
  return 'lost';
}

test('committedIndex matches the brute-force version on 20,000 random configurations', () => {
  const prng = new Prng(7);
  for (let c = 0; c < 20_000; c++) {
    const n = prng.intBelow(8); // 0..7 voters
    const ids = Array.from({ length: n }, (_, i) => String(i + 1));
    const acked = ids.map(() => prng.intBelow(12));
    const map = new Map(ids.map((id, i) => [id, acked[i]!]));
    // Some voters are unknown to the acked function (never answered): they count as 0.
    const missing = n > 0 ? String(prng.intBelow(n) + 1) : '';
    const get = (id: string) => (id === missing ? 0 : map.get(id)!);
    const expected = committedIndexDumb(ids.map(get));
    assert.equal(committedIndex(ids, get), expected, `case ${c}: ${JSON.stringify(ids.map(get))}`);
  }
});

test('voteResult matches the counting version on 20,000 random elections', () => {
  const prng = new Prng(11);
  for (let c = 0; c < 20_000; c++) {
    const n = prng.intBelow(8);
    const ids = Array.from({ length: n }, (_, i) => String(i + 1));
    const votes = new Map<string, boolean>();
    let granted = 0;
    let rejected = 0;
    for (const id of ids) {
      const v = prng.intBelow(3);
      if (v === 1) { votes.set(id, true); granted++; }
      if (v === 2) { votes.set(id, false); rejected++; }
    }
    votes.set('stranger', true); // votes from non-voters never count
    assert.equal(voteResult(ids, votes), voteResultDumb(n, granted, rejected), `case ${c}`);
  }
  assert.equal(quorumSize(5), 3);
  assert.equal(quorumSize(4), 3);
});

test('election jitter stays in [electionTicks, 2*electionTicks) and replays from the seed', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  for (let i = 0; i < 10_000; i++) {
    const x = 10 + a.intBelow(10);
    assert.ok(x >= 10 && x < 20);
    assert.equal(x, 10 + b.intBelow(10));
  }
});

test('inflights behave as a bounded FIFO of last indexes (against an array)', () => {
  const prng = new Prng(3);
  const ring = new Inflights(5);
  let model: number[] = [];
  let next = 1;
  for (let i = 0; i < 10_000; i++) {
    if (prng.intBelow(2) === 0 && !ring.full()) {
      next += 1 + prng.intBelow(3);
      ring.add(next);
      model.push(next);
    } else if (prng.intBelow(4) === 0) {
      ring.freeFirstOne();
      model = model.slice(1);
    } else {
      const upTo = next - prng.intBelow(6);
      ring.freeLE(upTo);
      model = model.filter((x) => x > upTo);
    }
    assert.equal(ring.size, model.length);
    assert.equal(ring.full(), model.length === 5);
  }
});
