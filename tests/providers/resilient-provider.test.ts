/**
 * The per-provider policy (cockatiel): retries only for retryable failures and never past the
 * deadline, attempts bounded by the timeout, cancellation not retried, the breaker opening after
 * exactly N counted failures and letting one trial call through in half-open (W13), and the
 * gateway falling back only while a breaker is open (never turning a failure into text, W9).
 */
import { describe, expect, it } from "vitest";
import {
  ProviderFailure,
  type ModelCall,
  type ModelProvider,
  type ModelReply,
  type ModelStream,
  type ProviderFailureKind,
} from "../../src/core/engine/ports.js";
import { createModelGateway } from "../../src/providers/model-gateway.js";
import {
  ResilientProvider,
  type ProviderPolicyOptions,
} from "../../src/providers/resilience/resilient-provider.js";
import { singleRouter } from "../../src/providers/routing/routers.js";

type Step = "ok" | "hang" | ProviderFailureKind;

/** A provider that follows a script (the last step repeats) and honours the call's signal. */
class ScriptedProvider implements ModelProvider {
  calls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  signals: AbortSignal[] = [];
  constructor(
    readonly id: string,
    private readonly steps: Step[],
    private readonly delayMs = 0,
  ) {}
  async generate(call: ModelCall): Promise<ModelReply> {
    this.calls += 1;
    this.signals.push(call.signal);
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      const step = this.steps.length > 1 ? (this.steps.shift() ?? "ok") : (this.steps[0] ?? "ok");
      await new Promise<void>((resolve, reject) => {
        const fail = () => {
          const reason: unknown = call.signal.reason;
          const timeout = reason instanceof Error && reason.name === "TimeoutError";
          reject(new ProviderFailure(timeout ? "timeout" : "cancelled", "aborted", { providerId: this.id }));
        };
        if (call.signal.aborted) {
          fail();
          return;
        }
        call.signal.addEventListener("abort", fail, { once: true });
        if (step !== "hang") setTimeout(resolve, this.delayMs);
      });
      if (step !== "ok")
        throw new ProviderFailure(step as ProviderFailureKind, step, { providerId: this.id });
      return { text: `answer from ${this.id}`, usage: { inputTokens: 1, outputTokens: 2 } };
    } finally {
      this.concurrent -= 1;
    }
  }
  stream(): Promise<ModelStream> {
    return Promise.reject(new Error("not used"));
  }
}

const fast: ProviderPolicyOptions = {
  attemptTimeoutMs: 200,
  maxRetries: 2,
  initialBackoffMs: 5,
  maxBackoffMs: 20,
  breakerFailures: 3,
  halfOpenAfterMs: 100,
};

function call(deadlineMs?: number, signal = new AbortController().signal): ModelCall {
  return {
    prompt: "p",
    maxTokens: 10,
    signal,
    deadlineAt: deadlineMs === undefined ? undefined : performance.now() + deadlineMs,
    route: { userIntent: "conversational", userId: undefined },
  };
}

describe("ResilientProvider", () => {
  it("retries a retryable failure up to maxRetries, then throws it", async () => {
    const provider = new ScriptedProvider("p", ["unavailable"]);
    await expect(new ResilientProvider(provider, fast).generate(call())).rejects.toMatchObject({
      kind: "unavailable",
    });
    expect(provider.calls).toBe(3);
    const recovers = new ScriptedProvider("q", ["rate_limited", "ok"]);
    expect((await new ResilientProvider(recovers, fast).generate(call())).text).toBe("answer from q");
    expect(recovers.calls).toBe(2);
  });

  it("never retries a rejected request", async () => {
    const provider = new ScriptedProvider("p", ["rejected"]);
    await expect(new ResilientProvider(provider, fast).generate(call())).rejects.toMatchObject({
      kind: "rejected",
    });
    expect(provider.calls).toBe(1);
  });

  it("bounds each attempt by the attempt timeout", async () => {
    const provider = new ScriptedProvider("p", ["hang"]);
    const policy = new ResilientProvider(provider, { ...fast, maxRetries: 0, attemptTimeoutMs: 50 });
    const started = performance.now();
    await expect(policy.generate(call())).rejects.toMatchObject({ kind: "timeout" });
    expect(performance.now() - started).toBeLessThan(50 + 50);
  });

  it("ends at the deadline, retries included, within 50 ms", async () => {
    const provider = new ScriptedProvider("p", ["hang"]);
    const policy = new ResilientProvider(provider, { ...fast, attemptTimeoutMs: 60, maxRetries: 10 });
    const started = performance.now();
    await expect(policy.generate(call(150))).rejects.toMatchObject({ kind: "timeout" });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(150 + 50);
    expect(provider.calls).toBeLessThanOrEqual(3);
  });

  it("stops at once, without retrying, when the client cancels", async () => {
    const provider = new ScriptedProvider("p", ["hang"]);
    const abort = new AbortController();
    const pending = new ResilientProvider(provider, fast).generate(call(undefined, abort.signal));
    setTimeout(() => {
      abort.abort();
    }, 20);
    await expect(pending).rejects.toMatchObject({ kind: "cancelled" });
    expect(provider.calls).toBe(1);
    expect(provider.signals[0]?.aborted).toBe(true);
  });

  it("opens the breaker after exactly N counted failures, refuses while open, lets one trial through (W13)", async () => {
    const steps: Step[] = ["unavailable", "unavailable", "unavailable", "unavailable", "ok"];
    const provider = new ScriptedProvider("p", steps, 30);
    const breaker: string[] = [];
    const policy = new ResilientProvider(
      provider,
      { ...fast, maxRetries: 0 },
      { breaker: (_id, s) => breaker.push(s) },
    );
    for (let i = 0; i < 3; i++)
      await expect(policy.generate(call())).rejects.toMatchObject({ kind: "unavailable" });
    expect(policy.breakerState()).toBe("open");
    await expect(policy.generate(call())).rejects.toMatchObject({
      kind: "circuit_open",
      details: { retryAfterMs: expect.any(Number) as number },
    });
    expect(provider.calls).toBe(3);
    // Half-open: three concurrent calls, one trial reaches the provider; it fails, so all three fail
    // and the provider saw exactly one more call.
    await new Promise((resolve) => setTimeout(resolve, 120));
    const failed = await Promise.allSettled([
      policy.generate(call()),
      policy.generate(call()),
      policy.generate(call()),
    ]);
    expect(provider.calls).toBe(4);
    expect(failed.every((r) => r.status === "rejected")).toBe(true);
    expect(policy.breakerState()).toBe("open");
    // The next trial succeeds and closes the breaker.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect((await policy.generate(call())).text).toBe("answer from p");
    expect(policy.breakerState()).toBe("closed");
    expect(breaker).toEqual(expect.arrayContaining(["open", "half_open", "closed"]));
  });

  it("does not count rejected requests towards the breaker", async () => {
    const provider = new ScriptedProvider("p", ["rejected"]);
    const policy = new ResilientProvider(provider, { ...fast, maxRetries: 0 });
    for (let i = 0; i < 5; i++)
      await expect(policy.generate(call())).rejects.toMatchObject({ kind: "rejected" });
    expect(policy.breakerState()).toBe("closed");
  });
});

describe("ModelGateway", () => {
  it("serves from the first candidate, falls back only while its breaker is open, and reports status", async () => {
    const primary = new ScriptedProvider("primary", ["unavailable"]);
    const secondary = new ScriptedProvider("secondary", ["ok"]);
    const tokens: string[] = [];
    const gateway = createModelGateway({
      providers: [primary, secondary],
      router: singleRouter(["primary", "secondary"], true),
      policy: { ...fast, maxRetries: 0, breakerFailures: 2 },
      observer: { tokens: (id) => tokens.push(id) },
    });
    // Failures of the chosen provider are thrown as they are (no silent fallback, no text).
    await expect(gateway.generate(call())).rejects.toMatchObject({ kind: "unavailable" });
    await expect(gateway.generate(call())).rejects.toMatchObject({ kind: "unavailable" });
    expect(gateway.status()).toEqual([
      { id: "primary", breaker: "open" },
      { id: "secondary", breaker: "closed" },
    ]);
    const served = await gateway.generate(call());
    expect(served).toMatchObject({ providerId: "secondary", text: "answer from secondary" });
    expect(tokens).toEqual(["secondary"]);
  });

  it("answers circuit_open when every candidate is open", async () => {
    const only = new ScriptedProvider("only", ["timeout"]);
    const gateway = createModelGateway({
      providers: [only],
      router: singleRouter(["only"], false),
      policy: { ...fast, maxRetries: 0, breakerFailures: 1 },
    });
    await expect(gateway.generate(call())).rejects.toMatchObject({ kind: "timeout" });
    await expect(gateway.generate(call())).rejects.toMatchObject({ kind: "circuit_open" });
  });
});
