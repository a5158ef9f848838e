// Data-driven interaction tests: fixtures/raft/*.txt hold blocks of
//   command args
//   ----
//   expected output
// separated by blank lines ('#' lines are comments). REWRITE=1 regenerates the expected output; read the diff.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Env, type Args } from './interaction-env.test-helper.js';
import { raftCoreMutations } from '../../../runtime/mutations.js';

const dir = fileURLToPath(new URL('../../../../fixtures/raft/', import.meta.url));
const rewrite = process.env['REWRITE'] === '1';

interface Block {
  preamble: string[];
  line: number;
  command: string;
  expected: string;
}

export function parse(text: string): { blocks: Block[]; trailer: string[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after command`);
    const out: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== '') out.push(lines[j++]!);
    blocks.push({ preamble, line: i + 1, command: line, expected: out.join('\n') });
    preamble = [];
    i = j - 1;
  }
  return { blocks, trailer: preamble };
}

export function parseArgs(command: string): { cmd: string; args: Args } {
  const tokens = command.match(/\S+=\([^)]*\)|\S+/g) ?? [];
  const [cmd, ...rest] = tokens;
  const args: Args = { pos: [], kv: new Map() };
  for (const t of rest) {
    const eq = t.indexOf('=');
    if (eq > 0) args.kv.set(t.slice(0, eq), t.slice(eq + 1).replace(/\s+/g, ''));
    else args.pos.push(t);
  }
  return { cmd: cmd ?? '', args };
}

const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
assert.ok(files.length > 0, `no fixtures in ${dir}`);

for (const file of files) {
  test(`raft interaction ${file}`, () => {
    const path = dir + file;
    const { blocks, trailer } = parse(readFileSync(path, 'utf8'));
    const env = new Env(raftCoreMutations());
    const actual: string[] = [];
    for (const b of blocks) {
      const { cmd, args } = parseArgs(b.command);
      let output: string;
      try {
        output = env.handle(cmd, args);
        env.checkApplied();
      } catch (err) {
        output = `panic: ${(err as Error).message}`;
      }
      actual.push(output);
      if (!rewrite) assert.equal(output, b.expected, `${file}:${b.line}: ${b.command}`);
    }
    if (rewrite) {
      const parts: string[] = [];
      blocks.forEach((b, i) => {
        const pre = b.preamble.slice();
        if (i > 0 && (pre.length === 0 || pre[0]!.trim() !== '')) pre.unshift('');
        parts.push(...pre, b.command, '----', actual[i]!);
      });
      parts.push(...trailer.filter((l) => l.trim() !== ''));
      writeFileSync(path, parts.join('\n') + '\n');
    }
  });
}
