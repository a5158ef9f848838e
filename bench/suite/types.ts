// The suite's vocabulary. A *point* is one measured load against one system (Coffer on one node, Coffer
// on three, the ceiling, etcd). A *family* is a scenario group: the points it needs, the table rows that
// put a Coffer point next to its ceiling and its etcd equivalent, and the targets it checks.
import type { RequestShape } from '../lib/load.js';

export type SystemId = 'coffer-1' | 'coffer-3' | 'ceiling' | 'etcd';

/** Kinds of response body the ceiling imitates (captured from Coffer's own answer of that kind). */
export type BodyKind = 'read' | 'write' | 'lookup';

export interface Settings {
  durationS: number;
  warmupS: number;
  quick: boolean;
  readConnections: number;
  writeConnections: number[];
  /** Keys preloaded in Coffer and etcd for reads; each read picks one at random. */
  readKeys: number;
  /** Secrets for the idle-memory scenario. */
  secrets: number;
  /** Stop starting new points after this many seconds; the rest are reported as skipped. */
  budgetS: number;
  outDir: string;
  json: boolean;
}

export interface Shape extends RequestShape {
  /** The probe stores this shape's answer as the ceiling's body of that kind. */
  kind?: BodyKind;
}

/** What a Coffer system offers its points. urls[0] is the active node. */
export interface CofferTarget {
  urls: string[];
  pids: number[];
  rootToken: string;
  /** A token holding only the bench policy (read bench/r/*, write bench/w/*, and the default policy). */
  policyToken: string;
}

export interface EtcdTarget {
  urls: string[];
  pids: number[];
  leader: string;
  followers: string[];
}

export interface CeilingTarget {
  url: string;
  pids: number[];
}

export interface LoadPlan {
  url: string | string[];
  requests: Shape[];
  headers?: Record<string, string>;
}

interface PointBase {
  id: string;
  label: string;
  connections: number;
}

export type Point =
  | (PointBase & { system: 'coffer-1' | 'coffer-3'; plan(t: CofferTarget): LoadPlan })
  | (PointBase & { system: 'etcd'; plan(t: EtcdTarget): LoadPlan })
  | (PointBase & { system: 'ceiling'; get: BodyKind; put: BodyKind; /** The Coffer answers it must imitate. */ needs: BodyKind[]; plan(t: CeilingTarget): LoadPlan });

export interface PointResult {
  id: string;
  system: SystemId;
  label: string;
  connections: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  non2xx: number;
  errors: number;
  total: number;
  /** Peak RSS (MiB) of each process of the system during the measured run (and its warm-up). */
  peakRssMiB: number[];
}

export interface FsyncResult {
  fsyncsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface MemoryResult {
  secrets: number;
  fillSeconds: number;
  fillPerSec: number;
  fillConcurrency: number;
  afterFill: { rssMiB: number; anonMiB: number; fileMiB: number };
  afterRestart: { rssMiB: number; anonMiB: number; fileMiB: number };
  idleEmptyRssMiB: number;
}

export interface Results {
  points: Map<string, PointResult>;
  fsync: FsyncResult | null;
  memory: MemoryResult | null;
  /** Point ids or steps that did not run, with why. */
  skipped: { what: string; why: string }[];
}

/** One table row: a Coffer point and what it is compared with. */
export interface RowSpec {
  scenario: string;
  coffer: string;
  ceiling: string;
  /** The etcd point doing the equivalent operation, and what that operation is. */
  etcd?: { id: string; op: string };
}

export interface TargetVerdict {
  measured: string;
  /** null: measured, but not under the target's conditions (e.g. fewer secrets), so no verdict. */
  pass: boolean | null;
}

export interface TargetSpec {
  what: string;
  /** null when the inputs did not run. */
  evaluate(r: Results, s: Settings): TargetVerdict | null;
}

export interface Family {
  name: string;
  title: string;
  /** What the scenarios mean, for the report and --help. */
  description: string;
  points(s: Settings): Point[];
  rows(s: Settings): RowSpec[];
  targets: TargetSpec[];
  needsFsync?: boolean;
  /** A measurement that is not a load point (the 100k-secret idle node). */
  measureMemory?: boolean;
  /** Two Coffer point ids of one system whose ratio is a target: measured A B B A (runner.ts). */
  interleave?: [string, string];
}
