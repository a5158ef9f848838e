// The CPU pool's task module for userpass passwords: scrypt (memory-hard) runs here, on a piscina
// worker, so a login never blocks the handler thread. Encoded form (PHC-like, parameters kept so
// they can be raised later without invalidating stored hashes):
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<base64 salt>$<base64 32-byte key>
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export const SCRYPT_LOG_N = 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const KEY_LEN = 32;
const SALT_LEN = 16;

export type PasswordTask = { op: 'hash'; password: string } | { op: 'verify'; password: string; encoded: string };

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Buffer {
  const N = 2 ** ln;
  // 128·N·r·p bytes of working memory, plus headroom (Node's default cap is 32 MiB).
  return scryptSync(Buffer.from(password, 'utf8'), salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r * p + 1024 * 1024 });
}

export function hashPasswordSync(password: string): string {
  const salt = randomBytes(SALT_LEN);
  const key = derive(password, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P);
  return `$scrypt$ln=${SCRYPT_LOG_N},r=${SCRYPT_R},p=${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison of the derived key; a malformed or out-of-bounds encoding never matches. */
export function verifyPasswordSync(password: string, encoded: string): boolean {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a tampered or legacy entry from turning a login into a memory or CPU bomb.
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5] as string, 'base64');
  if (expected.length !== KEY_LEN) return false;
  const actual = derive(password, Buffer.from(m[4] as string, 'base64'), ln, r, p);
  return timingSafeEqual(actual, expected);
}

export default function passwordTask(task: PasswordTask): string | boolean {
  return task.op === 'hash' ? hashPasswordSync(task.password) : verifyPasswordSync(task.password, task.encoded);
}
