// KV v2 reads with the root token and with a policy token: on one node (a dev server), on the active node
// of a 3-node cluster, and spread over all three (standbys answer from their own FSM).
import { ceilingPoint, etcdRangePoint } from './anchors.js';
import { cofferRead, tokenHeaders } from './shapes.js';
import { ratioTarget } from './targets.js';
import type { CofferTarget, Family, Point, Settings } from './types.js';

type Token = 'root' | 'policy';
const tokenOf = (t: CofferTarget, which: Token) => (which === 'root' ? t.rootToken : t.policyToken);

function readPoint(s: Settings, id: string, system: 'coffer-1' | 'coffer-3', label: string, which: Token, urls: (t: CofferTarget) => string | string[]): Point {
  return {
    id,
    system,
    label: `coffer: ${label}, ${which} token`,
    connections: s.readConnections,
    plan: (t) => ({ url: urls(t), requests: [cofferRead(s.readKeys)], headers: tokenHeaders(tokenOf(t, which)) }),
  };
}

export const readFamily: Family = {
  name: 'read',
  title: 'KV v2 read',
  description: 'GET secret/data/bench/r/<random of the preloaded keys> with the root token and with a policy token: one node; the active node of 3; spread over 3 (connections split evenly).',
  // Ratio partners next to each other in time: the target point, then the ceiling and etcd it is divided by.
  points: (s) => {
    const one = (w: Token) => readPoint(s, `coffer1.read.${w}`, 'coffer-1', 'KV v2 read on one node', w, (t) => t.urls[0] as string);
    const active = (w: Token) => readPoint(s, `coffer3.read.active.${w}`, 'coffer-3', 'KV v2 read on the active node of 3', w, (t) => t.urls[0] as string);
    const spread = (w: Token) => readPoint(s, `coffer3.read.spread.${w}`, 'coffer-3', 'KV v2 read spread over 3 nodes', w, (t) => t.urls);
    return [one('policy'), ceilingPoint('read', s.readConnections), etcdRangePoint(s, true, 'leader'), one('root'), active('policy'), active('root'), spread('policy'), etcdRangePoint(s, false, 'spread'), spread('root')];
  },
  rows: (s) => {
    const ceiling = `ceiling.read.c${s.readConnections}`;
    const lin = { id: 'etcd.range.lin.leader', op: 'linearizable range via the leader' };
    const ser = { id: 'etcd.range.ser.spread', op: 'serializable range spread over 3' };
    return (['root', 'policy'] as const).flatMap((w) => [
      { scenario: `one node, ${w} token`, coffer: `coffer1.read.${w}`, ceiling, etcd: lin },
      { scenario: `active node of 3, ${w} token`, coffer: `coffer3.read.active.${w}`, ceiling, etcd: lin },
      { scenario: `spread over 3, ${w} token`, coffer: `coffer3.read.spread.${w}`, ceiling, etcd: ser },
    ]);
  },
  targets: [
    ratioTarget('KV v2 read, one node, policy token >= 60% of the ceiling', 'coffer1.read.policy', (s) => `ceiling.read.c${s.readConnections}`, 0.6),
    ratioTarget('KV v2 read, one node, policy token >= 3x etcd linearizable range', 'coffer1.read.policy', 'etcd.range.lin.leader', 3),
  ],
};
