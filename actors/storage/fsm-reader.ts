// Reads of the FSM, from any thread. lmdb-js keeps one read snapshot per thread and renews it on a timer
// (or after its own commits); a reader that must see the latest commit calls refresh() first, e.g. once
// per batch of requests drained from a ring (BRIEF "pitfalls": a stale-read bug otherwise).
import { assert } from '../../runtime/assert.js';
import type { StorageEnv } from './env.js';
import { readApplied, type AppliedIndex } from './fsm.js';

/** The first string greater than every string starting with `${folder}/`: '/' + 1 is '0'. */
const AFTER_SLASH = String.fromCharCode('/'.charCodeAt(0) + 1);

export class FsmReader {
  private readonly env: StorageEnv;

  constructor(env: StorageEnv) {
    this.env = env;
  }

  get(key: string): Buffer | undefined {
    return this.env.fsm.get(key);
  }

  /**
   * Vault list semantics: the keys under `prefix`, with the prefix stripped and each cut after its next
   * '/', so a folder shows once as 'name/'. Sorted by UTF-8 bytes (LMDB order, = Go's sort.Strings).
   * A folder is skipped in one seek, so listing a prefix costs O(children), not O(descendants).
   */
  list(prefix: string): string[] {
    const out: string[] = [];
    let start = prefix;
    for (;;) {
      let folder: string | null = null;
      for (const key of this.env.fsm.getKeys({ start })) {
        assert(typeof key === 'string', 'fsm keys are strings');
        if (!key.startsWith(prefix)) return out;
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash < 0) {
          if (rest.length > 0) out.push(rest);
          continue;
        }
        folder = rest.slice(0, slash);
        break;
      }
      if (folder === null) return out;
      out.push(`${folder}/`);
      start = `${prefix}${folder}${AFTER_SLASH}`;
    }
  }

  /** The FSM's applied {index, term} as of this thread's read snapshot. */
  applied(): AppliedIndex {
    return readApplied(this.env);
  }

  /** Renew this thread's read snapshot so the next read sees the latest commit. */
  refresh(): void {
    this.env.root.resetReadTxn();
  }
}
