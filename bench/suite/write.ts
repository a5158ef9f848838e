// Durable KV v2 writes (policy token, a new key each) through the active node of 3 and through a standby
// (forwarded to the active node over mutual TLS), at 1, 64 and 256 connections. etcd's equivalent: put
// via the leader / via a follower (etcd followers forward proposals to the leader too).
import { ceilingPoint, etcdPutPoint } from './anchors.js';
import { cofferWrite, tokenHeaders } from './shapes.js';
import { ratioTarget } from './targets.js';
import type { Family, Point, Settings } from './types.js';

function writePoint(via: 'active' | 'standby', connections: number): Point {
  return {
    id: `coffer3.write.${via}.c${connections}`,
    system: 'coffer-3',
    label: `coffer: KV v2 write via ${via === 'active' ? 'the active node' : 'a standby (forwarded)'}`,
    connections,
    plan: (t) => ({ url: t.urls[via === 'active' ? 0 : 1] as string, requests: [cofferWrite()], headers: tokenHeaders(t.policyToken) }),
  };
}

export const writeFamily: Family = {
  name: 'write',
  title: 'KV v2 write (durable, 3 nodes)',
  description: 'PUT secret/data/bench/w/<new key> (100-byte value, policy token) on a 3-node cluster, through the active node and through a standby, at each write connection count. Each answer means the write is fsynced on a quorum.',
  needsFsync: true,
  points: (s: Settings) =>
    s.writeConnections.flatMap((c) => [writePoint('active', c), etcdPutPoint('leader', c), ceilingPoint('write', c), writePoint('standby', c), etcdPutPoint('follower', c)]),
  rows: (s) =>
    s.writeConnections.flatMap((c) => [
      { scenario: `via the active node, ${c} conn`, coffer: `coffer3.write.active.c${c}`, ceiling: `ceiling.write.c${c}`, etcd: { id: `etcd.put.leader.c${c}`, op: 'put via the leader' } },
      { scenario: `via a standby, ${c} conn`, coffer: `coffer3.write.standby.c${c}`, ceiling: `ceiling.write.c${c}`, etcd: { id: `etcd.put.follower.c${c}`, op: 'put via a follower' } },
    ]),
  targets: [
    ratioTarget('KV v2 write via the active of 3, 64 conn >= 2x etcd put (64 conn, leader)', 'coffer3.write.active.c64', 'etcd.put.leader.c64', 2),
    {
      what: 'KV v2 write via the active of 3, 64 conn >= 2x the fsync rate',
      evaluate: (r) => {
        const w = r.points.get('coffer3.write.active.c64');
        if (!w || !r.fsync) return null;
        const ratio = w.requestsPerSec / r.fsync.fsyncsPerSec;
        return { measured: `${ratio.toFixed(2)}x (${Math.round(w.requestsPerSec).toLocaleString('en-US')} writes/s vs ${Math.round(r.fsync.fsyncsPerSec).toLocaleString('en-US')} fsyncs/s)`, pass: ratio >= 2 };
      },
    },
  ],
};
