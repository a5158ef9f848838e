// Crash durability: a child process acknowledges writes, is SIGKILLed mid-stream, and every
// acknowledged write must be there after reopening. SIGKILL loses the process, not the page cache:
// this checks the commit rule (ack only after flush + apply) and recovery, not the disk's fsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalWritePath } from './write-path.js';
import { tempDir, text } from './test-util.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

interface Acked {
  index: number;
  n: number;
}

function runAndKill(dataDir: string, firstN: number, killAfterAcks: number): Promise<Acked[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir, String(firstN), '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: Acked[] = [];
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? ''; // a torn last line is not an acknowledgement
      for (const line of lines) {
        if (line === 'ready') continue;
        const [index, n] = line.split(' ').map(Number);
        acked.push({ index: index!, n: n! });
      }
      if (acked.length >= killAfterAcks && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own: code ${code} signal ${signal}`));
      else resolve(acked);
    });
  });
}

test('crash: every write acknowledged before SIGKILL is present after reopen', async (t) => {
  const dir = tempDir(t);
  let firstN = 0;
  let lastIndex = 0;
  const killPoints = [300, 1234, 2000 + Math.floor(Math.random() * 1000)];
  for (const killAfterAcks of killPoints) {
    const acked = await runAndKill(dir, firstN, killAfterAcks);
    assert.ok(acked.length >= killAfterAcks, `only ${acked.length} acks`);
    const wp = LocalWritePath.open(dir);
    const applied = wp.stats().appliedIndex;
    for (const { index, n } of acked) {
      assert.ok(index > lastIndex && index <= applied, `ack ${index} outside (${lastIndex}, ${applied}]`);
      assert.equal(text(wp.reader.get(`crash/${n}`)), `v${n}`, `acknowledged write ${n} (index ${index}) lost`);
    }
    assert.equal(new Set(acked.map((a) => a.index)).size, acked.length, 'indexes are unique');
    lastIndex = applied;
    firstN += 1_000_000;
    await wp.close();
  }
});
