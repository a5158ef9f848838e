// In-memory cluster for the data-driven interaction tests (etcd rafttest/interaction_env style): nodes with
// durable storage, an FSM that concatenates normal entries, a message queue and partitions. Pure: the runner
// in interaction.test.ts does the file I/O.
import { assert } from '../../../runtime/assert.js';
import { applyConfChange, compareIds, normalizeConf } from './conf.js';
import { createRaftNode } from './index.js';
import { describe, describeConf, describeEntry, type RaftMsg } from './messages.js';
import type { ConfChange, ConfState, Entry, HardState, RaftConfig, RaftMessage, RaftNode, Ready, Snapshot } from './types.js';

interface Store {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
  bootstrap?: ConfState;
}

interface EnvNode {
  id: string;
  cfg: RaftConfig;
  node: RaftNode;
  store: Store;
  /** FSM image (comma-joined normal entries) and configuration after each applied index. */
  fsm: { index: number; text: string; conf: ConfState }[];
}

export type Args = { pos: string[]; kv: Map<string, string> };

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array) => String.fromCharCode(...b);
const list = (v: string | undefined) => (v === undefined || v === '()' ? [] : v.replace(/[()]/g, '').split(',').filter((x) => x.length > 0));

export class Env {
  /** RaftConfig.mutations for every node (the runner passes COFFER_MUTATIONS; the core never reads env). */
  constructor(private readonly mutations: RaftConfig['mutations'] = {}) {}
  nodes = new Map<string, EnvNode>();
  net: RaftMessage[] = [];
  groups: Map<string, number> | null = null;
  private out: string[] = [];

  handle(cmd: string, a: Args): string {
    this.out = [];
    const id = a.pos[0] ?? '';
    switch (cmd) {
      case 'add-nodes': this.addNodes(a); break;
      case 'campaign': this.get(id).node.campaign(); break;
      case 'tick': for (let i = 0; i < Number(a.pos[1] ?? 1); i++) this.get(id).node.tick(); break;
      case 'tick-election': { const n = this.get(id); for (let i = 0; i < 2 * n.cfg.electionTicks - 1; i++) n.node.tick(); break; }
      case 'tick-heartbeat': { const n = this.get(id); for (let i = 0; i < n.cfg.heartbeatTicks; i++) n.node.tick(); break; }
      case 'propose': this.result(this.get(id).node.propose(enc(a.pos[1] ?? ''))); break;
      case 'propose-n': for (let i = 1; i <= Number(a.pos[1]); i++) this.result(this.get(id).node.propose(enc(`${a.pos[2] ?? 'v'}${i}`))); break;
      case 'propose-conf-change': this.result(this.get(id).node.proposeConfChange({ t: a.pos[1], node: a.pos[2] } as ConfChange)); break;
      case 'read-index': this.result(this.get(id).node.readIndex(a.pos[1] ?? '')); break;
      case 'transfer-leader': this.result(this.get(id).node.transferLeadership(a.pos[1] ?? '')); break;
      case 'process-ready': for (const x of this.ids(a.pos)) this.processReady(x); break;
      case 'deliver-msgs': this.deliver(this.ids(a.pos), new Set(list(a.kv.get('drop'))), Number(a.kv.get('hold') ?? 0)); break;
      case 'stabilize': this.stabilize(this.ids(a.pos)); break;
      case 'partition': this.partition(a.pos); break;
      case 'heal': this.groups = null; break;
      case 'status': this.status(id); break;
      case 'raft-log': this.raftLog(id); break;
      case 'compact': this.compact(id, Number(a.pos[1])); break;
      case 'restart': this.restart(id); break;
      case 'msgs': for (const m of this.net) this.print(describe(m as unknown as RaftMsg)); break;
      default: throw new Error(`unknown command ${cmd}`);
    }
    return this.out.length === 0 ? 'ok' : this.out.join('\n');
  }

  private print(line: string): void { this.out.push(line); }
  private get(id: string): EnvNode { const n = this.nodes.get(id); assert(n !== undefined, `no node ${id}`); return n; }
  private ids(pos: string[]): string[] { return pos.length > 0 ? pos : [...this.nodes.keys()].sort(compareIds); }
  private result(r: { ok: boolean; error?: string; index?: number; term?: number }): void {
    this.print(r.ok ? (r.index !== undefined ? `ok ${r.term}/${r.index}` : 'ok') : `error: ${r.error}`);
  }

  private addNodes(a: Args): void {
    const count = Number(a.pos[0]);
    const voters = list(a.kv.get('voters'));
    const learners = list(a.kv.get('learners'));
    const opt = (k: string, d: number) => Number(a.kv.get(k) ?? d);
    for (let i = 0; i < count; i++) {
      const id = String(this.nodes.size + 1);
      const cfg: RaftConfig = {
        id, electionTicks: opt('election', 10), heartbeatTicks: opt('heartbeat', 1), maxInflightMsgs: opt('inflight', 256),
        maxEntriesPerMsg: opt('batch', 100), snapshotChunkBytes: opt('chunk', 1024), preVote: a.kv.get('prevote') === 'true',
        checkQuorum: a.kv.get('checkquorum') === 'true', seed: opt('seed', 0) + Number(id), mutations: this.mutations,
      };
      const store: Store = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
      if (voters.length > 0) store.bootstrap = normalizeConf({ voters, learners });
      const conf = store.bootstrap ?? { voters: [], learners: [] };
      this.nodes.set(id, { id, cfg, store, node: createRaftNode(cfg, { ...store, entries: [] }), fsm: [{ index: 0, text: '', conf }] });
    }
  }

  processReady(id: string): void {
    const n = this.get(id);
    if (!n.node.hasReady()) return;
    const rd = n.node.ready();
    this.print(`> ${id} handling Ready`);
    for (const line of describeReady(rd)) this.print(`  ${line}`);
    this.persist(n, rd);
    for (const e of rd.committed) this.apply(n, e);
    this.net.push(...rd.messages, ...rd.messagesAfterPersist);
    n.node.advance();
  }

  private persist(n: EnvNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      const s = rd.snapshot;
      n.store.snapshot = s;
      n.store.entries = [];
      n.fsm = [{ index: s.meta.index, text: dec(s.data), conf: s.meta.conf }];
    }
    if (rd.hardState !== null) n.store.hardState = rd.hardState;
    const first = rd.entries[0];
    if (first !== undefined) n.store.entries = [...n.store.entries.filter((e) => e.index < first.index), ...rd.entries];
  }

  private apply(n: EnvNode, e: Entry): void {
    const last = n.fsm[n.fsm.length - 1]!;
    assert(e.index === last.index + 1, `node ${n.id} applies ${e.index} after ${last.index}`);
    const text = e.payload.t === 'normal' ? (last.text === '' ? '' : `${last.text},`) + dec(e.payload.data) : last.text;
    const conf = e.payload.t === 'conf' ? applyConfChange(last.conf, e.payload.change) : last.conf;
    n.fsm.push({ index: e.index, text, conf });
  }

  /** `hold` leaves the oldest `hold` messages to each node in the network (delayed: models reordering). */
  private deliver(ids: string[], drop: Set<string>, hold = 0): boolean {
    let any = false;
    for (const to of ids) {
      const queued = this.net.filter((m) => m.to === to);
      const held = queued.slice(0, hold);
      const mine = queued.slice(hold);
      if (mine.length === 0) continue;
      this.net = this.net.filter((m) => m.to !== to || held.includes(m));
      any = true;
      this.print(`> ${to} receiving messages`);
      for (const m of mine) {
        const cut = this.groups !== null && this.groups.get(m.from) !== this.groups.get(m.to);
        if (drop.has(to) || cut || !this.nodes.has(to)) { this.print(`  dropped: ${describe(m as unknown as RaftMsg)}`); continue; }
        this.print(`  ${describe(m as unknown as RaftMsg)}`);
        this.get(to).node.step(m);
      }
    }
    return any;
  }

  private stabilize(ids: string[]): void {
    for (let round = 0; ; round++) {
      assert(round < 1000, 'stabilize did not converge');
      let progressed = false;
      for (const id of ids) if (this.get(id).node.hasReady()) { this.processReady(id); progressed = true; }
      if (this.deliver(ids, new Set())) progressed = true;
      if (!progressed) return;
    }
  }

  private partition(pos: string[]): void {
    this.groups = new Map();
    let group = 0;
    for (const p of pos) { if (p === '|') group++; else this.groups.set(p, group); }
  }

  private status(id: string): void {
    const s = this.get(id).node.status();
    this.print(`${s.id} ${s.role} term=${s.term} lead=${s.leader ?? '-'} commit=${s.commit} applied=${s.applied} log=[${s.firstIndex},${s.lastIndex}] ${describeConf(s.conf)}`);
    for (const [peer, p] of Object.entries(s.progress ?? {}).sort((x, y) => compareIds(x[0], y[0]))) {
      this.print(`  ${peer}: ${p.state} match=${p.match} next=${p.next}${p.active ? ' active' : ''}`);
    }
  }

  private raftLog(id: string): void {
    const st = this.get(id).store;
    if (st.snapshot !== null) this.print(`snapshot ${st.snapshot.meta.term}/${st.snapshot.meta.index} ${describeConf(st.snapshot.meta.conf)}`);
    if (st.entries.length === 0 && st.snapshot === null) this.print('log is empty');
    for (const e of st.entries) this.print(describeEntry(e));
  }

  private compact(id: string, index: number): void {
    const n = this.get(id);
    const at = n.fsm.filter((f) => f.index <= index).pop();
    assert(at !== undefined && at.index === index, `node ${id} has not applied ${index}`);
    const entry = n.store.entries.find((e) => e.index === index);
    const term = entry?.term ?? n.store.snapshot?.meta.term ?? 0;
    const snapshot: Snapshot = { meta: { index, term, conf: at.conf }, data: enc(at.text) };
    n.node.compact(snapshot);
    n.store.snapshot = snapshot;
    n.store.entries = n.store.entries.filter((e) => e.index > index);
    n.fsm = n.fsm.filter((f) => f.index >= index);
    this.status(id);
  }

  private restart(id: string): void {
    const n = this.get(id);
    const { hardState, snapshot, entries, bootstrap } = n.store;
    n.node = createRaftNode(n.cfg, { hardState, snapshot, entries: entries.slice(), ...(bootstrap ? { bootstrap } : {}) });
    const base = snapshot === null ? { index: 0, text: '', conf: bootstrap ?? { voters: [], learners: [] } } : { index: snapshot.meta.index, text: dec(snapshot.data), conf: snapshot.meta.conf };
    n.fsm = [base];
    this.status(id);
  }

  /** Cross-node check: entries applied at the same index are identical on every node. */
  checkApplied(): void {
    const seen = new Map<number, string>();
    for (const n of this.nodes.values()) for (const f of n.fsm) {
      const prev = seen.get(f.index);
      if (prev !== undefined) assert(prev === f.text, `state machines diverge at ${f.index}`);
      seen.set(f.index, f.text);
    }
  }
}

export function describeReady(rd: Ready): string[] {
  const lines: string[] = [];
  if (rd.softState !== null) lines.push(`Lead:${rd.softState.leader ?? '-'} State:${rd.softState.role}`);
  if (rd.hardState !== null) lines.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote ?? '-'} Commit:${rd.hardState.commit}`);
  if (rd.snapshot !== null) lines.push(`Snapshot ${rd.snapshot.meta.term}/${rd.snapshot.meta.index} ${describeConf(rd.snapshot.meta.conf)} Bytes:${rd.snapshot.data.length}`);
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(describeEntry));
  if (rd.committed.length > 0) lines.push('Committed:', ...rd.committed.map(describeEntry));
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map((m) => describe(m as unknown as RaftMsg)));
  if (rd.messagesAfterPersist.length > 0) lines.push('AfterPersist:', ...rd.messagesAfterPersist.map((m) => describe(m as unknown as RaftMsg)));
  for (const rs of rd.readStates) lines.push(`ReadState ctx=${rs.ctx} index=${rs.index}`);
  return lines;
}
