// Gives a thread's heap back after a burst of work, once the thread is idle.
//
// V8 sizes a heap to the work it saw: under load the young generation of a busy isolate grows to two
// 16 MiB semi-spaces and the old space keeps the pages it grew to. It shrinks them only in a major GC
// that finds the isolate allocating slowly, and an idle thread runs no GC at all: it allocates
// nothing. Measured on a node filled with 100,000 secrets by 256 writers, the front and the handler
// kept 55 and 67 MiB of heap (17 and 19 MiB before the fill) for as long as the node stayed idle.
//
// So each thread that opts in checks, every window, whether its heap grew by more than GROWTH_BYTES
// since its last trim and whether its event loop was idle through the window. If both, it runs a
// major GC, and one more after three further idle windows: by then V8's allocation rate, averaged over
// its recent GCs, is low, and the second GC releases the young generation too. Then the new heap size
// becomes the baseline, so a heap that grew for good (a cache) is not collected again and again.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often a thread looks at its heap and event loop. */
const WINDOW_MS = 2_000;
/** Heap growth (total heap size) since the last trim that makes a trim worth a GC. */
const GROWTH_BYTES = 8 * 1024 * 1024;
/** Event-loop utilisation over a window below which the thread counts as idle. */
const IDLE_UTILIZATION = 0.05;

export interface HeapTrimEvent {
  /** Total heap size at the trim's first GC and after its second. */
  heapBytesBefore: number;
  heapBytesAfter: number;
}

export interface HeapTrimTotals {
  trims: number;
  /** Sum over trims of (before - after), never negative per trim. */
  bytesReleased: number;
}

let gcFunction: (() => void) | null = null;
let gcExposed = false;

/**
 * Lets contexts created from now on see `gc` (V8's --expose-gc, read when a context is created; no
 * node command-line flag needed, as test runners that log heap usage do it). V8 flags are process-wide
 * and not meant to be written from several threads at once, so the ActorSystem calls this on the main
 * thread before it starts a worker; the workers then only read it.
 */
export function exposeGc(): void {
  if (gcExposed) return;
  v8.setFlagsFromString('--expose-gc');
  gcExposed = true;
}

/** A full (major) GC of this thread's isolate, through a `gc` fetched from a fresh context (no other code sees it). */
function majorGc(): void {
  if (gcFunction === null) {
    try {
      gcFunction = runInNewContext('gc') as () => void;
    } catch {
      exposeGc(); // a process that started no actor yet
      gcFunction = runInNewContext('gc') as () => void;
    }
  }
  gcFunction();
}

const totalHeap = (): number => v8.getHeapStatistics().total_heap_size;

/**
 * Idle windows between a trim's two GCs. V8 shrinks the young generation after a GC only when its
 * allocation rate is under 1 KB/ms, averaged over its GCs back to 5 s before; a second GC sooner than
 * that averages in what the burst's tail allocated before the first one. Measured on Node 20: 4 s
 * after the first GC, the handler kept its 32 MiB young generation in two runs of five (6.3 MiB over
 * ~7 s is ~940 B/ms); 6 s covers the 5 s with idle time alone.
 */
const SECOND_GC_AFTER_WINDOWS = 3;

let thisThread: { totals: HeapTrimTotals } | null = null;

/**
 * Starts the trim on the calling thread, once (later calls are no-ops: several nodes may share a
 * process); `onTrim` sees each completed trim. The timer is unref'd.
 */
export function trimThisThreadWhenIdle(onTrim: (e: HeapTrimEvent) => void = () => {}): void {
  if (thisThread !== null) return;
  const totals: HeapTrimTotals = { trims: 0, bytesReleased: 0 };
  thisThread = { totals };
  let baseline = totalHeap();
  let lastElu = performance.eventLoopUtilization();
  let pending: { heapBytesBefore: number; idleWindows: number } | null = null; // between the two GCs of a trim
  setInterval(() => {
    const elu = performance.eventLoopUtilization();
    const idle = performance.eventLoopUtilization(elu, lastElu).utilization < IDLE_UTILIZATION;
    lastElu = elu;
    if (!idle) {
      pending = null; // work came back between the two GCs: start over once idle again
      return;
    }
    if (pending === null) {
      const heap = totalHeap();
      if (heap < baseline + GROWTH_BYTES) return;
      pending = { heapBytesBefore: heap, idleWindows: 0 };
      majorGc();
      return;
    }
    if (++pending.idleWindows < SECOND_GC_AFTER_WINDOWS) return;
    majorGc();
    const before = pending.heapBytesBefore;
    pending = null;
    baseline = totalHeap();
    totals.trims++;
    totals.bytesReleased += Math.max(0, before - baseline);
    onTrim({ heapBytesBefore: before, heapBytesAfter: baseline });
  }, WINDOW_MS).unref();
}

/** This thread's trims so far, or null when trimThisThreadWhenIdle was not called on it. */
export function thisThreadTrimTotals(): HeapTrimTotals | null {
  return thisThread === null ? null : { ...thisThread.totals };
}
