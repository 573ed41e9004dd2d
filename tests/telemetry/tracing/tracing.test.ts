/**
 * One trace across the process, on both listeners: a caller's W3C traceparent (gRPC metadata
 * or HTTP header) becomes the parent of the server span; the pipeline's stage spans are its
 * children; the traceparent sent to the model provider (a real HTTP server) carries the same
 * trace id; log lines written inside the call carry the trace and span ids. Spans are caught
 * by an in-memory exporter installed through startTracing's test path.
 */
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import winston from "winston";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningApp } from "../../../src/app.js";
import { EngineService, GenerateRequestSchema } from "../../../src/gen/mlsdm/v1/engine_pb.js";
import { configureLogger, logger } from "../../../src/telemetry/logger.js";
import { startTracing, tracesExporters, type TracingHandle } from "../../../src/telemetry/tracing/setup.js";
import { connectClient, grpcClient, grpcUnary } from "../../integration/support/clients.js";
import { startTestServer } from "../../integration/support/server.js";
import { FakeModelServer } from "../../providers/support/fake-model-server.js";

const exporter = new InMemorySpanExporter();
const lines: Record<string, unknown>[] = [];
let tracing: TracingHandle;
let fake: FakeModelServer;
let app: RunningApp;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");
function traceparent(seed: number): { header: string; traceId: string; parentId: string } {
  const traceId = hex(seed, 32);
  const parentId = hex(seed + 1, 16);
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

function spansOf(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

function serverSpan(traceId: string): ReadableSpan {
  const found = spansOf(traceId).filter((span) => span.name.startsWith("mlsdm.v1."));
  expect(found).toHaveLength(1);
  const [span] = found;
  if (!span) throw new Error("no server span");
  return span;
}

function expectPipelineUnder(server: ReadableSpan): void {
  const stages = spansOf(server.spanContext().traceId).filter((span) => span.name.startsWith("mlsdm.stage."));
  expect(stages.map((span) => span.name)).toEqual(
    expect.arrayContaining([
      "mlsdm.stage.pre_moral",
      "mlsdm.stage.embedding",
      "mlsdm.stage.retrieval",
      "mlsdm.stage.generation",
      "mlsdm.stage.aphasia",
      "mlsdm.stage.post_moral",
      "mlsdm.stage.memory_update",
    ]),
  );
  for (const stage of stages) expect(stage.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
}

beforeAll(async () => {
  tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  fake = await FakeModelServer.start();
  app = await startTestServer({
    MLSDM_LLM_PRIMARY_BACKEND: "openai",
    MLSDM_LLM_PRIMARY_BASE_URL: fake.openAiBaseUrl,
    MLSDM_LLM_PRIMARY_API_KEY: "sk-test",
  });
  configureLogger({ level: "debug", format: "json", version: "test" });
  logger.clear();
  const capture = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  // winston declares transports.Stream as a constructor-typed variable, which this rule cannot follow.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  logger.add(new winston.transports.Stream({ stream: capture }));
  logger.silent = false;
});
afterAll(async () => {
  logger.silent = true;
  await app.shutdown("test done");
  await fake.close();
  await tracing.shutdown();
});
beforeEach(() => {
  exporter.reset();
});

describe("traces across both listeners", () => {
  it("grpc-js listener: traceparent metadata → server span → stage spans → provider request", async () => {
    const { header, traceId, parentId } = traceparent(0xa1);
    const client = grpcClient(EngineService, app.grpcPort);
    const metadata = new grpc.Metadata();
    metadata.set("traceparent", header);
    const { error } = await grpcUnary(
      client,
      "generate",
      create(GenerateRequestSchema, { prompt: "Why is the sky blue?" }),
      {
        metadata,
      },
    );
    client.close();
    expect(error).toBeUndefined();
    const server = serverSpan(traceId);
    expect(server.name).toBe("mlsdm.v1.EngineService/Generate");
    expect(server.parentSpanContext?.spanId).toBe(parentId);
    expect(server.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.method": "Generate",
      "mlsdm.listener": "grpc",
      "rpc.grpc.status_code": 0,
    });
    expectPipelineUnder(server);
    expect(String(fake.lastRequest().headers.traceparent)).toContain(traceId);
    const logged = lines.filter((line) => line.trace_id === traceId);
    expect(logged.some((line) => line.event === "rpc" && line.span_id === server.spanContext().spanId)).toBe(
      true,
    );
  });

  it("Connect listener over Connect and over gRPC: the same spans from an HTTP traceparent header", async () => {
    for (const [i, protocol] of (["connect", "grpc"] as const).entries()) {
      const { header, traceId, parentId } = traceparent(0xb0 + i * 16);
      const client = connectClient(EngineService, app.httpPort, protocol);
      await client.generate({ prompt: "Why is the sea salty?" }, { headers: { traceparent: header } });
      const server = serverSpan(traceId);
      expect(server.parentSpanContext?.spanId).toBe(parentId);
      expect(server.attributes["mlsdm.listener"]).toBe("connect");
      expectPipelineUnder(server);
      expect(String(fake.lastRequest().headers.traceparent)).toContain(traceId);
    }
  });

  it("records the status and the catalogue code of a failed call", async () => {
    const { header, traceId } = traceparent(0xc1);
    const client = connectClient(EngineService, app.httpPort, "connect");
    await expect(client.generate({ prompt: "" }, { headers: { traceparent: header } })).rejects.toThrow();
    const server = serverSpan(traceId);
    expect(server.attributes["rpc.grpc.status_code"]).toBe(3);
    expect(server.attributes["mlsdm.error_code"]).toBe("E103");
    expect(server.status.code).toBe(2);
  });

  it("starts a new trace when the caller sends none, and never records prompt text", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    await client.generate({ prompt: "sentinel-prompt-text-42" });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((span) => span.name === "mlsdm.v1.EngineService/Generate");
    expect(server?.parentSpanContext).toBeUndefined();
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain("sentinel-prompt-text-42");
  });
});

describe("tracing configuration", () => {
  it("is off unless OTEL_TRACES_EXPORTER names an exporter", async () => {
    expect(tracesExporters({})).toEqual([]);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: "none" })).toEqual([]);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: "otlp,console" })).toEqual(["otlp", "console"]);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" })).toEqual([]);
    expect(() => tracesExporters({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/zipkin/);
    const off = await startTracing({ env: {} });
    expect(off.enabled).toBe(false);
  });
});
