// HCL text -> JSON tree, with HashiCorp's own HCL2 parser (@cdktf/hcl2json).
//
// That parser is a Go program compiled to WebAssembly: importing it compiles ~6 MiB of wasm and starts
// the Go runtime, ~70 MiB resident per isolate (measured: a bare node process goes from 39 to 110 MiB RSS
// on import), and an instance is never freed. Imported eagerly by the core and the handler, it was most of
// an idle node's memory. So parsing runs in a one-thread CPU pool that exits when idle
// (runtime/hcl-task.ts): the memory is paid only while policies or configuration files are being parsed.
// Parsed texts are remembered (bounded), so the built-in policies and a node's few stored policies cost
// one round trip to the pool each, not one per cache miss of the ACL.
import { createCpuPool, type CpuPool } from './pool.js';
import type { HclTask } from './hcl-task.js';

const POOL_IDLE_MS = 10_000;
const CACHE_ENTRIES = 256;
const CACHE_TEXT_BYTES = 1 << 20;

let pool: CpuPool | null = null;
/** text -> the parser's tree as JSON (insertion order = age). Parse errors are not cached. */
const cache = new Map<string, string>();
let cachedBytes = 0;

function remember(key: string, json: string): void {
  if (key.length + json.length > CACHE_TEXT_BYTES / 4) return; // a huge text is not worth pinning
  cache.set(key, json);
  cachedBytes += key.length + json.length;
  for (const [k, v] of cache) {
    if (cache.size <= CACHE_ENTRIES && cachedBytes <= CACHE_TEXT_BYTES) break;
    cache.delete(k);
    cachedBytes -= k.length + v.length;
  }
}

/**
 * Stops the parser's thread now instead of after POOL_IDLE_MS (its memory goes with it): for a caller that
 * knows it is done, such as the server once its configuration file is read. A later parse starts it again.
 */
export async function releaseHclParser(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}

/** The parsed tree (a fresh object each call: callers may keep or change it). Rejects with the parser's message. */
export async function parseHcl(fileName: string, text: string): Promise<unknown> {
  const key = `${fileName}\u0000${text}`;
  let json = cache.get(key);
  if (json === undefined) {
    pool ??= createCpuPool(new URL('./hcl-task.js', import.meta.url), { maxThreads: 1, idleTimeoutMs: POOL_IDLE_MS });
    json = await pool.run<string>({ fileName, text } satisfies HclTask);
    remember(key, json);
  }
  return JSON.parse(json) as unknown;
}
