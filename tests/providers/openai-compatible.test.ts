/**
 * The OpenAI-compatible adapter against a real local HTTP server: the shared adapter behaviour plus what is
 * specific to the chat-completions protocol (path, bearer key, request body, default id).
 */
import { describe, expect, it } from "vitest";
import {
  createOpenAiCompatibleProvider,
  normaliseModelName,
} from "../../src/providers/llm/openai-compatible.js";
import { drain, modelCall } from "./support/model-call.js";
import { llmAdapterSuite, TEST_API_KEY } from "./support/llm-adapter-suite.js";

const MODEL = "gpt-4o-mini";

const { server } = llmAdapterSuite("openai-compatible", (fake) =>
  createOpenAiCompatibleProvider({ baseUrl: fake.openAiBaseUrl, apiKey: TEST_API_KEY, model: MODEL }),
);

describe("openai-compatible: protocol", () => {
  it("derives the default id from the model", () => {
    const provider = createOpenAiCompatibleProvider({
      baseUrl: "http://127.0.0.1:1/v1",
      apiKey: TEST_API_KEY,
      model: "meta/llama-3.1:8b",
    });
    expect(provider.id).toBe("openai_meta_llama_3_1_8b");
    expect(normaliseModelName("gpt-3.5-turbo")).toBe("gpt_3_5_turbo");
    expect(
      createOpenAiCompatibleProvider({ id: "mine", baseUrl: "http://x/v1", apiKey: "k", model: "m" }).id,
    ).toBe("mine");
  });

  it("posts one user message with the bearer key, max_tokens and temperature", async () => {
    const provider = createOpenAiCompatibleProvider({
      baseUrl: server().openAiBaseUrl,
      apiKey: TEST_API_KEY,
      model: MODEL,
      temperature: 0.2,
    });
    await provider.generate(modelCall({ prompt: "hi there", maxTokens: 33 }));
    const request = server().lastRequest();
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(request.body).toMatchObject({
      model: MODEL,
      messages: [{ role: "user", content: "hi there" }],
      max_tokens: 33,
      temperature: 0.2,
    });
  });

  it("asks for streamed usage", async () => {
    const provider = createOpenAiCompatibleProvider({
      baseUrl: server().openAiBaseUrl,
      apiKey: TEST_API_KEY,
      model: MODEL,
    });
    await drain(await provider.stream(modelCall()));
    expect(server().lastRequest().body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
    });
  });

  it("does not retry by itself (resilience is elsewhere)", async () => {
    const provider = createOpenAiCompatibleProvider({
      baseUrl: server().openAiBaseUrl,
      apiKey: TEST_API_KEY,
      model: MODEL,
    });
    server().enqueue({ kind: "status", status: 503 });
    const before = server().requests.length;
    await expect(provider.generate(modelCall())).rejects.toMatchObject({ kind: "unavailable" });
    expect(server().requests.length).toBe(before + 1);
  });
});
