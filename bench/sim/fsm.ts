// The host's state machine: a hash chain over every applied entry (index, term, payload digest) plus
// the membership configuration those entries produce. Two nodes with the same chain at an index
// applied exactly the same sequence up to it. Snapshot data is this state, encoded.
import { assert, assertNever } from '../../runtime/assert.js';
import { decode, encode } from '../../runtime/codec.js';
import type { ConfChange, ConfState, Entry, EntryPayload, Snapshot } from '../../actors/raft/core/types.js';

export interface FsmState {
  index: number;
  term: number;
  /** hash53 chain over (term, digest) of entries 1..index. */
  chain: number;
  conf: ConfState;
  /** Normal (client) entries applied. */
  normalCount: number;
}

/** cyrb53: a fast 53-bit string hash (public domain); collisions are irrelevant at simulator sizes. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export function bytesToText(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i] as number);
  return s;
}

export function textToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function describeChange(change: ConfChange): string {
  return `${change.t}:${change.node}`;
}

/** A short, exact rendering of a payload: equal digests mean equal payloads. */
export function payloadDigest(payload: EntryPayload): string {
  switch (payload.t) {
    case 'empty':
      return 'e';
    case 'normal':
      return `n:${bytesToText(payload.data)}`;
    case 'conf':
      return `c:${describeChange(payload.change)}`;
    case 'stored':
      return 's'; // never equal to a real payload's digest: a released entry the host did not fill in shows as a mismatch
    default:
      return assertNever(payload, 'payload');
  }
}

export function chainNext(chain: number, term: number, digest: string): number {
  return hash53(`${chain}|${term}|${digest}`);
}

export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((n) => n !== change.node);
  const learners = conf.learners.filter((n) => n !== change.node);
  switch (change.t) {
    case 'add-voter':
    case 'promote':
      voters.push(change.node);
      break;
    case 'add-learner':
    case 'demote':
      learners.push(change.node);
      break;
    case 'remove':
      break;
    case 'recover': // disaster recovery: this node alone votes, the listed learners follow
      return { voters: [change.node], learners: change.learners.filter((n) => n !== change.node).sort() };
    default:
      return assertNever(change, 'conf change');
  }
  voters.sort();
  learners.sort();
  return { voters, learners };
}

export function initialFsm(bootstrap: ConfState): FsmState {
  return { index: 0, term: 0, chain: 0, conf: { voters: [...bootstrap.voters], learners: [...bootstrap.learners] }, normalCount: 0 };
}

/** Apply one entry; the caller checks the order. Returns the new state (the old one is not touched). */
export function fsmApply(state: FsmState, entry: Entry): FsmState {
  assert(entry.index === state.index + 1, `fsm apply gap: ${entry.index} after ${state.index}`);
  const digest = payloadDigest(entry.payload);
  return {
    index: entry.index,
    term: entry.term,
    chain: chainNext(state.chain, entry.term, digest),
    conf: entry.payload.t === 'conf' ? applyConfChange(state.conf, entry.payload.change) : state.conf,
    normalCount: state.normalCount + (entry.payload.t === 'normal' ? 1 : 0),
  };
}

const SNAPSHOT_VERSION = 1;

export function encodeFsm(state: FsmState): Uint8Array {
  const buffer = encode([SNAPSHOT_VERSION, state.index, state.term, state.chain, state.conf.voters, state.conf.learners, state.normalCount]);
  const copy = new Uint8Array(buffer.length);
  copy.set(buffer);
  return copy;
}

export function decodeFsm(data: Uint8Array): FsmState {
  const copy = Buffer.from(data);
  const fields = decode<[number, number, number, number, string[], string[], number]>(copy);
  assert(Array.isArray(fields) && fields[0] === SNAPSHOT_VERSION, 'snapshot data: bad version');
  const [, index, term, chain, voters, learners, normalCount] = fields;
  return { index, term, chain, conf: { voters, learners }, normalCount };
}

export function snapshotOf(state: FsmState): Snapshot {
  return { meta: { index: state.index, term: state.term, conf: { voters: [...state.conf.voters], learners: [...state.conf.learners] } }, data: encodeFsm(state) };
}
