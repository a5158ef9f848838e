// JSON complexity limits of a request body (HCSEC-2025-24 / CVE-2025-6203): checked on the raw bytes
// BEFORE JSON.parse, because parsing is where the memory goes (a 32 MiB body of `[[],[],...]` becomes
// millions of arrays). Same accounting as OpenBao's EnforceJSONComplexityLimits (internal/http/json.go):
// an estimated cost per token, and a count of strings (keys and values; the audit HMACs each one).
// Nesting is capped lower than Go's 10,000 (which Vault inherits): a request crosses actors as msgpack,
// and msgpackr packs recursively; past ~1,500 levels it overflows the stack and the request was a 500
// (found by test/sec-limits). 500 levels is far beyond any real secret or policy document.
import { CofferError } from '../../runtime/errors.js';

export interface JsonLimits {
  /** max_request_json_strings (default 1000); negative = unlimited. */
  strings: number;
  /** max_request_json_memory in estimated bytes (default 32 MiB + 512 KiB); negative = unlimited. */
  memory: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { strings: 1000, memory: 32 * 1024 * 1024 + 512 * 1024 };

/** Deepest nesting of objects and arrays accepted (the message is Go's, for a body past its own cap). */
export const JSON_DEPTH_MAX = 500;

// OpenBao's cost model: a pointer + type for every value, plus per kind.
const BASE = 16;
const COST_ARRAY = BASE + 24;
const COST_OBJECT = BASE + 72;
const COST_STRING = BASE + 16;
const COST_NUMBER = BASE + 8;
const COST_LITERAL = BASE + 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function refuse(what: string): never {
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', `refused JSON input due to high complexity: ${what}`);
}

/**
 * Throws 400 when the body exceeds a limit. Not a validator: malformed input is left for JSON.parse,
 * which reports it; this only has to stop the expensive inputs first.
 */
export function enforceJsonLimits(body: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  let memory = 0;
  let strings = 0;
  let depth = 0;
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const c = body[i] as number;
    switch (c) {
      case 0x5b: // [
      case 0x7b: // {
        memory += c === 0x5b ? COST_ARRAY : COST_OBJECT;
        if (++depth > JSON_DEPTH_MAX) throw new CofferError('COFFER_ERR_INVALID_REQUEST', 'failed to decode JSON input: exceeded max depth');
        break;
      case 0x5d: // ]
      case 0x7d: // }
        depth--;
        continue;
      case QUOTE: {
        const start = i + 1;
        for (i = start; i < n; i++) {
          const d = body[i] as number;
          if (d === BACKSLASH) i++;
          else if (d === QUOTE) break;
        }
        memory += COST_STRING + (i - start);
        if (limits.strings >= 0 && ++strings > limits.strings) refuse('exceeded maximum number of strings');
        break;
      }
      case 0x74: // true
      case 0x66: // false
      case 0x6e: // null
        memory += COST_LITERAL;
        while (i + 1 < n && (body[i + 1] as number) >= 0x61 && (body[i + 1] as number) <= 0x7a) i++;
        break;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          memory += COST_NUMBER;
          // The rest of the number (digits, '.', 'e', 'E', '+', '-') counts once.
          while (i + 1 < n && isNumberChar(body[i + 1] as number)) i++;
        }
        continue;
    }
    if (limits.memory >= 0 && memory > limits.memory) refuse('exceeded maximum estimated memory limits');
  }
}

function isNumberChar(d: number): boolean {
  return (d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d;
}
