// The one tagged union of Raft peer messages (discriminant `t`), classification tables and describe().
import { assert, assertNever } from '../../../runtime/assert.js';
import type { ConfChange, ConfState, Entry, NodeId, RaftMessage, RaftMessageBase } from './types.js';

interface Base {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** AppendEntries: `index`/`logTerm` name the entry preceding `entries`. */
export interface MsgApp extends Base {
  t: 'app';
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
}
/** Answer to app (and to a completed snapshot). On reject, hint = highest (term, index) that may match. */
export interface MsgAppResp extends Base {
  t: 'app-resp';
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
  /** The follower has no configuration at all (joined empty): send it the base snapshot. */
  noBase: boolean;
}
/** RequestVote. `index`/`logTerm` describe the candidate's last entry; `force` = leadership transfer. */
export interface MsgVote extends Base {
  t: 'vote' | 'prevote';
  index: number;
  logTerm: number;
  force: boolean;
}
/**
 * `commit`/`commitTerm`: the voter's commit index and the term of that entry. A committed entry is a fact
 * for everyone: a candidate holding the same entry (same index and term) may commit up to it, which is how
 * it learns of a committed membership change only a removed leader knew of (F5).
 */
export interface MsgVoteResp extends Base {
  t: 'vote-resp' | 'prevote-resp';
  reject: boolean;
  commit: number;
  commitTerm: number;
}
/** Heartbeat; `readSeq` > 0 confirms leadership for ReadIndex requests up to that sequence. */
export interface MsgHeartbeat extends Base {
  t: 'heartbeat';
  commit: number;
  readSeq: number;
}
/** `commit`: the follower's commit index after the heartbeat (a leaving leader waits for it, see leader.ts). */
export interface MsgHeartbeatResp extends Base {
  t: 'heartbeat-resp';
  readSeq: number;
  commit: number;
}
/** One InstallSnapshot chunk: bytes [offset, offset + data.length) of the snapshot image. */
export interface MsgSnap extends Base {
  t: 'snap';
  snapIndex: number;
  snapTerm: number;
  conf: ConfState;
  offset: number;
  totalBytes: number;
  data: Uint8Array;
  done: boolean;
}
/** Chunk acknowledgement: the follower holds `offset` bytes of the snapshot at snapIndex. */
export interface MsgSnapResp extends Base {
  t: 'snap-resp';
  snapIndex: number;
  offset: number;
}
export interface MsgTimeoutNow extends Base {
  t: 'timeout-now';
}
export interface MsgReadIndex extends Base {
  t: 'read-index';
  ctx: string;
}
export interface MsgReadIndexResp extends Base {
  t: 'read-index-resp';
  ctx: string;
  index: number;
}

export type RaftMsg =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgSnapResp
  | MsgTimeoutNow
  | MsgReadIndex
  | MsgReadIndexResp;

export type RaftMsgType = RaftMsg['t'];

/** Messages that are answers (they never start an exchange). */
export const isResponse = {
  app: false,
  'app-resp': true,
  vote: false,
  'vote-resp': true,
  prevote: false,
  'prevote-resp': true,
  heartbeat: false,
  'heartbeat-resp': true,
  snap: false,
  'snap-resp': true,
  'timeout-now': false,
  'read-index': false,
  'read-index-resp': true,
} as const satisfies Record<RaftMsgType, boolean>;

/** Messages only a leader sends: a receiver at the same term learns who the leader is from them. */
export const isFromLeader = {
  app: true,
  'app-resp': false,
  vote: false,
  'vote-resp': false,
  prevote: false,
  'prevote-resp': false,
  heartbeat: true,
  'heartbeat-resp': false,
  snap: true,
  'snap-resp': false,
  'timeout-now': true,
  'read-index': false,
  'read-index-resp': true,
} as const satisfies Record<RaftMsgType, boolean>;

/** Compile-time check that every variant routes as a RaftMessageBase. */
export type _RoutesAsBase = RaftMsg extends RaftMessageBase ? true : never;

export function describeConfChange(change: ConfChange): string {
  return `${change.t} ${change.node}`;
}

function describeData(data: Uint8Array): string {
  let printable = data.length <= 64;
  let text = '';
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e || byte === 0x22) {
      printable = false;
      break;
    }
    text += String.fromCharCode(byte);
  }
  return printable ? `"${text}"` : `<${data.length} bytes>`;
}

/**
 * The host's side of RaftNode.releasePayloads: an append carrying released entries ({ t: 'stored' }) gets
 * them back from `read(lo, hi)` (the host's log, entries lo..hi inclusive) before it leaves. Any other
 * message, and an append without released entries, is returned as it is.
 */
export function withStoredEntries(m: RaftMessage, read: (lo: number, hi: number) => Entry[]): RaftMessage {
  if (m.t !== 'app') return m;
  const app = m as unknown as MsgApp;
  let lo = 0;
  let hi = 0;
  for (const e of app.entries) {
    if (e.payload.t !== 'stored') continue;
    if (lo === 0) lo = e.index;
    hi = e.index;
  }
  if (lo === 0) return m;
  const stored = read(lo, hi);
  const entries = app.entries.map((e) => {
    if (e.payload.t !== 'stored') return e;
    const full = stored[e.index - lo];
    assert(full !== undefined && full.index === e.index && full.term === e.term && full.payload.t !== 'stored', `released entry ${e.term}/${e.index} is not in the host's log`);
    return full;
  });
  return { ...app, entries } as unknown as RaftMessage;
}

export function describeEntry(entry: Entry): string {
  const payload = entry.payload;
  switch (payload.t) {
    case 'empty':
      return `${entry.term}/${entry.index} empty`;
    case 'normal':
      return `${entry.term}/${entry.index} ${describeData(payload.data)}`;
    case 'conf':
      return `${entry.term}/${entry.index} conf:${describeConfChange(payload.change)}`;
    case 'stored':
      return `${entry.term}/${entry.index} stored`;
    default:
      return assertNever(payload);
  }
}

export function describeConf(conf: ConfState): string {
  const learners = conf.learners.length > 0 ? ` learners=(${conf.learners.join(',')})` : '';
  return `voters=(${conf.voters.join(',')})${learners}`;
}

/** One line per message, used by logs and by the golden interaction tests. */
export function describe(msg: RaftMsg): string {
  const head = `${msg.from}->${msg.to} ${msg.t} Term:${msg.term}`;
  switch (msg.t) {
    case 'app': {
      const entries = msg.entries.length > 0 ? ` Entries:[${msg.entries.map(describeEntry).join(', ')}]` : '';
      return `${head} Log:${msg.logTerm}/${msg.index} Commit:${msg.commit}${entries}`;
    }
    case 'app-resp': {
      if (msg.noBase) return `${head} Index:${msg.index} Rejected NoBase`;
      return msg.reject ? `${head} Index:${msg.index} Rejected Hint:${msg.hintTerm}/${msg.hintIndex}` : `${head} Index:${msg.index}`;
    }
    case 'vote':
    case 'prevote':
      return `${head} Log:${msg.logTerm}/${msg.index}${msg.force ? ' Force' : ''}`;
    case 'vote-resp':
    case 'prevote-resp':
      return msg.reject ? `${head} Rejected Commit:${msg.commitTerm}/${msg.commit}` : head;
    case 'heartbeat':
      return `${head} Commit:${msg.commit}${msg.readSeq > 0 ? ` Read:${msg.readSeq}` : ''}`;
    case 'heartbeat-resp':
      return msg.readSeq > 0 ? `${head} Read:${msg.readSeq}` : head;
    case 'snap':
      return `${head} Snap:${msg.snapTerm}/${msg.snapIndex} ${describeConf(msg.conf)} Bytes:${msg.offset}+${msg.data.length}/${msg.totalBytes}${msg.done ? ' Done' : ''}`;
    case 'snap-resp':
      return `${head} Snap:${msg.snapIndex} Offset:${msg.offset}`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head} Ctx:${msg.ctx}`;
    case 'read-index-resp':
      return `${head} Ctx:${msg.ctx} Index:${msg.index}`;
    default:
      return assertNever(msg);
  }
}
