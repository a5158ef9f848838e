// CIDR helpers for auth methods (token_bound_cidrs, approle secret_id_bound_cidrs / cidr_list) and the
// pipeline's check of a token's bound CIDRs. Like Vault's parseutil.ParseAddrs, a bare address counts
// as a single-host block (/32 or /128). IPv4-mapped IPv6 client addresses ("::ffff:10.0.0.1", what
// Node reports on a dual-stack socket) are compared as IPv4.
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8" or a bare address → the block; null if malformed. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = normalizeAddress(slash >= 0 ? s.slice(0, slash) : s);
  const v = isIP(addr);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return { address: addr, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** Every entry parses as an address or CIDR block. */
export function validCidrList(list: readonly string[]): boolean {
  return list.every((c) => parseCidr(c) !== null);
}

/** Strips a zone ("fe80::1%eth0") and maps "::ffff:a.b.c.d" to "a.b.c.d". */
export function normalizeAddress(addr: string): string {
  let a = addr.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? (mapped[1] as string) : a;
}

function blockOf(c: Cidr): BlockList {
  const list = new BlockList();
  list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** Is the client address inside one of the blocks? Unparseable address or blocks → false (fail closed). */
export function addressInCidrs(address: string | undefined, cidrs: readonly string[]): boolean {
  if (!address) return false;
  const a = normalizeAddress(address);
  const v = isIP(a);
  if (v === 0) return false;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  for (const text of cidrs) {
    const c = parseCidr(text);
    if (c && c.family === family && blockOf(c).check(a, family)) return true;
  }
  return false;
}

/** Vault's cidrutil.SubsetBlocks: every block of `inner` lies inside some block of `outer`. */
export function cidrsSubset(outer: readonly string[], inner: readonly string[]): boolean {
  const outs = outer.map(parseCidr);
  if (outs.some((c) => c === null)) return false;
  return inner.every((text) => {
    const c = parseCidr(text);
    if (!c) return false;
    return (outs as Cidr[]).some((o) => o.family === c.family && c.prefix >= o.prefix && blockOf(o).check(c.address, c.family));
  });
}
