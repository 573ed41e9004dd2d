/**
 * The behaviour every network LLM adapter must show against the fake server, shared by the OpenAI-compatible
 * and Anthropic test files: normal and streamed answers, each HTTP/transport failure mapped to its
 * ProviderFailure kind, a deadline that settles promptly, and a caller abort that closes the connection.
 */
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ModelProvider } from "../../../src/core/engine/ports.js";
import { DEFAULT_TEXT, FAKE_USAGE, FakeModelServer } from "./fake-model-server.js";
import { drain, failureOf, modelCall, within } from "./model-call.js";

const DEADLINE_MS = 200;
const SETTLE_SLACK_MS = 50;

export function llmAdapterSuite(
  name: string,
  makeProvider: (server: FakeModelServer) => ModelProvider,
): { server: () => FakeModelServer } {
  let server: FakeModelServer | undefined;
  const current = (): FakeModelServer => {
    if (server === undefined) throw new Error("fake server not started");
    return server;
  };
  let provider: ModelProvider;

  beforeAll(async () => {
    server = await FakeModelServer.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    provider = makeProvider(current());
  });

  describe(`${name}: shared adapter behaviour`, () => {
    it("returns the answer text and usage", async () => {
      const reply = await provider.generate(modelCall());
      expect(reply.text).toBe(DEFAULT_TEXT);
      expect(reply.usage).toEqual({ inputTokens: FAKE_USAGE.input, outputTokens: FAKE_USAGE.output });
    });

    it("streams the deltas in order, then reports usage", async () => {
      current().enqueue({ kind: "ok", deltas: ["one ", "two ", "three"] });
      const stream = await provider.stream(modelCall());
      expect(await drain(stream)).toEqual(["one ", "two ", "three"]);
      expect(stream.usage()).toEqual({ inputTokens: FAKE_USAGE.input, outputTokens: FAKE_USAGE.output });
    });

    it("maps 429 to rate_limited with the Retry-After delay", async () => {
      current().enqueue({ kind: "status", status: 429, headers: { "retry-after": "3" } });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure).toMatchObject({ kind: "rate_limited", retryable: true });
      expect(failure.details).toMatchObject({ providerId: provider.id, httpStatus: 429, retryAfterMs: 3000 });
    });

    it("maps 429 on a stream request to rate_limited (retry-after-ms wins)", async () => {
      current().enqueue({
        kind: "status",
        status: 429,
        headers: { "retry-after-ms": "1500", "retry-after": "9" },
      });
      const { failure } = await failureOf(provider.stream(modelCall()));
      expect(failure.kind).toBe("rate_limited");
      expect(failure.details.retryAfterMs).toBe(1500);
    });

    it("maps 500 to unavailable", async () => {
      current().enqueue({ kind: "status", status: 500 });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure).toMatchObject({ kind: "unavailable" });
      expect(failure.details.httpStatus).toBe(500);
    });

    it("maps 400 to rejected (not retryable)", async () => {
      current().enqueue({ kind: "status", status: 400 });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure).toMatchObject({ kind: "rejected", retryable: false });
    });

    it("maps a malformed body to invalid_response", async () => {
      current().enqueue({ kind: "malformed" });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure.kind).toBe("invalid_response");
    });

    it("maps a malformed stream event to invalid_response", async () => {
      current().enqueue({ kind: "malformed" });
      const stream = await provider.stream(modelCall());
      const { failure } = await failureOf(drain(stream));
      expect(failure.kind).toBe("invalid_response");
    });

    it("maps a reply without text to invalid_response", async () => {
      current().enqueue({ kind: "empty" });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure.kind).toBe("invalid_response");
    });

    it("maps a connection reset to unavailable", async () => {
      current().enqueue({ kind: "reset" });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure.kind).toBe("unavailable");
    });

    it("maps a connection reset mid-stream to unavailable", async () => {
      current().enqueue({ kind: "reset_mid_stream", afterDeltas: 1 });
      const stream = await provider.stream(modelCall());
      const { failure } = await failureOf(drain(stream));
      expect(failure.kind).toBe("unavailable");
    });

    it("times out promptly when the answer is slower than the deadline", async () => {
      current().enqueue({ kind: "slow", delayMs: 5_000 });
      const started = performance.now();
      const { failure, settledAt } = await failureOf(
        provider.generate(modelCall({ signal: AbortSignal.timeout(DEADLINE_MS) })),
      );
      expect(failure.kind).toBe("timeout");
      expect(settledAt - started).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
      expect(settledAt - started).toBeLessThan(DEADLINE_MS + SETTLE_SLACK_MS);
      await within(current().lastRequest().closed, 1_000, "the server seeing the connection close");
      expect(current().lastRequest().abandoned).toBe(true);
    });

    it("times out promptly when a stream stalls past the deadline", async () => {
      current().enqueue({ kind: "stall", afterDeltas: 2 });
      const started = performance.now();
      const stream = await provider.stream(modelCall({ signal: AbortSignal.timeout(DEADLINE_MS) }));
      const { failure, settledAt } = await failureOf(drain(stream));
      expect(failure.kind).toBe("timeout");
      expect(settledAt - started).toBeLessThan(DEADLINE_MS + SETTLE_SLACK_MS);
    });

    it("is cancelled by a caller abort mid-stream, and the server sees the connection close", async () => {
      current().enqueue({ kind: "stall", afterDeltas: 2 });
      const controller = new AbortController();
      const stream = await provider.stream(modelCall({ signal: controller.signal }));
      const iterator = stream.deltas[Symbol.asyncIterator]();
      const first = await iterator.next();
      const second = await iterator.next();
      expect([first.value, second.value]).toEqual(DEFAULT_TEXT.split(/(?<= )/).slice(0, 2));
      const pending = iterator.next();
      controller.abort();
      const { failure } = await failureOf(pending);
      expect(failure.kind).toBe("cancelled");
      const request = current().lastRequest();
      await within(request.closed, 1_000, "the server seeing the connection close");
      expect(request.abandoned).toBe(true);
    });

    it("fails at once with cancelled when the signal has already fired", async () => {
      const before = current().requests.length;
      const { failure } = await failureOf(provider.generate(modelCall({ signal: AbortSignal.abort() })));
      expect(failure.kind).toBe("cancelled");
      expect(current().requests.length).toBe(before);
    });

    it("never puts the API key in a failure message", async () => {
      current().enqueue({
        kind: "status",
        status: 401,
        body: {
          error: { message: "Incorrect API key provided: sk-test-secret-key", type: "authentication_error" },
        },
      });
      const { failure } = await failureOf(provider.generate(modelCall()));
      expect(failure.kind).toBe("rejected");
      expect(failure.message).not.toContain("sk-test-secret-key");
      expect(failure.message).toContain("401");
    });
  });

  return { server: current };
}

export const TEST_API_KEY = "sk-test-secret-key";
