// KV secrets engine, v1 and v2 (options.version "2"; "1" or unset is v1), as Vault/OpenBao behave.
// Storage layout and deviations: docs/kv.md.
import type { Backend, BackendFactory, Handler, PathSpec } from '../framework/types.js';
import { v1Paths } from './v1.js';
import { dataPath, deletePath, destroyPath, rootWarning, subkeysPath, undeletePath } from './v2-data.js';
import { configPath, metadataPath } from './v2-metadata.js';

const V2_HELP =
  'This backend provides a versioned key-value store. Each key can have a configured number of versions, and versions can be retrieved based on their version numbers.';
const V1_HELP = 'The kv backend reads and writes arbitrary secrets to the backend. TTLs can be set on a per-secret basis.';

const SUB_COMMAND: Record<string, string> = { create: 'put', update: 'put', patch: 'patch', read: 'get', list: 'list', delete: 'delete' };

/** Any other path of a v2 mount: OpenBao answers 404 with a warning pointing at the CLI command. */
const invalidV2Path: Handler = async (req) => {
  if (['metadata', 'data', 'delete', 'undelete', 'destroy'].includes(req.path)) return rootWarning();
  const sub = SUB_COMMAND[req.operation] ?? 'get';
  return {
    data: null,
    statusCode: 404,
    warnings: [
      `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv ${sub}' for this operation.`,
    ],
  };
};

const invalidPath: PathSpec = {
  pattern: ':path*',
  operations: { read: invalidV2Path, update: invalidV2Path, patch: invalidV2Path, delete: invalidV2Path, list: invalidV2Path },
  help: { synopsis: 'Invalid path for a versioned K/V secrets engine.', description: V2_HELP },
};

export const kvBackend: BackendFactory = (mount) => {
  const v2 = mount.options.version === '2';
  const backend: Backend = v2
    ? { type: 'kv', help: V2_HELP, paths: [configPath, dataPath, metadataPath, deletePath, undeletePath, destroyPath, subkeysPath, invalidPath] }
    : { type: 'kv', help: V1_HELP, paths: v1Paths };
  return backend;
};
