/**
 * The results file's shape and the targets of issue 11, each evaluated from ratios measured in
 * the same run. Every target is reported, met or not; a target whose rows were not part of the
 * run (the gate's short plan) is reported as "not measured".
 */
import type { RetrievalComparison } from "../core/retrieval.js";
import type { Measured } from "./measure.js";

/** One row of the results: MLSDM and the echo baseline under the same load. */
export interface RowResult {
  /** `<server>/<row>`, e.g. `memory/processEvent.grpc.c64`. */
  readonly id: string;
  readonly server: string;
  readonly row: string;
  readonly method: string;
  readonly protocol: string;
  readonly concurrency: number;
  readonly rate?: number;
  readonly mlsdm: Measured;
  readonly echo: Measured;
  /** MLSDM calls/s ÷ echo calls/s. */
  readonly throughputRatio: number;
  readonly p99RatioToEcho: number;
  /** The throughput ratio of every round (the row keeps the median round). */
  readonly rounds: number[];
}

/** RSS of a server before and after filling PELM. */
export interface MemoryResult {
  readonly server: string;
  readonly pelmUsed: number;
  readonly rssEmptyMb: number;
  readonly rssFullMb: number;
  readonly rawVectorMb: number;
}

/** One target of the issue. */
export interface TargetResult {
  readonly id: string;
  readonly text: string;
  readonly met: boolean | "not measured";
  readonly value: string;
}

/** A results file (benchmarks/results/load-*.json and gate-*.json). */
export interface LoadResults {
  readonly kind: "load" | "gate";
  readonly date: string;
  readonly node: string;
  readonly commit: string;
  readonly machine: { cpus: number; model: string; loadAverage: number[] };
  readonly timing: { seconds: number; rateSeconds: number; warmupSeconds: number; rounds: number };
  readonly env: Record<string, string>;
  readonly messageBytes: { processEvent: number; generate: number };
  readonly retrieval: RetrievalComparison;
  readonly memory: MemoryResult[];
  readonly rows: RowResult[];
  readonly profiles: { server: string; file: string; top: string[] }[];
  readonly targets: TargetResult[];
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** Evaluates every target on `results`. */
export function evaluateTargets(results: LoadResults): TargetResult[] {
  const row = (id: string): RowResult | undefined => results.rows.find((r) => r.id === id);
  const targets: TargetResult[] = [];
  const add = (id: string, text: string, evaluate: () => [boolean, string] | undefined): void => {
    const outcome = evaluate();
    targets.push(
      outcome
        ? { id, text, met: outcome[0], value: outcome[1] }
        : { id, text, met: "not measured", value: "" },
    );
  };
  add("T1", "ProcessEvent, grpc-js, c64, PELM full: ≥ 50 % of bare echo throughput", () => {
    const r = row("memory/processEvent.grpc.c64");
    return r && [r.throughputRatio >= 0.5, pct(r.throughputRatio)];
  });
  add("T2", "Generate, stub, PELM full, retrieval on, c16: ≥ 15 % of echo, p99 < 20 ms", () => {
    const r = row("memory/generate.grpc.c16");
    return (
      r && [
        r.throughputRatio >= 0.15 && r.mlsdm.p99Ms < 20,
        `${pct(r.throughputRatio)}, p99 ${r.mlsdm.p99Ms.toFixed(2)} ms`,
      ]
    );
  });
  add("T3", "Generate at a fixed 1,000 calls/s: p99 < 10 ms, no errors", () => {
    const r = row("memory/generate.grpc.rate1000");
    return (
      r && [
        r.mlsdm.p99Ms < 10 && r.mlsdm.errors === 0 && r.mlsdm.callsPerSecond >= 0.98 * 1000,
        `${r.mlsdm.callsPerSecond.toFixed(0)} calls/s achieved, p99 ${r.mlsdm.p99Ms.toFixed(2)} ms, ${r.mlsdm.errors} errors`,
      ]
    );
  });
  add(
    "T4",
    "PELM top-5 at 20,000 × 384: ≥ 8× the naive Float32Array scan; exact top-k = float64 reference",
    () => {
      const r = results.retrieval;
      return [
        r.speedup >= 8 && r.exactMatches === r.queries,
        `${r.speedup.toFixed(1)}× (${r.pelmMedianUs.toFixed(0)} vs ${r.naiveMedianUs.toFixed(0)} µs), exact ${r.exactMatches}/${r.queries}`,
      ];
    },
  );
  const cost = (server: string, rowId: string): number | undefined => {
    const on = row(`${server}/${rowId}`);
    const off = row(`memory/${rowId}`);
    return on && off ? 1 - on.throughputRatio / off.throughputRatio : undefined;
  };
  add("T5", "Persistence on (SQLite) costs ≤ 20 % of ProcessEvent throughput (c64, ratios to echo)", () => {
    const c = cost("sqlite", "processEvent.grpc.c64");
    return c === undefined ? undefined : [c <= 0.2, `cost ${pct(c)}`];
  });
  add("T6", "Telemetry on (tracing sampled at 0 %) costs ≤ 5 % (ProcessEvent c64, ratios to echo)", () => {
    const c = cost("tracing0", "processEvent.grpc.c64");
    return c === undefined ? undefined : [c <= 0.05, `cost ${pct(c)}`];
  });
  add("T7", "RSS with a full PELM ≤ RSS empty + 1.15 × raw vector bytes", () => {
    const m = results.memory.find((entry) => entry.server === "memory");
    if (!m) return undefined;
    const limit = m.rssEmptyMb + 1.15 * m.rawVectorMb;
    const growth = m.rssFullMb - m.rssEmptyMb;
    const figures = `${m.rssEmptyMb.toFixed(1)} → ${m.rssFullMb.toFixed(1)} MB (limit ${limit.toFixed(1)}, growth ${growth.toFixed(1)} MB for ${m.rawVectorMb.toFixed(1)} MB of vectors)`;
    // The vectors are resident once written, so a growth below them means the "empty" reading
    // still held heap the collector returned later: the pair measured V8, not the store.
    if (growth < m.rawVectorMb) return [false, `${figures}: inconclusive, growth below the raw vectors`];
    return [m.rssFullMb <= limit, figures];
  });
  add(
    "T8",
    "PERF-004: Generate with the embedding cache (hit path) is not slower than with it off (c16)",
    () => {
      const hit = row("memory/generate.grpc.c16");
      const off = row("nocache/generate.grpc.c16");
      return hit && off
        ? [
            hit.throughputRatio >= off.throughputRatio * 0.95,
            `cache on ${pct(hit.throughputRatio)} vs off ${pct(off.throughputRatio)} of echo`,
          ]
        : undefined;
    },
  );
  return targets;
}
