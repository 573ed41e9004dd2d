/**
 * Bulkheads under saturation, on a real server (REL-002, REL-005): with the llm_generation
 * compartment full of stalled calls, ProcessEvent, GetState and health keep answering; queued
 * high priority overtakes queued low priority; a call that cannot get a slot in time is refused
 * with RESOURCE_EXHAUSTED E702 and RetryInfo on both listeners; slots come back when calls end.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import type { ModelCall, ModelReply, ModelStream, ServedBy } from "../../src/core/engine/ports.js";
import { EngineService, GenerateRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import type { StatefulModelGateway } from "../../src/providers/gateway.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

/** A gateway whose calls wait until the test opens the gate; it records the prompts it served. */
class GatedGateway implements StatefulModelGateway {
  readonly served: string[] = [];
  private gates: (() => void)[] = [];
  get waiting(): number {
    return this.gates.length;
  }
  openOne(): void {
    this.gates.shift()?.();
  }
  openAll(): void {
    while (this.gates.length > 0) this.openOne();
  }
  async generate(call: ModelCall): Promise<ModelReply & ServedBy> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.served.push(call.prompt);
    return {
      text: "The answer is a complete sentence with the words it needs.",
      usage: { inputTokens: 1, outputTokens: 1 },
      providerId: "gated",
      variant: "",
    };
  }
  stream(): Promise<ModelStream & ServedBy> {
    return Promise.reject(new Error("not used"));
  }
  status() {
    return [{ id: "gated", breaker: "closed" as const }];
  }
}

const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.sin(i + j) + 0.01);

describe("saturated generation compartment", () => {
  const gateway = new GatedGateway();
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer(
      {
        MLSDM_BULKHEAD_LLM_GENERATION: "2",
        MLSDM_BULKHEAD_QUEUE_TIMEOUT_MS: "1500",
        MLSDM_PRIORITY_AGING_MS: "60000",
        MLSDM_ENGINE_APHASIA_DETECT: "false",
      },
      { gateway },
    );
  });
  afterAll(async () => {
    gateway.openAll();
    await app.shutdown("test done");
  });

  it("keeps cheap calls and health fast, orders the queue by priority, and sheds with E702", async () => {
    const engine = connectClient(EngineService, app.httpPort, "connect");
    const stalled = [engine.generate({ prompt: "stalled one" }), engine.generate({ prompt: "stalled two" })];
    await expect.poll(() => gateway.waiting).toBe(2);

    const started = performance.now();
    const processed = await engine.processEvent({ vector: vector(1), moralValue: 0.95 });
    const state = await engine.getState({});
    const health = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
    expect(processed.accepted).toBe(true);
    expect(state.state?.pelmUsed).toBeGreaterThanOrEqual(1);
    expect(health.status).toBe(1);
    expect(performance.now() - started).toBeLessThan(500);

    // Low first, then high: when a slot frees, high goes first.
    const low = engine.generate({ prompt: "queued low" }, { headers: { "x-mlsdm-priority": "low" } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const high = engine.generate({ prompt: "queued high" }, { headers: { "x-mlsdm-priority": "high" } });
    await new Promise((resolve) => setTimeout(resolve, 50));

    // A call that finds no slot within the queue timeout is refused with E702 on the grpc-js listener.
    const grpc = grpcClient(EngineService, app.grpcPort);
    const shed = grpcUnary(grpc, "generate", create(GenerateRequestSchema, { prompt: "shed me" }));

    gateway.openOne();
    await stalled[0];
    await expect.poll(() => gateway.waiting).toBe(2);
    gateway.openOne();
    await stalled[1];
    await expect.poll(() => gateway.waiting).toBe(2);
    const { error } = await shed;
    grpc.close();
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error && grpcErrorInfo(error)?.metadata).toMatchObject({
      code: "E702",
      compartment: "llm_generation",
    });
    expect(error && grpcHasRetryInfo(error)).toBe(true);

    gateway.openAll();
    await Promise.all([low, high]);
    const order = gateway.served.filter((p) => p.includes("User: queued") || p.startsWith("queued"));
    expect(order.map((p) => (p.includes("high") ? "high" : "low"))).toEqual(["high", "low"]);

    const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
    expect(metrics).toContain('mlsdm_bulkhead_active{compartment="llm_generation"} 0');
    expect(metrics).toMatch(
      /mlsdm_bulkhead_rejected_total\{compartment="llm_generation",reason="queue_timeout"\} 1/,
    );
  });

  it("refuses at once on the Connect listener when the queue is full", async () => {
    const app2 = await startTestServer(
      {
        MLSDM_BULKHEAD_LLM_GENERATION: "1",
        MLSDM_BULKHEAD_QUEUE_SIZE: "0",
        MLSDM_ENGINE_APHASIA_DETECT: "false",
      },
      { gateway },
    );
    try {
      const engine = connectClient(EngineService, app2.httpPort, "connect");
      const held = engine.generate({ prompt: "hold" });
      await expect.poll(() => gateway.waiting).toBe(1);
      const error = await engine.generate({ prompt: "no room" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.ResourceExhausted);
      expect(connectErrorInfo(error)?.metadata.reason).toBe("queue_full");
      gateway.openAll();
      await held;
    } finally {
      await app2.shutdown("test done");
    }
  });
});
