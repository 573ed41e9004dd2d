/**
 * The Anthropic adapter against a real local HTTP server speaking the Messages protocol: the shared adapter
 * behaviour plus the protocol specifics (path, API key header, request body, default id, stream event handling).
 */
import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/llm/anthropic.js";
import { drain, modelCall } from "./support/model-call.js";
import { llmAdapterSuite, TEST_API_KEY } from "./support/llm-adapter-suite.js";

const MODEL = "claude-test-1.0";

const { server } = llmAdapterSuite("anthropic", (fake) =>
  createAnthropicProvider({ baseUrl: fake.origin, apiKey: TEST_API_KEY, model: MODEL }),
);

describe("anthropic: protocol", () => {
  it("derives the default id from the model", () => {
    expect(createAnthropicProvider({ apiKey: TEST_API_KEY, model: "claude-3-5-haiku-latest" }).id).toBe(
      "anthropic_claude_3_5_haiku_latest",
    );
    expect(createAnthropicProvider({ id: "mine", apiKey: TEST_API_KEY, model: MODEL }).id).toBe("mine");
  });

  it("posts one user message with the key and max_tokens", async () => {
    const provider = createAnthropicProvider({
      baseUrl: server().origin,
      apiKey: TEST_API_KEY,
      model: MODEL,
    });
    await provider.generate(modelCall({ prompt: "hi there", maxTokens: 33 }));
    const request = server().lastRequest();
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/messages");
    // SDK 1.x sends the key as a bearer token (0.x used x-api-key); either authenticates the call.
    const sent = request.headers["x-api-key"] ?? request.headers.authorization?.replace(/^Bearer /, "");
    expect(sent).toBe(TEST_API_KEY);
    expect(request.headers["anthropic-version"]).toEqual(expect.any(String));
    expect(request.body).toMatchObject({
      model: MODEL,
      max_tokens: 33,
      messages: [{ role: "user", content: "hi there" }],
    });
  });

  it("streams with stream: true", async () => {
    const provider = createAnthropicProvider({
      baseUrl: server().origin,
      apiKey: TEST_API_KEY,
      model: MODEL,
    });
    await drain(await provider.stream(modelCall()));
    expect(server().lastRequest().body).toMatchObject({ stream: true });
  });

  it("maps 529 (overloaded) to unavailable", async () => {
    const provider = createAnthropicProvider({
      baseUrl: server().origin,
      apiKey: TEST_API_KEY,
      model: MODEL,
    });
    server().enqueue({
      kind: "status",
      status: 529,
      body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    });
    await expect(provider.generate(modelCall())).rejects.toMatchObject({
      kind: "unavailable",
      details: { httpStatus: 529 },
    });
  });
});
