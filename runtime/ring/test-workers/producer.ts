// Test worker: writes `total` msgpack frames {i, pad} into the ring, waiting for space when full.
import { workerData } from 'node:worker_threads';
import { Ring } from '../ring.js';
import { encode } from '../../codec.js';

const { sab, total } = workerData as { sab: SharedArrayBuffer; total: number };
const ring = Ring.attach(sab);
for (let i = 0; i < total; i++) {
  const frame = encode({ i, pad: new Uint8Array(i % 200) });
  while (!ring.tryWrite(frame)) await ring.waitForSpace(frame.byteLength, 5000);
}
