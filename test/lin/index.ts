// Linearizability checking for Coffer's fault tests (RELIABILITY.md Appendix A; docs/linearizability.md).
export type { Model } from './model.js';
export { fnv1a, fnv1aInt, splitmix32 } from './model.js';
export type { Outcome, RecordedOp, Operation, PreparedHistory } from './history.js';
export { HistoryError, prepareHistory } from './history.js';
export type { KvInput, KvOutput, KvState, KvViolationClass } from './kv-model.js';
export { kvModel, classifyKvViolation, describeKvOperation } from './kv-model.js';
export type { Verdict, CheckOptions, CheckResult, PartitionResult, Violation } from './checker.js';
export { checkHistory, checkPartition, partitionByKey } from './checker.js';
export type { KvEvent, KvInvokeEvent, KvReturnEvent, WireTime } from './jsonl.js';
export { parseKvJsonl, formatKvJsonl } from './jsonl.js';
export { bruteForceLinearizable } from './brute.js';
