// Strict decoders for key material. Node's Buffer.from(s, 'base64'|'hex') silently skips bad characters and
// stops at the first non-hex pair; these mirror Go's encoding/hex and base64.StdEncoding instead.
// They return null rather than throwing, so no caller can accidentally put the input into an error text.
//
// Small Buffer.from()/allocUnsafe() results live in Node's shared 8 KiB pool; a key copied there shares an
// ArrayBuffer with unrelated data (and survives in it). Key material here is always put in Buffer.alloc memory.

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
// Go's StdEncoding ignores CR and LF; anything else outside the alphabet is an error. Padding is required.
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeHexStrict(s: string): Buffer | null {
  if (typeof s !== 'string' || !HEX_RE.test(s)) return null;
  const out = Buffer.alloc(s.length / 2);
  out.write(s, 'hex');
  return out;
}

export function decodeBase64Strict(s: string): Buffer | null {
  if (typeof s !== 'string') return null;
  const t = s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, '') : s;
  if (!B64_RE.test(t)) return null;
  const out = Buffer.alloc(Buffer.byteLength(t, 'base64'));
  out.write(t, 'base64');
  return out;
}

/** A Buffer copy with its own exact-size, unpooled ArrayBuffer. */
export function ownCopy(b: Uint8Array): Buffer {
  const out = Buffer.alloc(b.length);
  out.set(b);
  return out;
}

/** A copy as a plain Uint8Array (not a Buffer) with its own exact-size ArrayBuffer. */
export function plainBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}
