/**
 * The exporters named by OTEL_TRACES_EXPORTER (src/telemetry/tracing/setup.ts), for real: with
 * `otlp,console`, a finished span is printed by the console exporter and POSTed by the OTLP/HTTP
 * exporter to the configured endpoint (a local HTTP server standing in for the collector) when
 * tracing shuts down; attribute values are scrubbed first; the resource names the service.
 * tracing.test.ts uses the in-memory test path instead.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTracing, tracesExporters } from "../../../src/telemetry/tracing/setup.js";

describe("tracing with the otlp and console exporters", () => {
  let collector: Server;
  const received: { url: string; body: Buffer }[] = [];
  const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ url: req.url ?? "", body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const { port } = collector.address() as AddressInfo;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved;
    await new Promise((resolve) => collector.close(resolve));
  });

  it("prints a finished span and delivers it to the OTLP endpoint on shutdown", async () => {
    const printed: unknown[] = [];
    const dir = vi.spyOn(console, "dir").mockImplementation((value: unknown) => {
      printed.push(value);
    });
    const log = vi.spyOn(console, "log").mockImplementation((value: unknown) => {
      printed.push(value);
    });
    const handle = await startTracing({
      env: { OTEL_TRACES_EXPORTER: " OTLP , console,otlp ", OTEL_SERVICE_NAME: "mlsdm-exporter-test" },
      serviceVersion: "9.8.7",
    });
    try {
      expect(handle).toMatchObject({ enabled: true, exporters: ["otlp", "console"] });
      const span = trace.getTracer("exporters-test").startSpan("exporters.test.span");
      span.setAttribute("note", "mail jane.doe@example.com");
      span.end();
      await handle.shutdown();
    } finally {
      dir.mockRestore();
      log.mockRestore();
    }
    const shown = JSON.stringify(printed);
    expect(shown).toContain("exporters.test.span");
    expect(shown).not.toContain("jane.doe@example.com");
    expect(received.map((r) => r.url)).toContain("/v1/traces");
    const body = Buffer.concat(received.map((r) => r.body)).toString("latin1");
    expect(body).toContain("exporters.test.span");
    expect(body).toContain("mlsdm-exporter-test");
    expect(body).toContain("9.8.7");
    expect(body).not.toContain("jane.doe@example.com");
  });

  it("reads the exporter list: none and OTEL_SDK_DISABLED turn tracing off; unknown names are refused", async () => {
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: "otlp,none" })).toEqual([]);
    expect(tracesExporters({ OTEL_TRACES_EXPORTER: "console", OTEL_SDK_DISABLED: " TRUE " })).toEqual([]);
    expect(tracesExporters({})).toEqual([]);
    expect(() => tracesExporters({ OTEL_TRACES_EXPORTER: "otlp,zipkin" })).toThrow(
      "OTEL_TRACES_EXPORTER: unsupported exporter(s) zipkin; use otlp, console or none",
    );
    const off = await startTracing({ env: { OTEL_TRACES_EXPORTER: "none" } });
    expect(off).toMatchObject({ enabled: false, exporters: [] });
    await off.shutdown();
  });
});
