/**
 * `npm run bench:profile -- <ProcessEvent|Generate> [concurrency] [seconds]`: one row of the load
 * harness against one MLSDM server run under `node --cpu-prof` (embedded defaults, state in
 * memory, PELM filled to capacity), to see where a row's time goes. Prints the calls/s, the
 * top self-time functions and the self time per package or source directory; the profile is
 * kept under benchmarks/results/profiles/<date>-<method>/ for a profiler (Chrome DevTools).
 * Traffic goes to 127.0.0.1 only; h2load is bounded by -D and the server is stopped at the end.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeBodies } from "./bodies.js";
import { measure } from "./measure.js";
import { prefill } from "./prefill.js";
import { summariseProfile, summariseByModule } from "./profile-summary.js";
import { startMlsdm } from "./servers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const [methodArg = "ProcessEvent", concurrencyArg = "64", secondsArg = "10"] = process.argv.slice(2);
if (methodArg !== "ProcessEvent" && methodArg !== "Generate") {
  process.stderr.write("usage: bench:profile -- <ProcessEvent|Generate> [concurrency] [seconds]\n");
  process.exit(2);
}
const method: "ProcessEvent" | "Generate" = methodArg;
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const dir = path.join(ROOT, "benchmarks/results/profiles", `${stamp}-${method}`);
mkdirSync(dir, { recursive: true });
const work = mkdtempSync(path.join(tmpdir(), "mlsdm-profile-"));
const bodies = writeBodies(work, 384);
const mlsdm = await startMlsdm({ env: { MLSDM_STATE: "memory" }, cpuProfDir: dir });
try {
  await prefill(mlsdm.grpcPort, 384, 20_010);
  const files = method === "ProcessEvent" ? bodies.processEvent : bodies.generate;
  const result = await measure(
    mlsdm.pid,
    {
      url: `http://127.0.0.1:${mlsdm.grpcPort}/mlsdm.v1.EngineService/${method}`,
      body: files.frame,
      protocol: "grpc",
      h1: false,
      concurrency,
    },
    { seconds, rateSeconds: seconds, warmupSeconds: 1, logDir: work },
    mlsdm,
  );
  process.stdout.write(
    `${method} c${concurrency}: ${result.callsPerSecond.toFixed(0)} calls/s, p99 ${result.p99Ms.toFixed(2)} ms, ` +
      `${result.cpuUsPerCall.toFixed(0)} µs CPU per call, errors ${result.errors}\n`,
  );
} finally {
  await mlsdm.stop();
  rmSync(work, { recursive: true, force: true });
}
const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
if (file) {
  const full = path.join(dir, file);
  process.stdout.write(`\nprofile: ${path.relative(ROOT, full)} (includes the fill)\n`);
  for (const line of summariseProfile(full, 30)) process.stdout.write(`${line}\n`);
  process.stdout.write("\nself time by package / source directory:\n");
  for (const line of summariseByModule(full, 25)) process.stdout.write(`${line}\n`);
}
