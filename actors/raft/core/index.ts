// Public entry of the pure Raft core.
import { createNode } from './node.js';
import type { CreateRaftNode } from './types.js';

export const createRaftNode: CreateRaftNode = createNode;
export { describe, describeEntry, describeConf, withStoredEntries, type RaftMsg } from './messages.js';
export { applyConfChange } from './conf.js';
export type * from './types.js';
