/**
 * PELM top-k retrieval against a naive Float32Array cosine scan over the same data, measured in
 * the same process (issue 11 target: at least 8× faster), and an exactness check of PELM's
 * top-k against a float64 reference (same slots, same order). Used by `bench:core` and by the
 * load harness, so both report the same row.
 */
import { Pelm } from "../../src/core/pelm.js";
import { DEFAULT_CHUNK_ROWS, startScanThreads } from "../../src/store/parallel-scan.js";
import { timeEach, vectors } from "./measure.js";

/** Result of one comparison. */
export interface RetrievalComparison {
  readonly dimension: number;
  readonly size: number;
  readonly topK: number;
  readonly queries: number;
  readonly pelmMedianUs: number;
  readonly pelmP99Us: number;
  readonly naiveMedianUs: number;
  readonly naiveP99Us: number;
  /** naive / PELM median: > 1 means PELM is faster. */
  readonly speedup: number;
  /** Queries whose PELM top-k equals the float64 reference top-k (slots, in order). */
  readonly exactMatches: number;
  readonly accelerated: boolean;
  /**
   * The same store with a scan helper thread (core.scanThreads = 2, ADR 0021): median, p99,
   * speedup over the naive scan, exact matches, and the share of chunks the helper scored.
   */
  readonly twoThreads: {
    readonly medianUs: number;
    readonly p99Us: number;
    readonly speedup: number;
    readonly exactMatches: number;
    readonly helperShare: number;
  };
}

/** The plain-JavaScript scan a caller would write: cosine per row over raw (unnormalised) vectors. */
export function naiveTopK(
  data: Float32Array,
  size: number,
  dim: number,
  q: Float32Array,
  k: number,
): number[] {
  const slots: number[] = [];
  const scores: number[] = [];
  let qq = 0;
  for (let i = 0; i < dim; i++) qq += q[i]! * q[i]!;
  const qn = Math.sqrt(qq);
  for (let row = 0; row < size; row++) {
    const base = row * dim;
    let dot = 0;
    let nn = 0;
    for (let i = 0; i < dim; i++) {
      const x = data[base + i]!;
      dot += x * q[i]!;
      nn += x * x;
    }
    const score = dot / (Math.sqrt(nn) * qn);
    if (slots.length < k || score > scores[slots.length - 1]!) {
      let at = Math.min(slots.length, k - 1);
      if (slots.length < k) {
        slots.push(row);
        scores.push(score);
        at = slots.length - 1;
      }
      while (at > 0 && scores[at - 1]! < score) {
        slots[at] = slots[at - 1]!;
        scores[at] = scores[at - 1]!;
        at--;
      }
      slots[at] = row;
      scores[at] = score;
    }
  }
  return slots;
}

/** Float64 reference top-k (cosine in double precision, full sort). */
export function referenceTopK(
  data: Float32Array,
  size: number,
  dim: number,
  q: Float32Array,
  k: number,
): number[] {
  let qq = 0;
  for (let i = 0; i < dim; i++) qq += q[i]! * q[i]!;
  const scored: [number, number][] = [];
  for (let row = 0; row < size; row++) {
    let dot = 0;
    let nn = 0;
    for (let i = 0; i < dim; i++) {
      const x = data[row * dim + i]!;
      dot += x * q[i]!;
      nn += x * x;
    }
    scored.push([dot / Math.sqrt(nn * qq), row]);
  }
  scored.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  return scored.slice(0, k).map(([, row]) => row);
}

/** Builds a full store of `size` random vectors (one phase) and compares the scans. */
export async function compareRetrieval(
  options: {
    dimension?: number;
    size?: number;
    topK?: number;
    queries?: number;
    exactQueries?: number;
  } = {},
): Promise<RetrievalComparison> {
  const dim = options.dimension ?? 384;
  const size = options.size ?? 20_000;
  const topK = options.topK ?? 5;
  const queries = options.queries ?? 200;
  const exactQueries = Math.min(queries, options.exactQueries ?? 20);
  const next = vectors(dim, 11);
  const data = new Float32Array(size * dim);
  const pelm = new Pelm({ dimension: dim, capacity: size });
  const threads = startScanThreads(2);
  const shared = new Pelm({ dimension: dim, capacity: size, parallel: threads });
  for (let row = 0; row < size; row++) {
    const v = next();
    data.set(v, row * dim);
    pelm.entangle(v, 0.5);
    shared.entangle(v, 0.5);
  }
  const pool = Array.from({ length: 64 }, next);
  const query = (i: number): Float32Array => pool[i % pool.length] ?? pool[0] ?? new Float32Array(dim);
  const ours = timeEach((i) => pelm.retrieve(query(i), 0.5, { topK }), queries, 20);
  const naive = timeEach((i) => naiveTopK(data, size, dim, query(i), topK), queries, 20);
  // The helper thread starts on the first large scan; give it a moment to bind the memory.
  for (let i = 0; i < 50 && threads.stats().helperChunks === 0; i++) {
    shared.retrieve(query(i), 0.5, { topK });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const before = threads.stats();
  const two = timeEach((i) => shared.retrieve(query(i), 0.5, { topK }), queries, 20);
  const after = threads.stats();
  const chunks = after.helperChunks - before.helperChunks;
  let exactMatches = 0;
  let twoExact = 0;
  const same = (got: number[], want: number[]): boolean =>
    got.length === want.length && got.every((slot, j) => slot === want[j]);
  for (let i = 0; i < exactQueries; i++) {
    const want = referenceTopK(data, size, dim, query(i), topK);
    if (
      same(
        pelm.retrieve(query(i), 0.5, { topK }).map((m) => m.slot),
        want,
      )
    )
      exactMatches++;
    if (
      same(
        shared.retrieve(query(i), 0.5, { topK }).map((m) => m.slot),
        want,
      )
    )
      twoExact++;
  }
  await threads.stop();
  return {
    dimension: dim,
    size,
    topK,
    queries: exactQueries,
    pelmMedianUs: ours.median,
    pelmP99Us: ours.p99,
    naiveMedianUs: naive.median,
    naiveP99Us: naive.p99,
    speedup: naive.median / Math.max(ours.median, 1e-9),
    exactMatches,
    accelerated: pelm.accelerated,
    twoThreads: {
      medianUs: two.median,
      p99Us: two.p99,
      speedup: naive.median / Math.max(two.median, 1e-9),
      exactMatches: twoExact,
      // Chunks the helper delivered, of all chunks the timed scans had (the caller scored the rest).
      helperShare:
        chunks / Math.max(1, (after.splitScans - before.splitScans) * Math.ceil(size / DEFAULT_CHUNK_ROWS)),
    },
  };
}
