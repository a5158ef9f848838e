// KV secrets engine, v1 and v2 (options.version). Placeholder until the KV backend lands: no paths.
import type { BackendFactory } from '../framework/types.js';

export const kvBackend: BackendFactory = () => ({ type: 'kv', help: 'key/value secrets (in progress)', paths: [] });
