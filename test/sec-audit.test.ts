// SEC-AUDIT (RELIABILITY.md §7.2, API.md §4.13): on a real `coffer server` with two file devices, a
// mixed workload (KV writes and reads of canary secrets, token creation and lookups, policy writes, a
// lifecycle call) runs through four phases: both devices healthy; one device unwritable (its file
// replaced by a directory); both unwritable; both repaired. Checked: every successful response has a
// response entry with its request id in a device that was writable (so: no response without a successful
// audit write); with one healthy device everything succeeds; with none every request is refused with 500
// and a write attempted then is not stored; canaries appear in the logs only as hmac-sha256:.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

interface Result {
  status: number;
  id: string | null;
  what: string;
  path?: string;
}

function auditLines(file: string): any[] {
  if (!existsSync(file)) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  } catch {
    return []; // the path is a directory right now (a broken device)
  }
}

describe('SEC-AUDIT: no response without a successful audit write', () => {
  const dir = tempDir('sec-audit');
  let server: ServerProcess;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('two devices, one failing, both failing, repaired; canaries only as HMACs', async () => {
    server = await startServerProcess(dir.path, 'unsafe_allow_api_audit_creation = true\n');
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    const root = init.root_token as string;
    const fileA = join(dir.path, 'a', 'audit.log');
    const fileB = join(dir.path, 'b', 'audit.log');
    for (const [p, f] of [['a', fileA], ['b', fileB]]) {
      const r = await http(server.url, 'PUT', `sys/audit/${p}`, { token: root, body: { type: 'file', options: { file_path: f } } });
      assert.equal(r.status, 204, r.text);
    }
    assert.equal((await http(server.url, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status, 204);

    const canaries: string[] = [];
    const saved: Buffer[] = []; // [A, B] copies, saved before a device is broken, so entries are counted once
    /** One round of the mixed workload; returns the request ids and statuses of the responses. */
    const round = async (tag: string) => {
      const out: Result[] = [];
      const rec = (what: string, r: { status: number; body: any }, path?: string) => out.push({ status: r.status, id: typeof r.body?.request_id === 'string' ? r.body.request_id : null, what, ...(path ? { path } : {}) });
      for (let i = 0; i < 5; i++) {
        const c = `canary-${randomBytes(16).toString('hex')}`;
        canaries.push(c);
        rec('kv write', await http(server.url, 'POST', `secret/data/${tag}/${i}`, { token: root, body: { data: { password: c } } }));
        rec('kv read', await http(server.url, 'GET', `secret/data/${tag}/${i}`, { token: root }));
      }
      const meta = `meta-${randomBytes(8).toString('hex')}`;
      const tok = await http(server.url, 'POST', 'auth/token/create', { token: root, body: { policies: ['default'], display_name: meta } });
      rec('token create', tok);
      if (tok.status === 200) {
        canaries.push(tok.body.auth.client_token);
        rec('lookup-self', await http(server.url, 'GET', 'auth/token/lookup-self', { token: tok.body.auth.client_token }));
      }
      rec('policy write', await http(server.url, 'PUT', `sys/policies/acl/p-${tag}`, { token: root, body: { policy: 'path "secret/*" { capabilities = ["read"] }' } }));
      rec('mounts', await http(server.url, 'GET', 'sys/mounts', { token: root }));
      // Lifecycle endpoints the core answers itself go through the same devices (issue #6).
      const rawValue = `canary-${randomBytes(16).toString('hex')}`;
      canaries.push(rawValue);
      rec('raw write', await http(server.url, 'PUT', `sys/raw/audit-test/${tag}`, { token: root, body: { value: rawValue } }), `sys/raw/audit-test/${tag}`);
      rec('rotate', await http(server.url, 'PUT', 'sys/rotate', { token: root }), 'sys/rotate');
      return out;
    };
    const responseEntries = (files: string[]) => files.flatMap((f) => auditLines(f)).filter((l) => l.type === 'response');
    let responses = 0;
    let withoutAudit = 0;
    /** Each success needs a response entry: by request id, or (no envelope, e.g. 204) by a path used once per phase. */
    const check = (results: Result[], files: string[], since: number[]) => {
      const entries = responseEntries(files).slice(since.reduce((a, b) => a + b, 0));
      const ids = new Set(entries.map((l) => l.request?.id));
      const paths = entries.map((l) => l.request?.path);
      for (const r of results) {
        if (r.status >= 400) continue;
        responses++;
        if (r.id !== null ? !ids.has(r.id) : r.path !== undefined && !paths.includes(r.path)) withoutAudit++;
      }
    };
    const counts = (files: string[]) => files.map((f) => responseEntries([f]).length);

    // 1. Both healthy.
    let mark = counts([fileA, fileB]);
    const r1 = await round('both');
    assert.ok(r1.every((r) => r.status < 300), JSON.stringify(r1.filter((r) => r.status >= 300)));
    check(r1, [fileA, fileB], [0, 0]);
    assert.ok(responseEntries([fileA]).some((l) => l.request.path === 'sys/rotate'), 'sys/rotate is audited');

    // 2. B unwritable: A alone is enough, and only A can hold the entries.
    saved.push(readFileSync(fileB));
    rmSync(fileB);
    mkdirSync(fileB);
    mark = counts([fileA]);
    const r2 = await round('one');
    assert.ok(r2.every((r) => r.status < 300), JSON.stringify(r2.filter((r) => r.status >= 300)));
    check(r2, [fileA], mark);

    // 3. Both unwritable: every request refused with 500, and a write is not stored.
    saved.push(readFileSync(fileA));
    rmSync(fileA);
    mkdirSync(fileA);
    const term = (await http(server.url, 'GET', 'sys/key-status', { token: root })).status;
    assert.equal(term, 500, 'sys/key-status is refused without a writable device');
    const r3 = await round('none');
    const refused = r3.filter((r) => r.status === 500).length;
    check(r3, [], []);
    assert.equal(refused, r3.length, JSON.stringify(r3.filter((r) => r.status !== 500)));

    // 4. Repaired: requests succeed again; the write refused in phase 3 was never stored.
    rmSync(fileA, { recursive: true });
    rmSync(fileB, { recursive: true });
    const missing = await http(server.url, 'GET', 'secret/data/none/0', { token: root });
    assert.equal(missing.status, 404, `a write refused for want of audit was stored: ${missing.text}`);
    assert.equal((await http(server.url, 'GET', 'sys/raw/audit-test/none', { token: root })).status, 404, 'a raw write refused for want of audit was stored');
    const r4 = await round('repaired');
    assert.ok(r4.every((r) => r.status < 300));
    check(r4, [fileA, fileB], [0, 0]);
    // Three rotations succeeded (phases 1, 2, 4), the refused one did not run: term 1 + 3.
    assert.equal((await http(server.url, 'GET', 'sys/key-status', { token: root })).body.data.term, 4);

    // Canaries (secret values and client tokens): never in clear in any audit file.
    const logs = [readFileSync(fileA, 'utf8'), readFileSync(fileB, 'utf8'), ...saved.map((b) => b.toString('utf8'))].join('\n');
    const plaintext = canaries.filter((c) => logs.includes(c)).length;
    const hmacs = (logs.match(/hmac-sha256:[0-9a-f]{64}/g) ?? []).length;
    console.log(`responses without successful audit write: ${withoutAudit} of ${responses}; plaintext canaries in audit: ${plaintext} (canaries ${canaries.length}, hmac values ${hmacs}, refused while no device could write: ${refused} of ${r3.length})`);
    assert.equal(withoutAudit, 0);
    assert.equal(plaintext, 0);
    assert.ok(hmacs > canaries.length);
  });
});
