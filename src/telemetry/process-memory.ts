/**
 * The real memory probe handed to the core, sampled: reading resident memory costs a
 * syscall and a /proc parse (~10 µs), too much for every event on a path budgeted in tens
 * of microseconds, so RSS is re-read at most every `rssRefreshMs` (default 100 ms) and V8
 * heap use (which walks the heap spaces) at most every `heapRefreshMs` (default 250 ms).
 * The emergency check therefore reacts within 100 ms of memory crossing the limit (W5).
 */

/** One reading (the shape the core's MemoryProbe port expects). */
export interface ProcessMemory {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** A sampled probe over this process's memory. */
export function createMemoryProbe(rssRefreshMs = 100, heapRefreshMs = 250): () => ProcessMemory {
  let rssBytes = process.memoryUsage.rss();
  let heapUsedBytes = process.memoryUsage().heapUsed;
  let rssReadAt = performance.now();
  let heapReadAt = rssReadAt;
  return () => {
    const now = performance.now();
    if (now - rssReadAt >= rssRefreshMs) {
      rssBytes = process.memoryUsage.rss();
      rssReadAt = now;
    }
    if (now - heapReadAt >= heapRefreshMs) {
      heapUsedBytes = process.memoryUsage().heapUsed;
      heapReadAt = now;
    }
    return { rssBytes, heapUsedBytes };
  };
}
