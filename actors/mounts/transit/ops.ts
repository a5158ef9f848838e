// encrypt/, decrypt/, rewrap/, datakey/, hmac/, sign/, verify/, random/, hash/ as OpenBao's
// builtin/logical/transit path_*.go answer them: batch semantics (per-item errors, 400/500 with the
// envelope when an item failed), messages, and defaults.
import { randomBytes } from 'node:crypto';
import { CofferError } from '../../../runtime/errors.js';
import { createCpuPool, type CpuPool } from '../../../runtime/pool.js';
import type { FieldSchema, Handler, HandlerRequest, LogicalResponse, PathSpec } from '../framework/types.js';
import {
  constantTimeEqual,
  decodeBase64,
  decryptOne,
  digest,
  encryptOne,
  HASHES,
  hmacKey,
  hmacOf,
  runBatch,
  signingSupported,
  signOne,
  TransitError,
  verifyOne,
  type BatchOutcome,
  type BatchTask,
  type DecryptItem,
  type EncryptItem,
  type Marshaling,
  type Policy,
  type SignOptions,
} from './crypto.js';
import { internal, invalid, loadKeysConfig, nameField, nameOf } from './keys.js';
import { createPolicy, loadPolicy, savePolicy } from './policy.js';

// ---- the CPU pool for large batches -----------------------------------------------------------------

/** Batches with more items than this run on the CPU pool, in chunks of this size. */
export const POOL_BATCH_THRESHOLD = 256;

let pool: CpuPool | null = null;

/** One pool per thread (handlers run in a handler worker), created on first use. */
function cpuPool(): CpuPool {
  pool ??= createCpuPool(new URL('./crypto-task.js', import.meta.url));
  return pool;
}

/** Stops this thread's pool (tests; a worker's pool otherwise idles out on its own). */
export async function destroyTransitPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}

/**
 * `COFFER_TRANSIT_POOL`, read once when this module loads (docs/transit.md "Threads"): `auto` (default)
 * runs encrypt/decrypt batches above POOL_BATCH_THRESHOLD on the CPU pool and the rest inline; `always`
 * sends every encrypt/decrypt request (single ones too) to the pool; `never` runs all of them inline.
 */
export const TRANSIT_POOL_MODE: 'auto' | 'always' | 'never' = (() => {
  const v = (process.env.COFFER_TRANSIT_POOL ?? '').trim().toLowerCase();
  return v === 'always' || v === 'never' ? v : 'auto';
})();

async function batchOutcomes(task: BatchTask): Promise<(BatchOutcome | null)[]> {
  if (TRANSIT_POOL_MODE === 'never' || (TRANSIT_POOL_MODE === 'auto' && task.items.length <= POOL_BATCH_THRESHOLD)) return runBatch(task);
  const chunks: Promise<(BatchOutcome | null)[]>[] = [];
  for (let i = 0; i < task.items.length; i += POOL_BATCH_THRESHOLD) {
    const items = task.items.slice(i, i + POOL_BATCH_THRESHOLD);
    chunks.push(cpuPool().run<(BatchOutcome | null)[]>({ ...task, items } as BatchTask));
  }
  return (await Promise.all(chunks)).flat();
}

// ---- shared parsing ---------------------------------------------------------------------------------

type Raw = Record<string, unknown>;

/** mapstructure's decode of batch_input into a slice of structs: a list of objects. */
function batchItems(req: HandlerRequest): Raw[] | null {
  const raw = req.data.batch_input;
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) internal(`failed to parse batch input: 'batch_input': source data must be an array or slice, got ${typeof raw}`);
  const items = raw.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) internal(`failed to parse batch input: '[${i}]' expected a map, got '${Array.isArray(item) ? 'slice' : typeof item}'`);
    return item as Raw;
  });
  if (items.length === 0) invalid('missing batch input to process');
  return items;
}

function str(item: Raw, key: string): string {
  const v = item[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  internal(`failed to parse batch input: '${key}' expected type 'string', got '${typeof v}'`);
}

function int(item: Raw, key: string): number {
  const v = item[key];
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  internal(`failed to parse batch input: '${key}' expected type 'int', got unconvertible type '${typeof v}'`);
}

function transitMessage(err: unknown): TransitError {
  if (err instanceof TransitError) return err;
  return new TransitError('internal', err instanceof Error ? err.message : String(err));
}

/** Raises a single (non-batch) item's error as Vault does: user → 400, internal → 500. */
function raise(err: TransitError): never {
  if (err.kind === 'user') invalid(err.message);
  internal(err.message);
}

/** batchRequestResponse: any failed item turns the whole reply into 400 (user) or 500 (internal). */
function batchStatus(req: HandlerRequest, resp: LogicalResponse, successes: boolean, userErr: boolean, internalErr: boolean): LogicalResponse {
  if (!userErr && !internalErr) return resp;
  let code = userErr ? 400 : 500;
  const override = req.fields.partial_failure_response_code;
  if (typeof override === 'number' && successes) {
    if (override < 1 || override > 599) resp.warnings = [...(resp.warnings ?? []), `invalid HTTP response code override from partial_failure_response_code, reverting to ${code}`];
    else code = override;
  }
  return { ...resp, statusCode: code };
}

function policyNotFound(message: string): never {
  invalid(message);
}

const batchField: FieldSchema = { type: 'any', description: 'A list of items to process in one request; results keep the order of the input.' };
const partialField: FieldSchema = { type: 'int', description: 'HTTP status for a batch with some failed and some successful items (default 400).' };
const contextField: FieldSchema = { type: 'string', description: 'Base64 encoded context for key derivation. Required if key derivation is enabled.' };
const keyVersionField: FieldSchema = { type: 'int', description: 'The version of the key to use; 0 or unset means the latest.' };
const aadField: FieldSchema = { type: 'string', description: 'Base64 encoded associated data for AEAD ciphers.' };

/** Decodes an item's context; returns the Go error text on failure. */
function itemContext(context: string): Uint8Array | null {
  return context === '' ? null : decodeBase64(context);
}

function checkContexts(items: { context: string }[]): boolean {
  const contextSet = (items[0] as { context: string }).context !== '';
  for (const item of items) {
    if ((item.context === '') === contextSet) invalid('context should be set either in all the request blocks or in none');
  }
  return contextSet;
}

// ---- encrypt/<name> ---------------------------------------------------------------------------------

interface InItem {
  plaintext: string;
  ciphertext: string;
  context: string;
  keyVersion: number;
  associatedData: string;
  reference: string;
}

function inItem(raw: Raw): InItem {
  return {
    plaintext: str(raw, 'plaintext'),
    ciphertext: str(raw, 'ciphertext'),
    context: str(raw, 'context'),
    keyVersion: int(raw, 'key_version'),
    associatedData: str(raw, 'associated_data'),
    reference: str(raw, 'reference'),
  };
}

const encryptWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  const batch = batchItems(req);
  let items: InItem[];
  if (batch) {
    items = batch.map(inItem);
  } else {
    if (req.data.plaintext === undefined || req.data.plaintext === null) invalid('missing plaintext to encrypt');
    const f = req.fields;
    items = [{ plaintext: String(f.plaintext), ciphertext: '', context: String(f.context ?? ''), keyVersion: Number(f.key_version ?? 0), associatedData: String(f.associated_data ?? ''), reference: '' }];
  }
  const contextSet = checkContexts(items);
  const errors: (string | null)[] = items.map(() => null);
  const prepared: (EncryptItem | null)[] = items.map((item, i) => {
    try {
      decodeBase64(item.plaintext);
      return { plaintext: item.plaintext, context: itemContext(item.context), keyVersion: item.keyVersion, associatedData: item.associatedData };
    } catch (err) {
      errors[i] = (err as Error).message;
      return null;
    }
  });

  let p = await loadPolicy(storage, name);
  let upserted = false;
  if (req.operation === 'create') {
    const convergent = req.fields.convergent_encryption === true;
    if (convergent && !contextSet) invalid('convergent encryption requires derivation to be enabled, so context is required');
    const type = String(req.fields.type);
    if (isEcdsaName(type)) invalid(`key type ${type} not supported for this operation`);
    if (!['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305'].includes(type)) invalid(`unknown key type ${type}`);
    if (!p && !(await loadKeysConfig(storage)).disable_upsert) {
      try {
        p = await createPolicy({ name, type: type as Policy['type'], derived: contextSet, convergent, exportable: false, allowPlaintextBackup: false, autoRotatePeriodS: 0 }, req.nowMs);
      } catch (err) {
        internal((err as Error).message);
      }
      savePolicy(storage, p);
      upserted = true;
    }
  }
  if (!p) policyNotFound('encryption key not found');
  const policy = p;

  for (let i = 0; i < items.length; i++) {
    const item = items[i] as InItem;
    if (errors[i] === null && item.associatedData !== '' && !isAead(policy)) {
      errors[i] = `'[${i}].associated_data' provided for non-AEAD cipher suite ${policy.type}`;
      prepared[i] = null;
    }
  }
  const outcomes = await batchOutcomes({ op: 'encrypt', policy, items: prepared });
  let successes = false;
  let userErr = false;
  let internalErr = false;
  const results = items.map((item, i) => {
    const out: Record<string, unknown> = {};
    const o = outcomes[i];
    if (errors[i] !== null) {
      userErr = true;
      out.error = errors[i];
    } else if (o && !o.ok) {
      if (o.kind === 'internal') internalErr = true;
      else userErr = true;
      out.error = o.error;
    } else if (o && o.ok) {
      successes = true;
      const v = o.value as { ciphertext: string; keyVersion: number };
      out.ciphertext = v.ciphertext;
      if (v.keyVersion !== 0) out.key_version = v.keyVersion;
    }
    out.reference = item.reference;
    return out;
  });

  const resp: LogicalResponse = {};
  if (batch) {
    resp.data = { batch_results: results };
  } else {
    const r = results[0] as Record<string, unknown>;
    if (r.error !== undefined) {
      if (internalErr) internal(String(r.error));
      invalid(String(r.error));
    }
    resp.data = { ciphertext: r.ciphertext, key_version: r.key_version };
  }
  if (req.operation === 'create' && !upserted) resp.warnings = ['Attempted creation of the key during the encrypt operation, but it was created beforehand'];
  return batchStatus(req, resp, successes, userErr, internalErr);
};

function isEcdsaName(type: string): boolean {
  return type === 'ecdsa-p256' || type === 'ecdsa-p384' || type === 'ecdsa-p521';
}

function isAead(p: Policy): boolean {
  return p.type === 'aes128-gcm96' || p.type === 'aes256-gcm96' || p.type === 'chacha20-poly1305';
}

const encryptExists = async (req: HandlerRequest, storage: Parameters<Handler>[1]): Promise<boolean> => {
  const name = req.params.name ?? '';
  return (await loadPolicy(storage, name)) !== undefined;
};

// ---- decrypt/<name> ---------------------------------------------------------------------------------

const decryptWrite: Handler = async (req, storage) => {
  const batch = batchItems(req);
  let items: InItem[];
  if (batch) {
    items = batch.map(inItem);
  } else {
    const ciphertext = String(req.fields.ciphertext ?? '');
    if (ciphertext === '') invalid('missing ciphertext to decrypt');
    items = [{ plaintext: '', ciphertext, context: String(req.fields.context ?? ''), keyVersion: 0, associatedData: String(req.fields.associated_data ?? ''), reference: '' }];
  }
  checkContexts(items);
  const errors: (string | null)[] = items.map(() => null);
  const prepared: (DecryptItem | null)[] = items.map((item, i) => {
    if (item.ciphertext === '') {
      errors[i] = 'missing ciphertext to decrypt';
      return null;
    }
    try {
      return { ciphertext: item.ciphertext, context: itemContext(item.context), associatedData: item.associatedData };
    } catch (err) {
      errors[i] = (err as Error).message;
      return null;
    }
  });
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) policyNotFound('encryption key not found');
  for (let i = 0; i < items.length; i++) {
    if (errors[i] === null && (items[i] as InItem).associatedData !== '' && !isAead(p)) {
      errors[i] = `'[${i}].associated_data' provided for non-AEAD cipher suite ${p.type}`;
      prepared[i] = null;
    }
  }
  const outcomes = await batchOutcomes({ op: 'decrypt', policy: p, items: prepared });
  let successes = false;
  let userErr = false;
  let internalErr = false;
  const results = items.map((item, i) => {
    const out: Record<string, unknown> = { plaintext: '' };
    const o = outcomes[i];
    if (errors[i] !== null) {
      userErr = true;
      out.error = errors[i];
    } else if (o && !o.ok) {
      if (o.kind === 'internal') internalErr = true;
      else userErr = true;
      out.error = o.error;
    } else if (o && o.ok) {
      successes = true;
      out.plaintext = o.value;
    }
    out.reference = item.reference;
    return out;
  });
  const resp: LogicalResponse = {};
  if (batch) {
    resp.data = { batch_results: results };
  } else {
    const r = results[0] as Record<string, unknown>;
    if (r.error !== undefined) {
      if (internalErr) internal(String(r.error));
      invalid(String(r.error));
    }
    resp.data = { plaintext: r.plaintext };
  }
  return batchStatus(req, resp, successes, userErr, internalErr);
};

// ---- rewrap/<name> ----------------------------------------------------------------------------------

const rewrapWrite: Handler = async (req, storage) => {
  const batch = batchItems(req);
  let items: InItem[];
  if (batch) {
    items = batch.map(inItem);
  } else {
    const ciphertext = String(req.fields.ciphertext ?? '');
    if (ciphertext === '') invalid('missing ciphertext to decrypt');
    items = [{ plaintext: '', ciphertext, context: String(req.fields.context ?? ''), keyVersion: Number(req.fields.key_version ?? 0), associatedData: '', reference: '' }];
  }
  checkContexts(items);
  const errors: (string | null)[] = items.map(() => null);
  const contexts = items.map((item, i) => {
    if (item.ciphertext === '') {
      errors[i] = 'missing ciphertext to decrypt';
      return null;
    }
    try {
      return itemContext(item.context);
    } catch (err) {
      errors[i] = (err as Error).message;
      return null;
    }
  });
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) policyNotFound('encryption key not found');
  const results = items.map((item, i) => {
    const out: Record<string, unknown> = {};
    if (errors[i] === null) {
      try {
        const plaintext = decryptOne(p, { ciphertext: item.ciphertext, context: contexts[i] ?? null });
        const { ciphertext, keyVersion } = encryptOne(p, { plaintext, context: contexts[i] ?? null, keyVersion: item.keyVersion });
        out.ciphertext = ciphertext;
        out.key_version = keyVersion;
      } catch (err) {
        const e = transitMessage(err);
        if (e.kind === 'internal') internal(e.message);
        out.error = e.message;
      }
    } else {
      out.error = errors[i];
    }
    out.reference = item.reference;
    return out;
  });
  if (batch) return { data: { batch_results: results } };
  const r = results[0] as Record<string, unknown>;
  if (r.error !== undefined) invalid(String(r.error));
  return { data: { ciphertext: r.ciphertext, key_version: r.key_version } };
};

// ---- datakey/<plaintext|wrapped>/<name> -------------------------------------------------------------

const datakeyWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  const kind = req.params.plaintext;
  if (kind !== 'plaintext' && kind !== 'wrapped') invalid("Invalid path, must be 'plaintext' or 'wrapped'");
  let context: Uint8Array | null = null;
  const contextRaw = String(req.fields.context ?? '');
  if (contextRaw !== '') {
    try {
      context = decodeBase64(contextRaw);
    } catch {
      invalid('failed to base64-decode context');
    }
  }
  const p = await loadPolicy(storage, name);
  if (!p) policyNotFound('encryption key not found');
  const bits = Number(req.fields.bits);
  if (bits !== 128 && bits !== 256 && bits !== 512) invalid('invalid bit length');
  const newKey = randomBytes(bits / 8);
  const aad = String(req.fields.associated_data ?? '');
  if (aad !== '' && !isAead(p)) invalid(`'associated_data' provided for non-AEAD cipher suite ${p.type}`);
  let out: { ciphertext: string; keyVersion: number };
  try {
    out = encryptOne(p, { plaintext: newKey.toString('base64'), context, keyVersion: Number(req.fields.key_version ?? 0), associatedData: aad });
  } catch (err) {
    raise(transitMessage(err));
  }
  const data: Record<string, unknown> = { ciphertext: out.ciphertext, key_version: out.keyVersion };
  if (kind === 'plaintext') data.plaintext = newKey.toString('base64');
  return { data };
};

// ---- hmac/<name>[/<algorithm>] and verify with hmac -------------------------------------------------

function hmacAlgorithm(name: string): string | null {
  const alg = HASHES[name];
  return alg === undefined || alg === null ? null : alg;
}

/** Go's `%q` of a HashType (a uint32): Vault's "unsupported algorithm" message prints the zero value. */
const GO_QUOTED_ZERO_RUNE = "'\\x00'";

const hmacWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  let ver = Number(req.fields.key_version ?? 0);
  const algorithm = req.params.urlalgorithm || String(req.fields.algorithm);
  const p = await loadPolicy(storage, name);
  if (!p) policyNotFound('encryption key not found');
  if (ver === 0) ver = p.latest_version;
  else if (ver !== p.latest_version && p.min_encryption_version > 0 && ver < p.min_encryption_version) {
    invalid('cannot generate HMAC: version is too old (disallowed by policy)');
  }
  let key: Buffer;
  try {
    key = hmacKey(p, ver);
  } catch (err) {
    invalid((err as Error).message);
  }
  const alg = hmacAlgorithm(algorithm);
  if (alg === null) invalid(`unsupported algorithm ${GO_QUOTED_ZERO_RUNE}`);
  const batch = batchItems(req);
  const inputs: Raw[] = batch ?? [req.data.input === undefined || req.data.input === null ? {} : { input: String(req.fields.input) }];
  const results = inputs.map((item) => {
    const out: Record<string, unknown> = {};
    if (item.input === undefined) out.error = 'missing input for HMAC';
    else {
      try {
        const input = decodeBase64(str(item, 'input'));
        out.hmac = `vault:v${ver}:${hmacOf(alg, key, input).toString('base64')}`;
      } catch (err) {
        out.error = `unable to decode input as base64: ${(err as Error).message}`;
      }
    }
    out.reference = str(item, 'reference');
    return out;
  });
  if (batch) return { data: { batch_results: results } };
  const r = results[0] as Record<string, unknown>;
  if (r.error !== undefined) invalid(String(r.error));
  return { data: { hmac: r.hmac } };
};

async function hmacVerify(req: HandlerRequest, storage: Parameters<Handler>[1], items: Raw[], batch: boolean): Promise<LogicalResponse> {
  const algorithm = req.params.urlalgorithm || String(req.fields.hash_algorithm || req.fields.algorithm || 'sha2-256');
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) policyNotFound('encryption key not found');
  const alg = hmacAlgorithm(algorithm);
  if (alg === null) invalid(`invalid hash algorithm "${algorithm}"`);
  const results = items.map((item) => {
    const out: Record<string, unknown> = {};
    const fail = (m: string) => {
      out.error = m;
    };
    run: {
      if (item.input === undefined) {
        fail('missing input');
        break run;
      }
      let input: Buffer;
      try {
        input = decodeBase64(str(item, 'input'));
      } catch (err) {
        fail(`unable to decode input as base64: ${(err as Error).message}`);
        break run;
      }
      if (item.hmac === undefined) {
        fail('missing hmac');
        break run;
      }
      const given = str(item, 'hmac');
      if (!given.startsWith('vault:v')) {
        fail('invalid HMAC to verify: no prefix');
        break run;
      }
      const rest = given.slice('vault:v'.length);
      const colon = rest.indexOf(':');
      if (colon < 0) {
        fail('invalid HMAC: wrong number of fields');
        break run;
      }
      const verStr = rest.slice(0, colon);
      if (!/^[+-]?\d{1,15}$/.test(verStr)) {
        fail('invalid HMAC: version number could not be decoded');
        break run;
      }
      const ver = Number(verStr);
      let mac: Buffer;
      try {
        mac = decodeBase64(rest.slice(colon + 1));
      } catch (err) {
        fail(`unable to decode verification HMAC as base64: ${(err as Error).message}`);
        break run;
      }
      if (ver > p.latest_version) {
        fail('invalid HMAC: version is too new');
        break run;
      }
      if (p.min_decryption_version > 0 && ver < p.min_decryption_version) {
        fail('cannot verify HMAC: version is too old (disallowed by policy)');
        break run;
      }
      let key: Buffer;
      try {
        key = hmacKey(p, ver);
      } catch (err) {
        fail((err as Error).message);
        break run;
      }
      const valid = constantTimeEqual(hmacOf(alg, key, input), mac);
      if (valid) out.valid = true; // omitempty: false is absent in batch results
    }
    out.reference = str(item, 'reference');
    return out;
  });
  if (batch) return { data: { batch_results: results } };
  const r = results[0] as Record<string, unknown>;
  if (r.error !== undefined) invalid(String(r.error));
  return { data: { valid: r.valid === true } };
}

// ---- sign/<name>[/<algorithm>] and verify/<name>[/<algorithm>] --------------------------------------

/** getSaltLength: "auto" → 0, "hash" → -1, or an integer ≥ -1 (Go's rsa.PSSSaltLength*). */
function saltLength(req: HandlerRequest): number {
  const raw = req.data.salt_length;
  if (raw === undefined || raw === null) return 0;
  const s = String(raw).toLowerCase();
  if (s === 'auto') return 0;
  if (s === 'hash') return -1;
  if (!/^[+-]?\d+$/.test(s)) invalid(`salt length neither 'auto', 'hash', nor an int: ${String(raw)}`);
  const n = Number(s);
  if (n < -1) invalid(`salt length is invalid: ${n}`);
  return n;
}

function signOptions(req: HandlerRequest): SignOptions {
  const hashAlgorithm = req.params.urlalgorithm || String(req.fields.hash_algorithm || req.fields.algorithm || 'sha2-256');
  if (!(hashAlgorithm in HASHES)) invalid(`invalid hash algorithm "${hashAlgorithm}"`);
  const marshaling = String(req.fields.marshaling_algorithm);
  if (marshaling !== 'asn1' && marshaling !== 'jws') invalid(`invalid marshaling type "${marshaling}"`);
  return { hashAlgorithm, marshaling: marshaling as Marshaling, sigAlgorithm: String(req.fields.signature_algorithm ?? ''), saltLength: saltLength(req), prehashed: req.fields.prehashed === true };
}

function checkNoneHash(o: SignOptions): void {
  if (o.hashAlgorithm === 'none' && (!o.prehashed || o.sigAlgorithm !== 'pkcs1v15')) invalid('hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
}

const signWrite: Handler = async (req, storage) => {
  const name = nameOf(req);
  const ver = Number(req.fields.key_version ?? 0);
  const o = signOptions(req);
  const p = await loadPolicy(storage, name);
  if (!p) policyNotFound('signing key not found');
  if (!signingSupported(p.type)) invalid(`key type ${p.type} does not support signing`);
  checkNoneHash(o);
  const batch = batchItems(req);
  const inputs: Raw[] = batch ?? [{ input: String(req.fields.input ?? ''), context: String(req.fields.context ?? '') }];
  let singleError: TransitError | null = null;
  const results = inputs.map((item) => {
    const out: Record<string, unknown> = {};
    run: {
      const decoded = decodeSignItem(item);
      if ('error' in decoded) {
        out.error = decoded.error;
        break run;
      }
      const { input, context } = decoded;
      try {
        const s = signOne(p, ver, context, input, o);
        out.signature = s.signature;
        out.key_version = s.keyVersion;
        if (s.publicKey) out.public_key = s.publicKey.toString('base64');
      } catch (err) {
        const e = transitMessage(err);
        // Vault returns a failed single signature as a plain error (500); in a batch, per item.
        if (batch) out.error = e.message;
        else singleError = e;
      }
    }
    out.reference = str(item, 'reference');
    return out;
  });
  if (batch) return { data: { batch_results: results } };
  const r = results[0] as Record<string, unknown>;
  if (r.error !== undefined) invalid(String(r.error));
  if (singleError) internal((singleError as TransitError).message);
  const data: Record<string, unknown> = { signature: r.signature, key_version: r.key_version };
  if (r.public_key !== undefined) data.public_key = r.public_key;
  return { data };
};

const verifyWrite: Handler = async (req, storage) => {
  const batch = batchItems(req);
  let items: Raw[];
  if (batch) items = batch;
  else {
    const one: Raw = { input: String(req.fields.input ?? '') };
    if (req.data.signature !== undefined && req.data.signature !== null) one.signature = String(req.fields.signature);
    if (req.data.hmac !== undefined && req.data.hmac !== null) one.hmac = String(req.fields.hmac);
    one.context = String(req.fields.context ?? '');
    items = [one];
  }
  let sigFound = false;
  let hmacFound = false;
  let missing = false;
  for (const v of items) {
    if (v.signature !== undefined) sigFound = true;
    else if (v.hmac !== undefined) hmacFound = true;
    else missing = true;
  }
  if (!batch && sigFound && hmacFound) invalid("provide one of 'signature' or 'hmac'");
  if (!batch && !sigFound && !hmacFound) invalid("neither a 'signature' nor an 'hmac' were given to verify");
  if (sigFound && hmacFound) invalid("elements of batch_input must all provide 'signature' or all provide 'hmac'");
  if (missing && sigFound) invalid("some elements of batch_input are missing 'signature'");
  if (missing && hmacFound) invalid("some elements of batch_input are missing 'hmac'");
  if (missing) invalid("no batch_input elements have 'signature' or 'hmac'");
  if (hmacFound) return hmacVerify(req, storage, items, batch !== null);

  const o = signOptions(req);
  const p = await loadPolicy(storage, nameOf(req));
  if (!p) policyNotFound('signature verification key not found');
  if (!signingSupported(p.type)) invalid(`key type ${p.type} does not support verification`);
  checkNoneHash(o);
  let singleError: TransitError | null = null;
  const results = items.map((item) => {
    const out: Record<string, unknown> = {};
    run: {
      const decoded = decodeSignItem(item);
      if ('error' in decoded) {
        out.error = decoded.error;
        break run;
      }
      const { input, context } = decoded;
      try {
        if (verifyOne(p, context, input, str(item, 'signature'), o)) out.valid = true;
      } catch (err) {
        const e = transitMessage(err);
        if (e.kind === 'user' || batch) out.error = e.message;
        else singleError = e;
      }
    }
    out.reference = str(item, 'reference');
    return out;
  });
  if (batch) return { data: { batch_results: results } };
  const r = results[0] as Record<string, unknown>;
  if (r.error !== undefined) invalid(String(r.error));
  if (singleError) internal((singleError as TransitError).message);
  return { data: { valid: r.valid === true } };
};

// ---- random[/<source>][/<bytes>] and hash[/<algorithm>] --------------------------------------------

/** helper/random's APIMaxBytes. */
const RANDOM_MAX_BYTES = 128 * 1024;
const RANDOM_SOURCES = ['', 'platform', 'seal', 'all'];

const randomWrite: Handler = async (req) => {
  const source0 = req.params.source;
  const urlBytes = req.params.urlbytes;
  let source = 'platform';
  let bytes: number;
  const parse = (s: string): number => {
    if (!/^[+-]?\d+$/.test(s)) invalid(`error parsing url-set byte count: strconv.Atoi: parsing "${s}": invalid syntax`);
    return Number(s);
  };
  if (source0 === undefined && urlBytes === undefined) bytes = Number(req.fields.bytes);
  else if (source0 !== undefined) {
    source = source0;
    bytes = urlBytes === undefined ? Number(req.fields.bytes) : parse(urlBytes);
  } else if (RANDOM_SOURCES.includes(urlBytes as string)) {
    source = urlBytes as string;
    bytes = Number(req.fields.bytes);
  } else bytes = parse(urlBytes as string);
  const format = String(req.fields.format);
  if (bytes < 1) invalid("'bytes' cannot be less than 1");
  if (bytes > RANDOM_MAX_BYTES) invalid(`'bytes' should be less than ${RANDOM_MAX_BYTES}`);
  if (format !== 'hex' && format !== 'base64') invalid(`unsupported encoding format "${format}"; must be "hex" or "base64"`);
  if (!RANDOM_SOURCES.includes(source)) invalid(`unsupported entropy source "${source}"; must be "platform" or "seal", or "all"`);
  const buf = randomBytes(bytes);
  const resp: LogicalResponse = { data: { random_bytes: buf.toString(format) } };
  if (source === 'seal') resp.warnings = ['no seal/entropy augmentation available, using platform entropy source'];
  return resp;
};

const HASH_ALGORITHMS = ['sha2-224', 'sha2-256', 'sha2-384', 'sha2-512', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512'];

const hashWrite: Handler = async (req) => {
  if (req.data.input === undefined || req.data.input === null) invalid('input missing');
  const format = String(req.fields.format);
  const algorithm = req.params.urlalgorithm || String(req.fields.algorithm);
  let input: Buffer;
  try {
    input = decodeBase64(String(req.fields.input));
  } catch (err) {
    invalid(`unable to decode input as base64: ${(err as Error).message}`);
  }
  if (format !== 'hex' && format !== 'base64') invalid(`unsupported encoding format ${format}; must be "hex" or "base64"`);
  if (!HASH_ALGORITHMS.includes(algorithm)) invalid(`unsupported algorithm ${algorithm}`);
  return { data: { sum: digest(HASHES[algorithm] as string, input).toString(format) } };
};

// ---- path table -------------------------------------------------------------------------------------

const hashAlgField: FieldSchema = { type: 'string', default: 'sha2-256', description: 'Hash algorithm: sha1, sha2-224|256|384|512, sha3-224|256|384|512 (none: prehashed pkcs1v15 only).' };

const signFields: Record<string, FieldSchema> = {
  name: nameField,
  input: { type: 'string', description: 'The base64-encoded input data' },
  context: contextField,
  hash_algorithm: hashAlgField,
  algorithm: { type: 'string', default: 'sha2-256', description: 'Deprecated: use "hash_algorithm" instead.' },
  urlalgorithm: { type: 'string', description: 'Hash algorithm to use (POST URL parameter)' },
  key_version: keyVersionField,
  prehashed: { type: 'bool', description: 'Set to true when the input is already hashed.' },
  signature_algorithm: { type: 'string', description: "The signature algorithm to use for RSA keys: 'pss' (default) or 'pkcs1v15'." },
  marshaling_algorithm: { type: 'string', default: 'asn1', description: "The method by which to marshal the signature: 'asn1' (default) or 'jws'." },
  salt_length: { type: 'string', default: 'auto', description: "The salt length used to sign (RSA PSS): 'auto', 'hash', or an integer." },
  batch_input: batchField,
};

// Crypto with a stored key writes nothing (an encrypt that upserts a key fails its commit on a standby and
// is forwarded then): standbys answer these themselves.
const cryptoPaths: PathSpec[] = [
  {
    pattern: 'encrypt/:name',
    fields: {
      name: nameField,
      plaintext: { type: 'string', description: 'Base64 encoded plaintext value to be encrypted' },
      context: contextField,
      nonce: { type: 'string', description: 'Base64 encoded nonce (convergent encryption version 1 only; not supported).' },
      type: { type: 'string', default: 'aes256-gcm96', description: 'The type of key to create when upserting: aes128-gcm96, aes256-gcm96 (default), chacha20-poly1305.' },
      convergent_encryption: { type: 'bool', description: 'Whether an upserted key uses convergent encryption (requires a context).' },
      key_version: keyVersionField,
      associated_data: aadField,
      batch_input: batchField,
      partial_failure_response_code: partialField,
    },
    operations: { create: encryptWrite, update: encryptWrite },
    existenceCheck: encryptExists,
    help: { synopsis: 'Encrypt a plaintext value or a batch of plaintext blocks using a named key', description: 'This path uses the named key from the request path to encrypt a user provided plaintext or a batch of plaintext blocks. The plaintext must be base64 encoded.' },
  },
  {
    pattern: 'decrypt/:name',
    fields: {
      name: nameField,
      ciphertext: { type: 'string', description: 'The ciphertext to decrypt, provided as returned by encrypt.' },
      context: contextField,
      nonce: { type: 'string', description: 'Base64 encoded nonce (convergent encryption version 1 only; not supported).' },
      associated_data: aadField,
      batch_input: batchField,
      partial_failure_response_code: partialField,
    },
    operations: { update: decryptWrite },
    help: { synopsis: 'Decrypt a ciphertext value using a named key', description: 'This path uses the named key from the request path to decrypt a user provided ciphertext. The plaintext is returned base64 encoded.' },
  },
  {
    pattern: 'rewrap/:name',
    fields: { name: nameField, ciphertext: { type: 'string', description: 'Ciphertext value to rewrap' }, context: contextField, nonce: { type: 'string', description: 'Nonce for when convergent encryption is used (not supported).' }, key_version: keyVersionField, batch_input: batchField },
    operations: { update: rewrapWrite },
    help: { synopsis: 'Rewrap ciphertext', description: 'After key rotation, this function can be used to rewrap the given ciphertext or a batch of given ciphertext blocks with the latest version of the named key.' },
  },
  {
    pattern: 'datakey/:plaintext/:name',
    fields: {
      name: nameField,
      plaintext: { type: 'string', description: 'The type of data key: "plaintext" (returns plaintext and ciphertext) or "wrapped" (ciphertext only).' },
      context: contextField,
      nonce: { type: 'string', description: 'Nonce for when convergent encryption v1 is used (not supported).' },
      bits: { type: 'int', default: 256, description: 'Number of bits for the key; 128, 256 and 512 bits are supported. Defaults to 256.' },
      key_version: keyVersionField,
      associated_data: aadField,
    },
    operations: { update: datakeyWrite },
    help: { synopsis: 'Generate a data key', description: 'This path can be used to generate a data key: a random key of a certain length that can be used for encryption and decryption, protected by the named key.' },
  },
  ...['hmac/:name', 'hmac/:name/:urlalgorithm'].map(
    (pattern): PathSpec => ({
      pattern,
      fields: {
        name: nameField,
        input: { type: 'string', description: 'The base64-encoded input data' },
        algorithm: { type: 'string', default: 'sha2-256', description: 'Algorithm to use (POST body parameter): sha2-224|256|384|512, sha3-224|256|384|512.' },
        urlalgorithm: { type: 'string', description: 'Algorithm to use (POST URL parameter)' },
        key_version: keyVersionField,
        batch_input: batchField,
      },
      operations: { update: hmacWrite },
      help: { synopsis: 'Generate an HMAC for input data using the named key', description: 'Generates an HMAC sum of the given algorithm and key against the given input data.' },
    }),
  ),
  ...['sign/:name', 'sign/:name/:urlalgorithm'].map(
    (pattern): PathSpec => ({
      pattern,
      fields: signFields,
      operations: { update: signWrite },
      help: { synopsis: 'Generate a signature for input data using the named key', description: 'Generates a signature of the input data using the named key and the given hash algorithm.' },
    }),
  ),
  ...['verify/:name', 'verify/:name/:urlalgorithm'].map(
    (pattern): PathSpec => ({
      pattern,
      fields: { ...signFields, signature: { type: 'string', description: 'The signature, including vault header/key version' }, hmac: { type: 'string', description: 'The HMAC, including vault header/key version' } },
      operations: { update: verifyWrite },
      help: { synopsis: 'Verify a signature or HMAC for input data created using the named key', description: 'Verifies a signature or HMAC of the input data using the named key and the given hash algorithm.' },
    }),
  ),
  ...randomHashPaths(''),
];

/**
 * random[/<source>][/<bytes>] and hash[/<algorithm>] under `prefix`: a transit mount's own ("") and the
 * system backend's sys/tools/ ("tools/"), one implementation for both as in Vault.
 */
export function randomHashPaths(prefix: string): PathSpec[] {
  return [
    ...['random', 'random/:urlbytes', 'random/:source/:urlbytes'].map(
      (pattern): PathSpec => ({
        pattern: `${prefix}${pattern}`,
        fields: {
          urlbytes: { type: 'string', description: 'The number of bytes to generate (POST URL parameter)' },
          source: { type: 'string', default: 'platform', description: 'Which system to source random data from: "platform", "seal", or "all".' },
          bytes: { type: 'int', default: 32, description: 'The number of bytes to generate (POST body parameter). Defaults to 32 (256 bits).' },
          format: { type: 'string', default: 'base64', description: 'Encoding format to use. Can be "hex" or "base64". Defaults to "base64".' },
        },
        operations: { update: randomWrite },
        help: { synopsis: 'Generate random bytes', description: 'This function can be used to generate high-entropy random bytes.' },
      }),
    ),
    ...['hash', 'hash/:urlalgorithm'].map(
      (pattern): PathSpec => ({
        pattern: `${prefix}${pattern}`,
        fields: {
          input: { type: 'string', description: 'The base64-encoded input data' },
          algorithm: { type: 'string', default: 'sha2-256', description: 'Algorithm to use (POST body parameter): sha2-224|256|384|512, sha3-224|256|384|512.' },
          urlalgorithm: { type: 'string', description: 'Algorithm to use (POST URL parameter)' },
          format: { type: 'string', default: 'hex', description: 'Encoding format to use. Can be "hex" or "base64". Defaults to "hex".' },
        },
        operations: { update: hashWrite },
        help: { synopsis: 'Generate a hash sum for input data', description: 'Generates a hash sum of the given algorithm against the given input data.' },
      }),
    ),
  ];
}

export const opPaths: PathSpec[] = cryptoPaths.map((spec) => ({ ...spec, answersLocally: ['create', 'update'] }));

/** The `input` and optional `context` of one sign/verify item, or the per-item error Vault reports. */
function decodeSignItem(item: Raw): { input: Buffer; context: Uint8Array | null } | { error: string } {
  if (item.input === undefined) return { error: 'missing input' };
  let input: Buffer;
  try {
    input = decodeBase64(str(item, 'input'));
  } catch (err) {
    return { error: `unable to decode input as base64: ${(err as Error).message}` };
  }
  const contextRaw = str(item, 'context');
  if (contextRaw === '') return { input, context: null };
  try {
    return { input, context: decodeBase64(contextRaw) };
  } catch {
    return { error: 'failed to base64-decode context' };
  }
}
