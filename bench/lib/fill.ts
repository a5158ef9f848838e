// Fills a server with many small writes as fast as it takes them: `concurrency` keep-alive connections,
// each sending its next request as soon as the previous one is answered. A failed write is retried
// (up to 3 times) so the count written is exact; progress every ~5 s.
import { Agent, request } from 'node:http';

export interface FillSpec {
  url: string;
  count: number;
  concurrency: number;
  method: 'PUT' | 'POST';
  headers: Record<string, string>;
  /** Path and body of write number i (0-based). */
  request: (i: number) => { path: string; body: string };
  label: string;
  /** Give up (throw) after this long. */
  timeoutMs: number;
}

export interface FillResult {
  written: number;
  seconds: number;
  perSec: number;
  retries: number;
}

function send(agent: Agent, url: URL, method: string, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, method, path, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function fill(spec: FillSpec): Promise<FillResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const t0 = Date.now();
  const deadline = t0 + spec.timeoutMs;
  let next = 0;
  let written = 0;
  let retries = 0;
  let lastReport = t0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < spec.count; i = next++) {
      const { path, body } = spec.request(i);
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error(`${spec.label}: only ${written} of ${spec.count} written in ${spec.timeoutMs} ms`);
        const status = await send(agent, url, spec.method, path, spec.headers, body).catch(() => 0);
        if (status >= 200 && status < 300) break;
        if (attempt >= 3) throw new Error(`${spec.label}: write ${i} failed 4 times (last status ${status})`);
        retries++;
      }
      written++;
      const now = Date.now();
      if (now - lastReport >= 5000) {
        lastReport = now;
        process.stderr.write(`  ${spec.label}: ${written.toLocaleString('en-US')} of ${spec.count.toLocaleString('en-US')} (${Math.round((written * 1000) / (now - t0))}/s)\n`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (Date.now() - t0) / 1000;
  return { written, seconds, perSec: written / seconds, retries };
}
