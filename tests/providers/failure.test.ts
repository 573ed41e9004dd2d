/**
 * The error mapping shared by every adapter: SDK error classes of both vendors, raw network errors, the
 * caller's signal (cancel vs deadline), Retry-After parsing and secret redaction.
 */
import * as Anthropic from "@anthropic-ai/sdk";
import * as OpenAi from "openai";
import { describe, expect, it } from "vitest";
import { ProviderFailure } from "../../src/core/engine/ports.js";
import {
  abortFailure,
  invalidResponse,
  isDeadlineAbort,
  parseRetryAfterMs,
  toProviderFailure,
} from "../../src/providers/failure.js";

const ctx = { providerId: "p1" };

function openAiStatus(status: number, headers: Record<string, string> = {}): OpenAi.APIError {
  return OpenAi.APIError.generate(status, { error: { message: "boom" } }, undefined, new Headers(headers));
}
function anthropicStatus(status: number, headers: Record<string, string> = {}): Anthropic.APIError {
  return Anthropic.APIError.generate(status, { error: { message: "boom" } }, undefined, new Headers(headers));
}

describe("toProviderFailure: HTTP statuses", () => {
  it.each([
    [429, "rate_limited"],
    [408, "unavailable"],
    [409, "unavailable"],
    [500, "unavailable"],
    [502, "unavailable"],
    [503, "unavailable"],
    [529, "unavailable"],
    [400, "rejected"],
    [401, "rejected"],
    [403, "rejected"],
    [404, "rejected"],
    [422, "rejected"],
  ] as const)("%i → %s (both SDKs)", (status, kind) => {
    for (const error of [openAiStatus(status), anthropicStatus(status)]) {
      const failure = toProviderFailure(error, ctx);
      expect(failure).toBeInstanceOf(ProviderFailure);
      expect(failure.kind).toBe(kind);
      expect(failure.details).toMatchObject({ providerId: "p1", httpStatus: status });
      expect(failure.cause).toBe(error);
    }
  });

  it("429 carries Retry-After", () => {
    const failure = toProviderFailure(openAiStatus(429, { "retry-after": "2.5" }), ctx);
    expect(failure.details.retryAfterMs).toBe(2500);
    expect(toProviderFailure(anthropicStatus(429), ctx).details.retryAfterMs).toBeUndefined();
  });
});

describe("toProviderFailure: transport and SDK errors", () => {
  it("maps connection timeouts to timeout and connection errors to unavailable", () => {
    expect(toProviderFailure(new OpenAi.APIConnectionTimeoutError(), ctx).kind).toBe("timeout");
    expect(toProviderFailure(new Anthropic.APIConnectionTimeoutError(), ctx).kind).toBe("timeout");
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(toProviderFailure(new OpenAi.APIConnectionError({ cause: reset }), ctx).kind).toBe("unavailable");
    expect(toProviderFailure(new Anthropic.APIConnectionError({ cause: reset }), ctx).kind).toBe(
      "unavailable",
    );
  });

  it("maps raw undici errors by name and code", () => {
    const terminated = new TypeError("terminated", {
      cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }),
    });
    expect(toProviderFailure(terminated, ctx).kind).toBe("unavailable");
    const headersTimeout = new TypeError("fetch failed", {
      cause: Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" }),
    });
    expect(toProviderFailure(headersTimeout, ctx).kind).toBe("timeout");
    expect(toProviderFailure(new DOMException("t", "TimeoutError"), ctx).kind).toBe("timeout");
    expect(toProviderFailure(new DOMException("a", "AbortError"), ctx).kind).toBe("cancelled");
    expect(toProviderFailure("weird", ctx).kind).toBe("unavailable");
  });

  it("maps unparseable bodies to invalid_response", () => {
    let syntax: unknown;
    try {
      JSON.parse("{nope");
    } catch (error) {
      syntax = error;
    }
    expect(toProviderFailure(syntax, ctx).kind).toBe("invalid_response");
    expect(invalidResponse("p1", "no choices").kind).toBe("invalid_response");
  });

  it("maps stream error events (no status) by the vendor's error type", () => {
    const event = (type: string): Anthropic.APIError =>
      new Anthropic.APIError(undefined, { error: { type, message: "m" } }, undefined, new Headers(), null);
    expect(toProviderFailure(event("overloaded_error"), ctx).kind).toBe("unavailable");
    expect(toProviderFailure(event("rate_limit_error"), ctx).kind).toBe("rate_limited");
    expect(toProviderFailure(event("invalid_request_error"), ctx).kind).toBe("rejected");
    const openAiEvent = new OpenAi.APIError(
      undefined,
      { type: "server_error", message: "m" },
      undefined,
      undefined,
    );
    expect(toProviderFailure(openAiEvent, ctx).kind).toBe("unavailable");
  });

  it("passes a ProviderFailure through unchanged", () => {
    const original = new ProviderFailure("rejected", "x", { providerId: "other" });
    expect(toProviderFailure(original, ctx)).toBe(original);
  });
});

describe("toProviderFailure: the caller's signal", () => {
  it("a user abort is cancelled, whatever error the SDK threw", () => {
    const controller = new AbortController();
    controller.abort();
    for (const error of [new OpenAi.APIUserAbortError(), new Anthropic.APIUserAbortError(), new Error("x")]) {
      expect(toProviderFailure(error, { ...ctx, signal: controller.signal }).kind).toBe("cancelled");
    }
  });

  it("a deadline abort (AbortSignal.timeout) is timeout", async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signal.aborted).toBe(true);
    expect(isDeadlineAbort(signal)).toBe(true);
    expect(toProviderFailure(new OpenAi.APIUserAbortError(), { ...ctx, signal }).kind).toBe("timeout");
    expect(abortFailure(signal, "p1").kind).toBe("timeout");
  });

  it("an unfired signal does not change the mapping", () => {
    const signal = new AbortController().signal;
    expect(toProviderFailure(openAiStatus(500), { ...ctx, signal }).kind).toBe("unavailable");
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it.each([
    [{ "retry-after-ms": "250" }, 250],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 250],
    [{ "retry-after": "3" }, 3000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after": "Wed, 01 Jan 2025 00:00:10 GMT" }, 10_000],
    [{ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }, 0],
    [{ "retry-after": "soon" }, undefined],
    [{ "retry-after-ms": "x" }, undefined],
    [{}, undefined],
  ] as const)("%j → %s", (headers, expected) => {
    expect(parseRetryAfterMs(new Headers(headers), now)).toBe(expected);
  });
  it("undefined headers → undefined", () => {
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe("secrets", () => {
  it("redacts the API key from messages", () => {
    const error = OpenAi.APIError.generate(
      401,
      { error: { message: "Incorrect API key provided: sk-live-123456" } },
      undefined,
      new Headers(),
    );
    const failure = toProviderFailure(error, { ...ctx, secrets: ["sk-live-123456"] });
    expect(failure.message).not.toContain("sk-live-123456");
    expect(failure.message).toContain("[REDACTED]");
  });
});
