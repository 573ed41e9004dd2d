/**
 * One measured row: drives a server with h2load while reading its CPU time and RSS from /proc
 * and, for MLSDM, its /metrics (event-loop lag p99, calls by gRPC status) before and after.
 */
import { cpuSeconds, rssBytes } from "./proc-stats.js";
import { h2load, type H2loadResult, type Protocol } from "./h2load.js";
import type { MlsdmServer } from "./servers.js";

/** Timing of every row of a run. */
export interface RunTiming {
  readonly seconds: number;
  readonly rateSeconds: number;
  readonly warmupSeconds: number;
  readonly logDir: string;
}

/** What a row drives. */
export interface Load {
  readonly url: string;
  readonly body: string;
  readonly protocol: Protocol;
  readonly h1: boolean;
  readonly concurrency: number;
  readonly rate?: number;
}

/** One side (MLSDM or echo) of a row. */
export interface Measured extends H2loadResult {
  /** Calls that ended with a gRPC status other than OK (server-side count; echo: 0) plus HTTP errors. */
  readonly errors: number;
  /** Non-OK calls by gRPC status and catalogue code (MLSDM only), e.g. {"RESOURCE_EXHAUSTED": 3, "E702": 3}. */
  readonly errorsByCode?: Record<string, number>;
  readonly cpuUsPerCall: number;
  /** Server CPU used during the row, in cores (1 = one core busy). */
  readonly cpuCores: number;
  readonly rssMb: number;
  /** p99 event-loop delay during the row (MLSDM's nodejs_eventloop_lag_p99_seconds), ms. */
  readonly eventLoopLagP99Ms?: number;
}

function errorCodes(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of after) {
    const grpc = /^mlsdm_rpc_requests_total\{.*code="([A-Z_]+)"/.exec(name);
    const catalogue = /^mlsdm_errors_total\{code="(E\d+)"/.exec(name);
    const code = grpc?.[1] !== "OK" ? (grpc?.[1] ?? catalogue?.[1]) : undefined;
    const delta = value - (before.get(name) ?? 0);
    if (code && delta > 0) out[code] = (out[code] ?? 0) + delta;
  }
  return out;
}

function notOkCalls(samples: Map<string, number>): number {
  let total = 0;
  for (const [name, value] of samples) {
    if (name.startsWith("mlsdm_rpc_requests_total{") && !name.includes('code="OK"')) total += value;
  }
  return total;
}

/** Runs `load` against the process `pid` (and reads `mlsdm`'s metrics when given). */
export async function measure(
  pid: number,
  load: Load,
  timing: RunTiming,
  mlsdm?: MlsdmServer,
): Promise<Measured> {
  const before = mlsdm ? await mlsdm.metrics() : undefined; // also resets the lag histogram
  const seconds = load.rate ? timing.rateSeconds : timing.seconds;
  let cpuStart = cpuSeconds(pid);
  const warm = new Promise<void>((resolve) =>
    setTimeout(() => {
      cpuStart = cpuSeconds(pid);
      resolve();
    }, timing.warmupSeconds * 1000),
  );
  const result = await h2load({
    ...load,
    durationSeconds: seconds,
    warmupSeconds: timing.warmupSeconds,
    logDir: timing.logDir,
  });
  await warm;
  const cpuUsed = cpuSeconds(pid) - cpuStart;
  const rss = rssBytes(pid);
  const after = mlsdm ? await mlsdm.metrics() : undefined;
  const grpcErrors = before && after ? notOkCalls(after) - notOkCalls(before) : 0;
  const lag = after?.get("mlsdm_nodejs_eventloop_lag_p99_seconds");
  return {
    ...result,
    errors: grpcErrors + result.httpErrors,
    ...(before && after && grpcErrors > 0 ? { errorsByCode: errorCodes(before, after) } : {}),
    cpuUsPerCall: result.requests > 0 ? (cpuUsed / result.requests) * 1e6 : 0,
    cpuCores: cpuUsed / seconds,
    rssMb: rss / 2 ** 20,
    ...(lag === undefined ? {} : { eventLoopLagP99Ms: lag * 1000 }),
  };
}
