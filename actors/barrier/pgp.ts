// PGP-encrypted key shares and root tokens, as Vault's init `pgp_keys` / `root_token_pgp_key`, rekey
// `pgp_keys` and generate-root `pgp_key`: each value is encrypted to one operator's public key, so it leaves
// the server readable only by that operator (`base64 -d | gpg -dq`). Keys are given as Vault takes them:
// base64 of the binary (not armored) public key, as `gpg --export <id> | base64` prints it. `keybase:<user>`
// needs a network lookup Coffer does not make. The openpgp library is loaded only when a key is given, so a
// node that never uses PGP does not carry it in memory.
import { CofferError } from '../../runtime/errors.js';

const invalid = (msg: string) => new CofferError('COFFER_ERR_INVALID_REQUEST', msg);

export interface PgpEncrypted {
  /** The encrypted values, binary OpenPGP messages, in the order of the keys. */
  values: Buffer[];
  /** Each key's fingerprint, lower-case hex (Vault's pgp_fingerprints). */
  fingerprints: string[];
}

/** Encrypts values[i] to keys[i]. 400 with the key's position when a key is not a usable public key. */
export async function encryptToPgpKeys(values: readonly Buffer[], keys: readonly string[]): Promise<PgpEncrypted> {
  if (values.length !== keys.length) throw invalid('count mismatch between number of provided PGP keys and number of shares');
  const openpgp = await import('openpgp');
  const out: PgpEncrypted = { values: [], fingerprints: [] };
  for (const [i, text] of keys.entries()) {
    if (text.startsWith('keybase:')) throw invalid(`pgp key ${i + 1}: keybase keys are not supported by this server; give the base64 of the binary public key`);
    const binary = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
    let key: Awaited<ReturnType<typeof openpgp.readKey>>;
    try {
      if (binary === null || binary.length === 0) throw new Error('not base64');
      key = await openpgp.readKey({ binaryKey: new Uint8Array(binary) });
    } catch {
      // The library's text may quote the input: never passed on.
      throw invalid(`pgp key ${i + 1}: not a base64-encoded binary OpenPGP public key`);
    }
    const message = await openpgp.createMessage({ binary: new Uint8Array(values[i] as Buffer) });
    let encrypted: Uint8Array;
    try {
      encrypted = (await openpgp.encrypt({ message, encryptionKeys: key, format: 'binary' })) as Uint8Array;
    } catch {
      throw invalid(`pgp key ${i + 1}: cannot encrypt to this key (no usable encryption subkey?)`);
    }
    out.values.push(Buffer.from(encrypted));
    out.fingerprints.push(key.getFingerprint().toLowerCase());
  }
  return out;
}

/** `pgp_keys` as a request gives it: a JSON list or a comma-separated string (Vault takes both). */
export function pgpKeyList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (list === null || !list.every((k) => typeof k === 'string')) throw invalid("'pgp_keys' must be a list of strings");
  return (list as string[]).map((k) => k.trim()).filter((k) => k !== '');
}
