// Password hashing for userpass on the CPU pool (one pool per handler worker thread, created on
// first use). A login for an unknown user verifies against a dummy hash with the same parameters,
// so "no such user" and "wrong password" cost the same time (Vault's dummyHash).
import { availableParallelism } from 'node:os';
import { createCpuPool, type CpuPool } from '../../../runtime/pool.js';
import type { PasswordTask } from './hash-task.js';

/** The scrypt hash of a random, discarded password, with the parameters hash-task.ts uses. */
const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$vWUXkqYVIuE0WtuycfXBDA==$+pf23rbWdrCnVnOtnfyrwTnEESpgYh9srVzPgd79a/4=';

/**
 * scrypt threads for logins: at most all cores but one, so the handler and front threads keep a core
 * while logins run (bench/login: with 4 threads on 2 cores, reads fell to 69% of their rate alone).
 */
const POOL_THREADS_MAX = Math.max(1, Math.min(4, availableParallelism() - 1));

let pool: CpuPool | null = null;

function cpuPool(): CpuPool {
  pool ??= createCpuPool(new URL('./hash-task.js', import.meta.url), { maxThreads: POOL_THREADS_MAX });
  return pool;
}

export async function hashPassword(password: string): Promise<string> {
  return cpuPool().run<string>({ op: 'hash', password } satisfies PasswordTask);
}

/** `encoded` null (no such user, or no password set) → the dummy hash is checked and the answer is false. */
export async function verifyPassword(password: string, encoded: string | null): Promise<boolean> {
  const ok = await cpuPool().run<boolean>({ op: 'verify', password, encoded: encoded ?? DUMMY_HASH } satisfies PasswordTask);
  return encoded !== null && ok;
}

/** Stops this thread's pool (tests; in a worker the pool otherwise idles out on its own). */
export async function destroyPasswordPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}
