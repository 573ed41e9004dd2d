/**
 * Small timing helpers for the core benchmarks: warm up, time each call with
 * performance.now(), report median and p99 in microseconds.
 */

/** One benchmark row. */
export interface Row {
  readonly name: string;
  readonly unit: "µs/op" | "MB" | "×";
  readonly median: number;
  readonly p99?: number;
  readonly ops?: number;
  /** The reference (Python/numpy) figure on this class of machine, same unit. */
  readonly reference?: number;
  readonly note?: string;
}

/** Times `fn` `ops` times (after `warmup` untimed calls); returns median and p99 in µs. */
export function timeEach(
  fn: (i: number) => void,
  ops: number,
  warmup = Math.min(100, ops),
): { median: number; p99: number } {
  for (let i = 0; i < warmup; i++) fn(i);
  const samples = new Float64Array(ops);
  for (let i = 0; i < ops; i++) {
    const start = performance.now();
    fn(i);
    samples[i] = (performance.now() - start) * 1000;
  }
  samples.sort();
  return {
    median: samples[Math.floor(ops / 2)] ?? 0,
    p99: samples[Math.min(ops - 1, Math.floor(ops * 0.99))] ?? 0,
  };
}

/** Times a batch of `ops` calls and returns the mean per call in µs (for sub-µs operations). */
export function timeBatch(fn: (i: number) => void, ops: number): number {
  for (let i = 0; i < Math.min(1000, ops); i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < ops; i++) fn(i);
  return ((performance.now() - start) * 1000) / ops;
}

/** A deterministic unit-ish random vector generator (mulberry32). */
export function vectors(dimension: number, seed = 1): () => Float32Array {
  let x = seed | 0;
  const next = (): number => {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  return () => {
    const v = new Float32Array(dimension);
    for (let i = 0; i < dimension; i++) v[i] = next();
    return v;
  };
}
