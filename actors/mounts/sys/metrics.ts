// sys/metrics and sys/in-flight-req. Their data lives on the HTTP front (main thread: the metrics
// registry, the in-flight map), so the handler only authorises the caller through the normal pipeline
// (token + ACL; sudo for in-flight-req, a root path in Vault) and answers a marker that the front
// replaces with the data (actors/observability/front.ts, FRONT_SERVED). The marker is honoured only
// for these two paths on the system mount, which cannot be unmounted or shadowed.
import type { PathSpec } from '../framework/types.js';

export const FRONT_SERVED = '__coffer_front_served';

export const metricsPaths: PathSpec[] = [
  {
    pattern: 'metrics',
    fields: { format: { type: 'string', description: "Response format: 'prometheus', or empty for JSON." } },
    operations: { read: async () => ({ raw: { status: 200, body: { [FRONT_SERVED]: 'sys/metrics' } } }) },
    help: { synopsis: 'Export the node\'s metrics.', description: 'Prometheus text with ?format=prometheus, else a JSON summary in the shape of Vault\'s in-memory sink.' },
  },
  {
    pattern: 'in-flight-req',
    sudo: true,
    operations: { read: async () => ({ raw: { status: 200, body: { [FRONT_SERVED]: 'sys/in-flight-req' } } }) },
    help: { synopsis: 'Requests in flight on this node.', description: 'Request id, start time, client address, path and method of each request this node is serving.' },
  },
];
