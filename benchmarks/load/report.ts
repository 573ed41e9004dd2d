/** Prints a load run as a table (every row with its ratio to the bare echo) and the targets. */
import type { LoadResults } from "./targets.js";

const f = (n: number | undefined, digits = 2): string => (n === undefined ? "–" : n.toFixed(digits));

/** Writes the report through `log`, one line per call. */
export function printReport(results: LoadResults, log: (line: string) => void): void {
  log(
    `\nload run (${results.kind}) ${results.date}, ${results.node}, ${results.machine.cpus} CPUs, ` +
      `load average ${results.machine.loadAverage.map((x) => x.toFixed(2)).join(" ")}; ` +
      `${results.timing.seconds} s per row (${results.timing.rateSeconds} s at a fixed rate), ${results.timing.rounds} round(s)`,
  );
  log("ratio = MLSDM calls/s ÷ bare grpc-js echo calls/s under the same h2load load, measured just before\n");
  const header = [
    "row".padEnd(38),
    "calls/s".padStart(8),
    "echo/s".padStart(8),
    "ratio".padStart(7),
    "p50 ms".padStart(7),
    "p95 ms".padStart(7),
    "p99 ms".padStart(7),
    "echo p99".padStart(8),
    "errors".padStart(6),
    "CPU µs".padStart(7),
    "echo µs".padStart(7),
    "RSS MB".padStart(7),
    "lag p99".padStart(7),
  ];
  log(header.join(" "));
  for (const r of results.rows) {
    log(
      [
        r.id.padEnd(38),
        f(r.mlsdm.callsPerSecond, 0).padStart(8),
        f(r.echo.callsPerSecond, 0).padStart(8),
        f(r.throughputRatio, 3).padStart(7),
        f(r.mlsdm.p50Ms).padStart(7),
        f(r.mlsdm.p95Ms).padStart(7),
        f(r.mlsdm.p99Ms).padStart(7),
        f(r.echo.p99Ms).padStart(8),
        String(r.mlsdm.errors).padStart(6),
        f(r.mlsdm.cpuUsPerCall, 0).padStart(7),
        f(r.echo.cpuUsPerCall, 0).padStart(7),
        f(r.mlsdm.rssMb, 0).padStart(7),
        f(r.mlsdm.eventLoopLagP99Ms).padStart(7),
      ].join(" "),
    );
  }
  const r = results.retrieval;
  log(
    `\nPELM top-${r.topK} at ${r.size} × ${r.dimension}${r.accelerated ? " (WebAssembly SIMD)" : ""}: ` +
      `median ${f(r.pelmMedianUs, 0)} µs (p99 ${f(r.pelmP99Us, 0)}), naive Float32Array scan ${f(r.naiveMedianUs, 0)} µs ` +
      `(p99 ${f(r.naiveP99Us, 0)}): ${f(r.speedup, 1)}×; exact top-k = float64 reference in ${r.exactMatches}/${r.queries}`,
  );
  log(
    `  with a scan helper thread: median ${f(r.twoThreads.medianUs, 0)} µs (p99 ${f(r.twoThreads.p99Us, 0)}): ` +
      `${f(r.twoThreads.speedup, 1)}× the naive scan, helper scored ${f(r.twoThreads.helperShare * 100, 0)} % of chunks, ` +
      `exact ${r.twoThreads.exactMatches}/${r.queries}`,
  );
  for (const m of results.memory) {
    log(
      `RSS [${m.server}]: empty ${f(m.rssEmptyMb, 1)} MB → PELM full (${m.pelmUsed}) ${f(m.rssFullMb, 1)} MB; raw vectors ${f(m.rawVectorMb, 1)} MB`,
    );
  }
  log("\ntargets (ratios from this run):");
  for (const t of results.targets) {
    const mark = t.met === true ? "MET    " : t.met === false ? "NOT MET" : "–      ";
    log(`  ${t.id} ${mark} ${t.text}${t.value ? `: ${t.value}` : ""}`);
  }
  for (const p of results.profiles) {
    log(`\nCPU profile [${p.server}] ${p.file}, top self time:`);
    for (const line of p.top) log(`  ${line}`);
  }
}
