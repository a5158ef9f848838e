import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ActorSystem, type ActorRef } from './actor-system.js';
import { CofferError, type ErrorCode } from '../errors.js';
import type { EchoIn } from './test-workers/echo.js';

const workerFile = new URL('./test-workers/echo.js', import.meta.url);
const quiet = pino({ level: 'silent' });

const isCode = (code: ErrorCode) => (e: unknown) => {
  assert.ok(e instanceof CofferError, `expected CofferError, got ${String(e)}`);
  assert.equal(e.value.code, code);
  return true;
};

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    assert.ok(Date.now() < end, 'condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('ask/tell round trip, tells are delivered in order before a later ask', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'a', workerFile, supervision: 'restart', workerData: { label: 'A' } });
    assert.equal(a.name, 'a');
    assert.deepEqual(await a.ask({ t: 'echo', v: { x: [1, 'two', null] } }), { x: [1, 'two', null] });
    assert.equal(await a.ask({ t: 'whoami' }), 'A', 'workerData reached the worker and init ran before READY');
    for (let i = 0; i < 50; i++) a.tell({ t: 'bump' });
    assert.equal(await a.ask({ t: 'count' }), 50);
  } finally {
    await sys.shutdown();
  }
});

test('concurrent asks are not serialised and each gets its own reply', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'a', workerFile, supervision: 'restart' });
    const t0 = performance.now();
    // 20 asks that each sleep 200 ms: serialised they would take 4 s.
    const slow = Array.from({ length: 20 }, (_, i) => a.ask({ t: 'sleep', ms: 200, v: i }));
    const fast = Array.from({ length: 1000 }, (_, i) => a.ask({ t: 'echo', v: i }));
    assert.deepEqual(await Promise.all(fast), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(await Promise.all(slow), Array.from({ length: 20 }, (_, i) => i));
    assert.ok(performance.now() - t0 < 1500, `asks ran concurrently (${Math.round(performance.now() - t0)} ms)`);
  } finally {
    await sys.shutdown();
  }
});

test('ask timeout rejects with COFFER_ERR_TIMEOUT; the actor keeps serving', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'a', workerFile, supervision: 'restart' });
    await assert.rejects(a.ask({ t: 'sleep', ms: 500, v: 1 }, 50), isCode('COFFER_ERR_TIMEOUT'));
    assert.equal(await a.ask({ t: 'echo', v: 'still here' }), 'still here');
  } finally {
    await sys.shutdown();
  }
});

test('a handler CofferError arrives as a CofferError with the same code and messages; other errors are INTERNAL', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'a', workerFile, supervision: 'restart' });
    await assert.rejects(a.ask({ t: 'fail', code: 'COFFER_ERR_PERMISSION_DENIED', messages: ['no', 'really no'] }), (e: unknown) => {
      assert.ok(e instanceof CofferError);
      assert.deepEqual(e.value, { code: 'COFFER_ERR_PERMISSION_DENIED', messages: ['no', 'really no'] });
      return true;
    });
    await assert.rejects(a.ask({ t: 'boom' }), (e: unknown) => {
      assert.ok(e instanceof CofferError);
      assert.equal(e.value.code, 'COFFER_ERR_INTERNAL');
      assert.ok(!e.message.includes('secret-ish'), 'internal error details stay in the worker log');
      return true;
    });
  } finally {
    await sys.shutdown();
  }
});

test('a crash fails pending asks with COFFER_ERR_ACTOR_CRASHED and restart brings the actor back', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a: ActorRef<EchoIn, unknown> = await sys.spawn({ name: 'a', workerFile, supervision: 'restart' });
    const pending = a.ask({ t: 'sleep', ms: 5000, v: 'never' });
    const exiting = a.ask({ t: 'exit' });
    await assert.rejects(pending, isCode('COFFER_ERR_ACTOR_CRASHED'));
    await assert.rejects(exiting, isCode('COFFER_ERR_ACTOR_CRASHED'));
    // An ask made right away waits in the fresh ring until the restarted worker is READY.
    assert.equal(await a.ask({ t: 'echo', v: 'back' }), 'back');
    // Uncaught error in a timer: same path.
    assert.equal(await a.ask({ t: 'throw-later' }), 'armed');
    const slow = a.ask({ t: 'sleep', ms: 5000, v: 'never' });
    await assert.rejects(slow, isCode('COFFER_ERR_ACTOR_CRASHED'));
    assert.equal(await a.ask({ t: 'echo', v: 'back again' }), 'back again');
  } finally {
    await sys.shutdown();
  }
});

test('fail-stop calls onFailStop with the actor name; the ref then refuses asks', async () => {
  let stopped: { name: string; err: Error } | undefined;
  const sys = new ActorSystem({ logger: quiet, onFailStop: (name, err) => (stopped = { name, err }) });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'raft', workerFile, supervision: 'fail-stop' });
    await assert.rejects(a.ask({ t: 'exit' }), isCode('COFFER_ERR_ACTOR_CRASHED'));
    await eventually(async () => stopped !== undefined);
    assert.equal(stopped?.name, 'raft');
    assert.match(stopped?.err.message ?? '', /exited with code 3/);
    await assert.rejects(a.ask({ t: 'echo', v: 1 }), isCode('COFFER_ERR_ACTOR_CRASHED'));
  } finally {
    await sys.shutdown();
  }
});

test('crash-loop guard turns restart into fail-stop', async () => {
  let stopped: string | undefined;
  const sys = new ActorSystem({ logger: quiet, onFailStop: (name) => (stopped = name) });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'mount', workerFile, supervision: 'restart' });
    for (let i = 0; i < 6 && stopped === undefined; i++) {
      await assert.rejects(a.ask({ t: 'exit' }), isCode('COFFER_ERR_ACTOR_CRASHED'));
    }
    await eventually(async () => stopped === 'mount');
  } finally {
    await sys.shutdown();
  }
});

test('link: actor A asks actor B from inside its worker, also after B and A restart', async () => {
  const sys = new ActorSystem({ logger: quiet });
  try {
    const a = await sys.spawn<EchoIn, unknown>({ name: 'a', workerFile, supervision: 'restart', workerData: { label: 'A' } });
    const b = await sys.spawn<EchoIn, unknown>({ name: 'b', workerFile, supervision: 'restart', workerData: { label: 'B' } });
    await assert.rejects(a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'whoami' } }), isCode('COFFER_ERR_INTERNAL'));
    await sys.link('a', 'b');
    assert.deepEqual(await a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'whoami' } }), { via: 'A', answer: 'B' });
    // Errors cross the peer link as data too.
    await assert.rejects(a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'fail', code: 'COFFER_ERR_NOT_FOUND', messages: ['x'] } }), (e: unknown) => {
      assert.ok(e instanceof CofferError);
      assert.deepEqual(e.value, { code: 'COFFER_ERR_NOT_FOUND', messages: ['x'] });
      return true;
    });
    // B crashes while A waits on it: A's ask fails as ACTOR_CRASHED, then the link comes back.
    const viaA = a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'sleep', ms: 3000, v: 0 } });
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(b.ask({ t: 'exit' }), isCode('COFFER_ERR_ACTOR_CRASHED'));
    await assert.rejects(viaA, isCode('COFFER_ERR_ACTOR_CRASHED'));
    await eventually(async () => (await a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'whoami' } })) !== undefined);
    // A crashes: after its restart it is linked to B again.
    await assert.rejects(a.ask({ t: 'exit' }), isCode('COFFER_ERR_ACTOR_CRASHED'));
    await eventually(async () => (await a.ask({ t: 'ask-peer', peer: 'b', m: { t: 'echo', v: 7 } }) as { answer: number }).answer === 7);
  } finally {
    await sys.shutdown();
  }
});
