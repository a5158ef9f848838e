// Reads on one standby, plain (served from its FSM as it stands) and linearizable
// (X-Coffer-Consistency: linearizable: a Raft ReadIndex round through the leader before the read).
import { ceilingPoint, etcdRangePoint } from './anchors.js';
import { cofferRead, tokenHeaders } from './shapes.js';
import { ratioTarget } from './targets.js';
import type { Family, Point, Settings } from './types.js';

function standbyRead(s: Settings, linearizable: boolean): Point {
  return {
    id: `coffer3.read.standby${linearizable ? '.lin' : ''}`,
    system: 'coffer-3',
    label: `coffer: KV v2 read on a standby${linearizable ? ', linearizable (ReadIndex)' : ''}, policy token`,
    connections: s.readConnections,
    plan: (t) => ({ url: t.urls[1] as string, requests: [cofferRead(s.readKeys, linearizable ? { 'X-Coffer-Consistency': 'linearizable' } : undefined)], headers: tokenHeaders(t.policyToken) }),
  };
}

export const linReadFamily: Family = {
  name: 'lin-read',
  title: 'Standby read, plain vs linearizable',
  description: 'GET on one standby of 3 with a policy token; the linearizable one sends X-Coffer-Consistency: linearizable (docs/ha-standby-reads.md), so each read waits for a ReadIndex confirmed by the leader. etcd: serializable vs linearizable range on a follower.',
  points: (s) => [standbyRead(s, false), standbyRead(s, true), etcdRangePoint(s, false, 'follower'), etcdRangePoint(s, true, 'follower'), ceilingPoint('read', s.readConnections)],
  rows: (s) => [
    { scenario: 'standby, plain', coffer: 'coffer3.read.standby', ceiling: `ceiling.read.c${s.readConnections}`, etcd: { id: 'etcd.range.ser.follower', op: 'serializable range on a follower' } },
    { scenario: 'standby, linearizable', coffer: 'coffer3.read.standby.lin', ceiling: `ceiling.read.c${s.readConnections}`, etcd: { id: 'etcd.range.lin.follower', op: 'linearizable range on a follower' } },
  ],
  targets: [ratioTarget('linearizable standby read >= 70% of the plain standby read', 'coffer3.read.standby.lin', 'coffer3.read.standby', 0.7)],
  interleave: ['coffer3.read.standby', 'coffer3.read.standby.lin'],
};
