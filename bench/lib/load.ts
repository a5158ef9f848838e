// autocannon runs with a warm-up and a fixed duration, printing progress while they run.
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  non2xx: number;
  errors: number;
  total: number;
}

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  warmupS: number;
  method?: 'GET' | 'PUT' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Path per request, e.g. a fresh key for each write. */
  path: () => string;
  label: string;
}

function once(spec: LoadSpec, durationS: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: durationS,
        method: spec.method ?? 'GET',
        headers: spec.headers ?? {},
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: spec.path() }) }],
      },
      (err: Error | null, result: autocannon.Result) => (err ? reject(err) : resolve(result)),
    );
  });
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  process.stderr.write(`  ${spec.label}: warm-up ${spec.warmupS}s, `);
  if (spec.warmupS > 0) await once(spec, spec.warmupS);
  process.stderr.write(`measuring ${spec.durationS}s ... `);
  const r = await once(spec, spec.durationS);
  const result: LoadResult = {
    requestsPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    meanMs: r.latency.average,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests.total,
  };
  process.stderr.write(`${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms\n`);
  return result;
}
