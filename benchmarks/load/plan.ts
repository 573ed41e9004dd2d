/**
 * What a load run measures: the MLSDM server configurations (each its own process, started one
 * after the other) and, per configuration, the rows driven against it. Every row is measured
 * right after the same load against the bare echo server (same h2load command, a body of the
 * same size), so each row carries its own baseline from the same minute.
 */
import type { Protocol } from "./h2load.js";

/** A server configuration: environment on top of LOAD_ENV. */
export interface ServerPlan {
  readonly id: string;
  readonly title: string;
  readonly env: Record<string, string>;
  /** Fill PELM to capacity before the rows (ProcessEvent calls). */
  readonly fill: boolean;
  readonly rows: readonly RowPlan[];
}

/** One row. */
export interface RowPlan {
  readonly id: string;
  readonly method: "ProcessEvent" | "Generate";
  readonly protocol: Protocol;
  /** "grpc" → grpc-js listener (h2c); otherwise the Connect listener over HTTP/1.1. */
  readonly concurrency: number;
  readonly rate?: number;
}

const grpc = (method: RowPlan["method"], concurrency: number, rate?: number): RowPlan => ({
  id: `${method === "ProcessEvent" ? "processEvent" : "generate"}.grpc.${rate ? `rate${rate}` : `c${concurrency}`}`,
  method,
  protocol: "grpc",
  concurrency,
  ...(rate ? { rate } : {}),
});

/** Tracing on with 0 % sampling; the OTLP endpoint is a closed loopback port (nothing is exported). */
const TRACING_ZERO = {
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_TRACES_SAMPLER: "traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0",
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
};

/** The full run (`npm run bench:load`). */
export function fullPlan(): ServerPlan[] {
  return [
    {
      id: "memory",
      title: "embedded defaults, state in memory, PELM full",
      env: { MLSDM_STATE: "memory" },
      fill: true,
      rows: [
        grpc("ProcessEvent", 1),
        grpc("ProcessEvent", 16),
        grpc("ProcessEvent", 64),
        grpc("ProcessEvent", 16, 1000),
        { id: "processEvent.connect.c16", method: "ProcessEvent", protocol: "connect", concurrency: 16 },
        { id: "processEvent.grpc-web.c16", method: "ProcessEvent", protocol: "grpc-web", concurrency: 16 },
        grpc("Generate", 1),
        grpc("Generate", 16),
        grpc("Generate", 64),
        grpc("Generate", 16, 1000),
        { id: "generate.connect.c16", method: "Generate", protocol: "connect", concurrency: 16 },
      ],
    },
    {
      id: "sqlite",
      title: "state persistence on (SQLite journal), PELM full",
      env: { MLSDM_STATE: "sqlite" },
      fill: true,
      rows: [grpc("ProcessEvent", 64), grpc("Generate", 16)],
    },
    {
      id: "tracing0",
      title: "tracing on, sampled at 0 %, state in memory, PELM full",
      env: { MLSDM_STATE: "memory", ...TRACING_ZERO },
      fill: true,
      rows: [grpc("ProcessEvent", 64), grpc("Generate", 16)],
    },
    {
      id: "nocache",
      title: "embedding cache off (every Generate embeds), state in memory, PELM full",
      env: { MLSDM_STATE: "memory", MLSDM_EMBEDDING_CACHE_BACKEND: "off" },
      fill: true,
      rows: [grpc("Generate", 16)],
    },
  ];
}

/** The short run of `npm run bench:gate`: the rows the baseline holds. */
export function gatePlan(): ServerPlan[] {
  return [
    {
      id: "memory",
      title: "embedded defaults, state in memory, PELM full",
      env: { MLSDM_STATE: "memory" },
      fill: true,
      rows: [grpc("ProcessEvent", 64), grpc("Generate", 16)],
    },
  ];
}
