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

/** What PELM hands its scan helpers: its compiled kernel, shared memory and a scratch region. */
export interface ScanKernel {
  readonly module: object;
  readonly memory: KernelMemory;
  /** This thread's kernel. */
  readonly dots: DotKernel;
  /** A region of `memory` only the helpers write: `helpers` × capacity × 4 bytes. */
  readonly scratch: { readonly at: number; readonly bytes: number };
}

/**
 * Threads that help PELM scan its vectors (the service supplies one backed by worker threads;
 * the core has no threads of its own). `bind` returns a `dots` with the kernel's contract that
 * splits the rows between this thread and the helpers and returns once every row is scored,
 * or undefined when it cannot help with this memory. A call to the returned function never
 * interleaves with a write to the memory: PELM is only changed on the calling thread.
 */
export interface ParallelScan {
  /** Helper threads besides the caller's (PELM sizes the scratch region by it). */
  readonly helpers: number;
  bind(kernel: ScanKernel): DotKernel | undefined;
}
