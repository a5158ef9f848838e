// Disabling a mount or deleting a namespace whose data is larger than one write-set may hold: the request
// removes what routes to the data at once, leaves a purge record, and the active node's expiration actor
// deletes the keys in bounded write-sets (actors/mounts/sys/deferred-purge.ts, actors/expiration/purger.ts).
// Checked through the public API of a dev server process: sys/raw shows the keys go (sys/raw may not list
// core/, where the records are: actors/expiration/purger.test.ts covers them), and a new mount or namespace
// at the same path starts empty at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from './helpers/cluster.js';
import { http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const ROOT = 'deferred-purge-root';
/** More keys than a request deletes itself (PURGE_INLINE_KEYS_MAX, 1,024). */
const SECRETS = 1100;

describe('deferred purge of large mounts and namespaces', { timeout: 120_000 }, () => {
  let dev: ServerProcess;
  const call = (method: string, path: string, body?: unknown) => http(dev.url, method, path, { token: ROOT, ...(body !== undefined ? { body } : {}) });
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  /** Writes SECRETS KV v1 secrets under `mount`, 16 at a time. */
  const fill = async (mount: string) => {
    for (let i = 0; i < SECRETS; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, SECRETS - i) }, (_, k) => ok('PUT', `${mount}/s${i + k}`, { v: `value-${i + k}` })));
    }
  };
  const rawKeys = async (prefix: string): Promise<string[]> => {
    const r = await call('LIST', `sys/raw/${prefix}`);
    return r.status === 404 ? [] : (r.body.data.keys as string[]);
  };

  before(async () => {
    dev = await spawnCoffer(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${ROOT}`], /export VAULT_ADDR='(\S+)'/);
  });
  after(async () => {
    await dev?.kill();
  });

  it('a mount with more keys than one write-set: disabled at once, its data purged in the background', async () => {
    await ok('POST', 'sys/mounts/big', { type: 'kv', options: { version: '1' } });
    await fill('big');
    const uuid = (await ok('GET', 'sys/mounts')).data['big/'].uuid as string;
    assert.equal((await rawKeys(`logical/${uuid}/`)).length, SECRETS);

    assert.equal((await call('DELETE', 'sys/mounts/big')).status, 204);
    await ok('POST', 'sys/mounts/big', { type: 'kv', options: { version: '1' } });
    assert.equal((await call('GET', 'big/s1')).status, 404, 'the new mount at the same path starts empty');
    await until('the old data purged', 60_000, async () => (await rawKeys(`logical/${uuid}/`)).length === 0);
  });

  it('a namespace with more keys than one write-set: deleted "in-progress", its segment purged in the background', async () => {
    await ok('POST', 'sys/namespaces/bulk');
    await ok('POST', 'bulk/sys/mounts/kv', { type: 'kv', options: { version: '1' } });
    await fill('bulk/kv');
    const uuid = (await ok('GET', 'sys/namespaces/bulk')).data.uuid as string;

    const del = await call('DELETE', 'sys/namespaces/bulk');
    assert.deepEqual([del.status, del.body.data], [200, { status: 'in-progress' }]);
    assert.equal((await call('GET', 'sys/namespaces/bulk')).status, 404);
    await ok('POST', 'sys/namespaces/bulk');
    assert.equal((await call('GET', 'bulk/kv/s1')).status, 404, 'a new namespace of the same name starts empty');
    await until('the old segment purged', 60_000, async () => !(await rawKeys('namespaces/')).includes(`${uuid}/`));
  });
});
