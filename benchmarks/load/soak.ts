/**
 * `npm run bench:soak` (not in CI): MLSDM with a full PELM under a steady mixed load at fixed
 * rates (ProcessEvent and Generate over grpc-js at the same time) for MLSDM_SOAK_SECONDS (600),
 * sampling RSS from /proc every 10 s (or 20 times in a shorter run). "No growth" means the RSS of the last quarter of the run is
 * within 5 % (and 16 MB) of the second quarter's, after the first quarter settles the heap.
 * Writes benchmarks/results/soak-<date>.json. Loopback only; bounded by h2load -D.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeBodies } from "./bodies.js";
import { h2load } from "./h2load.js";
import { prefill } from "./prefill.js";
import { rssBytes } from "./proc-stats.js";
import { startMlsdm } from "./servers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const seconds = Number(process.env.MLSDM_SOAK_SECONDS ?? 600);
const eventRate = Number(process.env.MLSDM_SOAK_EVENT_RATE ?? 500);
const generateRate = Number(process.env.MLSDM_SOAK_GENERATE_RATE ?? 200);
const work = mkdtempSync(path.join(tmpdir(), "mlsdm-soak-"));
const bodies = writeBodies(work, 384);
const server = await startMlsdm({ env: { MLSDM_STATE: "memory" } });
const samples: { atSeconds: number; rssMb: number }[] = [];
try {
  await prefill(server.grpcPort, 384, 20_010);
  const url = (method: string): string =>
    `http://127.0.0.1:${server.grpcPort}/mlsdm.v1.EngineService/${method}`;
  const started = Date.now();
  const sampler = setInterval(
    () => {
      samples.push({ atSeconds: (Date.now() - started) / 1000, rssMb: rssBytes(server.pid) / 2 ** 20 });
    },
    Math.min(10_000, (seconds * 1000) / 20),
  );
  const common = {
    protocol: "grpc" as const,
    h1: false,
    concurrency: 16,
    durationSeconds: seconds,
    warmupSeconds: 1,
    logDir: work,
  };
  const [events, generates] = await Promise.all([
    h2load({ ...common, url: url("ProcessEvent"), body: bodies.processEvent.frame, rate: eventRate }),
    h2load({ ...common, url: url("Generate"), body: bodies.generate.frame, rate: generateRate }),
  ]);
  clearInterval(sampler);
  const quarter = (q: number): number => {
    const part = samples.filter(
      (s) => s.atSeconds >= (seconds * q) / 4 && s.atSeconds < (seconds * (q + 1)) / 4,
    );
    const sorted = part.map((s) => s.rssMb).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const settled = quarter(1);
  const last = quarter(3);
  const growthMb = last - settled;
  const ok = Number.isFinite(growthMb) && growthMb <= Math.max(16, settled * 0.05);
  const result = {
    date: new Date().toISOString(),
    seconds,
    eventRate,
    generateRate,
    events,
    generates,
    samples,
    settledMb: settled,
    lastMb: last,
    growthMb,
    noGrowth: ok,
  };
  const out = path.join(ROOT, "benchmarks/results", `soak-${result.date.replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `soak ${seconds} s: ProcessEvent ${events.callsPerSecond.toFixed(0)}/s p99 ${events.p99Ms.toFixed(2)} ms, ` +
      `Generate ${generates.callsPerSecond.toFixed(0)}/s p99 ${generates.p99Ms.toFixed(2)} ms; RSS ${settled.toFixed(1)} → ${last.toFixed(1)} MB ` +
      `(${growthMb >= 0 ? "+" : ""}${growthMb.toFixed(1)} MB): ${ok ? "no growth" : "GROWTH"}\nwritten to ${path.relative(process.cwd(), out)}\n`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
