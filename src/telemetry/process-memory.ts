/**
 * The real memory probe handed to the core: resident set size on every call (cheap:
 * `process.memoryUsage.rss()` reads one number), V8 heap use refreshed at most every 250 ms
 * (`process.memoryUsage()` walks the heap spaces, too slow for every event).
 */
/** One reading (the shape the core's MemoryProbe port expects). */
export interface ProcessMemory {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** A probe over this process's memory. */
export function createMemoryProbe(heapRefreshMs = 250): () => ProcessMemory {
  let heapUsedBytes = process.memoryUsage().heapUsed;
  let heapReadAt = performance.now();
  return () => {
    const now = performance.now();
    if (now - heapReadAt >= heapRefreshMs) {
      heapUsedBytes = process.memoryUsage().heapUsed;
      heapReadAt = now;
    }
    return { rssBytes: process.memoryUsage.rss(), heapUsedBytes };
  };
}
