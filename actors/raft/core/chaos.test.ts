// Seeded random runs of the interaction env: random ticks, proposals, drops, partitions, restarts,
// compactions and reads. Checks safety after every step: one leader per term, identical applied state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Env } from './interaction-env.test-helper.js';
import { Prng } from './prng.js';

function run(seed: number, steps: number): void {
  const prng = new Prng(seed);
  const env = new Env();
  const args = (pos: string[], kv: [string, string][] = []) => ({ pos, kv: new Map(kv) });
  const flags: [string, string][] = [
    ['voters', '(1,2,3,4,5)'], ['prevote', String(seed % 2 === 0)], ['checkquorum', String(seed % 3 !== 0)],
    ['batch', String(1 + (seed % 4))], ['inflight', String(1 + (seed % 3))], ['chunk', '4'], ['seed', String(seed)],
  ];
  env.handle('add-nodes', args(['5'], flags));
  const leaders = new Map<number, string>();
  const ids = ['1', '2', '3', '4', '5'];
  const pick = () => ids[prng.intBelow(ids.length)]!;
  for (let step = 0; step < steps; step++) {
    const op = prng.intBelow(100);
    const id = pick();
    if (op < 30) env.handle('tick', args([id, String(1 + prng.intBelow(5))]));
    else if (op < 45) env.handle('propose', args([id, `s${step}`]));
    else if (op < 65) env.handle('process-ready', args([id]));
    else if (op < 80) env.handle('deliver-msgs', args([id], prng.intBelow(5) === 0 ? [['drop', `(${id})`]] : []));
    else if (op < 83) env.handle('partition', args([...ids.slice(0, 1 + prng.intBelow(4)), '|', ...ids.slice(0).reverse().slice(0, 1)]));
    else if (op < 88) env.handle('heal', args([]));
    else if (op < 90) env.handle('restart', args([id]));
    else if (op < 92) {
      const st = env.nodes.get(id)!.node.status();
      if (st.applied > st.firstIndex) env.handle('compact', args([id, String(st.applied - 1)]));
    } else if (op < 95) env.handle('read-index', args([id, `r${step}`]));
    else env.handle('stabilize', args([]));
    env.checkApplied();
    for (const n of env.nodes.values()) {
      const st = n.node.status();
      if (st.role !== 'leader') continue;
      const prev = leaders.get(st.term);
      assert.ok(prev === undefined || prev === st.id, `seed ${seed}: two leaders in term ${st.term}: ${prev} and ${st.id}`);
      leaders.set(st.term, st.id);
    }
  }
  // Liveness: heal, let a leader emerge and everything commit.
  env.handle('heal', args([]));
  for (let i = 0; i < 30; i++) {
    for (const id of ids) env.handle('tick', args([id, '1']));
    env.handle('stabilize', args([]));
  }
  env.checkApplied();
}

test('random runs stay safe (300 seeds x 400 steps)', () => {
  for (let seed = 1; seed <= 300; seed++) run(seed, 400);
});
