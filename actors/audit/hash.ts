// Audit hashing (OpenBao audit/hashstructure.go, sdk/helper/salt): a string becomes
// `hmac-sha256:<hex of HMAC-SHA256(key = the device's salt, data)>`. In request and response data every
// string value at any depth (map values and list elements) is replaced; map keys, numbers, booleans and
// null are left as they are, and so are strings that parse as RFC 3339 timestamps (Go's
// time.Time.UnmarshalText succeeds on them; Vault keeps them readable, e.g. KV v2 `created_time`).
import { createHmac } from 'node:crypto';

export const HMAC_TYPE = 'hmac-sha256';

export function hashString(salt: string, data: string): string {
  return `${HMAC_TYPE}:${createHmac('sha256', salt).update(data, 'utf8').digest('hex')}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function isTimestamp(s: string): boolean {
  return RFC3339.test(s) && !Number.isNaN(Date.parse(s));
}

/**
 * A deep copy of `value` (JSON data) with every string hashed, except the values of `keepKeys`
 * (a mount's audit_non_hmac_*_keys) and timestamps. Anything not plain JSON (a Buffer, say) is
 * turned into its JSON form first, so nothing escapes hashing by its type.
 */
export function hashData(value: unknown, hash: (s: string) => string, keepKeys: readonly string[] = [], key: string | null = null): unknown {
  if (typeof value === 'string') {
    if (isTimestamp(value) || (key !== null && keepKeys.includes(key))) return value;
    return hash(value);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => hashData(v, hash, keepKeys, key));
  if (typeof value === 'object') {
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return hash(Buffer.from(value).toString('utf8'));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = hashData(v, hash, keepKeys, k);
    return out;
  }
  // undefined, bigint, functions: not JSON; drop undefined, stringify and hash the rest.
  return value === undefined ? undefined : hash(String(value));
}
