/**
 * What the core is handed instead of reaching for the environment: a clock, a memory probe
 * and, optionally, helper threads for PELM scans. Tests pass fakes; the server passes the real ones.
 */

import type { DotKernel, KernelMemory } from "./pelm-kernel.js";

/** Milliseconds on a monotonic clock (only differences are meaningful). */
export type Clock = () => number;

/** The process's memory use right now, in bytes. */
export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Reads the process's memory use (the server passes `process.memoryUsage`). */
export type MemoryProbe = () => MemorySample;

/**
 * Threads that help PELM scan its vectors (the service supplies one backed by worker threads;
 * the core has no threads of its own). `bind` gets the kernel's compiled module, its shared
 * memory and this thread's `dots`, and returns a `dots` with the same contract that splits
 * the rows between this thread and the helpers and returns once every row is done, or
 * undefined when it cannot help with this memory. A call to the returned function never
 * interleaves with a write to the memory: PELM is only changed on the calling thread.
 */
export interface ParallelScan {
  bind(kernel: {
    readonly module: object;
    readonly memory: KernelMemory;
    readonly dots: DotKernel;
  }): DotKernel | undefined;
}
