// The token store (auth/token/). Placeholder until it lands: no paths.
import type { BackendFactory } from '../framework/types.js';

export const tokenBackend: BackendFactory = () => ({ type: 'token', help: 'token store (in progress)', paths: [] });
