/**
 * Span attributes never carry personal data (BASE-SEC-d): a sentinel e-mail, card and JWT set as
 * attributes (directly through the API, through the pipeline tracer port, in an exception and
 * in the status message) come out of the in-memory exporter masked.
 */
import { SpanStatusCode, context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOtelPipelineTracer } from "../../../src/telemetry/tracing/pipeline-tracer.js";
import { tracer } from "../../../src/telemetry/tracing/server-span.js";
import { startTracing, type TracingHandle } from "../../../src/telemetry/tracing/setup.js";

const EMAIL = "span.sentinel@example.com";
const CARD = "4111 1111 1111 1111";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;

beforeAll(async () => {
  tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterAll(async () => {
  await tracing.shutdown();
});

describe("span attribute scrubbing", () => {
  it("masks strings set directly, at start, in arrays, in events and in the status", () => {
    const span = tracer.startSpan("direct", { attributes: { "user.contact": `mail ${EMAIL}` } });
    span.setAttribute("payment", `card ${CARD}`);
    span.setAttribute("tokens", [`t ${JWT}`, "plain"]);
    span.setAttribute("count", 3);
    span.addEvent("note", { text: `reach ${EMAIL}` });
    span.recordException(new Error(`failed for ${EMAIL}`));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `bad ${CARD}` });
    span.end();
    const [done] = exporter.getFinishedSpans().filter((s) => s.name === "direct");
    expect(done?.attributes).toEqual({
      "user.contact": "mail [EMAIL]",
      payment: "card [CARD]",
      tokens: ["t [JWT]", "plain"],
      count: 3,
    });
    expect(done?.status.message).toBe("bad [CARD]");
    const everything = JSON.stringify({
      attributes: done?.attributes,
      events: done?.events,
      status: done?.status,
    });
    for (const secret of [EMAIL, "4111", JWT]) expect(everything).not.toContain(secret);
    expect(everything).toContain("failed for [EMAIL]");
  });

  it("masks what pipeline stages set and the exceptions they throw", async () => {
    const pipeline = createOtelPipelineTracer();
    const server = tracer.startSpan("server");
    await context.with(trace.setSpan(context.active(), server), async () => {
      await pipeline.span("mlsdm.stage.test", (stage) => {
        stage.set("mlsdm.detail", `prompt from ${EMAIL}`);
      });
      await expect(
        pipeline.span("mlsdm.stage.failing", () => {
          throw new Error(`provider echoed ${CARD}`);
        }),
      ).rejects.toThrow();
    });
    server.end();
    const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith("mlsdm.stage."));
    expect(spans.find((s) => s.name === "mlsdm.stage.test")?.attributes["mlsdm.detail"]).toBe(
      "prompt from [EMAIL]",
    );
    const text = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events })));
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain("4111");
    expect(text).toContain("provider echoed [CARD]");
  });
});
