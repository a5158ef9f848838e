// Coffer's per-key versioned KV register (RELIABILITY.md Appendix A.2), KV v2 semantics. Pure.
import { fnv1a, fnv1aInt, type Model } from './model.js';
import type { Operation } from './history.js';

export type KvInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expectVersion: number; readonly value: string }
  | { readonly kind: 'delete' };

/**
 * read: `found`, and when found `value` and `version` (version may be omitted, e.g. KV v1: not checked).
 * write: `version` (optional). cas: `ok` (did the check-and-set apply) and, when ok, `version` (optional).
 * delete: nothing.
 */
export interface KvOutput {
  readonly found?: boolean;
  readonly value?: string;
  readonly version?: number;
  readonly ok?: boolean;
}

export interface KvState {
  readonly exists: boolean;
  readonly value: string | null;
  /** Latest version number; kept by a (soft) delete, so the next write gets version + 1. */
  readonly version: number;
}

const INIT: KvState = { exists: false, value: null, version: 0 };

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: 'coffer-kv-v2',
  init: () => INIT,
  step(state, input, output) {
    switch (input.kind) {
      case 'read': {
        if (output === undefined) return state;
        if (output.found !== state.exists) return undefined;
        if (state.exists) {
          if (output.value !== state.value) return undefined;
          if (output.version !== undefined && output.version !== state.version) return undefined;
        }
        return state;
      }
      case 'write': {
        const next: KvState = { exists: true, value: input.value, version: state.version + 1 };
        if (output !== undefined && output.version !== undefined && output.version !== next.version) return undefined;
        return next;
      }
      case 'cas': {
        const match = input.expectVersion === state.version;
        const applied: KvState = { exists: true, value: input.value, version: state.version + 1 };
        if (output === undefined) return match ? applied : state;
        if (output.ok !== match) return undefined;
        if (!match) return state;
        if (output.version !== undefined && output.version !== applied.version) return undefined;
        return applied;
      }
      case 'delete':
        return state.exists ? { exists: false, value: null, version: state.version } : state;
    }
  },
  hash: (s) => fnv1a(s.value ?? '', fnv1aInt(s.version, s.exists ? 1 : 2)),
  equal: (a, b) => a.exists === b.exists && a.version === b.version && a.value === b.value,
  readOnly: (input) => input.kind === 'read',
  describeOperation: describeKvOperation,
  describeState: (s) => (s.exists ? `{value ${JSON.stringify(s.value)}, version ${s.version}}` : `{not found, version ${s.version}}`),
};

export function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const out = (text: string) => (output === undefined ? `${text} -> ?` : text);
  switch (input.kind) {
    case 'read':
      if (output === undefined) return 'read -> ?';
      return output.found ? `read -> ${JSON.stringify(output.value)}${output.version !== undefined ? ` v${output.version}` : ''}` : 'read -> not found';
    case 'write':
      return output?.version !== undefined ? `write ${JSON.stringify(input.value)} -> v${output.version}` : out(`write ${JSON.stringify(input.value)}`);
    case 'cas': {
      const head = `cas(v${input.expectVersion}) ${JSON.stringify(input.value)}`;
      if (output === undefined) return `${head} -> ?`;
      return output.ok ? `${head} -> ok${output.version !== undefined ? ` v${output.version}` : ''}` : `${head} -> mismatch`;
    }
    case 'delete':
      return out('delete');
  }
}

export type KvViolationClass = 'stale-read' | 'garbage-read' | 'version-conflict' | 'unclassified';

/**
 * Names the kind of anomaly for a report (Appendix A.5), given the partition's operations and the operation
 * that could not be placed. A heuristic label only; the verdict comes from the search.
 * - garbage-read: a read returned a value (or value+version) that no write/CAS of the key could have produced;
 * - stale-read: a read returned version v although a write/CAS acknowledged with a version > v returned
 *   before the read was invoked;
 * - version-conflict: two acknowledged writes/CAS returned the same version.
 */
export function classifyKvViolation(ops: readonly Operation<KvInput, KvOutput>[], stuck: Operation<KvInput, KvOutput>): KvViolationClass {
  const acked = new Map<number, number>();
  for (const o of ops) {
    const v = o.output?.version;
    if ((o.input.kind === 'write' || (o.input.kind === 'cas' && o.output?.ok === true)) && v !== undefined) {
      acked.set(v, (acked.get(v) ?? 0) + 1);
    }
  }
  if (stuck.input.kind === 'read' && stuck.output?.found === true) {
    const { value, version } = stuck.output;
    const produced = ops.some((o) => (o.input.kind === 'write' || o.input.kind === 'cas') && o.input.value === value && (version === undefined || o.output?.version === undefined || o.output.version === version));
    if (!produced) return 'garbage-read';
    if (version !== undefined) {
      const newer = ops.some((o) => o.output?.version !== undefined && o.output.version > version && (o.input.kind === 'write' || o.output.ok === true) && o.ret < stuck.call);
      if (newer) return 'stale-read';
    }
  }
  if (stuck.input.kind === 'read' && stuck.output?.found === false && !ops.some((d) => d.input.kind === 'delete')) {
    // Not found although a write of the key was acknowledged before the read was invoked, and nothing deletes.
    const earlier = ops.some((o) => (o.input.kind === 'write' || (o.input.kind === 'cas' && o.output?.ok === true)) && o.output !== undefined && o.ret < stuck.call);
    if (earlier) return 'stale-read';
  }
  for (const n of acked.values()) if (n > 1) return 'version-conflict';
  return 'unclassified';
}
