// One Raft node as a process, for the cluster test: an ActorSystem with the raft actor (RaftHost + LogStore
// + Fsm + mutual-TLS transport) and a JSON-lines control channel, no HTTP.
//   config:  env RAFT_NODE_CONFIG = JSON RaftActorConfig (static peer list, TLS PEMs)
//   stdin:   {"id":1,"op":"status"} | {"id":2,"op":"propose","keys":["k/1",...]} | {"id":3,"op":"fsm-dump"}
//            | {"id":4,"op":"log-entries","lo":1,"hi":100} | {"id":5,"op":"read-index","n":40} (n concurrent ReadIndex)
//   stdout:  {"ctl":1,"id":1,"ok":true,"result":...} or {"ctl":1,"id":1,"ok":false,"error":"..."}; first
//            line {"ctl":1,"ready":true}. Other lines (worker logs) have no "ctl" and are to be ignored.
// A propose of key K writes the write-set {put K = K}; the answer is one {ok,index}|{ok:false,code} per key.
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { ActorSystem } from '../../runtime/host/actor-system.js';
import type { RaftActorConfig, RaftReply, RaftRequest } from '../../actors/raft/protocol.js';
import { encodeWriteSet } from '../../actors/storage/write-set.js';

const config = JSON.parse(process.env.RAFT_NODE_CONFIG ?? 'null') as RaftActorConfig;
if (config === null) throw new Error('RAFT_NODE_CONFIG is not set');

const log = pino({ level: process.env.RAFT_NODE_LOG_LEVEL ?? 'warn', base: { node: config.id } }, pino.destination(2));
const system = new ActorSystem({
  logger: log,
  onFailStop: (name, err) => {
    log.fatal({ actor: name, err }, 'fail-stop');
    process.exit(70);
  },
});
const raft = await system.spawn<RaftRequest, RaftReply>({
  name: 'raft',
  workerFile: new URL('../../actors/raft/actor.js', import.meta.url),
  supervision: 'fail-stop',
  workerData: config,
});

const reply = (x: unknown) => process.stdout.write(`${JSON.stringify({ ctl: 1, ...(x as object) })}\n`);
// Bytes as base64 so the JSON stays small and exact.
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x && x.type === 'Buffer' && Array.isArray(x.data) ? Buffer.from(x.data).toString('base64') : x)));

createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line) as { id: number; op: string; keys?: string[]; lo?: number; hi?: number; n?: number };
  const run = async (): Promise<unknown> => {
    switch (req.op) {
      case 'status':
        return raft.ask({ t: 'status' });
      case 'propose': {
        const items = (req.keys ?? []).map((k) => encodeWriteSet({ ops: [{ t: 'put', key: k, value: Buffer.from(k) }] }));
        return raft.ask({ t: 'propose-many', items }, 60_000);
      }
      case 'fsm-dump': {
        const kv = (await raft.ask({ t: 'fsm-dump' })) as [string, Uint8Array][];
        return kv.map(([k, v]) => [k, Buffer.from(v).toString()]);
      }
      case 'log-entries': {
        const entries = (await raft.ask({ t: 'log-entries', lo: req.lo ?? 1, hi: req.hi ?? 1 })) as { index: number; term: number; data: Uint8Array | null }[];
        // digest: the entry's payload bytes (base64), null for empty/conf entries.
        return entries.map((e) => ({ index: e.index, term: e.term, digest: e.data === null ? null : Buffer.from(e.data).toString('base64') }));
      }
      case 'read-index': {
        // n linearizable read points asked at once; the answer is every index and the rounds they took.
        const asks = Array.from({ length: req.n ?? 1 }, () => raft.ask({ t: 'read-index', timeoutMs: 5_000 }, 10_000) as Promise<{ index: number }>);
        return { indexes: (await Promise.all(asks)).map((r) => r.index) };
      }
      default:
        throw new Error(`unknown op ${req.op}`);
    }
  };
  run().then(
    (result) => reply({ id: req.id, ok: true, result: plain(result) }),
    (err: unknown) => reply({ id: req.id, ok: false, error: String((err as Error)?.message ?? err) }),
  );
});

reply({ ready: true });
