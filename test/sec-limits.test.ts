// SEC-LIMITS (RELIABILITY.md §7.2, §5.2 request limits; HCSEC-2025-24): against a real server process,
// every oversize or over-complex request is refused (413 body over 32 MiB by Content-Length, chunked, or
// with Content-Encoding: gzip; 400 for > 1000 JSON strings, > 32.5 MiB estimated parsed JSON, nesting past
// JSON_DEPTH_MAX), a gzip body is never inflated (Vault's Go server does not decode request bodies), a
// client trickling its headers is disconnected (http_read_header_timeout), a request outliving
// max_request_duration gets Vault's 500 "context deadline exceeded" and its connection closed, and the
// server's peak RSS grows by a bounded amount through all of it. Nothing oversize is stored.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { JSON_DEPTH_MAX } from '../actors/front/json-limits.js';
import { http, sendBody, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

const MiB = 1024 * 1024;
const LIMIT = 32 * MiB;
/** Peak RSS the server may add over the whole run: a few copies of one 32 MiB body, not a parse of it. */
const RSS_GROWTH_MAX_MB = 256;

type Reply = Awaited<ReturnType<typeof sendBody>>;

/** Peak and current RSS of a process, in MiB (/proc/<pid>/status VmHWM, VmRSS). */
function rss(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

describe('SEC-LIMITS: oversize and over-complex requests, slow clients, request duration', { timeout: 120_000 }, () => {
  const dir = tempDir('sec-limits');
  let server: ServerProcess;
  let root = '';
  let pid = 0;
  let baseline = 0;
  let tried = 0;
  let accepted = 0;

  /** Every oversize case goes through here: refused with `status` and Vault's error shape, nothing stored. */
  async function refused(what: string, reply: Reply, status: number, message: RegExp): Promise<void> {
    tried++;
    if (reply.status < 400) accepted++;
    assert.equal(reply.status, status, `${what}: ${JSON.stringify(reply.body)?.slice(0, 200)}`);
    assert.ok(Array.isArray(reply.body?.errors), `${what}: Vault error shape`);
    assert.match(String(reply.body.errors[0]), message, what);
    const stored = await http(server.url, 'GET', 'sys/raw/limits/target', { token: root });
    assert.equal(stored.status, 404, `${what}: nothing was stored`);
  }

  before(async () => {
    // Short timeouts so the slow-client cases finish quickly; the limits themselves are Vault's defaults.
    server = await startServerProcess(dir.path, '', '  http_read_header_timeout = "1s"\n  max_request_duration = "2s"\n');
    pid = server.child.pid as number;
    const init = await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    root = init.body.root_token;
    assert.equal((await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.body.keys_base64[0] } })).body.sealed, false);
    // Warm the paths used below, then reset the peak so only the oversize cases count.
    assert.equal((await http(server.url, 'PUT', 'sys/raw/limits/warm', { token: root, body: { value: 'x' } })).status, 204);
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    baseline = rss(pid).now;
  });
  after(async () => {
    await server.kill();
    dir.remove();
  });

  it('a body of 32 MiB + 1 byte: 413 by Content-Length, chunked, and gzip-encoded', async () => {
    const over = Buffer.alloc(LIMIT + 1, 0x61);
    await refused('Content-Length', await sendBody(server.url, 'sys/raw/limits/target', root, over), 413, /^http: request body too large$/);
    await refused('chunked', await sendBody(server.url, 'sys/raw/limits/target', root, over, { chunked: true }), 413, /^http: request body too large$/);
    await refused('gzip', await sendBody(server.url, 'sys/raw/limits/target', root, over, { headers: { 'Content-Encoding': 'gzip' } }), 413, /^http: request body too large$/);
  });

  it('a gzip body is not inflated: a 64 MiB JSON compressed to well under the limit is refused as not-JSON', async () => {
    const bomb = gzipSync(Buffer.from(`{"value":"${'a'.repeat(64 * MiB)}"}`));
    assert.ok(bomb.length < MiB, `compressed to ${bomb.length} bytes`);
    await refused('gzip bomb', await sendBody(server.url, 'sys/raw/limits/target', root, bomb, { headers: { 'Content-Encoding': 'gzip' } }), 400, /^failed to parse JSON input/);
  });

  it('JSON complexity: 1,001 strings, 32.5 MiB+ estimated parsed size, nesting past the cap are 400', async () => {
    // 500 pairs = 1,000 strings is the limit and passes; one more pair is refused before parsing.
    const pairs = (n: number) => `{"value":"ok"${Array.from({ length: n - 1 }, (_, i) => `,"k${i}":"v"`).join('')}}`;
    const atLimit = await http(server.url, 'PUT', 'sys/raw/limits/at-limit', { token: root, rawBody: pairs(500), headers: { 'Content-Type': 'application/json' } });
    assert.equal(atLimit.status, 204, `1,000 strings are allowed: ${atLimit.text}`);
    await refused('1,002 strings', await sendBody(server.url, 'sys/raw/limits/target', root, Buffer.from(pairs(501))), 400, /^refused JSON input due to high complexity: exceeded maximum number of strings$/);
    // ~10.6M empty arrays in a body under 32 MiB: parsing it would take far more memory than the body.
    const arrays = Buffer.from(`{"value":[${'[],'.repeat(Math.floor((LIMIT - 64) / 3) - 1)}[]]}`);
    assert.ok(arrays.length <= LIMIT);
    await refused('32.5 MiB+ parsed', await sendBody(server.url, 'sys/raw/limits/target', root, arrays), 400, /^refused JSON input due to high complexity: exceeded maximum estimated memory limits$/);
    const deep = Buffer.from(`{"value":${'['.repeat(JSON_DEPTH_MAX)}${']'.repeat(JSON_DEPTH_MAX)}}`);
    await refused(`depth ${JSON_DEPTH_MAX + 1}`, await sendBody(server.url, 'sys/raw/limits/target', root, deep), 400, /^failed to decode JSON input: exceeded max depth$/);
    const deeper = Buffer.from(`{"value":${'['.repeat(10_001)}${']'.repeat(10_001)}}`);
    await refused('depth 10,002 (past Go\'s own cap)', await sendBody(server.url, 'sys/raw/limits/target', root, deeper), 400, /^failed to decode JSON input: exceeded max depth$/);
  });

  it('nesting at the cap is served end to end (KV v2 write and read) without a 5xx', async () => {
    assert.equal((await http(server.url, 'POST', 'sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
    const levels = JSON_DEPTH_MAX - 2; // {"data":{"v": ... }} adds two
    const nested = `{"data":{"v":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
    const w = await http(server.url, 'PUT', 'kv/data/deep', { token: root, rawBody: nested, headers: { 'Content-Type': 'application/json' } });
    assert.equal(w.status, 200, `deep write answered ${w.status}: ${w.text.slice(0, 200)}`);
    const r = await http(server.url, 'GET', 'kv/data/deep', { token: root });
    assert.equal(r.status, 200, `deep read answered ${r.status}: ${r.text.slice(0, 200)}`);
    let depth = 0;
    for (let v = r.body.data.data.v; Array.isArray(v); v = v[0]) depth++;
    assert.equal(depth, levels, 'read back intact');
    assert.equal((await http(server.url, 'GET', 'sys/health')).status, 200, 'the node still serves');
  });

  it('a client that goes away mid-body: nothing stored, not left in flight, not logged as a failure; a body in 300 chunks arrives whole', async () => {
    const port = new URL(server.url).port;
    const logFrom = server.stderr().length;
    for (const framing of ['Content-Length: 4000', 'Transfer-Encoding: chunked']) {
      await new Promise<void>((resolve, reject) => {
        const s = connect(Number(port), '127.0.0.1');
        s.once('error', reject);
        s.once('connect', () => {
          const head = `PUT /v1/sys/raw/limits/target HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${root}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
          s.write(head + (framing.startsWith('Transfer') ? '10\r\n{"value": "aaaaa\r\n' : '{"value": "aaaaa'), () => setTimeout(() => s.destroy(), 100));
        });
        s.once('close', () => resolve());
      });
      assert.equal((await http(server.url, 'GET', 'sys/raw/limits/target', { token: root })).status, 404, `${framing}: a cut body stored nothing`);
    }
    // Neither cut request stays in flight: reading their bodies ended when their connections closed.
    const inFlight = async () => Object.values((await http(server.url, 'GET', 'sys/in-flight-req', { token: root })).body as Record<string, { request_path: string }>).filter((e) => e.request_path === '/v1/sys/raw/limits/target').length;
    for (let i = 0; i < 50 && (await inFlight()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await inFlight(), 0, 'a request whose client went away mid-body is still in flight');
    // The client's doing, not the node's failure: no error-level "request failed" line for it.
    const errors = server.stderr().slice(logFrom).split('\n').filter((l) => l.includes('"request failed"'));
    assert.deepEqual(errors, [], 'a client leaving mid-body was logged as a failure of the node');
    // The same body in 300 chunks of a few bytes each (many 'data' events) is read whole.
    const value = 'c'.repeat(900);
    const body = JSON.stringify({ value });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/sys/raw/limits/chunks`, { method: 'PUT', headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode as number));
      });
      req.once('error', reject);
      const pieces = body.match(/[\s\S]{1,3}/g) as string[];
      const next = (i: number): void => {
        if (i === pieces.length) return void req.end();
        req.write(pieces[i], () => (i % 50 === 0 ? setImmediate(() => next(i + 1)) : next(i + 1)));
      };
      next(0);
    });
    assert.equal(status, 204);
    const read = await http(server.url, 'GET', 'sys/raw/limits/chunks', { token: root });
    assert.equal(read.body.data.value, value);
    assert.equal((await http(server.url, 'DELETE', 'sys/raw/limits/chunks', { token: root })).status, 204);
  });

  it('slow headers: a client trickling its request head is disconnected (http_read_header_timeout)', async () => {
    const { port } = new URL(server.url);
    const outcome = await new Promise<string>((resolve) => {
      const s = connect(Number(port), '127.0.0.1');
      let got = '';
      let n = 0;
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.once('connect', () => s.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n'));
      // A header byte every 200 ms: never completes the head by itself.
      const drip = setInterval(() => s.writable && s.write(`X-Slow-${n++}: y\r\n`), 200);
      const cap = setTimeout(() => {
        clearInterval(drip);
        s.destroy();
        resolve('still open after 15 s');
      }, 15_000);
      s.once('close', () => {
        clearInterval(drip);
        clearTimeout(cap);
        resolve(`closed${got ? ` after ${got.split('\r\n')[0]}` : ''}`);
      });
      s.on('error', () => undefined);
    });
    tried++;
    if (outcome.startsWith('still open')) accepted++;
    assert.match(outcome, /^closed/, outcome);
  });

  it('a request outliving max_request_duration is answered 500 "context deadline exceeded" and cut', async () => {
    const reply = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      // Declares 100 bytes and sends one every 300 ms: the request cannot finish within 2 s by itself.
      const req = httpRequest(`${server.url}/v1/sys/raw/limits/target`, { method: 'PUT', headers: { 'X-Vault-Token': root, 'Content-Type': 'application/json', 'Content-Length': 100 } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          clearInterval(drip);
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
      });
      req.on('error', (e) => {
        clearInterval(drip);
        reject(e);
      });
      req.write('{');
      let sent = 1;
      const drip = setInterval(() => {
        if (sent++ < 99) req.write(' ');
      }, 300);
    });
    tried++;
    if (reply.status < 400) accepted++;
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.body, { errors: ['context deadline exceeded'] });
    assert.equal((await http(server.url, 'GET', 'sys/raw/limits/target', { token: root })).status, 404, 'nothing stored');
    assert.equal((await http(server.url, 'GET', 'sys/health')).status, 200, 'the node still serves');
  });

  it('reports: nothing oversize accepted, peak RSS growth bounded', () => {
    const { peak } = rss(pid);
    const growth = Math.max(0, peak - baseline);
    console.log(`oversize accepted: ${accepted} of ${tried}; peak RSS growth: ${growth.toFixed(0)} MB`);
    assert.equal(accepted, 0);
    assert.ok(growth < RSS_GROWTH_MAX_MB, `peak RSS grew ${growth.toFixed(0)} MB (bound ${RSS_GROWTH_MAX_MB})`);
  });
});
