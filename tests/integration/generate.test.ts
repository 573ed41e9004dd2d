/**
 * Generate and GenerateStream end to end, through both listeners with real clients: a full
 * pipeline on the embedded defaults, context carried from an earlier request, each rejection
 * stage, every invalid input class, provider failures as error statuses, and a cancelled
 * stream that leaves memory unchanged.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import {
  EngineService,
  GenerateRequestSchema,
  RejectionStage,
  StageOutcome,
  type GenerateResponse,
  type GenerateStreamResponse,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Phase } from "../../src/gen/mlsdm/v1/state_pb.js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { GenerateResponseSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import type { StatefulModelGateway } from "../../src/providers/gateway.js";
import { ScriptedGateway } from "../core/engine/support.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

function statefulGateway(inner: ScriptedGateway): StatefulModelGateway {
  return {
    generate: (call) => inner.generate(call),
    stream: (call) => inner.stream(call),
    status: () => [{ id: "fake", breaker: "closed" }],
  };
}

describe("Generate on the embedded defaults", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("answers over Connect with the full decision and diagnostics", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const response = await client.generate({
      prompt: "Explain photosynthesis briefly.",
      enableDiagnostics: true,
    });
    expect(response.text.startsWith("NEURO-RESPONSE: Explain photosynthesis briefly.")).toBe(true);
    const d = response.decision;
    expect(d?.accepted).toBe(true);
    expect(d?.rejectionStage).toBe(RejectionStage.UNSPECIFIED);
    expect(d?.providerId).toBe("local_stub");
    expect(d?.phase).toBe(Phase.WAKE);
    expect(d?.maxTokensUsed).toBe(512);
    expect(d?.moralValue).toBe(1);
    expect(d?.promptContent?.scorerId).toBe("lexicon");
    expect(d?.aphasia?.detected).toBe(false);
    const stages = d?.diagnostics?.stages ?? [];
    expect(stages.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stages.every((s) => s.outcome !== StageOutcome.FAILED)).toBe(true);
    expect(d?.diagnostics?.totalMs).toBeGreaterThan(0);
  });

  it("answers over grpc-js and uses the text of the earlier exchange as context", async () => {
    const client = grpcClient(EngineService, app.grpcPort);
    const prompt = "Explain photosynthesis briefly.";
    const { response, error } = await grpcUnary(
      client,
      "generate",
      create(GenerateRequestSchema, { prompt }),
    );
    client.close();
    expect(error).toBeUndefined();
    const decision = (response as GenerateResponse).decision;
    expect(decision?.accepted).toBe(true);
    expect(decision?.contextItems).toBeGreaterThan(0);
    expect(decision?.context[0]?.text).toContain(`User: ${prompt}`);
    expect(decision?.context[0]?.text).toContain("Assistant: NEURO-RESPONSE");
    expect(decision?.context[0]?.resonance).toBeGreaterThan(0.9);
  });

  it("serves the same answer shape over gRPC-Web and gRPC on the HTTP listener", async () => {
    for (const protocol of ["grpc-web", "grpc"] as const) {
      const client = connectClient(EngineService, app.httpPort, protocol);
      const response = await client.generate({ prompt: "Name three primary colours.", contextTopK: 0 });
      expect(response.decision?.accepted).toBe(true);
      expect(response.decision?.contextTopK).toBe(0);
      expect(response.decision?.context).toEqual([]);
    }
  });

  it("rejects a low moral value at the pre-moral stage with accepted = false (not an error)", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const response = await client.generate({ prompt: "Hello", moralValue: 0.1 });
    expect(response.text).toBe("");
    expect(response.decision?.accepted).toBe(false);
    expect(response.decision?.rejectionStage).toBe(RejectionStage.PRE_MORAL);
    expect(response.decision?.providerId).toBe("");
  });

  it("streams deltas then one summary over Connect and over grpc-js", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const messages: GenerateStreamResponse[] = [];
    for await (const message of client.generateStream({
      prompt: "Describe the moon in two sentences.",
      contextTopK: 0,
    })) {
      messages.push(message);
    }
    const last = messages.at(-1);
    expect(last?.event.case).toBe("summary");
    const deltas = messages.filter((m) => m.event.case === "delta");
    expect(last?.event.case === "summary" && last.event.value.deltaCount).toBe(deltas.length);
    const text = deltas.map((m) => (m.event.case === "delta" ? m.event.value.text : "")).join("");
    expect(text.startsWith("NEURO-RESPONSE: Describe the moon")).toBe(true);

    const g = grpcClient(EngineService, app.grpcPort);
    const call = (
      g.generateStream as (req: unknown) => grpc.ClientReadableStream<GenerateStreamResponse>
    ).call(g, create(GenerateRequestSchema, { prompt: "Describe the moon in two sentences." }));
    const received: GenerateStreamResponse[] = [];
    for await (const message of call) received.push(message as GenerateStreamResponse);
    g.close();
    expect(received.at(-1)?.event.case).toBe("summary");
    expect(received.filter((m) => m.event.case === "delta").length).toBeGreaterThan(0);
  });

  it("refuses every invalid input class with INVALID_ARGUMENT and its code, on both listeners", async () => {
    const cases: [object, string][] = [
      [{ prompt: "" }, "E103"],
      [{ prompt: "   \n\t " }, "E103"],
      [{ prompt: "x".repeat(10_001) }, "E104"],
      [{ prompt: "ok", maxTokens: 0 }, "E102"],
      [{ prompt: "ok", maxTokens: 4097 }, "E102"],
      [{ prompt: "ok", moralValue: 1.5 }, "E102"],
      [{ prompt: "ok", moralValue: Number.NaN }, "E105"],
      [{ prompt: "ok", contextTopK: 101 }, "E102"],
    ];
    const connect = connectClient(EngineService, app.httpPort, "connect");
    const g = grpcClient(EngineService, app.grpcPort);
    for (const [fields, code] of cases) {
      const error = await connect.generate(fields).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code, JSON.stringify(fields).slice(0, 60)).toBe(Code.InvalidArgument);
      expect(connectErrorInfo(error)?.metadata.code).toBe(code);
      const { error: grpcError } = await grpcUnary(g, "generate", create(GenerateRequestSchema, fields));
      expect(grpcError?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(grpcError && grpcErrorInfo(grpcError)?.metadata.code).toBe(code);
    }
    g.close();
  });
});

describe("Generate rejections and failures", () => {
  it("rejects at the rhythm stage in the sleep phase when configured to", async () => {
    const app = await startTestServer({
      MLSDM_RHYTHM_WAKE_DURATION: "1",
      MLSDM_ENGINE_SLEEP_BEHAVIOUR: "reject",
    });
    try {
      const client = connectClient(EngineService, app.httpPort, "connect");
      expect((await client.generate({ prompt: "first" })).decision?.accepted).toBe(true);
      const second = await client.generate({ prompt: "second" });
      expect(second.decision?.rejectionStage).toBe(RejectionStage.RHYTHM);
      expect(second.decision?.phase).toBe(Phase.SLEEP);
    } finally {
      await app.shutdown("test done");
    }
  });

  it("withholds an answer that fails the post-moral check, on both listeners", async () => {
    const gateway = statefulGateway(
      new ScriptedGateway(["Attack, kill and murder them all; torture and stab."]),
    );
    const app = await startTestServer({}, { gateway });
    try {
      const connect = connectClient(EngineService, app.httpPort, "connect");
      const response = await connect.generate({ prompt: "Tell me a story." });
      expect(response.text).toBe("");
      expect(response.decision?.rejectionStage).toBe(RejectionStage.POST_MORAL);
      expect(response.decision?.answerContent?.categories).toContain("violence");
      const g = grpcClient(EngineService, app.grpcPort);
      const { response: viaGrpc } = await grpcUnary(
        g,
        "generate",
        create(GenerateRequestSchema, { prompt: "Tell me a story." }),
      );
      g.close();
      expect((viaGrpc as GenerateResponse).decision?.rejectionStage).toBe(RejectionStage.POST_MORAL);
      expect(app.controller.pelm.size).toBe(0);
    } finally {
      await app.shutdown("test done");
    }
  });

  it("answers UNAVAILABLE E603 with RetryInfo when the provider cannot be reached, writing nothing", async () => {
    const app = await startTestServer({
      MLSDM_LLM_PRIMARY_BACKEND: "openai",
      MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:9/v1",
      MLSDM_LLM_MAX_RETRIES: "0",
    });
    try {
      const connect = connectClient(EngineService, app.httpPort, "connect");
      const error = await connect.generate({ prompt: "Hello there" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.Unavailable);
      expect(connectErrorInfo(error)?.metadata.code).toBe("E603");
      const g = grpcClient(EngineService, app.grpcPort);
      const { error: grpcError } = await grpcUnary(
        g,
        "generate",
        create(GenerateRequestSchema, { prompt: "Hello there" }),
      );
      g.close();
      expect(grpcError?.code).toBe(grpc.status.UNAVAILABLE);
      expect(grpcError && grpcHasRetryInfo(grpcError)).toBe(true);
      expect(app.controller.pelm.size).toBe(0);
    } finally {
      await app.shutdown("test done");
    }
  });

  it("fails fast with UNAVAILABLE E701 during an emergency shutdown", async () => {
    const app = await startTestServer();
    try {
      const admin = connectClient(AdminService, app.httpPort, "connect");
      await admin.triggerEmergencyShutdown({ reason: "test" });
      const connect = connectClient(EngineService, app.httpPort, "connect");
      const error = await connect.generate({ prompt: "Hello there" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.Unavailable);
      expect(connectErrorInfo(error)?.metadata.code).toBe("E701");
    } finally {
      await app.shutdown("test done");
    }
  });

  it("leaves memory unchanged when the client cancels a stream midway", async () => {
    const long = "The quick brown fox jumps over the lazy dog and keeps on running. ".repeat(40);
    const gateway = statefulGateway(new ScriptedGateway([long], { providerId: "fake", variant: "" }, 5));
    const app = await startTestServer(
      { MLSDM_ENGINE_STREAM_CHECK_CHARS: "20", MLSDM_ENGINE_APHASIA_REPAIR: "false" },
      { gateway },
    );
    try {
      const client = connectClient(EngineService, app.httpPort, "connect");
      const abort = new AbortController();
      let deltas = 0;
      await expect(
        (async () => {
          for await (const message of client.generateStream(
            { prompt: "Tell me about foxes." },
            { signal: abort.signal },
          )) {
            if (message.event.case === "delta") deltas += 1;
            if (deltas === 2) abort.abort();
          }
        })(),
      ).rejects.toThrow();
      expect(deltas).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(app.controller.pelm.size).toBe(0);
      const state = await client.getState({});
      expect(state.state?.pelmUsed).toBe(0);
    } finally {
      await app.shutdown("test done");
    }
  });
});

describe("GenerateResponse wire format", () => {
  it("round-trips the context text", () => {
    const bytes = toBinary(
      GenerateResponseSchema,
      create(GenerateResponseSchema, { decision: { context: [{ text: "a" }] } }),
    );
    expect(fromBinary(GenerateResponseSchema, bytes).decision?.context[0]?.text).toBe("a");
  });
});
