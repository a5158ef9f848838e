// Compiling a backend's path table once, at mount time, and routing requests through it.
// Conflicting patterns (two specs that can match the same path) fail at registration.
import { CofferError } from '../../../runtime/errors.js';
import type { Backend, FieldSchema, FieldValues, Operation, PathSpec } from './types.js';

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string; nonEmpty: boolean };

export interface CompiledPath {
  spec: PathSpec;
  segments: Segment[];
  /** Literal segments count first in ordering: more specific patterns win. */
  specificity: number;
}

export interface CompiledBackend {
  backend: Backend;
  paths: CompiledPath[];
  /** No path answers a write-type operation on a standby (no PathSpec.answersLocally): a standby forwards them all. */
  forwardsAllWrites: boolean;
}

export interface RouteMatch {
  spec: PathSpec;
  params: Record<string, string>;
}

function compilePattern(pattern: string): Segment[] {
  if (pattern === '') return [];
  const parts = pattern.split('/');
  return parts.map((part, i): Segment => {
    const m = /^:([a-z_][a-z0-9_]*)([*+]?)$/i.exec(part);
    if (!m) {
      if (part.includes(':')) throw new Error(`pattern "${pattern}": bad segment "${part}"`);
      return { kind: 'literal', text: part };
    }
    if (m[2]) {
      if (i !== parts.length - 1) throw new Error(`pattern "${pattern}": a rest segment must be last`);
      return { kind: 'rest', name: m[1] as string, nonEmpty: m[2] === '+' };
    }
    return { kind: 'param', name: m[1] as string };
  });
}

function matchSegments(segments: Segment[], path: string): Record<string, string> | null {
  const parts = path === '' ? [] : path.split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as Segment;
    if (seg.kind === 'rest') {
      const rest = parts.slice(i).join('/');
      if (seg.nonEmpty && rest === '') return null;
      params[seg.name] = rest;
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.kind === 'literal') {
      if (part !== seg.text) return null;
    } else {
      if (part === '') return null;
      params[seg.name] = part;
    }
  }
  return parts.length === segments.length ? params : null;
}

/** Two patterns conflict when some path matches both with equal specificity (the router could not choose). */
function conflicts(a: CompiledPath, b: CompiledPath): boolean {
  if (a.specificity !== b.specificity) return false;
  const probe = (segs: Segment[]) => segs.map((s) => (s.kind === 'literal' ? s.text : 'x')).join('/');
  return matchSegments(b.segments, probe(a.segments)) !== null || matchSegments(a.segments, probe(b.segments)) !== null;
}

export function compileBackend(backend: Backend): CompiledBackend {
  const paths = backend.paths.map((spec): CompiledPath => {
    const segments = compilePattern(spec.pattern);
    const literals = segments.filter((s) => s.kind === 'literal').length;
    const hasRest = segments.some((s) => s.kind === 'rest');
    return { spec, segments, specificity: literals * 4 + segments.length * 2 + (hasRest ? 0 : 1) };
  });
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      if (conflicts(paths[i] as CompiledPath, paths[j] as CompiledPath)) {
        throw new Error(`backend "${backend.type}": patterns "${paths[i]?.spec.pattern}" and "${paths[j]?.spec.pattern}" conflict`);
      }
    }
  }
  paths.sort((a, b) => b.specificity - a.specificity);
  return { backend, paths, forwardsAllWrites: !backend.paths.some((spec) => (spec.answersLocally?.length ?? 0) > 0) };
}

export function route(compiled: CompiledBackend, path: string): RouteMatch | null {
  for (const p of compiled.paths) {
    const params = matchSegments(p.segments, path);
    if (params) return { spec: p.spec, params };
  }
  return null;
}

/** Is the operation supported? `create` falls back to `update` when a spec has no create handler. */
export function handlerFor(spec: PathSpec, op: Operation) {
  return spec.operations[op] ?? (op === 'create' ? spec.operations.update : undefined);
}

// ---- fields ---------------------------------------------------------------------------------------

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Go duration strings ("1h30m", "90s", "1.5h") or integer seconds, to whole seconds. */
export function parseDurationSeconds(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value !== 'string') throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error converting input for field "${name}": not a duration`);
  const s = value.trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  let total = 0;
  let rest = s;
  const re = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/;
  if (rest === '') throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error converting input for field "${name}": empty duration`);
  while (rest.length > 0) {
    const m = re.exec(rest);
    // Never the submitted value: a field may carry a secret (HCSEC-2025-09 / CVE-2025-4166, CVE-2025-52893).
    if (!m) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error converting input for field "${name}": time: invalid duration`);
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return Math.trunc(total);
}

function convert(name: string, schema: FieldSchema, value: unknown): unknown {
  const bad = (what: string): never => {
    throw new CofferError('COFFER_ERR_INVALID_REQUEST', `error converting input for field "${name}": ${what}`);
  };
  switch (schema.type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return bad('expected a string');
    case 'int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isInteger(n)) return n;
      return bad('expected an integer');
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return bad('expected a boolean');
    case 'duration':
      return parseDurationSeconds(value, name);
    case 'map':
    case 'object':
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
      return bad('expected an object');
    case 'string-slice':
    case 'comma-string-slice':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
      if (typeof value === 'string') return schema.type === 'comma-string-slice' ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : [value];
      return bad('expected a list of strings');
    case 'any':
      return value;
  }
}

/** Validates and converts the schema'd fields; unknown fields are returned for Vault's warning. */
export function validateFields(schema: Record<string, FieldSchema> | undefined, data: Record<string, unknown>): { fields: FieldValues; unknown: string[] } {
  const fields: FieldValues = {};
  const known = schema ?? {};
  for (const [name, s] of Object.entries(known)) {
    const v = data[name];
    if (v === undefined || v === null) {
      if (s.required) throw new CofferError('COFFER_ERR_INVALID_REQUEST', `missing required field "${name}"`);
      if (s.default !== undefined) fields[name] = s.default;
      continue;
    }
    fields[name] = convert(name, s, v);
  }
  const unknown = Object.keys(data).filter((k) => !(k in known)).sort();
  return { fields, unknown };
}
