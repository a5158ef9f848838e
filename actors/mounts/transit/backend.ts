// Transit secrets engine: encryption as a service with named, versioned keys, as Vault/OpenBao's
// builtin/logical/transit behaves. Paths: keys.ts (key management) and ops.ts (cryptographic
// operations); the cryptography itself is crypto.ts. Deviations and storage layout: docs/transit.md.
import type { BackendFactory } from '../framework/types.js';
import { keyPaths } from './keys.js';
import { opPaths } from './ops.js';

const HELP =
  'The transit backend is used to encrypt and decrypt data in-transit. It stores no data other than the keys: a named key can encrypt, decrypt, sign, verify and HMAC data, and key versions can be rotated.';

export const transitBackend: BackendFactory = () => ({ type: 'transit', help: HELP, paths: [...keyPaths, ...opPaths] });
