/**
 * Runs h2load (Debian package nghttp2-client) once and reads its result: throughput from its
 * summary, latency percentiles from its per-request log (`--log-file`), HTTP-level failures
 * from its counters. h2load does not read gRPC trailers, so gRPC status errors are counted on
 * the server side by the caller (MLSDM's `mlsdm_rpc_requests_total`).
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Headers of each protocol (h2load sends them with every request). */
export const PROTOCOL_HEADERS = {
  grpc: ["content-type: application/grpc", "te: trailers"],
  "grpc-web": ["content-type: application/grpc-web+proto", "x-grpc-web: 1"],
  connect: ["content-type: application/json"],
} as const;
export type Protocol = keyof typeof PROTOCOL_HEADERS;

/** One h2load invocation. */
export interface H2loadRun {
  readonly url: string;
  readonly body: string;
  readonly protocol: Protocol;
  /** HTTP/1.1 (one request in flight per connection) instead of h2c. */
  readonly h1: boolean;
  /** Calls in flight: h2c = one connection with this many streams; HTTP/1.1 = this many connections. */
  readonly concurrency: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Fixed total rate in calls per second (open-ish model: h2load paces each client). */
  readonly rate?: number;
  readonly logDir: string;
}

/** What one run measured. */
export interface H2loadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  /** Logged responses with a non-2xx HTTP status or a failed stream (-1). */
  readonly httpErrors: number;
  /**
   * h2load's own failed + errored + timeout counters. They include the streams still in flight
   * when `-D` ends (h2load cuts them), so they are recorded but not counted as errors.
   */
  readonly h2loadFailed: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0);
}

function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Runs h2load; rejects when it cannot run at all. Always bounded by `durationSeconds`. */
export async function h2load(options: H2loadRun): Promise<H2loadResult> {
  const log = path.join(options.logDir, `h2load-${process.pid}-${Date.now()}.log`);
  const clients = options.h1 ? options.concurrency : 1;
  const streams = options.h1 ? 1 : options.concurrency;
  const args = [
    "-c",
    String(clients),
    "-m",
    String(streams),
    "-t",
    "1",
    "-D",
    String(options.durationSeconds),
    `--warm-up-time=${options.warmupSeconds}`,
    "-d",
    options.body,
    `--log-file=${log}`,
    ...PROTOCOL_HEADERS[options.protocol].flatMap((header) => ["-H", header]),
    ...(options.h1 ? ["--h1"] : []),
    ...(options.rate ? [`--rps=${Math.max(1, Math.round(options.rate / clients))}`] : []),
    options.url,
  ];
  const { stdout } = await run("h2load", args, {
    timeout: (options.durationSeconds + options.warmupSeconds + 30) * 1000,
    maxBuffer: 1 << 24,
  });
  const durations: number[] = [];
  let non2xx = 0;
  try {
    for (const line of readFileSync(log, "utf8").split("\n")) {
      const [, status, micros] = line.split("\t");
      if (micros === undefined) continue;
      const code = Number(status);
      if (code < 200 || code > 299) non2xx++;
      durations.push(Number(micros) / 1000);
    }
  } finally {
    rmSync(log, { force: true });
  }
  const sorted = Float64Array.from(durations).sort();
  const done = number(stdout, /(\d+) done/);
  const failed = number(stdout, /(\d+) failed/);
  const errored = number(stdout, /(\d+) errored/);
  const timedOut = number(stdout, /(\d+) timeout/);
  const seconds = options.durationSeconds;
  return {
    requests: done,
    seconds,
    callsPerSecond: done / seconds,
    httpErrors: non2xx,
    h2loadFailed: failed + errored + timedOut,
    p50Ms: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    p99Ms: quantile(sorted, 0.99),
    meanMs: durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length),
  };
}
