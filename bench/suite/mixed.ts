// 90% reads / 10% durable writes on the active node of 3: each connection sends 9 reads then 1 write.
import { ceilingPoint, etcdMixedPoint } from './anchors.js';
import { cofferRead, cofferWrite, mix90, tokenHeaders } from './shapes.js';
import type { Family } from './types.js';

export const mixedFamily: Family = {
  name: 'mixed',
  title: 'Mixed 90% read / 10% write',
  description: 'Each connection cycles 9 KV v2 reads and 1 durable KV v2 write (policy token) on the active node of 3. etcd: 9 linearizable ranges and 1 put via the leader.',
  points: (s) => [
    { id: 'coffer3.mixed', system: 'coffer-3', label: 'coffer: 90/10 read/write on the active node of 3', connections: s.readConnections, plan: (t) => ({ url: t.urls[0] as string, requests: mix90(cofferRead(s.readKeys), cofferWrite()), headers: tokenHeaders(t.policyToken) }) },
    ceilingPoint('mixed', s.readConnections),
    etcdMixedPoint(s),
  ],
  rows: (s) => [{ scenario: 'active node of 3', coffer: 'coffer3.mixed', ceiling: `ceiling.mixed.c${s.readConnections}`, etcd: { id: 'etcd.mixed.leader', op: '90% range / 10% put via the leader' } }],
  targets: [],
};
