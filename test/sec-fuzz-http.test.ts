// SEC-FUZZ-HTTP (RELIABILITY.md §7.2; §5.3 GHSA-8w8f-r2xv-4q4j "no request can crash the process"):
// fast-check, fixed seed (FUZZ_SEED to vary it), random methods, paths (the code's route table mutated
// with traversal, encodings, odd segments and queries), headers (tokens, content types and encodings,
// wrapping, consistency and forwarding headers) and bodies (JSON, junk, gzip, forms) against a real
// 3-node cluster: n1 active, n2 standby, n3 sealed. Checked for every request: an answer within 5 s; a
// 4xx/5xx carries Vault's error shape (or, for a 404, the warning-only envelope KV v2 gives an invalid
// path, as Vault does); no 5xx but 503 "Vault is sealed" (and the Vault-identical 500s in VAULT_500S). After the run: every process
// alive with no fatal log line, and canary secrets written before the run read back bit-identical from
// the active node and the standby.
//
// Writes are made with a token whose policy allows everything except what would end the run or touch
// the canaries (sealing, step-down, membership, raw storage, quotas, its own policy, token revocation,
// the canary mount, API-locking a namespace): the fuzzer explores the API, not an operator deliberately
// wrecking the cluster. A namespace (fz/) is there too, addressed by path and by X-Vault-Namespace.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { healthStatus, until } from './helpers/cluster.js';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { PROBE_NAMESPACE, routeTable } from './helpers/routes.js';
import { http } from './helpers/server-process.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_500);
const HANG_MS = 5_000;
const CANARIES = 16;
/** FUZZ_TRACE=<file>: every case is appended there before it is sent (to replay a crash or hang). */
const TRACE = process.env.FUZZ_TRACE ?? '';

const FUZZ_POLICY = `
path "*" { capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"] }
path "canary/*" { capabilities = ["deny"] }
path "sys/mounts/canary" { capabilities = ["deny"] }
path "sys/mounts/canary/*" { capabilities = ["deny"] }
path "sys/remount" { capabilities = ["deny"] }
path "sys/seal" { capabilities = ["deny"] }
path "sys/step-down" { capabilities = ["deny"] }
path "sys/storage/*" { capabilities = ["deny"] }
path "sys/raw/*" { capabilities = ["deny"] }
path "sys/raw" { capabilities = ["deny"] }
path "sys/quotas/*" { capabilities = ["deny"] }
path "sys/policy/*" { capabilities = ["deny"] }
path "sys/policies/*" { capabilities = ["deny"] }
path "sys/audit/*" { capabilities = ["deny"] }
path "sys/rotate" { capabilities = ["deny"] }
path "sys/rotate/*" { capabilities = ["deny"] }
path "sys/namespaces/api-lock/*" { capabilities = ["deny"] }
path "+/sys/namespaces/api-lock/*" { capabilities = ["deny"] }
path "+/+/sys/namespaces/api-lock/*" { capabilities = ["deny"] }
path "+/+/+/sys/namespaces/api-lock/*" { capabilities = ["deny"] }
path "auth/token/revoke*" { capabilities = ["deny"] }
path "auth/token/revoke-self" { capabilities = ["deny"] }
`;

/**
 * 500s that Vault itself answers for the same input, kept for compatibility: sys/capabilities without
 * a token is errors.New("no token found") in OpenBao's handleCapabilities (internal/vault/logical_system.go).
 * Counted and printed apart, never silently.
 */
const VAULT_500S = [/^\{"errors":\["no token found"\]\}$/];

interface Case {
  node: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

describe('SEC-FUZZ-HTTP: random requests against active, standby and sealed nodes', { timeout: 180_000 }, () => {
  let c: HaCluster;
  let fuzzToken = '';
  let canaryBefore = '';

  async function canaryDigest(node: number): Promise<string> {
    const h = createHash('sha256');
    for (let i = 0; i < CANARIES; i++) {
      const r = await http(c.url(node), 'GET', `canary/data/c${i}`, { token: c.root });
      assert.equal(r.status, 200, `canary ${i} on n${node + 1}: ${r.text}`);
      h.update(JSON.stringify([i, r.body.data.data, r.body.data.metadata.version]));
    }
    return h.digest('hex');
  }

  before(async () => {
    c = await startHaCluster('sec-fuzz', 3);
    const root = c.root;
    assert.equal((await http(c.url(0), 'POST', 'sys/mounts/canary', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
    assert.equal((await http(c.url(0), 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
    for (let i = 0; i < CANARIES; i++) {
      const w = await http(c.url(0), 'POST', `canary/data/c${i}`, { token: root, body: { data: { v: createHash('sha256').update(`canary-${i}`).digest('base64'), i } } });
      assert.equal(w.status, 200, w.text);
    }
    assert.equal((await http(c.url(0), 'PUT', 'sys/policies/acl/fuzz', { token: root, body: { policy: FUZZ_POLICY } })).status, 204);
    // A namespace (the route table's namespace built-ins live there) with a mount, for header and path addressing.
    assert.equal((await http(c.url(0), 'POST', `sys/namespaces/${PROBE_NAMESPACE.slice(0, -1)}`, { token: root })).status, 200);
    assert.equal((await http(c.url(0), 'POST', `${PROBE_NAMESPACE}sys/mounts/secret`, { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);
    const t = await http(c.url(0), 'POST', 'auth/token/create', { token: root, body: { policies: ['fuzz'], ttl: '1h' } });
    fuzzToken = t.body.auth.client_token;
    canaryBefore = await canaryDigest(0);
    await until('standby has the canaries', 10_000, async () => (await canaryDigest(1).catch(() => '')) === canaryBefore);
    // n3 becomes the sealed node.
    assert.equal((await http(c.url(2), 'PUT', 'sys/seal', { token: root })).status, 204);
    assert.equal(await healthStatus(c.url(2)), 503);
  });
  after(async () => {
    await c?.close();
  });

  it('no crash, no hang, Vault error shape, no 5xx but sealed, canaries intact', async () => {
    const routes = routeTable();
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2e%2e', '%2E', '%2f', '%00', '%', '%zz', '', '~', '*', '+', 'data', 'metadata', 'canary', 'sys', 'raw', 'ÿ', 'é', '💥', 'a'.repeat(300)),
      fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
    );
    const path = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...routes) },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...routes), fc.array(segment, { maxLength: 3 })).map(([r, extra]) => [r, ...extra].join('/')) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...routes), fc.nat(12), segment).map(([r, at, s]) => { const parts = r.split('/'); parts.splice(at % (parts.length + 1), 0, s); return parts.join('/'); }) },
      { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((p) => p.join('/')) },
    );
    const query = fc.oneof(
      { weight: 5, arbitrary: fc.constant('') },
      { weight: 3, arbitrary: fc.constantFrom('?list=true', '?list=maybe', '?scan=true&list=true', '?help=1', '?version=abc', '?version=-1', '?standbyok=x', '?activecode=999999999999', '?format=prometheus', '?format=x', '?cas=1') },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`) },
    );
    const token = fc.constantFrom<string | null>(null, 'fuzz', 'fuzz', 'fuzz', 'root-read', 's.000000000000000000000000', 'garbage', 'x'.repeat(5000));
    const headerPairs = fc.array(
      fc.oneof(
        fc.constantFrom<[string, string]>(
          ['Content-Type', 'application/json'],
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Type', 'application/merge-patch+json'],
          ['Content-Type', 'text/plain; charset=ÿ'],
          ['Content-Encoding', 'gzip'],
          ['Content-Encoding', 'br'],
          ['Content-Encoding', 'x-unknown'],
          ['X-Vault-Namespace', PROBE_NAMESPACE],
          ['X-Vault-Namespace', 'fz'],
          ['X-Vault-Namespace', 'root'],
          ['X-Vault-Namespace', 'ROOT/x'],
          ['X-Vault-Namespace', '../fz'],
          ['X-Vault-Namespace', 'fz/nope'],
          ['X-Vault-Namespace', '%2e%2e'],
          ['X-Vault-Wrap-TTL', '5m'],
          ['X-Vault-Wrap-TTL', '-1'],
          ['X-Vault-Wrap-TTL', 'abc'],
          ['X-Vault-Wrap-Format', 'jwt'],
          ['X-Vault-Index', 'v1:garbage'],
          ['X-Vault-Index', ''],
          ['X-Vault-Inconsistent', 'forward-active-node'],
          ['X-Vault-Inconsistent', 'fail'],
          ['X-Vault-Forward', 'active-node'],
          ['X-Coffer-Consistency', 'linearizable'],
          ['X-Vault-No-Request-Forwarding', 'true'],
          ['X-Vault-Namespace', 'ns1/'],
          ['X-Vault-Policy-Override', 'true'],
          ['X-Coffer-Forwarded-For', '10.9.9.9'],
          ['Authorization', 'Bearer garbage'],
          ['X-Vault-Request', 'true'],
        ),
        fc.tuple(fc.constantFrom('X-Vault-Wrap-TTL', 'X-Vault-Index', 'X-Vault-Inconsistent', 'Content-Type', 'X-Vault-MFA', 'X-Vault-Inline-Auth-Path'), fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''))),
      ),
      { maxLength: 4 },
    );
    const jsonBody = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ data: v })),
      fc.record({ data: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 })), options: fc.option(fc.record({ cas: fc.integer() })) }).map((v) => JSON.stringify(v)),
      fc.dictionary(fc.constantFrom('type', 'policy', 'policies', 'ttl', 'key', 'value', 'plaintext', 'ciphertext', 'input', 'batch_input', 'versions', 'options', 'config', 'token', 'accessor', 'path', 'role_id', 'secret_id', 'password', 'rate', 'interval', 'max_versions', 'cas', 'list', 'id', 'num_uses', 'period', 'renewable', 'increment'), fc.jsonValue({ maxDepth: 2 })).map((v) => JSON.stringify(v)),
    );
    const body = fc.oneof(
      { weight: 2, arbitrary: fc.constant<Buffer | null>(null) },
      { weight: 6, arbitrary: jsonBody.map((s) => Buffer.from(s)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => Buffer.from(s)) },
      { weight: 1, arbitrary: jsonBody.map((s) => gzipSync(Buffer.from(s))) },
      { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[]', 'null', '"x"', '1e999', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"y":1}}}', 'a=b&c=d', '\ufeff{}').map((s) => Buffer.from(s)) },
    );
    const method = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'LIST', 'PATCH', 'HEAD') },
      { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'PROPFIND', 'SCAN', 'FOO', 'get', 'MKCOL') },
    );
    const fuzzCase = fc.record({ node: fc.constantFrom(0, 0, 1, 1, 2), method, path, query, token, headers: headerPairs, body });

    let tried = 0;
    let hangs = 0;
    let bad5xx = 0;
    let vault500 = 0;
    let badShape = 0;
    const examples: string[] = [];
    const note = (what: string, k: Case, status: number, text: string) => {
      if (examples.length < 20) examples.push(`${what}: n${k.node + 1} ${k.method} /v1/${k.path} ${JSON.stringify(k.headers)} body=${k.body?.toString('latin1').slice(0, 60) ?? ''} -> ${status} ${text.slice(0, 150)}`);
    };

    await fc.assert(
      fc.asyncProperty(fuzzCase, async (g) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of g.headers) headers[k] = v;
        if (g.token === 'fuzz') headers['X-Vault-Token'] = fuzzToken;
        else if (g.token === 'root-read' && (g.method === 'GET' || g.method === 'LIST' || g.method === 'HEAD')) headers['X-Vault-Token'] = c.root;
        else if (g.token !== null && g.token !== 'root-read') headers['X-Vault-Token'] = g.token;
        const k: Case = { node: g.node, method: g.method, path: `${g.path}${g.query}`, headers, body: g.method === 'GET' || g.method === 'HEAD' ? null : g.body };
        tried++;
        if (TRACE) appendFileSync(TRACE, `${JSON.stringify({ ...k, body: k.body?.toString('base64') ?? null })}\n`);
        let status = 0;
        let text = '';
        try {
          const res = await fetch(`${c.url(k.node)}/v1/${k.path}`, { method: k.method, headers: k.headers, ...(k.body !== null ? { body: new Uint8Array(k.body) } : {}), redirect: 'manual', signal: AbortSignal.timeout(HANG_MS) });
          status = res.status;
          text = await res.text();
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          if (e.name === 'TimeoutError') {
            hangs++;
            note('hang', k, 0, '');
          } else if (e.name !== 'TypeError' || /fetch failed/.test(e.message)) {
            // The server reset the connection: only acceptable for a request node's HTTP parser refuses.
            note(`connection error ${e.message} ${e.cause?.code ?? ''}`, k, 0, '');
            badShape++;
          }
          return; // a TypeError for a request fetch itself refuses to send (bad header value) is not a case
        }
        // 503 is the sealed answer: with its message, or with no body at all for HEAD on the sealed node.
        const sealed = status === 503 && (/Vault is sealed/.test(text) || (k.method === 'HEAD' && k.node === 2));
        if (status >= 500 && !sealed && VAULT_500S.some((re) => re.test(text))) {
          vault500++;
        } else if (status >= 500 && !sealed) {
          bad5xx++;
          note('5xx', k, status, text);
        }
        if (status >= 400 && k.method !== 'HEAD') {
          let shaped = false;
          try {
            const j = JSON.parse(text);
            shaped = j !== null && typeof j === 'object' && (Array.isArray(j.errors) || (status === 404 && typeof j.request_id === 'string' && Array.isArray(j.warnings)));
            // sys/health answers its state codes (429 standby, 472, 473, 501, 503) with the health body, as Vault does.
            if (/^sys\/health\/?(\?|$)/.test(k.path) && j !== null && typeof j === 'object' && typeof j.initialized === 'boolean') shaped = true;
          } catch {
            /* not JSON */
          }
          if (!shaped) {
            badShape++;
            note('error shape', k, status, text);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );

    // Every process alive, no fatal or fail-stop in any log.
    for (const [i, p] of c.procs.entries()) {
      assert.equal(p.child.exitCode, null, `n${i + 1} exited`);
      assert.equal(p.child.signalCode, null, `n${i + 1} killed`);
      assert.doesNotMatch(p.stderr(), /"level":60|fail-stop|uncaught|unhandled/i, `n${i + 1} log`);
    }
    // Canaries: bit-identical on the active node and (once caught up) on the standby.
    assert.equal(await healthStatus(c.url(0)), 200, 'n1 still active');
    assert.equal(await canaryDigest(0), canaryBefore, 'canaries unchanged on the active node');
    await until('standby canaries', 10_000, async () => (await canaryDigest(1).catch(() => '')) === canaryBefore);
    const crashes = c.procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).length;
    console.log(`# seed ${SEED}, ${RUNS} runs; first findings:\n${examples.map((e) => `#   ${e}`).join('\n')}`);
    console.log(`# Vault-identical 500s (sys/capabilities without a token): ${vault500}`);
    console.log(`bad inputs tried: ${tried}; crashes/uncaught: ${crashes}; 5xx (other than 503 sealed): ${bad5xx}; hangs > 5 s: ${hangs}`);
    assert.equal(hangs, 0, examples.join('\n'));
    assert.equal(bad5xx, 0, examples.join('\n'));
    assert.equal(badShape, 0, examples.join('\n'));
  });
});
