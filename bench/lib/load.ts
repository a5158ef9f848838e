// autocannon runs with a warm-up and a fixed duration, printing progress while they run.
// One load may target several URLs (connections split evenly, one autocannon instance per URL, latencies
// merged) and may cycle through several request shapes per connection (a 90/10 read/write mix).
// Latencies of 2xx answers are recorded here as float milliseconds: autocannon's own histogram keeps
// whole milliseconds, too coarse for sub-millisecond p50s.
import autocannon from 'autocannon';

export interface LoadResult {
  /** 2xx answers per second of the measured run. */
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  non2xx: number;
  errors: number;
  /** 2xx answers in the measured run. */
  total: number;
}

/** One request shape; `path` and `body` are called per request (a fresh key per write). */
export interface RequestShape {
  method: 'GET' | 'PUT' | 'POST';
  path: () => string;
  body?: string | (() => string);
  headers?: Record<string, string>;
}

export interface LoadSpec {
  /** One URL, or several: connections are split evenly over them. */
  url: string | string[];
  connections: number;
  durationS: number;
  warmupS: number;
  method?: 'GET' | 'PUT' | 'POST';
  headers?: Record<string, string>;
  body?: string | (() => string);
  /** Path per request, e.g. a fresh key for each write. */
  path: () => string;
  /** Shapes each connection cycles through in order (replaces method/path/body when given). */
  requests?: RequestShape[];
  label: string;
}

function shapesOf(spec: LoadSpec): RequestShape[] {
  return spec.requests ?? [{ method: spec.method ?? 'GET', path: spec.path, ...(spec.body !== undefined ? { body: spec.body } : {}) }];
}

interface Instance {
  result: autocannon.Result;
}

function onceOne(url: string, connections: number, spec: LoadSpec, durationS: number, latencies: number[] | null): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const requests = shapesOf(spec).map((shape) => ({
      method: shape.method,
      ...(shape.headers ? { headers: { ...(spec.headers ?? {}), ...shape.headers } } : {}),
      setupRequest: (req: autocannon.Request) => {
        const out: autocannon.Request = { ...req, method: shape.method, path: shape.path() };
        if (shape.body !== undefined) out.body = typeof shape.body === 'function' ? shape.body() : shape.body;
        return out;
      },
    }));
    const inst = autocannon(
      { url, connections, duration: durationS, headers: spec.headers ?? {}, requests, timeout: 10 },
      (err: Error | null, result: autocannon.Result) => (err ? reject(err) : resolve({ result })),
    );
    if (latencies)
      inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      });
  });
}

/** Splits `connections` over the URLs (the first ones take the remainder); at least one each. */
function split(urls: string[], connections: number): number[] {
  return urls.map((_, i) => Math.max(1, Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0)));
}

async function once(spec: LoadSpec, durationS: number, latencies: number[] | null): Promise<{ results: autocannon.Result[]; wallS: number }> {
  const urls = Array.isArray(spec.url) ? spec.url : [spec.url];
  const per = split(urls, spec.connections);
  const t0 = process.hrtime.bigint();
  const runs = await Promise.all(urls.map((u, i) => onceOne(u, per[i] as number, spec, durationS, latencies)));
  return { results: runs.map((r) => r.result), wallS: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  process.stderr.write(`  ${spec.label}: ${spec.warmupS > 0 ? `warm-up ${spec.warmupS}s, ` : ''}`);
  if (spec.warmupS > 0) await once(spec, spec.warmupS, null);
  process.stderr.write(`measuring ${spec.durationS}s ... `);
  const latencies: number[] = [];
  const { results } = await once(spec, spec.durationS, latencies);
  latencies.sort((a, b) => a - b);
  // autocannon's duration is the instance's own measured span (they run side by side).
  const durationS = Math.max(...results.map((r) => r.duration));
  const result: LoadResult = {
    requestsPerSec: latencies.length / durationS,
    p50Ms: round3(quantile(latencies, 0.5)),
    p99Ms: round3(quantile(latencies, 0.99)),
    meanMs: round3(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    total: latencies.length,
  };
  const bad = result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : '';
  process.stderr.write(`${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms${bad}\n`);
  return result;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
