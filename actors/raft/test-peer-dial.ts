// Test hook for the fault harness (test/harness/): lets a test put a nemesis proxy on every DIRECTED peer
// link. Each node process gets its own map, so n1->n2 and n2->n1 go through different proxies.
//
//   COFFER_TEST_PEER_DIAL="n2=127.0.0.1:4001,n2/forward=127.0.0.1:4101"
//     <id>=host:port          the Raft transport dials this instead of peer <id>'s cluster address
//     <id>/forward=host:port  the request-forwarding client dials this instead of <id>'s forward_addr
//   COFFER_TEST_FORWARD_LISTEN_PORT=4100
//     the forwarding listener binds this port instead of an ephemeral one (so a proxy can target it)
//
// Parsed once at module load. Unset (production): PEER_DIAL is null and callers skip the lookup.
import type { PeerAddress } from './transport.js';

function parse(spec: string | undefined): Map<string, PeerAddress> | null {
  if (spec === undefined || spec.trim() === '') return null;
  const map = new Map<string, PeerAddress>();
  for (const item of spec.split(',')) {
    const m = /^\s*([^=\s]+)=([^:\s]+):(\d+)\s*$/.exec(item);
    if (m === null) throw new Error(`COFFER_TEST_PEER_DIAL: bad entry ${JSON.stringify(item)} (want id=host:port)`);
    map.set(m[1]!, { host: m[2]!, port: Number(m[3]) });
  }
  return map;
}

const PEER_DIAL = parse(process.env.COFFER_TEST_PEER_DIAL);

/** The address to dial for `peerId` on `channel` when a test rewired it; undefined otherwise. */
export function testPeerDial(peerId: string, channel: 'raft' | 'forward'): PeerAddress | undefined {
  if (PEER_DIAL === null) return undefined;
  return PEER_DIAL.get(channel === 'raft' ? peerId : `${peerId}/forward`);
}

/** The pinned forwarding listener port (0 = ephemeral, the default). */
export const TEST_FORWARD_LISTEN_PORT = Number(process.env.COFFER_TEST_FORWARD_LISTEN_PORT ?? 0) || 0;
