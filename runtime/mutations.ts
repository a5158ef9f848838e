// Mutation switches (RELIABILITY.md §7.3): deliberate bugs a test build can switch on to prove that the
// tests guarding each promise can fail. `COFFER_MUTATIONS=name[,name...]`, read once when this module
// loads. Never set in production; docs/faults.md lists which test each one must turn red, and
// `npm run soak -- --mutations` checks that it does.
//   ack-before-fsync        LMDB commits without a sync (noSync) and the log store resolves an append at
//                           commit, not at its flush: acks before fsync (RELIABILITY.md §6)
//   standby-reads-no-index  a node answers a request carrying X-Vault-Index without waiting for that index
//   old-term-commit         the leader commits an entry of an older term by counting replicas (Figure 8)
//   early-membership        a leader accepts a configuration change before it committed an entry of its term
//   skip-audit              the audit broker skips every audit write
// The Raft core is pure: its two switches reach it through RaftConfig.mutations (set by the raft host,
// the simulator and the fixture runner from mutations()), never from the environment.
export const MUTATIONS = ['ack-before-fsync', 'standby-reads-no-index', 'old-term-commit', 'early-membership', 'skip-audit'] as const;

export type MutationName = (typeof MUTATIONS)[number];

export function parseMutations(spec: string): ReadonlySet<MutationName> {
  const out = new Set<MutationName>();
  for (const name of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(MUTATIONS as readonly string[]).includes(name)) throw new Error(`COFFER_MUTATIONS: unknown mutation "${name}" (known: ${MUTATIONS.join(', ')})`);
    out.add(name as MutationName);
  }
  return out;
}

const active = parseMutations(process.env.COFFER_MUTATIONS ?? '');

/** True when the test build switched this mutation on. */
export function mutation(name: MutationName): boolean {
  return active.size > 0 && active.has(name);
}

/** The Raft core's switches, for RaftConfig.mutations. */
export function raftCoreMutations(): { oldTermCommit: boolean; earlyMembership: boolean } {
  return { oldTermCommit: mutation('old-term-commit'), earlyMembership: mutation('early-membership') };
}
