// The system backend (sys/). Placeholder until it lands: no paths.
import type { BackendFactory } from '../framework/types.js';

export const systemBackend: BackendFactory = () => ({ type: 'system', help: 'system backend (in progress)', paths: [] });
