/**
 * Generate against a real OpenAI-compatible HTTP server started by the test (the fake model
 * server of tests/providers): the model's text comes back through both listeners, and each
 * failure ends in its catalogue error with RetryInfo, the breaker opens and then refuses
 * without calling the provider, and a deadline is honoured.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService, BreakerState } from "../../src/gen/mlsdm/v1/admin_pb.js";
import {
  EngineService,
  GenerateRequestSchema,
  type GenerateResponse,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { FakeModelServer } from "../providers/support/fake-model-server.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const FLUENT = ["The tides ", "rise and fall ", "because the moon ", "pulls on the oceans of the earth."];

async function failure(promise: Promise<unknown>): Promise<ConnectError | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
}

describe("Generate with an OpenAI-compatible provider over HTTP", () => {
  let fake: FakeModelServer;
  let app: RunningApp;
  beforeAll(async () => {
    fake = await FakeModelServer.start();
    app = await startTestServer({
      MLSDM_LLM_PRIMARY_BACKEND: "openai",
      MLSDM_LLM_PRIMARY_BASE_URL: fake.openAiBaseUrl,
      MLSDM_LLM_PRIMARY_API_KEY: "sk-test-sentinel-key-0123456789",
      MLSDM_LLM_PRIMARY_MODEL: "gpt-4o-mini",
      MLSDM_LLM_MAX_RETRIES: "0",
      MLSDM_LLM_BREAKER_FAILURES: "2",
      MLSDM_LLM_BREAKER_HALF_OPEN_SECONDS: "1",
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    await fake.close();
  });

  it("returns the model's text on both listeners and sends the key only to the provider", async () => {
    fake.enqueue({ kind: "ok", deltas: FLUENT }, { kind: "ok", deltas: FLUENT });
    const connect = connectClient(EngineService, app.httpPort, "connect");
    const response = await connect.generate({ prompt: "Why are there tides?", contextTopK: 0 });
    expect(response.text).toBe(FLUENT.join(""));
    expect(response.decision?.providerId).toBe("openai_gpt_4o_mini");
    expect(fake.lastRequest().headers.authorization).toBe("Bearer sk-test-sentinel-key-0123456789");
    const g = grpcClient(EngineService, app.grpcPort);
    const { response: viaGrpc } = await grpcUnary(
      g,
      "generate",
      create(GenerateRequestSchema, { prompt: "Tides?" }),
    );
    g.close();
    expect((viaGrpc as GenerateResponse).text).toBe(FLUENT.join(""));
  });

  it("maps 429 with Retry-After to RESOURCE_EXHAUSTED E604 carrying the provider's delay", async () => {
    fake.enqueue({ kind: "status", status: 429, headers: { "retry-after": "7" } });
    const error = await failure(
      connectClient(EngineService, app.httpPort, "connect").generate({ prompt: "Hi there" }),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
    expect(connectErrorInfo(error)?.metadata.code).toBe("E604");
  });

  it("opens the breaker after repeated 500s, then refuses with E703 without calling the provider", async () => {
    // A success resets the consecutive count left by the 429 above (429s count towards the breaker).
    fake.enqueue(
      { kind: "ok", deltas: FLUENT },
      { kind: "status", status: 500 },
      { kind: "status", status: 500 },
    );
    const g = grpcClient(EngineService, app.grpcPort);
    expect(
      (await grpcUnary(g, "generate", create(GenerateRequestSchema, { prompt: "Hi there" }))).error,
    ).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const { error } = await grpcUnary(g, "generate", create(GenerateRequestSchema, { prompt: "Hi there" }));
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error && grpcErrorInfo(error)?.metadata.code).toBe("E603");
    }
    const seen = fake.requests.length;
    const { error } = await grpcUnary(g, "generate", create(GenerateRequestSchema, { prompt: "Hi there" }));
    g.close();
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(error && grpcErrorInfo(error)?.metadata.code).toBe("E703");
    expect(error && grpcHasRetryInfo(error)).toBe(true);
    expect(fake.requests.length).toBe(seen);
    const status = await connectClient(AdminService, app.httpPort, "connect").getStatus({});
    expect(status.providers).toEqual([
      expect.objectContaining({ id: "openai_gpt_4o_mini", breaker: BreakerState.OPEN }),
    ]);
    // After the half-open delay one trial call goes through and a success closes the breaker.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    fake.enqueue({ kind: "ok", deltas: FLUENT });
    const healed = await connectClient(EngineService, app.httpPort, "connect").generate({
      prompt: "Hi there",
    });
    expect(healed.decision?.accepted).toBe(true);
    const after = await connectClient(AdminService, app.httpPort, "connect").getStatus({});
    expect(after.providers[0]?.breaker).toBe(BreakerState.CLOSED);
  });

  it("ends a slow provider call at the client's deadline and aborts the HTTP request", async () => {
    fake.enqueue({ kind: "slow", delayMs: 5_000 });
    const started = performance.now();
    const error = await failure(
      connectClient(EngineService, app.httpPort, "connect").generate(
        { prompt: "Hi there" },
        { timeoutMs: 300 },
      ),
    );
    const elapsed = performance.now() - started;
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(elapsed).toBeLessThan(300 + 250);
    const request = fake.lastRequest();
    await request.closed;
    expect(request.abandoned).toBe(true);
    expect(app.controller.pelm.size).toBeGreaterThan(0); // from the first test only
  });
});

describe("the server's deadline cap", () => {
  it("ends a Generate without a client deadline at engine.generateDeadlineMs, on both listeners", async () => {
    const fake = await FakeModelServer.start();
    const app = await startTestServer({
      MLSDM_LLM_PRIMARY_BACKEND: "openai",
      MLSDM_LLM_PRIMARY_BASE_URL: fake.openAiBaseUrl,
      MLSDM_LLM_PRIMARY_API_KEY: "sk-test",
      MLSDM_ENGINE_GENERATE_DEADLINE_MS: "300",
    });
    try {
      fake.enqueue({ kind: "slow", delayMs: 5_000 }, { kind: "slow", delayMs: 5_000 });
      let started = performance.now();
      const error = await failure(
        connectClient(EngineService, app.httpPort, "connect").generate({ prompt: "Hi" }),
      );
      expect(performance.now() - started).toBeLessThan(300 + 150);
      expect(error?.code).toBe(Code.DeadlineExceeded);
      expect(connectErrorInfo(error)?.metadata.code).toBe("E601");
      const g = grpcClient(EngineService, app.grpcPort);
      started = performance.now();
      const { error: grpcError } = await grpcUnary(
        g,
        "generate",
        create(GenerateRequestSchema, { prompt: "Hi" }),
      );
      g.close();
      expect(performance.now() - started).toBeLessThan(300 + 150);
      expect(grpcError?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(app.controller.pelm.size).toBe(0);
    } finally {
      await app.shutdown("test done");
      await fake.close();
    }
  });
});
