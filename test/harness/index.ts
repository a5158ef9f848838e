// The Jepsen-style fault harness (RELIABILITY.md §7.1): record a KV history from many clients, inject
// faults, check the history with test/lin, check the end state, keep a report on failure.
//
// Pieces (one job per file):
//   recorder.ts       Recorder: one clock (process.hrtime.bigint, ns), one outstanding op per client,
//                     invoke(client, key, input, exec) -> HarnessOp; history() (RecordedOp[] + node/index/
//                     servedBy/error); jsonl() (docs/linearizability.md format); uniqueValue(client).
//   http-call.ts      httpCall(): one request with call/ret taken on the recorder clock; HttpCallError.sent
//                     tells a definite failure (never sent) from an indeterminate one. clientAgent().
//   coffer-kv.ts      cofferKvOp(opts, key, input): KV v2 read/write/cas/delete against one node -> OpResult
//                     (readMode 'linearizable' sends X-Coffer-Consistency; 'local' is a plain standby read);
//                     decodeVaultIndex(header) -> the Raft index in X-Vault-Index.
//   etcd-kv.ts        etcdKvOp(opts, key, input): the same register on etcd's JSON gateway (readMode
//                     'linearizable' | 'serializable').
//   workload.ts       Workload: N closed-loop clients (pinned or roaming endpoints), read/write/CAS on
//                     ≤ liveKeys keys, opsPerKey then fresh keys; seededRandom(seed).
//   proxy.ts          NemesisProxy / startProxy: TCP proxy on 127.0.0.1 with per-direction (tx/rx) and
//                     per-connection-class faults: blackhole, delay ± jitter, drop %; heal(); close().
//   coffer-cluster.ts startCofferCluster(): N Coffer processes, a proxy on every directed peer link
//                     (raft[i][j], fwd[i][j]; COFFER_TEST_PEER_DIAL hook), init/unseal/join, secret/ KV v2;
//                     setLink(i, j, fault), healAll(), kill/restart/pause/resume by PID, wipe(i) + rejoin(i)
//                     (empty data dir, retry_join, unseal, standby + voter), activeNode(),
//                     waitHealthy(), logs(), crashLines() (fatal/actor-crash lines over every life), close(keepData).
//   coffer-faults.ts  COFFER_FAULTS and injectFault(): one fault held for holdMs, then healed; FaultRecord.
//   coffer-final.ts   finalWrite(), waitAllApplied(), readAllVersions() (every stored version of the run's
//                     keys), lostAckedWrites(), duplicateApplies(), divergentKeys(): end-of-run checks.
//   etcd-control.ts   startProxiedEtcd(): a 3-member etcd (bench/lib/etcd-cluster.ts) whose peer traffic
//                     passes one proxy per member, faults attributed to the sending member (X-Server-From).
//   check.ts          checkLinearizable(history) -> LinSummary; definiteStaleReads(); ackedWrites();
//                     patchIndeterminateWrites(history, appliedValues) (etcd's history patch); describeOp().
//   report.ts         RunReport: history-<run>.jsonl, events.jsonl, summary.txt; finish(ok) removes on success.
//
// A typical run (see test/lin-kv-active.test.ts):
//   const rec = new Recorder();
//   const w = new Workload({ recorder: rec, clients, liveKeys: 10, opsPerKey: 200, keyPrefix: 'r1-', … });
//   w.start(); await sleep(1500); await injectFault({ cluster, fault: 'isolate-leader', … }); … await w.stop();
//   const lin = checkLinearizable(rec.history());   // lin.verdict === 'ok'
export { Recorder, type HarnessOp, type OpResult } from './recorder.js';
export { httpCall, HttpCallError, clientAgent, type HttpAnswer, type HttpCallOptions } from './http-call.js';
export { cofferKvOp, decodeVaultIndex, type CofferKvOptions } from './coffer-kv.js';
export { etcdKvOp, type EtcdKvOptions } from './etcd-kv.js';
export { Workload, seededRandom, type Endpoint, type WorkloadClient, type WorkloadOptions } from './workload.js';
export { NemesisProxy, startProxy, type LinkFault, type Direction, type ProxyOptions, type ProxyStats } from './proxy.js';
export { startCofferCluster, type CofferCluster, type CofferNode, type StartCofferClusterOptions } from './coffer-cluster.js';
export { COFFER_FAULTS, injectFault, type CofferFault, type FaultRecord, type FaultOptions } from './coffer-faults.js';
export { finalWrite, waitAllApplied, readAllVersions, lostAckedWrites, duplicateApplies, divergentKeys, type LostWrite, type KeyVersions } from './coffer-final.js';
export { startProxiedEtcd, etcdSenderOf, type ProxiedEtcd } from './etcd-control.js';
export { checkLinearizable, definiteStaleReads, ackedWrites, patchIndeterminateWrites, describeOp, type LinSummary } from './check.js';
export { RunReport } from './report.js';
