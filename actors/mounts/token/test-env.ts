// The token store's unit-test environment: a token mount through the real router (testMount) with the
// salt and an init root token written as the core writes them; tokens resolved as the pipeline does.
import assert from 'node:assert/strict';
import { CofferError, type ErrorCode } from '../../../runtime/errors.js';
import { newAccessor, newServiceToken, rootTokenEntry, tokenAccessorKey, tokenIdKey, TOKEN_SALT_KEY } from '../../core/tokens.js';
import { testCrypto } from '../framework/storage-view.js';
import { testMount, type TestMount } from '../framework/test-harness.js';
import type { AuthResponse, CallerInfo, MountInfo } from '../framework/types.js';
import { tokenBackend } from './backend.js';
import { resolveToken } from './store.js';

export const NOW = 1_700_000_000_000; // 2023-11-14T22:13:20Z
export const SALT = '6b1c1a0e-2f4e-4c1b-9a57-0d7f1e2c3b4a';
export const H = 3600_000;

export interface Env {
  t: TestMount;
  root: string;
  rootAccessor: string;
  /** Request options acting as `token` at time `nowMs` (resolved like the pipeline; fails if invalid). */
  as(token: string, nowMs?: number, extra?: Partial<CallerInfo> & { sudo?: boolean }): { caller: CallerInfo; headers: Record<string, string>; nowMs: number };
  resolves(token: string, nowMs?: number): boolean;
  /** create as `token`, returning the auth block. */
  create(token: string, data?: Record<string, unknown>, nowMs?: number, path?: string): Promise<AuthResponse & { warnings: string[] }>;
}

export function setup(mount: Partial<MountInfo> = {}): Env {
  const t = testMount(tokenBackend, { type: 'token', path: 'auth/token/', ...mount });
  const put = (key: string, value: string) => t.physical.data.set(key, testCrypto.encrypt(key, Buffer.from(value)));
  // What the core writes at init: the salt and a root token (entry + accessor index).
  const root = newServiceToken();
  const rootAccessor = newAccessor();
  put(TOKEN_SALT_KEY, SALT);
  put(tokenIdKey(SALT, root), JSON.stringify(rootTokenEntry(rootAccessor, NOW - H)));
  put(tokenAccessorKey(SALT, rootAccessor), tokenIdKey(SALT, root));
  const env: Env = {
    t,
    root,
    rootAccessor,
    as(token, nowMs = NOW, extra = {}) {
      const r = resolveToken(t.physical, testCrypto, SALT, token, nowMs);
      assert.ok(r, `token ${token} should resolve`);
      return { caller: { ...r.caller, ...extra }, headers: { 'x-vault-token': token }, nowMs };
    },
    resolves: (token, nowMs = NOW) => resolveToken(t.physical, testCrypto, SALT, token, nowMs) !== null,
    async create(token, data = {}, nowMs = NOW, path = 'create') {
      const r = await t.request('update', path, data, env.as(token, nowMs));
      assert.ok(r.result?.auth, 'create returns auth');
      return { ...r.result.auth, warnings: r.result.warnings ?? [] };
    },
  };
  return env;
}

export async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CofferError, `expected CofferError, got ${String(e)}`);
    assert.equal(e.value.code, code);
    if (message !== undefined) assert.deepEqual(e.value.messages, [message]);
    return true;
  });
}

