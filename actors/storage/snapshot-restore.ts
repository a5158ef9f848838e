// Turning a verified snapshot file into the raft host's snapshot image (storage/snapshot-image.ts format,
// encode({kv: [k0, v0, ...]})), keeping what belongs to the RUNNING cluster rather than the snapshot's:
//   core/raft/peers      plain peer map (addresses of the running nodes; the snapshot's may be another cluster's)
//   core/lock, core/leader/*   HA advertisement of the snapshot's leader: dropped (the active node re-advertises on unseal)
// and adding the restore marker (RESTORE_MARKER_KEY, plain JSON) every node's core watches: a node whose
// keyring predates the marker seals itself (docs/snapshots-autopilot.md).
// Memory: the image is one buffer, as InstallSnapshot and compaction hold it today (the remaining limit).
import { randomUUID } from 'node:crypto';
import { encode } from '../../runtime/codec.js';
import type { StorageEnv } from './env.js';
import { readSnapshotFile, type SnapshotHeader } from './snapshot-format.js';

export const RESTORE_MARKER_KEY = 'core/raft/snapshot-restore';
const PEERS_KEY = 'core/raft/peers';

export interface RestoreMarker {
  id: string;
  restored_at: string;
  source_index: number;
  source_term: number;
}

export async function buildRestoreImage(path: string, env: StorageEnv): Promise<{ image: Buffer; header: SnapshotHeader; marker: RestoreMarker; pairs: number }> {
  const kv: (string | Buffer)[] = [];
  const result = await readSnapshotFile(path, (key, value) => {
    if (key === PEERS_KEY || key === 'core/lock' || key.startsWith('core/leader/') || key === RESTORE_MARKER_KEY) return;
    kv.push(key, value);
  });
  env.root.resetReadTxn();
  const peers = env.fsm.get(PEERS_KEY);
  if (peers !== undefined) kv.push(PEERS_KEY, Buffer.from(peers));
  const marker: RestoreMarker = { id: randomUUID(), restored_at: new Date().toISOString(), source_index: result.header.index, source_term: result.header.term };
  kv.push(RESTORE_MARKER_KEY, Buffer.from(JSON.stringify(marker)));
  return { image: encode({ kv }), header: result.header, marker, pairs: result.pairs };
}
