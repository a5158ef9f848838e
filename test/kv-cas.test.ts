// 200 check-and-set writes to one KV v2 key from 20 concurrent HTTP clients, through a dev node:
// every success reports a distinct version, the versions are dense 1..200, each holds exactly the
// data its writer sent, and every loser is refused with Vault's check-and-set message. Then plain writes
// to one hot key beside writes to fresh keys (the per-key write queues: docs/concurrency.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNode, type EmbeddedNode } from '../sdk/index.js';

const CLIENTS = 20;
const WRITES = 200;
const CAS_MISMATCH = 'check-and-set parameter did not match the current version';

interface Reply {
  status: number;
  body: any;
}

describe('KV v2 writes under concurrent clients', () => {
  let node: EmbeddedNode;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${node.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': node.rootToken, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : JSON.parse(text) };
  }

  it(`${WRITES} cas writes give dense versions, each written exactly once`, async () => {
    const setup = await call('POST', 'secret/metadata/cas/key', { max_versions: WRITES * 2 });
    assert.equal(setup.status, 204);
    const written = new Map<number, { client: number; seq: number }>();
    let successes = 0;
    let losers = 0;
    const client = async (id: number) => {
      for (let seq = 0; successes < WRITES; seq++) {
        const read = await call('GET', 'secret/data/cas/key');
        assert.ok(read.status === 200 || read.status === 404, `read: ${read.status} ${JSON.stringify(read.body)}`);
        const current = read.status === 200 ? (read.body.data.metadata.version as number) : 0;
        if (current >= WRITES) return;
        const w = await call('POST', 'secret/data/cas/key', { data: { client: id, seq }, options: { cas: current } });
        if (w.status === 200) {
          const version = w.body.data.version as number;
          assert.equal(version, current + 1, 'a cas write creates exactly the next version');
          assert.ok(!written.has(version), `version ${version} reported twice`);
          written.set(version, { client: id, seq });
          successes++;
        } else {
          assert.equal(w.status, 400, JSON.stringify(w.body));
          assert.deepEqual(w.body, { errors: [CAS_MISMATCH] });
          losers++;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));

    assert.equal(successes, WRITES);
    assert.deepEqual([...written.keys()].sort((a, b) => a - b), Array.from({ length: WRITES }, (_, i) => i + 1));
    assert.ok(losers > 0, 'with 20 clients some cas writes must lose');
    const meta = await call('GET', 'secret/metadata/cas/key');
    assert.equal(meta.status, 200);
    assert.equal(meta.body.data.current_version, WRITES);
    assert.deepEqual(Object.keys(meta.body.data.versions).map(Number).sort((a, b) => a - b), [...written.keys()].sort((a, b) => a - b));
    for (const [version, payload] of written) {
      const r = await call('GET', `secret/data/cas/key?version=${version}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data.data, payload, `version ${version} holds its writer's data`);
    }
  });

  it('plain writes to one hot key beside writes to fresh keys: no update lost, each version once', async () => {
    const HOT_CLIENTS = 16;
    const PER_CLIENT = 10;
    const setup = await call('POST', 'secret/metadata/hot/key', { max_versions: HOT_CLIENTS * PER_CLIENT });
    assert.equal(setup.status, 204);
    const versions = new Map<number, { client: number; seq: number }>();
    const hot = async (id: number) => {
      for (let seq = 0; seq < PER_CLIENT; seq++) {
        const w = await call('POST', 'secret/data/hot/key', { data: { client: id, seq } });
        assert.equal(w.status, 200, JSON.stringify(w.body));
        const version = w.body.data.version as number;
        assert.ok(!versions.has(version), `version ${version} reported twice`);
        versions.set(version, { client: id, seq });
      }
    };
    const fresh = async (id: number) => {
      for (let seq = 0; seq < PER_CLIENT; seq++) {
        const w = await call('POST', `secret/data/fresh/${id}-${seq}`, { data: { client: id, seq } });
        assert.equal(w.status, 200, JSON.stringify(w.body));
        assert.equal(w.body.data.version, 1);
      }
    };
    await Promise.all([...Array.from({ length: HOT_CLIENTS }, (_, i) => hot(i)), ...Array.from({ length: HOT_CLIENTS }, (_, i) => fresh(i))]);

    const total = HOT_CLIENTS * PER_CLIENT;
    assert.deepEqual([...versions.keys()].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1), 'dense versions');
    for (const [version, payload] of versions) {
      const r = await call('GET', `secret/data/hot/key?version=${version}`);
      assert.deepEqual(r.body.data.data, payload, `version ${version} holds its writer's data`);
    }
    const list = await call('LIST', 'secret/metadata/fresh');
    assert.equal(list.status, 200);
    assert.equal(list.body.data.keys.length, total, 'every fresh key was written');
    const one = await call('GET', 'secret/data/fresh/3-7');
    assert.deepEqual(one.body.data.data, { client: 3, seq: 7 });
  });
});
