/**
 * PELM's helper threads (src/store/parallel-scan.ts, ADR 0021) with real worker threads: a
 * retrieval split between threads returns exactly what the one-thread scan returns (slots,
 * order and resonance, bit for bit), the helpers really take chunks, mixed phases and a store
 * below the split size take the one-thread path, a restored controller's new PELM is bound
 * again, and after stop() retrieval goes on alone.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CognitiveController } from "../../src/core/controller.js";
import { Pelm, PELM_PARALLEL_MIN_ROWS } from "../../src/core/pelm.js";
import { startScanThreads, usableCores, type ScanThreads } from "../../src/store/parallel-scan.js";

const DIM = 384;

function random(seed: number): () => number {
  let x = seed | 0;
  return () => {
    x = (Math.imul(x, 1_103_515_245) + 12_345) | 0;
    return ((x >>> 8) & 0xffff) / 0xffff - 0.5;
  };
}

function vector(next: () => number): Float32Array {
  return Float32Array.from({ length: DIM }, next);
}

/** Two stores with the same contents, one with helpers. */
function pair(rows: number, threads: ScanThreads, phaseOf: (i: number) => number) {
  const parallel = new Pelm({ dimension: DIM, capacity: rows, parallel: threads });
  const solo = new Pelm({ dimension: DIM, capacity: rows });
  const next = random(7);
  for (let i = 0; i < rows; i++) {
    const v = vector(next);
    parallel.entangle(v, phaseOf(i));
    solo.entangle(v, phaseOf(i));
  }
  return { parallel, solo };
}

/** Retrieves until the helpers have taken chunks of a split scan (they start on first use). */
async function untilHelped(threads: ScanThreads, retrieve: () => unknown) {
  const deadline = Date.now() + 10_000;
  while (threads.stats().helperChunks === 0) {
    if (Date.now() > deadline) throw new Error("the helper thread never took a chunk");
    retrieve();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let threads: ScanThreads | undefined;
afterEach(async () => {
  await threads?.stop();
  threads = undefined;
});

describe("PELM scan helper threads", () => {
  it("a split scan returns the one-thread top-k exactly, with helpers taking chunks", async () => {
    threads = startScanThreads(2, { chunkRows: 256 });
    const rows = PELM_PARALLEL_MIN_ROWS * 2;
    const { parallel, solo } = pair(rows, threads, () => 0.1);
    expect(parallel.parallelScan).toBe(true);
    const next = random(99);
    const warm = vector(next);
    await untilHelped(threads, () => parallel.retrieve(warm, 0.1, { topK: 5 }));
    for (let n = 0; n < 40; n++) {
      const query = vector(next);
      const topK = 1 + (n % 10);
      expect(parallel.retrieve(query, 0.1, { topK })).toEqual(solo.retrieve(query, 0.1, { topK }));
    }
    const stats = threads.stats();
    expect(stats.splitScans).toBeGreaterThanOrEqual(40);
    expect(stats.helperChunks).toBeGreaterThan(0);
  });

  it("chunks a slow helper has not delivered are scored by the caller, and late writes change nothing", async () => {
    threads = startScanThreads(2, { chunkRows: 512, helperPauseMs: 20 });
    const rows = PELM_PARALLEL_MIN_ROWS * 2;
    const { parallel, solo } = pair(rows, threads, () => 0.1);
    const next = random(11);
    // A deep top-k (100 of 8,192) makes any wrong chunk of scores show in the result. Queries
    // are spaced so the helper keeps claiming chunks it delivers too late, and back to back
    // while its late chunks land in its own region.
    const deadline = Date.now() + 20_000;
    while (threads.stats().stolenChunks < 10) {
      if (Date.now() > deadline) throw new Error(`only ${threads.stats().stolenChunks} chunks taken back`);
      for (const spacing of [25, 0, 0]) {
        const query = vector(next);
        expect(parallel.retrieve(query, 0.1, { topK: 100 })).toEqual(
          solo.retrieve(query, 0.1, { topK: 100 }),
        );
        await new Promise((resolve) => setTimeout(resolve, spacing));
      }
    }
  });

  it("stores mostly out of phase, and stores below the split size, scan on one thread", async () => {
    threads = startScanThreads(2, { chunkRows: 256 });
    const rows = PELM_PARALLEL_MIN_ROWS * 2;
    // Three in four slots out of the wake window: the run-by-run scan reads less.
    const { parallel, solo } = pair(rows, threads, (i) => (i % 4 === 0 ? 0.1 : 0.9));
    const small = pair(PELM_PARALLEL_MIN_ROWS - 1, threads, () => 0.1);
    const next = random(5);
    for (let n = 0; n < 10; n++) {
      const query = vector(next);
      expect(parallel.retrieve(query, 0.1, { topK: 5 })).toEqual(solo.retrieve(query, 0.1, { topK: 5 }));
      expect(small.parallel.retrieve(query, 0.1, { topK: 5 })).toEqual(
        small.solo.retrieve(query, 0.1, { topK: 5 }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(threads.stats().splitScans).toBe(0);
  });

  it("one thread configured: no helper, and PELM scans alone", () => {
    threads = startScanThreads(1);
    expect(threads.helpers).toBe(0);
    const pelm = new Pelm({ dimension: DIM, capacity: 16, parallel: threads });
    expect(pelm.parallelScan).toBe(false);
  });

  it("a controller restored from a snapshot binds its new PELM; after stop() it scans alone", async () => {
    threads = startScanThreads(2, { chunkRows: 256 });
    const options = {
      dimension: DIM,
      pelmCapacity: PELM_PARALLEL_MIN_ROWS * 2,
      phaseTolerance: 1,
      rhythm: { wakeDuration: 1_000_000, sleepDuration: 1 },
      clock: () => performance.now(),
      memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
      parallelScan: threads,
    };
    const controller = new CognitiveController(options);
    const reference = new CognitiveController({ ...options, parallelScan: undefined });
    const next = random(3);
    for (let i = 0; i < options.pelmCapacity; i++) {
      const v = vector(next);
      controller.processEvent(v, 0.9);
      reference.processEvent(v, 0.9);
    }
    controller.restoreFrom(controller.snapshot());
    const query = vector(next);
    await untilHelped(threads, () => controller.retrieve(query, 5));
    expect(controller.retrieve(query, 5)).toEqual(reference.retrieve(query, 5));
    await threads.stop();
    const before = threads.stats().splitScans;
    expect(controller.retrieve(query, 5)).toEqual(reference.retrieve(query, 5));
    expect(threads.stats().splitScans).toBe(before);
  });
});

describe("usableCores", () => {
  it("caps the machine's cores by a cgroup v2 CPU quota", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-cpu-"));
    const file = (text: string): string => {
      const at = path.join(dir, `cpu.max.${text.replace(/\W/g, "_")}`);
      writeFileSync(at, `${text}\n`);
      return at;
    };
    const cores = availableParallelism();
    expect(usableCores(file("max 100000"))).toBe(cores);
    expect(usableCores(file("100000 100000"))).toBe(1);
    expect(usableCores(file("50000 100000"))).toBe(1);
    expect(usableCores(file("250000 100000"))).toBe(Math.min(cores, 2));
    expect(usableCores(path.join(dir, "absent"))).toBe(cores);
  });
});
