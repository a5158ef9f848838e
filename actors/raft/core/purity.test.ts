// The core must stay a pure, deterministic state machine: no I/O, clocks, timers, randomness or async.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const coreDir = fileURLToPath(new URL('../../../../actors/raft/core/', import.meta.url));
const forbidden: [RegExp, string][] = [
  [/from\s+['"]node:/, "import from 'node:*'"],
  [/import\s*\(\s*['"]node:/, "dynamic import of 'node:*'"],
  [/\bDate\b/, 'Date'],
  [/Math\.random/, 'Math.random'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bawait\b/, 'await'],
  [/\basync\b/, 'async'],
  [/\bprocess\./, 'process.'],
  [/\bperformance\./, 'performance.'],
];

test('raft core sources are pure', () => {
  const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  assert.ok(files.length >= 10, `expected the core sources in ${coreDir}, found ${files.length}`);
  const violations: string[] = [];
  for (const file of files) {
    const lines = readFileSync(coreDir + file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, ''); // comments may name what is forbidden
      for (const [pattern, what] of forbidden) if (pattern.test(code)) violations.push(`${file}:${i + 1}: ${what}`);
    });
  }
  assert.deepEqual(violations, []);
});
