/**
 * The two servers of a load run, each in its own child process on 127.0.0.1: the real MLSDM
 * server (`src/main.ts`, configured only through its documented environment variables) and
 * the bare grpc-js echo server. Both are stopped by `stop()` (SIGTERM, then SIGKILL after 10 s)
 * and die with the harness (stdin pipe closes, SIGTERM from the exit hook).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../tests/support/free-port.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGTERM");
});

/** A running child server. */
export interface ChildServer {
  readonly pid: number;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        children.delete(child);
        resolve();
        return;
      }
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(kill);
        children.delete(child);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

function nodeChild(args: string[], env: NodeJS.ProcessEnv, stdout: "pipe" | "ignore"): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ["pipe", stdout, "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGTERM" && children.has(child)) {
      process.stderr.write(`child ${args.join(" ")} exited (${code ?? signal}): ${stderr}\n`);
    }
  });
  return child;
}

/** Starts the bare echo server. */
export async function startEcho(): Promise<ChildServer & { port: number }> {
  const child = nodeChild(["--import", "tsx", "benchmarks/load/echo-server.ts", "0"], process.env, "pipe");
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error("echo server did not start in 30 s"));
    }, 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      const match = /ready (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", () => {
      reject(new Error("echo server exited at start-up"));
    });
  });
  return { pid: child.pid ?? 0, port, stop: stopper(child) };
}

/** Settings of one MLSDM server for the harness. */
export interface MlsdmOptions {
  /** Environment on top of the harness defaults (see LOAD_ENV). */
  readonly env: Record<string, string>;
  /** Directory to write a V8 CPU profile into (`node --cpu-prof`), if any. */
  readonly cpuProfDir?: string;
}

/**
 * What every MLSDM server of the harness runs with, on top of the built-in defaults, and why
 * (benchmarks/README.md lists the same):
 * - rate limiting off: the default 5/s per identity would measure the limiter, not the server;
 * - the event-loop-lag guard off: a saturation run would otherwise shed calls as E703;
 * - bulkheads raised to the highest concurrency driven (64 plus headroom), so calls never wait
 *   in a compartment queue: the run measures the work, not the admission limits;
 * - a rhythm of 10,000 wake events per sleep event: every call does the wake-path work
 *   (default 8/3 would serve 27 % of calls as cheap sleep refusals).
 */
export const LOAD_ENV: Record<string, string> = {
  MLSDM_HOST: "127.0.0.1",
  MLSDM_RATE_LIMIT_RPS: "0",
  MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
  MLSDM_MAX_CONCURRENT: "1000",
  MLSDM_BULKHEAD_COGNITIVE: "1000",
  MLSDM_BULKHEAD_MEMORY: "1000",
  MLSDM_BULKHEAD_LLM_GENERATION: "128",
  MLSDM_RHYTHM_WAKE_DURATION: "10000",
  MLSDM_RHYTHM_SLEEP_DURATION: "1",
  MLSDM_LOG_FORMAT: "json",
};

/** A running MLSDM server. */
export interface MlsdmServer extends ChildServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The Prometheus exposition of /metrics, parsed into name{labels} → value. */
  metrics(): Promise<Map<string, number>>;
}

/** Parses a Prometheus text exposition (samples only). */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Starts MLSDM and waits until /readyz answers 200 (at most 60 s). */
export async function startMlsdm(options: MlsdmOptions): Promise<MlsdmServer> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const env = {
    ...process.env,
    ...LOAD_ENV,
    MLSDM_GRPC_PORT: String(grpcPort),
    MLSDM_HTTP_PORT: String(httpPort),
    ...options.env,
  };
  const prof = options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const child = nodeChild([...prof, "--import", "tsx", "src/main.ts"], env, "ignore");
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`MLSDM exited at start-up (code ${child.exitCode})`);
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("MLSDM did not become ready in 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    pid: child.pid ?? 0,
    grpcPort,
    httpPort,
    stop: stopper(child),
    async metrics() {
      const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return parseExposition(await response.text());
    },
  };
}
