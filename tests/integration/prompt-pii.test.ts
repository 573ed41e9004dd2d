/**
 * The prompt PII policy through both listeners with real clients (grpc-js; Connect, gRPC-Web
 * and gRPC over the HTTP listener): a masked prompt is what the model sees (the stub echoes it;
 * a real OpenAI-compatible HTTP server records it), a blocked one answers INVALID_ARGUMENT
 * E108 with a BadRequest violation on `prompt`, custom patterns work, stored memory texts are
 * scrubbed even for types the prompt policy allows, and the server keeps serving.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import {
  EngineService,
  GenerateRequestSchema,
  GenerateStreamRequestSchema,
  type GenerateResponse,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { FakeModelServer } from "../providers/support/fake-model-server.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const CARD = "4111 1111 1111 1111";
const EMAIL = "sentinel.user@example.com";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PROTOCOLS = ["connect", "grpc-web", "grpc"] as const;
// Admission by event-loop lag is not under test here; on a loaded CI machine it would shed calls.
const NO_LAG_GUARD = { MLSDM_MAX_EVENT_LOOP_LAG_MS: "0" };

function grpcBadRequestFields(error: grpc.ServiceError): string[] {
  const [bin] = error.metadata.get("grpc-status-details-bin");
  const details = fromBinary(StatusSchema, bin as Buffer).details;
  const badRequest = details.map((d) => anyUnpack(d, BadRequestSchema)).find(Boolean);
  return (badRequest?.fieldViolations ?? []).map((v) => `${v.field}:${v.description}`);
}

function grpcStream(
  client: grpc.Client & Record<string, unknown>,
  request: unknown,
): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    const call = (client.generateStream as (req: unknown) => grpc.ClientReadableStream<unknown>).call(
      client,
      request,
    );
    call.on("data", () => undefined);
    call.on("error", (error: grpc.ServiceError) => {
      resolve(error);
    });
    call.on("end", () => {
      resolve(undefined);
    });
  });
}

describe("prompt PII policy with the stub provider, on both listeners", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      ...NO_LAG_GUARD,
      MLSDM_PII_PROMPT_IBAN: "block",
      MLSDM_PII_CUSTOM_PATTERNS: "employee_id=EMP-\\d{6};ticket:block=TCK-[0-9]+",
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  async function stillServes(): Promise<void> {
    const response = await connectClient(EngineService, app.httpPort, "connect").generate({
      prompt: "Why is the sky blue?",
      contextTopK: 0,
    });
    expect(response.text).toContain("NEURO-RESPONSE");
  }

  it("grpc-js: masks a card, a JWT and a custom id before the model sees the prompt", async () => {
    const client = grpcClient(EngineService, app.grpcPort);
    const { response, error } = await grpcUnary(
      client,
      "generate",
      create(GenerateRequestSchema, { prompt: `c ${CARD} t ${JWT} e EMP-123456`, contextTopK: 0 }),
    );
    client.close();
    expect(error).toBeUndefined();
    const text = (response as GenerateResponse).text;
    expect(text).toContain("NEURO-RESPONSE: c [CARD] t [JWT] e [EMPLOYEE_ID]");
    expect(text).not.toContain("4111");
  });

  it.each(PROTOCOLS)(
    "HTTP listener over %s: masks the card in Generate and GenerateStream",
    async (protocol) => {
      const client = connectClient(EngineService, app.httpPort, protocol);
      const response = await client.generate({ prompt: `pay with ${CARD}`, contextTopK: 0 });
      expect(response.text).toContain("NEURO-RESPONSE: pay with [CARD]");
      let streamed = "";
      for await (const message of client.generateStream({ prompt: `pay with ${CARD}`, contextTopK: 0 })) {
        if (message.event.case === "delta") streamed += message.event.value.text;
      }
      expect(streamed).toContain("pay with [CARD]");
      expect(streamed).not.toContain("4111");
    },
  );

  it("grpc-js: blocks an IBAN and a custom ticket with INVALID_ARGUMENT E108 and BadRequest", async () => {
    for (const [prompt, type] of [
      ["wire to DE89 3704 0044 0532 0130 00", "iban"],
      ["see TCK-4242", "ticket"],
    ] as const) {
      const client = grpcClient(EngineService, app.grpcPort);
      const { error } = await grpcUnary(client, "generate", create(GenerateRequestSchema, { prompt }));
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(grpcErrorInfo(error!)?.reason).toBe("PROMPT_CONTAINS_PII");
      expect(grpcErrorInfo(error!)?.metadata.code).toBe("E108");
      const fields = grpcBadRequestFields(error!);
      expect(fields).toHaveLength(1);
      expect(fields[0]).toMatch(new RegExp(`^prompt:contains ${type}`));
      expect(error?.details).not.toContain(prompt.split(" ").at(-1));
      const streamError = await grpcStream(client, create(GenerateStreamRequestSchema, { prompt }));
      expect(streamError?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(grpcErrorInfo(streamError!)?.metadata.code).toBe("E108");
      client.close();
    }
    await stillServes();
  });

  it.each(PROTOCOLS)("HTTP listener over %s: blocks with E108 and BadRequest on prompt", async (protocol) => {
    const client = connectClient(EngineService, app.httpPort, protocol);
    const error = await client
      .generate({ prompt: "wire to GB82WEST12345698765432" })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    const failure = error as ConnectError;
    expect(failure.code).toBe(Code.InvalidArgument);
    expect(connectErrorInfo(failure)?.metadata.code).toBe("E108");
    expect(connectErrorInfo(failure)?.metadata.entities).toBe("iban");
    const violations = failure.findDetails(BadRequestSchema)[0]?.fieldViolations ?? [];
    expect(violations.map((v) => v.field)).toEqual(["prompt"]);
    expect(JSON.stringify(violations)).not.toContain("GB82");
    expect(failure.rawMessage).not.toContain("GB82");
    const streamError = await (async () => {
      for await (const _ of client.generateStream({ prompt: "ticket TCK-77" })) {
        // no message expected
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect((streamError as ConnectError).code).toBe(Code.InvalidArgument);
    expect(connectErrorInfo(streamError)?.metadata.code).toBe("E108");
    await stillServes();
  });
});

describe("stored memory texts are scrubbed even where the prompt policy allows", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer(NO_LAG_GUARD);
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("keeps an allowed e-mail out of the memory context shown to the next call", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const prompt = `Write to ${EMAIL} about otters`;
    const first = await client.generate({ prompt });
    expect(first.text).toContain(EMAIL); // e-mail is allowed in prompts by default
    const second = await client.generate({ prompt, enableDiagnostics: true });
    const texts = second.decision?.context.map((item) => item.text) ?? [];
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.join("\n")).toContain("[EMAIL]");
    expect(texts.join("\n")).not.toContain(EMAIL);
    const g = grpcClient(EngineService, app.grpcPort);
    const { response } = await grpcUnary(g, "generate", create(GenerateRequestSchema, { prompt }));
    g.close();
    const viaGrpc =
      (response as GenerateResponse).decision?.context.map((item) => item.text).join("\n") ?? "";
    expect(viaGrpc).toContain("[EMAIL]");
    expect(viaGrpc).not.toContain(EMAIL);
  });
});

describe("prompt PII policy in front of an OpenAI-compatible provider over HTTP", () => {
  let fake: FakeModelServer;
  let app: RunningApp;
  beforeAll(async () => {
    fake = await FakeModelServer.start();
    app = await startTestServer({
      ...NO_LAG_GUARD,
      MLSDM_LLM_PRIMARY_BACKEND: "openai",
      MLSDM_LLM_PRIMARY_BASE_URL: fake.openAiBaseUrl,
      MLSDM_LLM_PRIMARY_API_KEY: "sk-test-sentinel-key-0123456789",
      MLSDM_LLM_MAX_RETRIES: "0",
      MLSDM_PII_PROMPT_EMAIL: "mask",
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    await fake.close();
  });

  it("sends the provider only the masked prompt, on both listeners", async () => {
    const prompt = `Card ${CARD}, mail ${EMAIL}, token ${JWT}. Why are there tides?`;
    fake.enqueue({ kind: "ok", deltas: ["The moon ", "pulls the oceans."] });
    await connectClient(EngineService, app.httpPort, "connect").generate({ prompt, contextTopK: 0 });
    const sent = JSON.stringify(fake.lastRequest().body);
    expect(sent).toContain("Card [CARD], mail [EMAIL], token [JWT]. Why are there tides?");
    for (const secret of ["4111", EMAIL, JWT]) expect(sent).not.toContain(secret);

    fake.enqueue({ kind: "ok", deltas: ["The moon ", "pulls the oceans."] });
    const g = grpcClient(EngineService, app.grpcPort);
    const { error } = await grpcUnary(
      g,
      "generate",
      create(GenerateRequestSchema, { prompt, contextTopK: 0 }),
    );
    g.close();
    expect(error).toBeUndefined();
    const viaGrpc = JSON.stringify(fake.lastRequest().body);
    expect(viaGrpc).toContain("[CARD]");
    for (const secret of ["4111", EMAIL, JWT]) expect(viaGrpc).not.toContain(secret);
  });
});
