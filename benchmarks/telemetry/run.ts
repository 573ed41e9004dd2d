/**
 * `npm run bench:telemetry`: what telemetry costs. The same workload (Generate on the stub
 * provider through the grpc-js listener, 16 calls in flight) runs against a fresh in-process
 * server in three child processes, one per mode, so the global OpenTelemetry registration of
 * one mode cannot leak into another:
 *
 *   off       no tracer provider (the default start)
 *   on, 0 %   tracer provider registered, sampler traceidratio 0 (propagation and span calls, no export)
 *   on, 100 % every call sampled; spans handed to a batch processor with an in-memory exporter
 *
 * Prometheus metrics are on in every mode (they cannot be turned off); access log lines are off
 * (level warn) so the figures measure tracing, not stdout. Records throughput and latency per mode
 * and the ratio to "off" in benchmarks/results/telemetry.json. Modes are interleaved over
 * MLSDM_BENCH_ROUNDS rounds (3) and each reports its median round. A recorded benchmark, not a test.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MODES = ["off", "on-0", "on-100"] as const;
type Mode = (typeof MODES)[number];

interface ModeResult {
  readonly mode: Mode;
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly spansExported: number;
}

async function runMode(mode: Mode): Promise<ModeResult> {
  const { create } = await import("@bufbuild/protobuf");
  const { InMemorySpanExporter, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { startTracing } = await import("../../src/telemetry/tracing/setup.js");
  const exporter = new InMemorySpanExporter();
  if (mode !== "off") {
    process.env.OTEL_TRACES_SAMPLER = "traceidratio";
    process.env.OTEL_TRACES_SAMPLER_ARG = mode === "on-0" ? "0" : "1";
    await startTracing({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 1_000_000 })] });
  }
  const { startApp } = await import("../../src/app.js");
  const { loadConfig } = await import("../../src/config/index.js");
  const { logger } = await import("../../src/telemetry/logger.js");
  const { EngineService, GenerateRequestSchema } = await import("../../src/gen/mlsdm/v1/engine_pb.js");
  const { grpcClient, grpcUnary } = await import("../../tests/integration/support/clients.js");
  logger.silent = true;
  const { config } = loadConfig({
    env: {
      MLSDM_GRPC_PORT: "0",
      MLSDM_HTTP_PORT: "0",
      MLSDM_LOG_LEVEL: "warn",
      MLSDM_RATE_LIMIT_RPS: "0", // measure the server, not the per-identity rate limit
      MLSDM_RHYTHM_WAKE_DURATION: "10000",
      MLSDM_PELM_CAPACITY: "20000",
    },
  });
  const app = await startApp(config);
  const client = grpcClient(EngineService, app.grpcPort);
  const calls = Number(process.env.MLSDM_BENCH_CALLS ?? 4_000);
  const concurrency = 16;
  const request = (i: number) =>
    create(GenerateRequestSchema, { prompt: `Explain topic ${i % 50} in two sentences.`, contextTopK: 5 });
  const drive = async (total: number, latencies?: number[]): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const start = performance.now();
        const { error } = await grpcUnary(client, "generate", request(i));
        if (error) throw error;
        latencies?.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await drive(500);
  const latencies: number[] = [];
  const started = performance.now();
  await drive(calls, latencies);
  const seconds = (performance.now() - started) / 1000;
  client.close();
  await app.shutdown("benchmark done");
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return {
    mode,
    calls,
    seconds,
    callsPerSecond: calls / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    spansExported: exporter.getFinishedSpans().length,
  };
}

const child = process.env.MLSDM_BENCH_MODE as Mode | undefined;
if (child) {
  process.stdout.write(`${JSON.stringify(await runMode(child))}\n`);
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.MLSDM_BENCH_ROUNDS ?? 3);
const runs: ModeResult[] = [];
// Modes are interleaved over several rounds and each keeps its median round, so a burst of
// other load on the machine does not land on one mode only.
for (let round = 1; round <= ROUNDS; round++) {
  for (const mode of MODES) {
    process.stdout.write(`round ${round}/${ROUNDS}: mode ${mode}...\n`);
    const out = execFileSync(process.execPath, ["--import", "tsx", self], {
      env: { ...process.env, MLSDM_BENCH_MODE: mode },
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    runs.push(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as ModeResult);
  }
}
const results = MODES.map((mode) => {
  const mine = runs.filter((r) => r.mode === mode).sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  const median = mine[Math.floor(mine.length / 2)];
  if (!median) throw new Error(`no result for mode ${mode}`);
  return { ...median, rounds: mine.map((r) => Math.round(r.callsPerSecond)) };
});
const base = results.find((r) => r.mode === "off");
const rows = results.map((r) => ({
  ...r,
  throughputRatioToOff: base ? r.callsPerSecond / base.callsPerSecond : 1,
  overheadPercent: base ? (1 - r.callsPerSecond / base.callsPerSecond) * 100 : 0,
}));
const out = path.join(path.dirname(self), "..", "results", "telemetry.json");
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`,
);
process.stdout.write("\nGenerate over grpc-js, 16 in flight, stub provider\n");
for (const r of rows) {
  process.stdout.write(
    `  ${r.mode.padEnd(7)} ${r.callsPerSecond.toFixed(0).padStart(6)} calls/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  ` +
      `ratio ${r.throughputRatioToOff.toFixed(3)}  overhead ${r.overheadPercent.toFixed(1)} %  spans ${r.spansExported}\n`,
  );
}
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
