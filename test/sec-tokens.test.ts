// SEC-TOKENS (RELIABILITY.md §7.2, §5.2 Tokens) on a real `coffer server`: a revoked token is refused
// on every later request (revoke, revoke-accessor, parent revocation reaching children, expiry); an
// orphan survives its creator; revoke-orphan keeps the children; an accessor is not a token; a non-root
// caller cannot mint a root token (only init or another root token can); no token ever appears in the
// server's own output. Single node: the standby half of the row (rejection on standbys once their
// index passes the revoke index, and the revocation window without the header) is
// test/sec-tokens-standby.test.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, startServerProcess, tempDir, type ServerProcess } from './helpers/server-process.js';

describe('SEC-TOKENS: revocation, expiry, orphans, accessors, root creation, no token in logs', () => {
  const dir = tempDir('sec-tokens');
  let server: ServerProcess;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  it('revoked tokens stay revoked; accessors are not tokens; root only from root; no token in logs', async () => {
    server = await startServerProcess(dir.path);
    let stdout = '';
    server.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const init = (await http(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await http(server.url, 'PUT', 'sys/unseal', { body: { key: init.keys[0] } });
    const root = init.root_token as string;
    const seen: string[] = [root];
    const create = async (token: string, body: Record<string, unknown> = {}, path = 'auth/token/create') => {
      const r = await http(server.url, 'POST', path, { token, body: { policies: ['default'], ...body } });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      seen.push(r.body.auth.client_token);
      return { token: r.body.auth.client_token as string, accessor: r.body.auth.accessor as string };
    };
    const works = async (token: string) => (await http(server.url, 'GET', 'auth/token/lookup-self', { token })).status === 200;
    let acceptances = 0;
    let checks = 0;
    /** After a revocation: several kinds of request with the dead token, each must be refused. */
    const mustBeDead = async (token: string, what: string) => {
      for (const [method, path] of [['GET', 'auth/token/lookup-self'], ['POST', 'auth/token/renew-self'], ['POST', 'auth/token/create'], ['GET', 'sys/mounts'], ['POST', 'sys/capabilities-self']] as const) {
        checks++;
        const r = await http(server.url, method, path, { token, body: method === 'POST' ? { paths: ['x'] } : undefined });
        if (r.status < 400) {
          acceptances++;
          console.log(`${what}: ${method} ${path} accepted (${r.status})`);
        } else assert.equal(r.status, 403, `${what} ${path}: ${r.text}`);
      }
    };

    // revoke, revoke-self, revoke-accessor
    const a = await create(root);
    assert.ok(await works(a.token));
    assert.equal((await http(server.url, 'POST', 'auth/token/revoke', { token: root, body: { token: a.token } })).status, 204);
    await mustBeDead(a.token, 'revoked');
    const b = await create(root);
    assert.equal((await http(server.url, 'POST', 'auth/token/revoke-self', { token: b.token })).status, 204);
    await mustBeDead(b.token, 'revoke-self');
    const c = await create(root);
    assert.equal((await http(server.url, 'POST', 'auth/token/revoke-accessor', { token: root, body: { accessor: c.accessor } })).status, 204);
    await mustBeDead(c.token, 'revoke-accessor');

    // Children die with their parent; an orphan does not; revoke-orphan spares the children.
    const maker = 'path "auth/token/create" { capabilities = ["update"] }\n';
    assert.equal((await http(server.url, 'PUT', 'sys/policies/acl/maker', { token: root, body: { policy: maker } })).status, 204);
    const parent = await create(root, { policies: ['maker'] });
    const child = await create(parent.token, { policies: ['maker'] });
    const grandchild = await create(child.token, { policies: ['maker'] });
    const orphan = await create(root, { policies: ['maker'] }, 'auth/token/create-orphan');
    const orphanLookup = await http(server.url, 'POST', 'auth/token/lookup', { token: root, body: { token: orphan.token } });
    assert.equal(orphanLookup.body.data.orphan, true);
    assert.equal((await http(server.url, 'POST', 'auth/token/revoke', { token: root, body: { token: parent.token } })).status, 204);
    await mustBeDead(child.token, 'child of a revoked parent');
    await mustBeDead(grandchild.token, 'grandchild of a revoked parent');
    assert.ok(await works(orphan.token), 'an orphan survives');
    const p2 = await create(root, { policies: ['maker'] });
    const c2 = await create(p2.token, { policies: ['maker'] });
    assert.equal((await http(server.url, 'POST', 'auth/token/revoke-orphan', { token: root, body: { token: p2.token } })).status, 204);
    await mustBeDead(p2.token, 'revoke-orphan parent');
    assert.ok(await works(c2.token), 'revoke-orphan keeps the children');
    assert.equal((await http(server.url, 'POST', 'auth/token/lookup', { token: root, body: { token: c2.token } })).body.data.orphan, true);

    // Expiry: a 1 s token is refused once its TTL has passed (waiting is the workload, not an assertion on time).
    const short = await create(root, { ttl: '1s' });
    await new Promise((r) => setTimeout(r, 2_500));
    await mustBeDead(short.token, 'expired');

    // An accessor is not a token.
    const d = await create(root);
    checks++;
    if (await works(d.accessor)) acceptances++;
    const byAccessor = await http(server.url, 'POST', 'auth/token/lookup-accessor', { token: root, body: { accessor: d.accessor } });
    assert.equal(byAccessor.status, 200);
    assert.equal(byAccessor.body.data.id, '', 'lookup-accessor does not reveal the token');

    // Root tokens: not from a non-root parent (policy names in any case), not from generate-root (off).
    for (const name of ['root', 'Root', 'ROOT']) {
      const r = await http(server.url, 'POST', 'auth/token/create', { token: orphan.token, body: { policies: [name] } });
      assert.ok(r.status === 400 || r.status === 403, `non-root asked for ${name}: ${r.status} ${r.text}`);
    }
    const sudoMaker = 'path "auth/token/*" { capabilities = ["create", "update", "sudo"] }\n';
    assert.equal((await http(server.url, 'PUT', 'sys/policies/acl/sudomaker', { token: root, body: { policy: sudoMaker } })).status, 204);
    const sudo = await create(root, { policies: ['sudomaker'] });
    for (const path of ['auth/token/create', 'auth/token/create-orphan']) {
      const r = await http(server.url, 'POST', path, { token: sudo.token, body: { policies: ['root'] } });
      assert.ok(r.status === 400 || r.status === 403, `sudo non-root via ${path}: ${r.status} ${r.text}`);
    }
    const gen = await http(server.url, 'PUT', 'sys/generate-root/attempt', { body: {} });
    assert.ok(gen.status >= 400, `generate-root is off: ${gen.status} ${gen.text}`);
    const fromRoot = await create(root, { policies: ['root'] });
    assert.deepEqual((await http(server.url, 'GET', 'auth/token/lookup-self', { token: fromRoot.token })).body.data.policies, ['root'], 'a root token may mint a root token');

    await server.kill();
    const output = stdout + server.stderr();
    const leaks = seen.filter((t) => output.includes(t) || output.includes(t.replace(/^[a-z]\./, ''))).length;
    console.log(`revoked-token acceptances after index: ${acceptances} (of ${checks} requests with revoked/expired tokens or accessors); root-token leaks: ${output.includes(root) ? 1 : 0} (any token in server output: ${leaks} of ${seen.length})`);
    assert.equal(acceptances, 0);
    assert.equal(leaks, 0);
  });
});
