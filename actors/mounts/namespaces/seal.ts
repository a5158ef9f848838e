// Sealable namespaces (OpenBao 2.6, docs/namespace-seals.md): the `seal` document of a namespace create,
// and the seal material a sealable namespace starts with. The material has the global seal's layout
// (actors/barrier/seal.ts) under the namespace's segment: `namespaces/<uuid>/core/seal-config`,
// `core/hsm/barrier-unseal-keys` (its root key under its own unseal key), `core/keyring` (under its root
// key), `core/root-key` and `core/shamir-kek` (under its keyring). Its unseal key exists only as the shares
// handed to the tenant; neither the root keyring nor the operator can open the namespace's keyring.
import { CofferError } from '../../../runtime/errors.js';
import { parseHcl } from '../../../runtime/hcl.js';
import { Barrier } from '../../barrier/barrier.js';
import { initializeShamir, validateSealConfig, type PhysicalWrite } from '../../barrier/seal.js';

export interface NamespaceSealConfig {
  shares: number;
  threshold: number;
}

const bad = (message: string): never => {
  throw new CofferError('COFFER_ERR_INVALID_REQUEST', message);
};

/** The `seal` parameter: one `seal "shamir" { shares = N threshold = T }` stanza, in HCL or JSON (OpenBao's messages). */
export async function parseNamespaceSeal(doc: unknown): Promise<NamespaceSealConfig> {
  if (typeof doc !== 'string' || doc.trim() === '') return bad('seal config must be a HCL or JSON string');
  let tree: unknown;
  try {
    tree = doc.trim().startsWith('{') ? JSON.parse(doc) : await parseHcl('seal.hcl', doc);
  } catch (err) {
    return bad(`unable to parse seal config: ${(err as Error).message}`);
  }
  const seals = (tree as { seal?: unknown } | null)?.seal;
  const kinds = typeof seals === 'object' && seals !== null ? Object.entries(seals as Record<string, unknown>) : [];
  const stanzas = kinds.flatMap(([kind, body]) => (Array.isArray(body) ? body : [body]).map((b) => [kind, b] as const));
  if (stanzas.length !== 1) return bad('seal config must contain exactly one seal stanza');
  const [kind, body] = stanzas[0]!;
  if (kind !== 'shamir') return bad('namespaces currently only support shamir seals');
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const int = (name: 'shares' | 'threshold'): number => {
    const v = fields[name];
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : bad(`value of ${name} parameter must be integer`);
  };
  const config = { shares: int('shares'), threshold: int('threshold') };
  const invalid = validateSealConfig(config.shares, config.threshold);
  if (invalid !== null) bad(`invalid seal config: ${invalid.replace(/^invalid seal configuration: /, '')}`);
  return config;
}

export interface NamespaceSealMaterial {
  /** The shares of the namespace's unseal key, for the response (hex, as OpenBao's `key_shares`). */
  shares: Buffer[];
  /** Writes relative to the namespace's segment, stored as they are (each carries its own encryption). */
  physical: PhysicalWrite[];
  /** Encrypts the namespace's first entries (its built-in mounts and default policy) with its keyring. */
  barrier: Barrier;
}

export async function createNamespaceSeal(config: NamespaceSealConfig, nowMs: number): Promise<NamespaceSealMaterial> {
  const { shares, keyring, physical } = await initializeShamir({ secretShares: config.shares, secretThreshold: config.threshold, nowMs });
  return { shares, physical, barrier: new Barrier(keyring) };
}
