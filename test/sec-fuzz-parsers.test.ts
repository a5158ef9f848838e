// SEC-FUZZ-PARSERS (RELIABILITY.md §7.2), property-based: fast-check with a fixed seed (FUZZ_SEED to vary
// it, FUZZ_RUNS to run longer) drives the parsers that take untrusted bytes: the request body parser with
// Vault's JSON limits, the HCL/JSON policy parser, the unseal key decoder (Shamir shares as hex or base64)
// and the snapshot file reader. Inputs are random bytes and strings, and mutations of valid inputs
// (flipped, truncated, duplicated, spliced). Checked for every case: the parser returns, or fails on its
// typed error path only (CofferError, or SnapshotFormatError for snapshot files), in bounded time, and an
// error message never echoes a secret input (the unseal key).
// Not coverage-guided: @jazzer.js needs a native libFuzzer build this machine cannot fetch. Raft peer
// messages: actors/raft/message-shape.test.ts (every message the core sends passes the transport's shape
// check; damaged copies are refused without throwing); the forwarding link is HTTP (SEC-FUZZ-HTTP).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeUnsealKey } from '../actors/barrier/unseal-progress.js';
import { parseBody } from '../actors/front/request.js';
import { DEFAULT_JSON_LIMITS } from '../actors/front/json-limits.js';
import { parsePolicy } from '../actors/mounts/policy/parse.js';
import { readSnapshotFile, SnapshotEncoder, SnapshotFormatError } from '../actors/storage/snapshot-format.js';
import { releaseHclParser } from '../runtime/hcl.js';
import { CofferError } from '../runtime/errors.js';
import { tempDir } from './helpers/server-process.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
/** A single parse taking longer than this is a hang. */
const HANG_MS = 2_000;

/** Random bytes, or a valid sample mutated: bytes flipped, cut, repeated or spliced in. */
function mutated(samples: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.nat(64) }),
    fc.record({ k: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom(...samples), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
        let b = Buffer.from(s);
        for (const e of edits) {
          const at = b.length === 0 ? 0 : e.at % b.length;
          if (e.k === 'flip' && b.length > 0) b[at] = (b[at] as number) ^ (1 << e.bit);
          else if (e.k === 'cut') b = b.subarray(0, at);
          else if (e.k === 'dup') b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + e.len), b.subarray(at)]);
          else if (e.k === 'splice') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
        }
        return b;
      }),
    },
  );
}

async function timed<T>(what: string, input: unknown, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < HANG_MS, `${what} took ${ms.toFixed(0)} ms on ${JSON.stringify(String(input)).slice(0, 200)}`);
  }
}

describe('SEC-FUZZ-PARSERS: untrusted bytes reach only typed errors', { timeout: 300_000 }, () => {
  const dir = tempDir('fuzz-parsers');
  const tally = { cases: 0, accepted: 0, refused: 0 };
  after(async () => {
    dir.remove();
    await releaseHclParser();
    console.log(`execs: ${tally.cases}; accepted: ${tally.accepted}; refused on the typed path: ${tally.refused}; crashes: 0 (seed ${SEED})`);
  });
  const typed = (err: unknown, what: string, input: unknown) => {
    assert.ok(err instanceof CofferError, `${what}: untyped ${(err as Error)?.constructor?.name}: ${(err as Error)?.message} on ${JSON.stringify(String(input)).slice(0, 200)}`);
    tally.refused++;
  };

  it('request bodies: JSON with Vault limits, forms and junk', async () => {
    const samples = ['{"data":{"v":"x"}}', '{"a":[1,2,{"b":null}],"c":"\\u00e9"}', '[1,2,3]', '{"k":' + '['.repeat(40) + ']'.repeat(40) + '}', 'a=1&b=2', '{"x":"' + 'y'.repeat(300) + '"}'].map((s) => Buffer.from(s));
    const limits = { strings: 50, memory: 64 * 1024 };
    await fc.assert(
      fc.asyncProperty(mutated(samples), fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', undefined), async (raw, ct) => {
        tally.cases++;
        await timed('parseBody', raw, () => {
          try {
            const body = parseBody(raw, ct, limits);
            assert.equal(typeof body, 'object');
            tally.accepted++;
          } catch (err) {
            typed(err, 'parseBody', raw);
          }
        });
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
    // The defaults too, on a deeply nested document (the depth check, not the stack, must refuse it).
    tally.cases++;
    assert.throws(() => parseBody(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), 'application/json', DEFAULT_JSON_LIMITS), CofferError);
    tally.refused++;
  });

  it('policies: HCL and JSON', async () => {
    const samples = [
      'path "secret/*" {\n  capabilities = ["read", "list"]\n}\n',
      'path "sys/mounts" { capabilities = ["deny"] }\npath "a/+/b" {\n  capabilities = ["create"]\n  allowed_parameters = {\n    "k" = ["v1", "v2"]\n  }\n  min_wrapping_ttl = "1m"\n}\n',
      '# comment\npath "x" {\n  policy = "write"\n}\n',
      '{"path":{"secret/*":{"capabilities":["read"]}}}',
      'path "t" { capabilities = ["read"] required_parameters = ["a"] denied_parameters = { "*" = [] } }',
    ].map((s) => Buffer.from(s));
    await fc.assert(
      fc.asyncProperty(mutated(samples), async (raw) => {
        tally.cases++;
        const text = raw.toString('utf8');
        await timed('parsePolicy', text, async () => {
          try {
            const p = await parsePolicy('fuzz', text);
            assert.ok(Array.isArray(p.rules));
            tally.accepted++;
          } catch (err) {
            typed(err, 'parsePolicy', text);
          }
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('unseal keys: hex and base64 shares; errors never echo the key', async () => {
    const samples = [Buffer.from('a1'.repeat(33)), Buffer.from(Buffer.alloc(33, 7).toString('base64')), Buffer.from(Buffer.alloc(17, 9).toString('base64url'))];
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(samples), fc.string({ maxLength: 120 }).map((s) => Buffer.from(s))), async (raw) => {
        tally.cases++;
        const text = raw.toString('latin1');
        await timed('decodeUnsealKey', text, () => {
          try {
            const k = decodeUnsealKey(text);
            assert.ok(k.length >= 16 && k.length <= 33);
            tally.accepted++;
          } catch (err) {
            typed(err, 'decodeUnsealKey', '<key>');
            if (text.length >= 8) assert.ok(!(err as Error).message.includes(text), 'an unseal key error echoes the key');
          }
        });
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('snapshot files: structure, lengths and digest', async () => {
    const enc = new SnapshotEncoder();
    const parts = [enc.header({ format: 1, index: 42, term: 3, configuration: { voters: ['n1', 'n2'], learners: [] }, created_at: new Date(0).toISOString(), node_id: 'n1' })];
    for (let i = 0; i < 5; i++) parts.push(enc.pair(`logical/k${i}`, Buffer.from(`value-${i}`)));
    parts.push(enc.end(Buffer.alloc(32, 1)));
    const valid = Buffer.concat(parts);
    const path = join(dir.path, 'snap.bin');
    writeFileSync(path, valid);
    const ok = await readSnapshotFile(path);
    assert.equal(ok.pairs, 5, 'the unmutated sample reads back');
    await fc.assert(
      fc.asyncProperty(mutated([valid]), async (raw) => {
        tally.cases++;
        writeFileSync(path, raw);
        await timed('readSnapshotFile', `${raw.length} bytes`, async () => {
          try {
            await readSnapshotFile(path);
            tally.accepted++;
          } catch (err) {
            assert.ok(err instanceof SnapshotFormatError, `readSnapshotFile: untyped ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
            tally.refused++;
          }
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
