// Test fixture for crash.test.ts: submits writes forever from `concurrency` loops and prints one line
// "<index> <n>" per ACKNOWLEDGED write (stdout to a pipe is synchronous on Linux, so a printed line
// means the submit had resolved). The parent SIGKILLs this process at a random moment.
// Usage: node crash-child.js <dataDir> <firstN> <concurrency>
import { LocalWritePath } from './write-path.js';

const [dataDir, firstArg, concurrencyArg] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: crash-child.js <dataDir> <firstN> <concurrency>');
const wp = LocalWritePath.open(dataDir);
let next = Number(firstArg ?? 0);

async function loop(): Promise<void> {
  for (;;) {
    const n = next++;
    const { index } = await wp.submit({ ops: [{ t: 'put', key: `crash/${n}`, value: Buffer.from(`v${n}`) }] });
    process.stdout.write(`${index} ${n}\n`);
  }
}

process.stdout.write('ready\n');
for (let i = 0; i < Number(concurrencyArg ?? 8); i++) void loop();
