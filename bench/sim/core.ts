// Loads the real core. A computed specifier keeps the simulator compiling on its own (types.ts is the
// contract); `COFFER_SIM_CORE=<path>` points it at another implementation of the same contract.
import { pathToFileURL } from 'node:url';
import { assert } from '../../runtime/assert.js';
import { raftCoreMutations } from '../../runtime/mutations.js';
import type { CreateRaftNode } from '../../actors/raft/core/types.js';

export async function loadCore(path?: string): Promise<CreateRaftNode> {
  const source = path ?? process.env.COFFER_SIM_CORE;
  const specifier = source === undefined || source === '' ? new URL('../../actors/raft/core/index.js', import.meta.url).href : pathToFileURL(source).href;
  const module = (await import(specifier)) as { createRaftNode?: CreateRaftNode };
  assert(typeof module.createRaftNode === 'function', `${specifier} does not export createRaftNode`);
  const create = module.createRaftNode;
  // COFFER_MUTATIONS (runtime/mutations.ts) reaches the pure core only through its config.
  const mutations = raftCoreMutations();
  return mutations.oldTermCommit || mutations.earlyMembership ? (config, storage) => create({ ...config, mutations }, storage) : create;
}
