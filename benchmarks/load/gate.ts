/**
 * The SLO gate (PERF-001, PERF-002) over a short load run: compares ratios measured in this
 * run (MLSDM ÷ the bare echo of the same minute, and PELM ÷ the naive scan) with the committed
 * benchmarks/baseline.json and fails on a regression beyond each metric's tolerance; checks the
 * absolute SLOs (p95 ceilings) and warns at 80 % of them. Ratios, not absolute times, so a
 * slower or busier machine does not fail the gate by itself.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { LoadResults } from "./targets.js";

/** One gated metric of the baseline. */
export interface BaselineMetric {
  readonly value: number;
  /** Which direction is better. */
  readonly better: "higher" | "lower";
  /** Allowed relative regression (0.2 = 20 %); defaults to the file's `tolerance`. */
  readonly tolerance?: number;
  /** Where the value comes from when it is not the measured run (free text). */
  readonly source?: string;
}

/** benchmarks/baseline.json. */
export interface Baseline {
  readonly note: string;
  readonly measured: { date: string; node: string; commit: string; loadAverage: number[] };
  readonly tolerance: number;
  readonly metrics: Record<string, BaselineMetric>;
  /** Absolute p95 ceilings in ms (PERF-001), by metric name. */
  readonly slos: Record<string, { maxMs: number }>;
}

/** The gated metrics of a run, by name. */
export function gateMetrics(
  results: LoadResults,
): Record<string, { value: number; better: "higher" | "lower" }> {
  const metrics: Record<string, { value: number; better: "higher" | "lower" }> = {};
  for (const row of results.rows) {
    if (row.server !== "memory") continue;
    metrics[`${row.row}.throughputRatio`] = { value: row.throughputRatio, better: "higher" };
    metrics[`${row.row}.p95RatioToEcho`] = {
      value: row.mlsdm.p95Ms / Math.max(1e-3, row.echo.p95Ms),
      better: "lower",
    };
  }
  metrics["pelm.retrieveSpeedupOverNaive"] = { value: results.retrieval.speedup, better: "higher" };
  return metrics;
}

function p95Of(results: LoadResults, name: string): number | undefined {
  const id = name.replace(/\.p95Ms$/, "");
  return results.rows.find((row) => row.server === "memory" && row.row === id)?.mlsdm.p95Ms;
}

const DEFAULT_SLOS = {
  "processEvent.grpc.c64.p95Ms": { maxMs: 120 },
  "generate.grpc.c16.p95Ms": { maxMs: 500 },
};

/** Compares, prints, and returns the exit code (0 pass, 1 regression or SLO breach). */
export function runGate(
  results: LoadResults,
  baselineFile: string,
  update: boolean,
  log: (line: string) => void,
): number {
  const current = gateMetrics(results);
  if (update) {
    const previous = (() => {
      try {
        return JSON.parse(readFileSync(baselineFile, "utf8")) as Baseline;
      } catch {
        return undefined;
      }
    })();
    const baseline: Baseline = {
      note:
        previous?.note ??
        "Ratios from `npm run bench:gate -- --update-baseline`. Re-measure on a quiet machine before relying on it.",
      measured: {
        date: results.date,
        node: results.node,
        commit: results.commit,
        loadAverage: results.machine.loadAverage,
      },
      tolerance: previous?.tolerance ?? 0.2,
      metrics: Object.fromEntries(
        Object.entries(current).map(([name, m]) => [
          name,
          {
            ...m,
            ...(previous?.metrics[name]?.tolerance ? { tolerance: previous.metrics[name].tolerance } : {}),
          },
        ]),
      ),
      slos: previous?.slos ?? DEFAULT_SLOS,
    };
    writeFileSync(baselineFile, `${JSON.stringify(baseline, null, 2)}\n`);
    log(`\nbaseline written to ${baselineFile}`);
    return 0;
  }
  const baseline = JSON.parse(readFileSync(baselineFile, "utf8")) as Baseline;
  const envTolerance = Number(process.env.MLSDM_GATE_TOLERANCE);
  let failed = 0;
  log(
    `\ngate: this run vs benchmarks/baseline.json (measured ${baseline.measured.date}, ${baseline.measured.commit})`,
  );
  log(
    `${"metric".padEnd(44)} ${"baseline".padStart(9)} ${"now".padStart(9)} ${"change".padStart(8)} ${"allowed".padStart(8)}  verdict`,
  );
  for (const [name, base] of Object.entries(baseline.metrics)) {
    const now = current[name];
    const tolerance =
      Number.isFinite(envTolerance) && envTolerance > 0
        ? envTolerance
        : (base.tolerance ?? baseline.tolerance);
    if (!now) {
      log(
        `${name.padEnd(44)} ${base.value.toFixed(3).padStart(9)} ${"–".padStart(9)}  missing from this run: FAIL`,
      );
      failed++;
      continue;
    }
    // Relative regression in the bad direction (positive = worse).
    const regression = base.better === "higher" ? 1 - now.value / base.value : now.value / base.value - 1;
    const bad = regression > tolerance;
    if (bad) failed++;
    log(
      `${name.padEnd(44)} ${base.value.toFixed(3).padStart(9)} ${now.value.toFixed(3).padStart(9)} ` +
        `${`${(-regression * 100).toFixed(1)} %`.padStart(8)} ${`-${(tolerance * 100).toFixed(0)} %`.padStart(8)}  ${bad ? "FAIL (regression)" : "ok"}`,
    );
  }
  for (const [name, slo] of Object.entries(baseline.slos)) {
    const p95 = p95Of(results, name);
    if (p95 === undefined) {
      log(`SLO ${name} ≤ ${slo.maxMs} ms: not measured: FAIL`);
      failed++;
      continue;
    }
    const verdict = p95 > slo.maxMs ? "FAIL" : p95 > 0.8 * slo.maxMs ? "WARN (above 80 % of the SLO)" : "ok";
    if (verdict === "FAIL") failed++;
    log(`SLO ${name} ≤ ${slo.maxMs} ms: p95 ${p95.toFixed(2)} ms: ${verdict}`);
  }
  log(failed === 0 ? "\ngate passed" : `\ngate FAILED: ${failed} check(s)`);
  return failed === 0 ? 0 : 1;
}
