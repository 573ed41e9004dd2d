/**
 * `npm run bench:load` (full run), `npm run bench:gate` (short run compared with
 * benchmarks/baseline.json). Starts the real MLSDM server in child processes (see plan.ts and
 * LOAD_ENV in servers.ts) and, in the same run, the bare grpc-js echo server; drives both with
 * h2load; records throughput, p50/p95/p99, errors, server CPU per call, RSS and event-loop lag
 * into benchmarks/results/load-<date>.json (gate: gate-<date>.json) and prints a table with the
 * ratio to the bare baseline for every row, then the targets of issue 11, met or not.
 *
 * Flags: --gate, --cpu-prof (V8 CPU profiles of every MLSDM server under
 * benchmarks/results/profiles/, with a top-functions summary), --update-baseline (with --gate).
 * Environment: MLSDM_LOAD_SECONDS (per row, default 10; gate 3), MLSDM_LOAD_RATE_SECONDS (fixed-
 * rate rows, default 30; gate 3), MLSDM_LOAD_WARMUP_SECONDS (2; gate 1), MLSDM_LOAD_ROUNDS (1;
 * gate 3). Traffic goes to 127.0.0.1 only; every h2load run is bounded by -D and every child is
 * stopped at the end (or killed when the harness exits).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compareRetrieval } from "../core/retrieval.js";
import { writeBodies } from "./bodies.js";
import { measure, type Measured, type RunTiming } from "./measure.js";
import { fullPlan, gatePlan, type RowPlan, type ServerPlan } from "./plan.js";
import { prefill } from "./prefill.js";
import { settledRssBytes } from "./proc-stats.js";
import { summariseProfile } from "./profile-summary.js";
import { LOAD_ENV, startEcho, startMlsdm, type MlsdmServer } from "./servers.js";
import { evaluateTargets, type LoadResults, type RowResult } from "./targets.js";
import { printReport } from "./report.js";
import { runGate } from "./gate.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DIMENSION = 384;
const CAPACITY = 20_000;
const args = new Set(process.argv.slice(2));
const gate = args.has("--gate");
const cpuProf = args.has("--cpu-prof");
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

try {
  execFileSync("h2load", ["--version"], { stdio: "ignore" });
} catch {
  process.stderr.write(
    "h2load not found: install the Debian package nghttp2-client (bash .ci/system-packages)\n",
  );
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), "mlsdm-load-"));
const timing: RunTiming = {
  seconds: envNumber("MLSDM_LOAD_SECONDS", gate ? 3 : 10),
  rateSeconds: envNumber("MLSDM_LOAD_RATE_SECONDS", gate ? 3 : 30),
  warmupSeconds: envNumber("MLSDM_LOAD_WARMUP_SECONDS", gate ? 1 : 2),
  logDir: work,
};
const rounds = envNumber("MLSDM_LOAD_ROUNDS", gate ? 3 : 1);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const profileDir = path.join(ROOT, "benchmarks/results/profiles", stamp);
const bodies = writeBodies(work, DIMENSION);
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

log(`PELM retrieval: PELM vs naive Float32Array scan, ${CAPACITY} × ${DIMENSION}...`);
const retrieval = await compareRetrieval({ queries: gate ? 100 : 300 });

const echo = await startEcho();
const echoUrl = `http://127.0.0.1:${echo.port}/bench.Echo/Echo`;

function loadFor(row: RowPlan, server: MlsdmServer | undefined) {
  const files = row.method === "ProcessEvent" ? bodies.processEvent : bodies.generate;
  const body = row.protocol === "connect" ? files.json : files.frame;
  const base = server
    ? row.protocol === "grpc"
      ? `http://127.0.0.1:${server.grpcPort}`
      : `http://127.0.0.1:${server.httpPort}`
    : undefined;
  return {
    url: base ? `${base}/mlsdm.v1.EngineService/${row.method}` : echoUrl,
    // The echo baseline always gets the gRPC frame of the same message (same size), over h2c.
    body: server ? body : files.frame,
    protocol: server ? row.protocol : ("grpc" as const),
    h1: server ? row.protocol !== "grpc" : false,
    concurrency: row.concurrency,
    ...(row.rate ? { rate: row.rate } : {}),
  };
}

const median = <T>(items: T[], by: (item: T) => number): T => {
  const sorted = [...items].sort((a, b) => by(a) - by(b));
  const item = sorted[Math.floor(sorted.length / 2)];
  if (item === undefined) throw new Error("no samples");
  return item;
};

const rows: RowResult[] = [];
const memory: LoadResults["memory"] = [];
const profiles: LoadResults["profiles"] = [];
const plan: ServerPlan[] = gate ? gatePlan() : fullPlan();
try {
  for (const server of plan) {
    log(`\n[${server.id}] ${server.title}: starting MLSDM...`);
    const serverProfileDir = cpuProf ? path.join(profileDir, server.id) : undefined;
    if (serverProfileDir) mkdirSync(serverProfileDir, { recursive: true });
    const mlsdm = await startMlsdm({
      env: server.env,
      ...(serverProfileDir ? { cpuProfDir: serverProfileDir } : {}),
    });
    try {
      // Warm the process with the same calls refused by the moral filter (nothing is stored), so
      // "empty" RSS already holds the heap a busy server keeps; the fill then adds the store only.
      await prefill(mlsdm.grpcPort, DIMENSION, 5_000, 0.05);
      const rssEmpty = await settledRssBytes(mlsdm.pid, 10);
      if (server.fill) {
        const started = performance.now();
        await prefill(mlsdm.grpcPort, DIMENSION, CAPACITY + 10);
        const samples = await mlsdm.metrics();
        const used = samples.get("mlsdm_memory_items") ?? 0;
        log(`  PELM filled: ${used}/${CAPACITY} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        const rssFull = await settledRssBytes(mlsdm.pid, 10);
        memory.push({
          server: server.id,
          pelmUsed: used,
          rssEmptyMb: rssEmpty / 2 ** 20,
          rssFullMb: rssFull / 2 ** 20,
          rawVectorMb: (CAPACITY * DIMENSION * 4) / 2 ** 20,
        });
      }
      for (const row of server.rows) {
        const samples: { mlsdm: Measured; echo: Measured }[] = [];
        for (let round = 1; round <= rounds; round++) {
          const bare = await measure(echo.pid, loadFor(row, undefined), timing);
          const ours = await measure(mlsdm.pid, loadFor(row, mlsdm), timing, mlsdm);
          samples.push({ mlsdm: ours, echo: bare });
          log(
            `  ${row.id.padEnd(28)} round ${round}/${rounds}: ${ours.callsPerSecond.toFixed(0)} calls/s ` +
              `(echo ${bare.callsPerSecond.toFixed(0)}), p99 ${ours.p99Ms.toFixed(2)} ms, errors ${ours.errors}` +
              (ours.errorsByCode ? ` ${JSON.stringify(ours.errorsByCode)}` : ""),
          );
        }
        const chosen = median(samples, (s) => s.mlsdm.callsPerSecond / Math.max(1, s.echo.callsPerSecond));
        rows.push({
          id: `${server.id}/${row.id}`,
          server: server.id,
          row: row.id,
          method: row.method,
          protocol: row.protocol,
          concurrency: row.concurrency,
          ...(row.rate ? { rate: row.rate } : {}),
          mlsdm: chosen.mlsdm,
          echo: chosen.echo,
          throughputRatio: chosen.mlsdm.callsPerSecond / Math.max(1, chosen.echo.callsPerSecond),
          p99RatioToEcho: chosen.mlsdm.p99Ms / Math.max(1e-3, chosen.echo.p99Ms),
          rounds: samples.map((s) => s.mlsdm.callsPerSecond / Math.max(1, s.echo.callsPerSecond)),
        });
      }
    } finally {
      await mlsdm.stop();
    }
    if (serverProfileDir) {
      const file = readdirSync(serverProfileDir).find((name) => name.endsWith(".cpuprofile"));
      if (file) {
        const full = path.join(serverProfileDir, file);
        profiles.push({
          server: server.id,
          file: path.relative(ROOT, full),
          top: summariseProfile(full, 15),
        });
      }
    }
  }
} finally {
  await echo.stop();
  rmSync(work, { recursive: true, force: true });
}

let commit = "";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
} catch {
  // not a git checkout
}
const results: LoadResults = {
  kind: gate ? "gate" : "load",
  date: new Date().toISOString(),
  node: process.version,
  commit,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", loadAverage: os.loadavg() },
  timing: {
    seconds: timing.seconds,
    rateSeconds: timing.rateSeconds,
    warmupSeconds: timing.warmupSeconds,
    rounds,
  },
  env: LOAD_ENV,
  messageBytes: { processEvent: bodies.processEvent.messageBytes, generate: bodies.generate.messageBytes },
  retrieval,
  memory,
  rows,
  profiles,
  targets: [],
};
const withTargets: LoadResults = { ...results, targets: evaluateTargets(results) };
const out = path.join(ROOT, "benchmarks/results", `${gate ? "gate" : "load"}-${stamp}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(withTargets, null, 2)}\n`);
printReport(withTargets, log);
log(`\nwritten to ${path.relative(process.cwd(), out)}`);
if (gate)
  process.exitCode = runGate(
    withTargets,
    path.join(ROOT, "benchmarks/baseline.json"),
    args.has("--update-baseline"),
    log,
  );
