// The embedded SDK: a dev node in this very process, driven by the typed client.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApiError, Client, startNode } from '../sdk/index.js';

describe('embedded SDK', () => {
  it('starts a dev node in-process and serves the typed client', async () => {
    const node = await startNode();
    try {
      assert.match(node.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(existsSync(node.dataDir));
      const status = await node.client.sealStatus();
      assert.equal(status.sealed, false);
      await node.client.rawWrite('sdk/hello', 'world');
      assert.equal(await node.client.rawRead('sdk/hello'), 'world');
      assert.deepEqual(await node.client.rawList('sdk'), ['hello']);
      assert.equal((await node.client.keyStatus()).term, 1);
      const anonymous = new Client({ address: node.address, token: null });
      await assert.rejects(anonymous.rawRead('sdk/hello'), (e: unknown) => e instanceof ApiError && e.status === 403 && e.errors[0] === 'permission denied');
      const health = await anonymous.health();
      assert.equal(health.status, 200);
      await node.client.seal();
      await assert.rejects(node.client.rawRead('sdk/hello'), (e: unknown) => e instanceof ApiError && e.status === 503);
      const unsealed = await anonymous.unseal(node.unsealKey);
      assert.equal(unsealed.sealed, false);
      assert.equal(await node.client.rawRead('sdk/hello'), 'world');
    } finally {
      await node.close();
    }
    assert.equal(existsSync(node.dataDir), false, 'the dev node removes the temp dir it made');
  });

  it('accepts a chosen root token id and refuses a reserved one', async () => {
    const node = await startNode({ rootTokenId: 'my-root' });
    try {
      assert.equal(node.rootToken, 'my-root');
      assert.equal((await new Client({ address: node.address, token: 'my-root' }).keyStatus()).term, 1);
    } finally {
      await node.close();
    }
    await assert.rejects(startNode({ rootTokenId: 's.reserved' }), /cannot have the "s." or "hvs." prefix/);
  });
});
