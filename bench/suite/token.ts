// auth/token/lookup-self with a policy token on one node: token resolution and the answer, no engine.
import { ceilingPoint } from './anchors.js';
import { cofferLookupSelf, tokenHeaders } from './shapes.js';
import type { Family } from './types.js';

export const tokenFamily: Family = {
  name: 'token',
  title: 'Token lookup-self',
  description: 'GET auth/token/lookup-self with a policy token on one node (a dev server). etcd has no equivalent.',
  points: (s) => [
    { id: 'coffer1.lookup-self', system: 'coffer-1', label: 'coffer: token lookup-self on one node', connections: s.readConnections, plan: (t) => ({ url: t.urls[0] as string, requests: [cofferLookupSelf], headers: tokenHeaders(t.policyToken) }) },
    ceilingPoint('lookup', s.readConnections),
  ],
  rows: (s) => [{ scenario: 'one node, policy token', coffer: 'coffer1.lookup-self', ceiling: `ceiling.lookup.c${s.readConnections}` }],
  targets: [],
};
