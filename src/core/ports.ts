/**
 * What the core is handed instead of reaching for the environment: a clock and a memory
 * probe. Tests pass fakes; the server passes the real ones.
 */

/** Milliseconds on a monotonic clock (only differences are meaningful). */
export type Clock = () => number;

/** The process's memory use right now, in bytes. */
export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Reads the process's memory use (the server passes `process.memoryUsage`). */
export type MemoryProbe = () => MemorySample;
