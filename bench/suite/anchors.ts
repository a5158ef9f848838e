// Points on the anchors, shared by the families (a point two families need runs once: same id).
// The ceiling is a bare node:http server answering Coffer's own body of that kind; etcd is a 3-member
// cluster driven over its JSON gateway.
import { cofferLookupSelf, etcdPut, etcdRange, ETCD_HEADERS, mix90, WRITE_BODY } from './shapes.js';
import type { BodyKind, Point, Settings, Shape } from './types.js';

export type CeilingKind = 'read' | 'lookup' | 'write' | 'mixed';

export function ceilingPoint(kind: CeilingKind, connections: number): Point {
  const get: BodyKind = kind === 'lookup' ? 'lookup' : 'read';
  const read: Shape = { method: 'GET', path: () => (kind === 'lookup' ? cofferLookupSelf.path() : '/v1/secret/data/bench/r/00000000') };
  const write: Shape = { method: 'PUT', path: () => '/v1/secret/data/bench/w/x', body: WRITE_BODY };
  const requests = kind === 'write' ? [write] : kind === 'mixed' ? mix90(read, write) : [read];
  const what = { read: 'GET, KV read body', lookup: 'GET, lookup-self body', write: 'PUT, KV write body', mixed: '90% GET / 10% PUT' }[kind];
  return {
    id: `ceiling.${kind}.c${connections}`,
    system: 'ceiling',
    label: `ceiling: bare node:http ${what}`,
    connections,
    get,
    put: 'write',
    needs: kind === 'write' ? ['write'] : kind === 'mixed' ? ['read', 'write'] : [get],
    plan: (t) => ({ url: t.url, requests, headers: { 'Content-Type': 'application/json' } }),
  };
}

export type EtcdWhere = 'leader' | 'follower' | 'spread';

const urlsOf = (t: { leader: string; followers: string[]; urls: string[] }, where: EtcdWhere): string | string[] =>
  where === 'leader' ? t.leader : where === 'follower' ? (t.followers[0] as string) : t.urls;

export function etcdRangePoint(s: Settings, linearizable: boolean, where: EtcdWhere): Point {
  const kind = linearizable ? 'linearizable' : 'serializable';
  return {
    id: `etcd.range.${linearizable ? 'lin' : 'ser'}.${where}`,
    system: 'etcd',
    label: `etcd: range ${kind}, ${where === 'spread' ? 'spread over 3' : `via the ${where}`}`,
    connections: s.readConnections,
    plan: (t) => ({ url: urlsOf(t, where), requests: [etcdRange(s.readKeys, !linearizable)], headers: ETCD_HEADERS }),
  };
}

export function etcdPutPoint(where: 'leader' | 'follower', connections: number): Point {
  return {
    id: `etcd.put.${where}.c${connections}`,
    system: 'etcd',
    label: `etcd: put via the ${where}`,
    connections,
    plan: (t) => ({ url: urlsOf(t, where), requests: [etcdPut()], headers: ETCD_HEADERS }),
  };
}

export function etcdMixedPoint(s: Settings): Point {
  return {
    id: 'etcd.mixed.leader',
    system: 'etcd',
    label: 'etcd: 90% linearizable range / 10% put via the leader',
    connections: s.readConnections,
    plan: (t) => ({ url: t.leader, requests: mix90(etcdRange(s.readKeys, false), etcdPut()), headers: ETCD_HEADERS }),
  };
}
