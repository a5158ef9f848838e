// The shape of a Raft message that arrived from a peer, checked before the core sees it. The transport
// authenticates peers (mutual TLS) and checks the envelope (type, from, to, term); this checks every field
// of every variant against actors/raft/core/messages.ts, so a malformed frame (a peer's bug, a version
// mismatch, a damaged byte that still decodes) is dropped and counted instead of throwing inside the core
// and fail-stopping the node. It checks types and ranges only: what the values mean is the core's business.
import type { RaftMessage } from './core/types.js';

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 256;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isIdList = (v: unknown): boolean => Array.isArray(v) && v.length <= 1_024 && v.every(isId);
const isConf = (v: unknown): boolean => typeof v === 'object' && v !== null && isIdList((v as Record<string, unknown>).voters) && isIdList((v as Record<string, unknown>).learners);
const CONF_CHANGES = new Set(['add-voter', 'add-learner', 'promote', 'demote', 'remove', 'recover']);

function isPayload(p: unknown): boolean {
  if (typeof p !== 'object' || p === null) return false;
  const x = p as Record<string, unknown>;
  switch (x.t) {
    case 'empty':
      return true;
    case 'normal':
      return isBytes(x.data);
    case 'conf': {
      const c = x.change as Record<string, unknown> | null;
      return typeof c === 'object' && c !== null && CONF_CHANGES.has(c.t as string) && isId(c.node) && (c.t !== 'recover' || isIdList(c.learners));
    }
    default:
      return false;
  }
}

function isEntries(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const e of v) {
    if (typeof e !== 'object' || e === null) return false;
    const x = e as Record<string, unknown>;
    if (!isIndex(x.index) || !isIndex(x.term) || !isPayload(x.payload)) return false;
  }
  return true;
}

/** Whether `m` (envelope already checked by the transport) has every field its variant needs, well typed. */
export function isWellFormedMessage(m: RaftMessage): boolean {
  const x = m as Record<string, unknown>;
  if (!isId(x.from) || !isId(x.to) || !isIndex(x.term)) return false;
  switch (x.t) {
    case 'app':
      return isIndex(x.index) && isIndex(x.logTerm) && isIndex(x.commit) && isEntries(x.entries);
    case 'app-resp':
      return isIndex(x.index) && isBool(x.reject) && isIndex(x.hintIndex) && isIndex(x.hintTerm) && isBool(x.noBase);
    case 'vote':
    case 'prevote':
      return isIndex(x.index) && isIndex(x.logTerm) && isBool(x.force);
    case 'vote-resp':
    case 'prevote-resp':
      return isBool(x.reject) && isIndex(x.commit) && isIndex(x.commitTerm);
    case 'heartbeat':
    case 'heartbeat-resp':
      return isIndex(x.commit) && isIndex(x.readSeq);
    case 'snap':
      return isIndex(x.snapIndex) && isIndex(x.snapTerm) && isConf(x.conf) && isIndex(x.offset) && isIndex(x.totalBytes) && isBytes(x.data) && isBool(x.done) && (x.offset as number) + (x.data as Uint8Array).length <= (x.totalBytes as number);
    case 'snap-resp':
      return isIndex(x.snapIndex) && isIndex(x.offset);
    case 'timeout-now':
      return true;
    case 'read-index':
      return typeof x.ctx === 'string' && x.ctx.length <= 1_024;
    case 'read-index-resp':
      return typeof x.ctx === 'string' && x.ctx.length <= 1_024 && isIndex(x.index);
    default:
      return false;
  }
}
