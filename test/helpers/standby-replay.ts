// Appendix B of RELIABILITY.md for Coffer: validating eventually-consistent reads by replay, from a
// recorded history alone (test/harness/recorder.ts), without an apply journal.
//
// Where the committed sequence comes from, and why this is sound. Coffer has no per-entry apply journal
// yet, and KV v2 metadata only gives created_time, not the Raft index of a version. What the history does
// give, for every answer, is the node's applied index when the answer was written (X-Vault-Index), and for
// every acknowledged write its KV version (unique value per write, so a read's value names its write).
// From these, for the log index L_w of a write w:
//   - L_w <= U_w, the index on w's own acknowledgement: the active node answers only after applying w.
//   - L_w >  B_w, the highest index on ANY answer (any node) that returned before w was invoked: that
//     index was applied, hence committed, and every entry proposed later gets a higher index (a new
//     leader's log holds every committed entry).
// And for a read r served locally: it ran on one LMDB snapshot s with lo <= s <= hi, where hi is r's own
// X-Vault-Index (stamped when the answer was written, after the snapshot) and lo is the highest index this
// node served on an answer that returned before r was invoked, in the same process life (the applied
// index only grows within a life). A read returning version v of key k (or not-found) is then
//   - from the future (impossible)   if B_w >= hi for the write w that made v (L_w > hi >= s);
//   - stale at its index (a bug)     if an acknowledged write x of k with version > v has U_x <= lo
//                                    (L_x <= lo <= s, so the snapshot already held a newer version);
//   - garbage                        if no write ever wrote its value, or the value's write was
//                                    acknowledged with another version or key.
// Every flagged read is a real violation (no false positives); a read that is stale by one write that
// landed inside its own [lo, hi] window cannot be told apart and passes. The per-node served index must
// not go back in real time, restarts included (S2 in RELIABILITY.md §1.6).
import type { HarnessOp } from '../harness/recorder.js';

export interface ReplayOptions {
  /** The id of the node that was active for the whole run: answers marked `served-by: active` are its. */
  activeNode: string;
  /** Per node, the recorder instants at which it was killed (its next life starts a new `lo`). */
  kills?: ReadonlyMap<string, readonly number[]>;
}

export interface ReplayViolation {
  kind: 'garbage' | 'future' | 'stale' | 'index-regression';
  op: HarnessOp;
  detail: string;
}

export interface ReplayReport {
  /** ok reads with a served index that were checked. */
  reads: number;
  /** Of those, served by a standby itself (not relayed from the active node). */
  standbyReads: number;
  violations: ReplayViolation[];
  indexRegressions: number;
  /** Per standby read: entries behind the newest index any answer had shown before it was invoked. */
  lagEntries: number[];
  /** Per standby read: ms since the oldest acknowledged write of its key it does not reflect (0 if none). */
  lagMs: number[];
}

interface WriteInfo {
  op: HarnessOp;
  key: string;
  version?: number;
  /** Index on its acknowledgement. */
  ack?: number;
}

const served = (o: HarnessOp, active: string): string | null => (o.servedBy === 'standby' ? (o.node ?? null) : o.servedBy === 'active' ? active : null);

export function replayStandbyReads(history: readonly HarnessOp[], opts: ReplayOptions): ReplayReport {
  const done = history.filter((o) => o.ret !== undefined);
  const withIndex = done.filter((o) => o.index !== undefined && o.outcome === 'ok');
  // B: the highest index on any answer that returned before instant t (sweep over answers sorted by ret).
  const byRet = [...withIndex].sort((a, b) => (a.ret as number) - (b.ret as number));
  const prefixMax: number[] = [];
  let m = 0;
  for (const o of byRet) prefixMax.push((m = Math.max(m, o.index as number)));
  const maxIndexBefore = (t: number): number => {
    let lo = 0;
    let hi = byRet.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byRet[mid]!.ret as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : prefixMax[lo - 1]!;
  };

  const writes = new Map<string, WriteInfo>();
  const ackedByKey = new Map<string, WriteInfo[]>();
  for (const o of history) {
    if (o.input.kind !== 'write' && o.input.kind !== 'cas') continue;
    const w: WriteInfo = { op: o, key: o.key };
    if (o.outcome === 'ok' && o.output?.version !== undefined && (o.input.kind === 'write' || o.output.ok === true)) {
      w.version = o.output.version;
      if (o.index !== undefined) w.ack = o.index;
      if (w.ack !== undefined) {
        const list = ackedByKey.get(o.key) ?? [];
        list.push(w);
        ackedByKey.set(o.key, list);
      }
    }
    writes.set(o.input.value, w);
  }

  // Per served node: answers sorted by ret, for `lo` (same life) and the regression check (all lives).
  const perNode = new Map<string, HarnessOp[]>();
  for (const o of withIndex) {
    const n = served(o, opts.activeNode);
    if (n === null) continue;
    const list = perNode.get(n) ?? [];
    list.push(o);
    perNode.set(n, list);
  }
  for (const list of perNode.values()) list.sort((a, b) => (a.ret as number) - (b.ret as number));
  const lastKillBefore = (node: string, t: number): number => {
    let k = -Infinity;
    for (const at of opts.kills?.get(node) ?? []) if (at < t && at > k) k = at;
    return k;
  };
  /** Highest index `node` served on answers that returned before t (and after `after`). */
  const nodeMaxBefore = (node: string, t: number, after: number): number => {
    let best = 0;
    for (const o of perNode.get(node) ?? []) {
      if ((o.ret as number) >= t) break;
      if ((o.ret as number) > after) best = Math.max(best, o.index as number);
    }
    return best;
  };

  const report: ReplayReport = { reads: 0, standbyReads: 0, violations: [], indexRegressions: 0, lagEntries: [], lagMs: [] };
  for (const [node, list] of perNode) {
    for (const o of list) {
      const before = nodeMaxBefore(node, o.call, -Infinity);
      if ((o.index as number) < before) {
        report.indexRegressions++;
        report.violations.push({ kind: 'index-regression', op: o, detail: `${node} served index ${o.index} after it had served ${before}` });
      }
    }
  }

  for (const r of withIndex) {
    if (r.input.kind !== 'read') continue;
    const node = served(r, opts.activeNode);
    if (node === null) continue;
    report.reads++;
    const hi = r.index as number;
    const lo = Math.min(hi, nodeMaxBefore(node, r.call, lastKillBefore(node, r.call)));
    const out = r.output ?? {};
    const readVersion = out.found === true ? (out.version ?? 0) : 0;
    if (out.found === true) {
      const w = writes.get(out.value as string);
      if (w === undefined || w.key !== r.key || (w.version !== undefined && w.version !== out.version)) {
        report.violations.push({ kind: 'garbage', op: r, detail: `read ${r.key} = ${out.value} v${out.version}: ${w === undefined ? 'no write wrote this value' : `written to ${w.key} as v${w.version}`}` });
        continue;
      }
      const b = maxIndexBefore(w.op.call);
      if (b >= hi) report.violations.push({ kind: 'future', op: r, detail: `read ${r.key} v${out.version} served at index ${hi}, but its write was invoked after index ${b} was applied` });
    }
    const missed = (ackedByKey.get(r.key) ?? []).filter((x) => (x.version as number) > readVersion);
    const provablyNewer = missed.find((x) => (x.ack as number) <= lo);
    if (provablyNewer) {
      report.violations.push({ kind: 'stale', op: r, detail: `read ${r.key} v${readVersion} on ${node} at [${lo}, ${hi}], but v${provablyNewer.version} was applied by index ${provablyNewer.ack}` });
    }
    if (r.servedBy === 'standby') {
      report.standbyReads++;
      report.lagEntries.push(Math.max(0, maxIndexBefore(r.call) - hi));
      const oldest = missed.filter((x) => (x.op.ret as number) < r.call).reduce((t, x) => Math.min(t, x.op.ret as number), Infinity);
      report.lagMs.push(oldest === Infinity ? 0 : (r.call - oldest) / 1e6);
    }
  }
  return report;
}

/** p-th percentile (nearest rank) of `xs`; 0 for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
