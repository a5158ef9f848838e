// Vault's wire formats for KV: Go's RFC3339Nano timestamps, Go duration strings, and JSON objects
// shaped as Go re-encodes them (keys sorted). Pure functions; time is always an input.

/** Recent answers of rfc3339Nano: a KV read formats the same few stored instants again and again (~3% of the handler thread). */
const formatted = new Map<number, string>();
const FORMATTED_MAX = 1024;

/** Go's time.RFC3339Nano in UTC: fraction without trailing zeros, no dot when whole ("...05Z"). */
export function rfc3339Nano(ms: number | null): string {
  if (ms === null) return '';
  let text = formatted.get(ms);
  if (text === undefined) {
    if (formatted.size >= FORMATTED_MAX) formatted.clear();
    text = formatRfc3339Nano(ms);
    formatted.set(ms, text);
  }
  return text;
}

function formatRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  const [whole, frac = '000Z'] = iso.split('.');
  const digits = frac.slice(0, -1).replace(/0+$/, '');
  return digits === '' ? `${whole}Z` : `${whole}.${digits}Z`;
}

/** Go's time.Duration.String() for whole seconds: "0s", "90s" → "1m30s", "1h0m0s", "-1s". */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(Math.trunc(seconds));
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Sets an own property even for "__proto__" (parsed JSON may carry one; plain assignment would not). */
function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy with object keys sorted, as Go's encoding/json re-encodes a decoded map. */
export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v).sort()) setOwn(out, k, sortKeysDeep(v[k]));
  return out;
}

/** RFC 7386 JSON merge patch: objects merge recursively, `null` removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = {};
  if (isObject(target)) for (const k of Object.keys(target)) setOwn(out, k, target[k]);
  for (const k of Object.keys(patch)) {
    const p = patch[k];
    if (p === null) delete out[k];
    else setOwn(out, k, mergePatch(Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined, p));
  }
  return out;
}
