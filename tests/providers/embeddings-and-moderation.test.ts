/**
 * The embeddings and moderation adapters against a real local HTTP server: vectors of the configured
 * dimension (and a clear start-up error otherwise), moderation scores on the moral-value scale, and the
 * same failure mapping as the model adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Embedder } from "../../src/core/engine/ports.js";
import {
  createOpenAiEmbedder,
  verifyEmbedderDimension,
} from "../../src/providers/embedding/openai-embeddings.js";
import { createModerationScorer } from "../../src/providers/scoring/openai-moderation.js";
import { FakeModelServer } from "./support/fake-model-server.js";
import { failureOf } from "./support/model-call.js";

const KEY = "sk-test-embed-key";
const DIMENSION = 8;

let server: FakeModelServer;
beforeAll(async () => {
  server = await FakeModelServer.start({ embeddingDimension: DIMENSION });
});
afterAll(async () => {
  await server.close();
});

const signal = (): AbortSignal => new AbortController().signal;

function embedder(dimension = DIMENSION): Embedder {
  return createOpenAiEmbedder({
    baseUrl: server.openAiBaseUrl,
    apiKey: KEY,
    model: "text-embedding-3-small",
    dimension,
  });
}

describe("openai embeddings", () => {
  it("returns a Float32Array of the configured dimension, asking for floats", async () => {
    const vector = await embedder().embed("hello", signal());
    expect(vector).toBeInstanceOf(Float32Array);
    expect(vector).toHaveLength(DIMENSION);
    expect(vector[0]).toBeCloseTo(1 / DIMENSION);
    const request = server.lastRequest();
    expect(request.path).toBe("/v1/embeddings");
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toMatchObject({
      model: "text-embedding-3-small",
      input: "hello",
      encoding_format: "float",
    });
  });

  it("rejects a vector of another length as invalid_response", async () => {
    server.enqueue({ kind: "ok", dimension: DIMENSION + 4 });
    const { failure } = await failureOf(embedder().embed("hello", signal()));
    expect(failure.kind).toBe("invalid_response");
    expect(failure.details.providerId).toBe("openai_text_embedding_3_small");
  });

  it("maps HTTP and transport failures", async () => {
    server.enqueue({ kind: "status", status: 429, headers: { "retry-after": "1" } }, { kind: "reset" });
    await expect(embedder().embed("a", signal())).rejects.toMatchObject({
      kind: "rate_limited",
      details: { retryAfterMs: 1000 },
    });
    await expect(embedder().embed("a", signal())).rejects.toMatchObject({ kind: "unavailable" });
    server.enqueue({ kind: "malformed" });
    await expect(embedder().embed("a", signal())).rejects.toMatchObject({ kind: "invalid_response" });
  });

  it("honours the deadline signal", async () => {
    server.enqueue({ kind: "slow", delayMs: 5_000 });
    await expect(embedder().embed("a", AbortSignal.timeout(100))).rejects.toMatchObject({ kind: "timeout" });
  });

  it("verifyEmbedderDimension passes when the dimensions agree", async () => {
    await expect(verifyEmbedderDimension(embedder(), signal())).resolves.toBeUndefined();
  });

  it("verifyEmbedderDimension names the expected and actual dimension", async () => {
    server.enqueue({ kind: "ok", dimension: 1536 });
    await expect(verifyEmbedderDimension(embedder(384), signal())).rejects.toThrow(
      /384[\s\S]*1536|1536[\s\S]*384/,
    );
  });

  it("verifyEmbedderDimension checks any embedder's output length", async () => {
    const liar: Embedder = { dimension: 4, embed: () => Promise.resolve(new Float32Array(3)) };
    await expect(verifyEmbedderDimension(liar, signal())).rejects.toThrow(
      "Embedding dimension mismatch: expected 4 (core.dimension), the embedder returned 3",
    );
  });
});

describe("openai moderation scorer", () => {
  const scorer = () => createModerationScorer({ baseUrl: server.openAiBaseUrl, apiKey: KEY });

  it("scores 1 − the highest category score and lists the flagged categories", async () => {
    server.enqueue({
      kind: "ok",
      scores: { violence: 0.9, harassment: 0.3, "self-harm": 0.1 },
      flagged: ["violence"],
    });
    const result = await scorer().score("some text", signal());
    expect(result.score).toBeCloseTo(0.1);
    expect(result.categories).toEqual(["violence"]);
    const request = server.lastRequest();
    expect(request.path).toBe("/v1/moderations");
    expect(request.body).toMatchObject({ model: "omni-moderation-latest", input: "some text" });
  });

  it("scores a clean text near 1 with no categories", async () => {
    const result = await scorer().score("hello", signal());
    expect(result.score).toBeCloseTo(0.98);
    expect(result.categories).toEqual([]);
  });

  it("has a default id and accepts a model and id", () => {
    expect(scorer().id).toBe("moderation_omni_moderation_latest");
    expect(
      createModerationScorer({ baseUrl: server.openAiBaseUrl, apiKey: KEY, model: "x", id: "mod" }).id,
    ).toBe("mod");
  });

  it("maps failures", async () => {
    server.enqueue({ kind: "status", status: 500 }, { kind: "malformed" }, { kind: "empty" });
    await expect(scorer().score("a", signal())).rejects.toMatchObject({ kind: "unavailable" });
    await expect(scorer().score("a", signal())).rejects.toMatchObject({ kind: "invalid_response" });
    await expect(scorer().score("a", signal())).rejects.toMatchObject({ kind: "invalid_response" });
  });

  it("is cancelled by the caller's signal", async () => {
    server.enqueue({ kind: "slow", delayMs: 5_000 });
    const controller = new AbortController();
    const pending = scorer().score("a", controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(pending).rejects.toMatchObject({ kind: "cancelled" });
  });
});
