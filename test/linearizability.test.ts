// The linearizability checker's own tests (RELIABILITY.md Appendix A.6, CHK-KAT in §7.2): known-answer
// histories from porcupine's test data, hand-written edge cases, the JSON-lines format, a property test
// against a brute-force oracle, and a micro-benchmark (a printed figure, not a timed assertion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  bruteForceLinearizable,
  checkHistory,
  classifyKvViolation,
  formatKvJsonl,
  HistoryError,
  kvModel,
  parseKvJsonl,
  prepareHistory,
  splitmix32,
  type KvInput,
  type CheckResult,
  type KvOutput,
  type Model,
  type Operation,
  type RecordedOp,
} from './lin/index.js';
import { casRegisterModel, parseExpectedVerdicts, parseJepsenLog, parseKvLog, stringKvModel } from './lin/testdata.js';
import { generateLinearizableKv, injectStaleRead, mutateOneRead, stripVersions } from './lin/generate.js';

type KvOp = RecordedOp<KvInput, KvOutput>;

function check(ops: readonly KvOp[], options: Parameters<typeof checkHistory>[2] = {}) {
  return checkHistory(kvModel, prepareHistory(kvModel, ops).ops, options);
}

/** Replays a witness linearization: real-time order respected and every step legal. */
function assertValidWitness<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], order: readonly number[]): void {
  const byId = new Map(ops.map((o) => [o.id, o]));
  assert.equal(order.length, ops.length);
  let state = model.init();
  const placed = new Set<number>();
  for (const id of order) {
    const o = byId.get(id)!;
    for (const other of ops) assert.ok(placed.has(other.id) || other.id === id || !(other.ret < o.call), `witness places #${id} before #${other.id}, which returned before #${id} was invoked`);
    const next = model.step(state, o.input, o.output);
    assert.ok(next !== undefined, `witness step #${id} is illegal`);
    state = next;
    placed.add(id);
  }
}

// ---- known answers ---------------------------------------------------------------------------------

function summarize<S, I, O>(r: CheckResult<S, I, O>) {
  return { verdict: r.verdict, explanation: r.violation?.explanation ?? '', stuckInPrefix: r.violation !== undefined && r.violation.prefix.includes(r.violation.stuck) };
}

function findTestdata(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.COFFER_LIN_TESTDATA, resolve(here, '../../../shared/linearizability-testdata'), '/work/shared/linearizability-testdata'];
  return candidates.find((c): c is string => c !== undefined && existsSync(join(c, 'porcupine', 'README.md')));
}

test('known-answer histories (porcupine test data): every expected verdict reproduced', { timeout: 120_000 }, (t) => {
  const root = findTestdata();
  if (root === undefined) {
    t.skip('linearizability test data not found: set COFFER_LIN_TESTDATA to the directory holding porcupine/README.md');
    return;
  }
  const dir = join(root, 'porcupine');
  const expected = parseExpectedVerdicts(readFileSync(join(dir, 'README.md'), 'utf8'));
  const files = [...readdirSync(join(dir, 'jepsen-etcd')).map((f) => ['jepsen-etcd', f] as const), ...readdirSync(join(dir, 'kv')).map((f) => ['kv', f] as const)].sort();
  let checked = 0;
  let matching = 0;
  let linearizable = 0;
  const withoutVerdict: string[] = [];
  const mismatches: string[] = [];
  let worst = { file: '', ms: 0 };
  const started = performance.now();
  for (const [sub, file] of files) {
    const want = expected.get(file);
    if (want === undefined) {
      withoutVerdict.push(file);
      continue;
    }
    const text = readFileSync(join(dir, sub, file), 'utf8');
    const t0 = performance.now();
    const result =
      sub === 'kv'
        ? summarize(checkHistory(stringKvModel, prepareHistory(stringKvModel, parseKvLog(text)).ops))
        : summarize(checkHistory(casRegisterModel, prepareHistory(casRegisterModel, parseJepsenLog(text)).ops));
    const ms = performance.now() - t0;
    if (ms > worst.ms) worst = { file, ms };
    checked++;
    if (result.verdict === (want ? 'ok' : 'illegal')) matching++;
    else mismatches.push(`${file}: expected ${want ? 'ok' : 'illegal'}, got ${result.verdict}`);
    if (want) linearizable++;
    if (result.verdict === 'illegal') {
      assert.ok(result.explanation.includes('Cannot be placed'), file);
      assert.ok(!result.stuckInPrefix, `${file}: the stuck operation is not in the prefix`);
    }
  }
  console.log(
    `histories checked: ${matching} of ${checked} match the expected verdict (${linearizable} linearizable, ${checked - linearizable} not; ` +
      `without a verdict, skipped: ${withoutVerdict.join(', ') || 'none'}); ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${worst.file} ${worst.ms.toFixed(0)} ms`,
  );
  assert.deepEqual(mismatches, []);
  assert.equal(checked, expected.size, 'every file with an expected verdict exists and was checked');
  assert.deepEqual(withoutVerdict, ['etcd_095.log']);
});

// ---- edge cases ------------------------------------------------------------------------------------

let nextId = 1000;
const w = (client: string, key: string, value: string, call: number, ret: number | undefined, version?: number, outcome: KvOp['outcome'] = ret === undefined ? 'indeterminate' : 'ok'): KvOp => ({
  id: nextId++,
  client,
  key,
  input: { kind: 'write', value },
  call,
  ...(ret !== undefined ? { ret } : {}),
  outcome,
  ...(outcome === 'ok' ? { output: version !== undefined ? { version } : {} } : {}),
});
const r = (client: string, key: string, call: number, ret: number, found: false | [string, number?]): KvOp => ({
  id: nextId++,
  client,
  key,
  input: { kind: 'read' },
  call,
  ret,
  outcome: 'ok',
  output: found === false ? { found: false } : found[1] !== undefined ? { found: true, value: found[0], version: found[1] } : { found: true, value: found[0] },
});
const cas = (client: string, key: string, expectVersion: number, value: string, call: number, ret: number, ok: boolean, version?: number): KvOp => ({
  id: nextId++,
  client,
  key,
  input: { kind: 'cas', expectVersion, value },
  call,
  ret,
  outcome: 'ok',
  output: ok ? (version !== undefined ? { ok, version } : { ok }) : { ok },
});
const del = (client: string, key: string, call: number, ret: number): KvOp => ({ id: nextId++, client, key, input: { kind: 'delete' }, call, ret, outcome: 'ok', output: {} });

test('edge: equal timestamps are concurrent (closed intervals)', () => {
  // The write returns at 5 and the read is invoked at 5: they overlap, so the read may still see the old state.
  assert.equal(check([w('a', 'k', 'x', 0, 5, 1), r('b', 'k', 5, 8, false)]).verdict, 'ok');
  assert.equal(check([w('a', 'k', 'x', 0, 5, 1), r('b', 'k', 6, 8, false)]).verdict, 'illegal');
  assert.equal(check([w('a', 'k', 'x', 0, 5, 1), r('b', 'k', 5, 8, ['x', 1])]).verdict, 'ok');
});

test('edge: empty history, all-indeterminate history, read of a never-written key', () => {
  assert.equal(check([]).verdict, 'ok');
  const open = [w('a', 'k', 'x', 0, 3, undefined, 'indeterminate'), w('b', 'k', 'y', 1, undefined), w('c', 'j', 'z', 2, 4, undefined, 'indeterminate')];
  const res = check(open);
  assert.equal(res.verdict, 'ok');
  assert.equal(res.stats.indeterminate, 3);
  assert.equal(check([r('a', 'k', 0, 1, false)]).verdict, 'ok');
  const garbage = check([r('a', 'k', 0, 1, ['x', 1])]);
  assert.equal(garbage.verdict, 'illegal');
  assert.equal(classifyKvViolation([], garbage.violation!.stuck), 'garbage-read');
});

test('edge: CAS from version 0 (KV v2: only a key with no versions at all)', () => {
  assert.equal(check([cas('a', 'k', 0, 'x', 0, 1, true, 1), r('a', 'k', 2, 3, ['x', 1])]).verdict, 'ok');
  assert.equal(check([w('a', 'k', 'x', 0, 1, 1), cas('a', 'k', 0, 'y', 2, 3, true, 2)]).verdict, 'illegal');
  assert.equal(check([w('a', 'k', 'x', 0, 1, 1), cas('a', 'k', 0, 'y', 2, 3, false)]).verdict, 'ok');
  // After a delete the version is kept: cas 0 still mismatches, cas 1 applies and yields version 2.
  assert.equal(check([w('a', 'k', 'x', 0, 1, 1), del('a', 'k', 2, 3), r('a', 'k', 4, 5, false), cas('a', 'k', 0, 'y', 6, 7, false), cas('a', 'k', 1, 'z', 8, 9, true, 2)]).verdict, 'ok');
  assert.equal(check([w('a', 'k', 'x', 0, 1, 1), del('a', 'k', 2, 3), w('a', 'k', 'y', 4, 5, 1)]).verdict, 'illegal');
});

test('edge: indeterminate writes may take effect at any point after their call, or never; failed ones never', () => {
  // A write left open until the end, then reads of its value: legal.
  assert.equal(check([w('a', 'k', 'x', 0, undefined), r('b', 'k', 10, 11, ['x', 1]), r('b', 'k', 12, 13, ['x', 1])]).verdict, 'ok');
  // Timed out at 2, seen at 50 (applied late), then a later read of the old state is illegal (no going back).
  assert.equal(check([w('a', 'k', 'x', 0, 2, undefined, 'indeterminate'), r('b', 'k', 50, 51, ['x', 1]), r('b', 'k', 52, 53, false)]).verdict, 'illegal');
  // Timed out and never seen: legal ("never").
  assert.equal(check([w('a', 'k', 'x', 0, 2, undefined, 'indeterminate'), r('b', 'k', 50, 51, false)]).verdict, 'ok');
  // Seen before it was invoked: illegal.
  assert.equal(check([r('b', 'k', 0, 1, ['x', 1]), w('a', 'k', 'x', 2, 3, undefined, 'indeterminate')]).verdict, 'illegal');
  // A definite failure never happened: reading its value is illegal.
  assert.equal(check([w('a', 'k', 'x', 0, 2, undefined, 'failed'), r('b', 'k', 5, 6, ['x', 1])]).verdict, 'illegal');
  // An indeterminate read carries no information and is dropped.
  const prepared = prepareHistory(kvModel, [{ id: 1, client: 'a', key: 'k', input: { kind: 'read' }, call: 0, ret: 9, outcome: 'indeterminate' }]);
  assert.equal(prepared.ops.length, 0);
  assert.equal(prepared.stats.indeterminateReadsRemoved, 1);
});

test('edge: stale read is flagged with key, longest prefix, the stuck operation and a classification', () => {
  const w1 = w('a', 'k', 'x', 0, 1, 1);
  const w2 = w('a', 'k', 'y', 2, 3, 2);
  const stale = r('b', 'k', 4, 5, ['x', 1]);
  const other = [w('c', 'j', 'z', 0, 9, 1), r('c', 'j', 10, 11, ['z', 1])];
  const res = check([...other, w1, w2, stale]);
  assert.equal(res.verdict, 'illegal');
  const v = res.violation!;
  assert.equal(v.key, 'k');
  assert.deepEqual(v.prefix.map((o) => o.id), [w1.id, w2.id]);
  assert.equal(v.stuck.id, stale.id);
  assert.equal(kvModel.describeState(v.stateAfterPrefix), '{value "y", version 2}');
  assert.equal(classifyKvViolation(prepareHistory(kvModel, [w1, w2, stale]).ops, v.stuck), 'stale-read');
  assert.match(v.explanation, /key "k" is not linearizable/);
  assert.match(v.explanation, /Cannot be placed: #\d+ client b \[4, 5\] read -> "x" v1/);
  // The other key was fine; checking stops at the first illegal key only when asked to.
  const all = check([...other, w1, w2, stale], { stopAtFirstViolation: false });
  assert.deepEqual(all.partitions.map((p) => [p.key, p.verdict]).sort(), [['j', 'ok'], ['k', 'illegal']]);
});

test('edge: per-key partitioning — each key is checked on its own (P-compositionality)', () => {
  // Each key is linearizable on its own even though a cross-key "snapshot" view would look odd.
  const ops = [w('a', 'x', '1', 0, 10, 1), w('b', 'y', '1', 0, 10, 1), r('a', 'y', 11, 12, false), r('b', 'x', 11, 12, ['1', 1])];
  assert.equal(check(ops).verdict, 'illegal'); // y was written (ret 10) before the read at 11
  const ok = [w('a', 'x', '1', 0, 10, 1), w('b', 'y', '1', 0, 10, 1), r('c', 'y', 5, 12, false), r('d', 'x', 5, 12, ['1', 1])];
  const res = check(ok);
  assert.equal(res.verdict, 'ok');
  assert.equal(res.stats.keys, 2);
  const prepared = prepareHistory(kvModel, ok).ops;
  for (const p of res.partitions) assertValidWitness(kvModel, prepared.filter((o) => o.key === p.key), p.linearization!);
});

test('budget: exhaustion gives "unknown", never a pass', () => {
  const ops = generateLinearizableKv(splitmix32(7), { clients: 8, keys: 1, ops: 300 });
  const res = check(ops, { maxSteps: 50 });
  assert.equal(res.verdict, 'unknown');
  assert.match(res.partitions[0]!.reason!, /budget exhausted: 50 steps/);
  const tiny = check(ops, { maxCacheEntries: 5 });
  assert.equal(tiny.verdict, 'unknown');
  assert.match(tiny.partitions[0]!.reason!, /memoized configurations/);
  let clock = 0;
  const longer = generateLinearizableKv(splitmix32(7), { clients: 8, keys: 1, ops: 6000 });
  const timed = check(longer, { deadlineMs: 0, now: () => (clock += 1) }); // the clock is read every 4096 steps
  assert.equal(timed.verdict, 'unknown');
  assert.match(timed.partitions[0]!.reason!, /deadline/);
  assert.equal(check(ops).verdict, 'ok');
});

test('history preparation rejects malformed histories', () => {
  assert.throws(() => prepareHistory(kvModel, [w('a', 'k', 'x', 0, 5, 1), w('a', 'k', 'y', 3, 6, 2)]), HistoryError); // two outstanding
  assert.throws(() => prepareHistory(kvModel, [w('a', 'k', 'x', 0, undefined), w('a', 'k', 'y', 3, 6, 2)]), HistoryError); // still open
  assert.throws(() => prepareHistory(kvModel, [w('a', 'k', 'x', 5, 4, 1)]), HistoryError); // returns before call
  const dup = w('a', 'k', 'x', 0, 1, 1);
  assert.throws(() => prepareHistory(kvModel, [dup, { ...dup, client: 'b' }]), HistoryError);
  // A client may go on after giving up on an indeterminate operation (its recorded give-up time counts).
  assert.equal(check([w('a', 'k', 'x', 0, 2, undefined, 'indeterminate'), w('a', 'k', 'y', 3, 4, 1)]).verdict, 'ok');
});

// ---- JSON-lines format -----------------------------------------------------------------------------

test('JSON-lines: round trip, nanosecond times as strings, open operations, bad lines', () => {
  const ops = generateLinearizableKv(splitmix32(3), { clients: 4, keys: 3, ops: 200, pIndeterminate: 0.1, pFailed: 0.05 });
  const text = formatKvJsonl(ops);
  assert.equal(text.trim().split('\n').length, ops.length * 2);
  const back = parseKvJsonl(text);
  const origin = Math.min(...ops.map((o) => o.call));
  const norm = (list: readonly KvOp[], shift: number) =>
    [...list].sort((a, b) => a.id - b.id).map((o) => ({ ...o, call: o.call - shift, ret: o.ret! - shift, output: o.outcome === 'ok' ? o.output : undefined }));
  assert.deepEqual(norm(back, 0), norm(ops, origin));
  assert.equal(check(back).verdict, 'ok');

  const big = [
    '{"type":"invoke","op":1,"client":"c1","key":"secret/data/a","f":"write","value":"v1","time":"9007199254740993000"}',
    '{"type":"invoke","op":2,"client":"c2","key":"secret/data/a","f":"read","time":"9007199254740993001"}',
    '{"type":"return","op":1,"client":"c1","time":"9007199254740993005","outcome":"ok","version":1,"node":"n1","index":42}',
    '{"type":"return","op":2,"client":"c2","time":"9007199254740993004","outcome":"ok","found":true,"value":"v1","version":1}',
    '{"type":"invoke","op":3,"client":"c2","key":"secret/data/a","f":"cas","value":"v3","expectVersion":1,"time":"9007199254740993010"}',
  ].join('\n');
  const parsed = parseKvJsonl(big);
  assert.deepEqual(
    parsed.map((o) => [o.id, o.call, o.ret, o.outcome]),
    [
      [1, 0, 5, 'ok'],
      [2, 1, 4, 'ok'],
      [3, 10, undefined, 'indeterminate'],
    ],
  );
  assert.equal(check(parsed).verdict, 'ok');
  assert.throws(() => parseKvJsonl('{"type":"return","op":9,"client":"c","time":1,"outcome":"ok"}'), HistoryError);
  assert.throws(() => parseKvJsonl('{"type":"invoke","op":1,"client":"c","key":"k","f":"read","time":1.5}'), HistoryError);
  assert.throws(() => parseKvJsonl('{"type":"invoke","op":1,"client":"c","key":"k","f":"read","time":1}\n{"type":"return","op":1,"client":"c","time":2,"outcome":"ok"}'), HistoryError);
  assert.throws(() => parseKvJsonl('not json'), HistoryError);
});

// ---- property tests against the brute-force oracle --------------------------------------------------

const smallOp = fc.record({
  client: fc.integer({ min: 0, max: 2 }),
  key: fc.integer({ min: 0, max: 1 }),
  kind: fc.constantFrom<KvInput['kind']>('read', 'read', 'write', 'write', 'cas', 'delete'),
  value: fc.constantFrom('x', 'y', 'z'),
  expect: fc.integer({ min: 0, max: 3 }),
  found: fc.boolean(),
  version: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  ok: fc.boolean(),
  outcome: fc.constantFrom<KvOp['outcome']>('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'indeterminate', 'failed'),
  gap: fc.integer({ min: 0, max: 3 }),
  duration: fc.integer({ min: 0, max: 6 }),
});

const smallHistory = fc.tuple(fc.integer({ min: 1, max: 2 }), fc.array(smallOp, { minLength: 1, maxLength: 8 })).map(([keys, list]) => {
  const clock = [0, 0, 0];
  return list.map((s, id): KvOp => {
    const call = clock[s.client]! + s.gap;
    const ret = call + s.duration;
    clock[s.client] = ret + 1;
    const input: KvInput =
      s.kind === 'read' ? { kind: 'read' } : s.kind === 'write' ? { kind: 'write', value: s.value } : s.kind === 'cas' ? { kind: 'cas', expectVersion: s.expect, value: s.value } : { kind: 'delete' };
    const output: KvOutput =
      s.kind === 'read'
        ? s.found
          ? s.version !== undefined
            ? { found: true, value: s.value, version: s.version }
            : { found: true, value: s.value }
          : { found: false }
        : s.kind === 'write'
          ? s.version !== undefined
            ? { version: s.version }
            : {}
          : s.kind === 'cas'
            ? s.ok && s.version !== undefined
              ? { ok: true, version: s.version }
              : { ok: s.ok }
            : {};
    const base = { id, client: `c${s.client}`, key: `k${s.key % keys}`, input, call, ret };
    return s.outcome === 'ok' ? { ...base, outcome: 'ok', output } : { ...base, outcome: s.outcome };
  });
});

const tally = () => ({ runs: 0, agree: 0, linearizable: 0 });

test('property: checker agrees with brute force on random small histories (≤ 8 ops, 1–2 keys, overlaps, indeterminate)', { timeout: 120_000 }, () => {
  const t = tally();
  fc.assert(
    fc.property(smallHistory, (ops) => {
      const expected = bruteForceLinearizable(kvModel, ops);
      const res = check(ops);
      t.runs++;
      if (expected) t.linearizable++;
      assert.equal(res.verdict, expected ? 'ok' : 'illegal', formatKvJsonl(ops));
      if (res.verdict === 'ok') {
        const prepared = prepareHistory(kvModel, ops).ops;
        for (const p of res.partitions) assertValidWitness(kvModel, prepared.filter((o) => o.key === p.key), p.linearization!);
      }
      t.agree++;
    }),
    { numRuns: 5000, seed: 20261122 },
  );
  console.log(`random histories agreeing with brute force: ${t.agree} of ${t.runs} (${t.linearizable} linearizable, ${t.runs - t.linearizable} not)`);
  assert.ok(t.linearizable > 300 && t.runs - t.linearizable > 300, 'both verdicts are well represented');
});

test('property: checker agrees with brute force near the boundary (real executions, versions stripped, one read answer swapped)', { timeout: 120_000 }, () => {
  const t = tally();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 3, max: 8 }), fc.boolean(), (seed, clients, keys, n, withVersion) => {
      const rand = splitmix32(seed);
      const real = generateLinearizableKv(rand, { clients, keys, ops: n, pIndeterminate: 0.15, pFailed: 0.05, pRead: 0.4, pCas: 0.1, pDelete: 0.1, maxGap: 2, maxHalfLatency: 6 });
      const base = withVersion ? real : stripVersions(real);
      assert.equal(check(base).verdict, 'ok', formatKvJsonl(base));
      const ops = mutateOneRead(rand, base, withVersion) ?? base;
      const expected = bruteForceLinearizable(kvModel, ops);
      t.runs++;
      if (expected) t.linearizable++;
      assert.equal(check(ops).verdict, expected ? 'ok' : 'illegal', formatKvJsonl(ops));
      t.agree++;
    }),
    { numRuns: 5000, seed: 7 },
  );
  console.log(`near-boundary histories agreeing with brute force: ${t.agree} of ${t.runs} (${t.linearizable} linearizable, ${t.runs - t.linearizable} not)`);
  assert.ok(t.linearizable > 500 && t.runs - t.linearizable > 500, 'both verdicts are well represented');
});

test('property: histories from a real sequential execution with random delays are linearizable; injected stale reads are flagged', { timeout: 120_000 }, () => {
  const small = { runs: 0, stale: 0 };
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 8 }), (seed, clients, keys, n) => {
      const rand = splitmix32(seed);
      const ops = generateLinearizableKv(rand, { clients, keys, ops: n, pIndeterminate: 0.15, pFailed: 0.05, maxGap: 3, maxHalfLatency: 4 });
      assert.equal(bruteForceLinearizable(kvModel, ops), true, formatKvJsonl(ops));
      assert.equal(check(ops).verdict, 'ok', formatKvJsonl(ops));
      small.runs++;
      const bad = injectStaleRead(rand, ops);
      if (bad !== undefined) {
        small.stale++;
        assert.equal(bruteForceLinearizable(kvModel, bad.ops), false, formatKvJsonl(bad.ops));
        assert.equal(check(bad.ops).verdict, 'illegal', formatKvJsonl(bad.ops));
      }
    }),
    { numRuns: 3000, seed: 11 },
  );
  // Larger ones (beyond brute force): 20 histories of 400 operations, 6 clients, 3 keys.
  let large = 0;
  let largeStale = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const rand = splitmix32(seed);
    const ops = generateLinearizableKv(rand, { clients: 6, keys: 3, ops: 400, pIndeterminate: 0.1, pFailed: 0.03 });
    const res = check(ops);
    assert.equal(res.verdict, 'ok', `seed ${seed}`);
    const prepared = prepareHistory(kvModel, ops).ops;
    for (const p of res.partitions) assertValidWitness(kvModel, prepared.filter((o) => o.key === p.key), p.linearization!);
    large++;
    const bad = injectStaleRead(rand, ops);
    if (bad === undefined) continue;
    largeStale++;
    const badRes = check(bad.ops);
    assert.equal(badRes.verdict, 'illegal', `seed ${seed}: stale read #${bad.readId} not flagged`);
    assert.equal(badRes.violation!.key, bad.ops.find((o) => o.id === bad.readId)!.key);
  }
  console.log(`sequential executions checked linearizable: ${small.runs} small (vs brute force) + ${large} of 400 ops; injected stale reads flagged: ${small.stale + largeStale} of ${small.stale + largeStale}`);
  assert.ok(small.stale > 500, `enough stale-read corruptions (${small.stale})`);
});

// ---- micro-benchmark -------------------------------------------------------------------------------

test('benchmark: 10,000-op linearizable history, 20 clients, 50 keys (figure only)', { timeout: 120_000 }, () => {
  const ops = generateLinearizableKv(splitmix32(2026), { clients: 20, keys: 50, ops: 10_000 });
  const t0 = performance.now();
  const prepared = prepareHistory(kvModel, ops);
  const res = checkHistory(kvModel, prepared.ops, { deadlineMs: 30_000, now: () => performance.now() });
  const ms = performance.now() - t0;
  assert.equal(res.verdict, 'ok');
  const bad = injectStaleRead(splitmix32(1), ops)!;
  const t1 = performance.now();
  const badRes = check(bad.ops);
  const badMs = performance.now() - t1;
  assert.equal(badRes.verdict, 'illegal');
  console.log(
    `checker benchmark: ${ops.length} ops (20 clients, 50 keys, ${prepared.stats.indeterminate} indeterminate, ${prepared.stats.failedRemoved} failed removed) ` +
      `checked linearizable in ${ms.toFixed(0)} ms = ${Math.round(ops.length / (ms / 1000)).toLocaleString('en-US')} ops/s (${res.stats.steps} search steps); ` +
      `with one injected stale read: illegal in ${badMs.toFixed(0)} ms`,
  );
});
