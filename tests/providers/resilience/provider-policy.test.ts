/**
 * The per-provider policy (W9, W10, W13): which failures are retried, how the deadline bounds
 * retries and attempts, cancellation, and the breaker's life cycle (opens after exactly N
 * counted failures, refuses calls while open, admits one trial call when half-open).
 */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { ProviderFailure, type ProviderFailureKind } from "../../../src/core/engine/ports.js";
import {
  ProviderPolicy,
  type BreakerState,
  type ProviderPolicyOptions,
} from "../../../src/providers/resilience/provider-policy.js";
import { ScriptedProvider, type Step } from "./scripted-provider.js";
import { call, callWithin, drain, failureOf, sleep } from "./support.js";

const FAST: Partial<ProviderPolicyOptions> = { initialBackoffMs: 2, maxBackoffMs: 5, minAttemptMs: 10 };

function setup(steps: readonly Step[], options: Partial<ProviderPolicyOptions> = {}) {
  const provider = new ScriptedProvider("p", steps);
  const outcomes: string[] = [];
  const states: BreakerState[] = [];
  const policy = new ProviderPolicy(
    "p",
    { ...FAST, ...options },
    {
      observer: {
        attempt: (_id, outcome) => outcomes.push(outcome),
        breaker: (_id, state) => states.push(state),
      },
    },
  );
  const generate = (c = call()) => policy.execute(c, (signal) => provider.generate({ ...c, signal }));
  return { provider, policy, outcomes, states, generate };
}

const KINDS: readonly ProviderFailureKind[] = [
  "timeout",
  "rate_limited",
  "unavailable",
  "invalid_response",
  "rejected",
  "cancelled",
];

describe("retries", () => {
  it.each(KINDS)(
    "a provider always failing with %s is retried only when the kind is retryable",
    async (kind) => {
      const { provider, generate } = setup([{ fail: kind }], { failureThreshold: 100 });
      const { failure } = await failureOf(generate());
      const retryable = new ProviderFailure(kind, "", { providerId: "p" }).retryable;
      expect(provider.calls).toBe(retryable ? 3 : 1);
      expect(failure.kind).toBe(kind);
    },
  );

  it("succeeds on a retry after transient failures and reports every attempt", async () => {
    const { provider, outcomes, generate } = setup([
      { fail: "rate_limited" },
      { fail: "unavailable" },
      { reply: "ok" },
    ]);
    await expect(generate()).resolves.toMatchObject({ text: "ok" });
    expect(provider.calls).toBe(3);
    expect(outcomes).toEqual(["rate_limited", "unavailable", "ok"]);
  });

  it("honours maxRetries", async () => {
    const { provider, generate } = setup([{ fail: "unavailable" }], { maxRetries: 0 });
    await failureOf(generate());
    expect(provider.calls).toBe(1);
  });

  it("does not retry when the deadline cannot fit the next backoff plus a minimal attempt", async () => {
    // Half jitter: the first delay is in [200, 400) ms, more than the 150 ms left.
    const { provider, generate } = setup([{ fail: "unavailable" }], {
      initialBackoffMs: 400,
      maxBackoffMs: 400,
    });
    const { failure, elapsedMs } = await failureOf(generate(callWithin(150)));
    expect(failure.kind).toBe("unavailable");
    expect(provider.calls).toBe(1);
    expect(elapsedMs).toBeLessThan(100);
  });

  it("retries while the deadline leaves room for the delay", async () => {
    const { provider, generate } = setup([{ fail: "unavailable" }, { reply: "late" }], {
      initialBackoffMs: 40,
      maxBackoffMs: 40,
    });
    await expect(generate(callWithin(1_000))).resolves.toMatchObject({ text: "late" });
    expect(provider.calls).toBe(2);
  });

  it("times out a hanging attempt and retries it", async () => {
    const { provider, outcomes, generate } = setup([{ hang: true }, { reply: "second" }], {
      attemptTimeoutMs: 40,
    });
    await expect(generate()).resolves.toMatchObject({ text: "second" });
    expect(provider.signals[0]?.aborted).toBe(true);
    expect(outcomes).toEqual(["timeout", "ok"]);
  });
});

describe("deadline and cancellation", () => {
  const scripts: readonly [string, readonly Step[]][] = [
    ["hangs honouring its signal", [{ hang: true }]],
    ["hangs ignoring its signal", [{ hang: true, ignoreSignal: true }]],
    ["fails slowly, again and again", [{ fail: "unavailable", afterMs: 35 }]],
  ];

  it.each(scripts)(
    "no call outlives its deadline by more than 50 ms when the provider %s",
    async (_name, steps) => {
      for (const budget of [30, 90, 160]) {
        const { provider, generate } = setup(steps, { failureThreshold: 100, minAttemptMs: 1 });
        const { failure, elapsedMs } = await failureOf(generate(callWithin(budget)));
        expect(["timeout", "unavailable"]).toContain(failure.kind);
        expect(elapsedMs).toBeLessThan(budget + 50);
        if ("hang" in (steps[0] ?? {})) {
          expect(failure.kind).toBe("timeout");
          expect(provider.signals[0]?.aborted).toBe(true);
        }
      }
    },
  );

  it("fails at once with timeout when the deadline has already passed", async () => {
    const { provider, generate } = setup([{ reply: "never" }]);
    const { failure } = await failureOf(generate(callWithin(-1)));
    expect(failure.kind).toBe("timeout");
    expect(provider.calls).toBe(0);
  });

  it("reports a client signal aborted for a deadline (TimeoutError reason) as timeout", async () => {
    const { generate } = setup([{ hang: true }]);
    const { failure } = await failureOf(generate(call({ signal: AbortSignal.timeout(30) })));
    expect(failure.kind).toBe("timeout");
  });

  it("a cancellation aborts the provider's signal, is reported as cancelled and is not retried", async () => {
    const { provider, policy, generate } = setup([{ hang: true }]);
    const client = new AbortController();
    const started = performance.now();
    setTimeout(() => {
      client.abort();
    }, 30);
    const { failure, elapsedMs } = await failureOf(generate(call({ signal: client.signal })), started);
    expect(failure.kind).toBe("cancelled");
    expect(elapsedMs).toBeLessThan(80);
    expect(provider.signals[0]?.aborted).toBe(true);
    await sleep(30);
    expect(provider.calls).toBe(1);
    expect(policy.consecutiveFailures()).toBe(0);
  });

  it("a cancellation during a backoff ends the call at once and prevents the retry", async () => {
    const { provider, generate } = setup([{ fail: "unavailable" }], {
      initialBackoffMs: 300,
      maxBackoffMs: 300,
    });
    const client = new AbortController();
    const started = performance.now();
    setTimeout(() => {
      client.abort();
    }, 30);
    const { failure, elapsedMs } = await failureOf(generate(call({ signal: client.signal })), started);
    expect(failure.kind).toBe("cancelled");
    expect(elapsedMs).toBeLessThan(80);
    await sleep(350);
    expect(provider.calls).toBe(1);
  });

  it("the provider's signal fires on the deadline", async () => {
    const { provider, generate } = setup([{ hang: true }]);
    await failureOf(generate(callWithin(30)));
    const reason: unknown = provider.signals[0]?.reason;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).name).toBe("TimeoutError");
  });
});

describe("circuit breaker", () => {
  it("opens after exactly N consecutive counted failures, then refuses calls without reaching the provider", async () => {
    for (const threshold of [1, 3, 5]) {
      const { provider, policy, generate } = setup([{ fail: "unavailable" }], {
        failureThreshold: threshold,
        maxRetries: 0,
        halfOpenAfterMs: 10_000,
      });
      for (let i = 1; i < threshold; i += 1) {
        await failureOf(generate());
        expect(policy.breakerState()).toBe("closed");
        expect(policy.consecutiveFailures()).toBe(i);
      }
      expect((await failureOf(generate())).failure.kind).toBe("unavailable");
      expect(policy.breakerState()).toBe("open");
      expect(policy.isOpen()).toBe(true);
      const { failure } = await failureOf(generate());
      expect(failure.kind).toBe("circuit_open");
      expect(failure.details.retryAfterMs).toBeGreaterThan(9_000);
      expect(failure.details.retryAfterMs).toBeLessThanOrEqual(10_000);
      expect(provider.calls).toBe(threshold);
    }
  });

  it("retries count one by one and the failure that opens the breaker is returned as it is", async () => {
    const { provider, policy, generate } = setup([{ fail: "timeout" }], {
      failureThreshold: 2,
      maxRetries: 5,
    });
    const { failure } = await failureOf(generate());
    expect(failure.kind).toBe("timeout");
    expect(provider.calls).toBe(2);
    expect(policy.breakerState()).toBe("open");
  });

  it("rejected and cancelled failures neither count nor reset; a success resets", async () => {
    const { provider, policy, generate } = setup([], { failureThreshold: 3, maxRetries: 0 });
    provider.play([
      { fail: "unavailable" },
      { fail: "unavailable" },
      { fail: "rejected" },
      { fail: "rejected" },
    ]);
    for (let i = 0; i < 4; i += 1) await failureOf(generate());
    expect(policy.consecutiveFailures()).toBe(2);
    expect(policy.breakerState()).toBe("closed");
    const client = new AbortController();
    provider.play([{ hang: true }]);
    const cancelled = generate(call({ signal: client.signal }));
    client.abort();
    await failureOf(cancelled);
    expect(policy.consecutiveFailures()).toBe(2);
    provider.play([{ reply: "ok" }]);
    await generate();
    expect(policy.consecutiveFailures()).toBe(0);
  });

  it("half-open admits exactly one concurrent trial call and closes after its success (W13)", async () => {
    const { provider, policy, states, generate } = setup([{ fail: "unavailable" }], {
      failureThreshold: 1,
      maxRetries: 0,
      halfOpenAfterMs: 40,
    });
    await failureOf(generate());
    expect(policy.breakerState()).toBe("open");
    await sleep(50);
    expect(policy.isOpen()).toBe(false);
    provider.play([{ reply: "trial", afterMs: 60 }], { reply: "after" });
    const callsBefore = provider.calls;
    const concurrent = Array.from({ length: 5 }, () => generate());
    await sleep(30);
    expect(policy.breakerState()).toBe("half_open");
    expect(provider.calls - callsBefore).toBe(1);
    expect(provider.active).toBe(1);
    const replies = await Promise.all(concurrent);
    expect(replies.map((r) => r.text).sort()).toEqual(["after", "after", "after", "after", "trial"]);
    expect(policy.breakerState()).toBe("closed");
    expect(states).toEqual(["open", "half_open", "closed"]);
  });

  it("a failed trial re-opens the breaker and the waiting calls are refused without reaching the provider", async () => {
    const { provider, policy, states, generate } = setup([{ fail: "unavailable" }], {
      failureThreshold: 1,
      maxRetries: 0,
      halfOpenAfterMs: 40,
    });
    await failureOf(generate());
    await sleep(50);
    provider.play([{ fail: "unavailable", afterMs: 30 }]);
    const results = await Promise.all(Array.from({ length: 4 }, () => failureOf(generate())));
    expect(results.map((r) => r.failure.kind).sort()).toEqual([
      "circuit_open",
      "circuit_open",
      "circuit_open",
      "unavailable",
    ]);
    expect(provider.calls).toBe(2);
    expect(policy.breakerState()).toBe("open");
    expect(states).toEqual(["open", "half_open", "open"]);
  });

  it("a cancelled trial re-opens the breaker (no evidence of recovery)", async () => {
    const { provider, policy, generate } = setup([{ fail: "unavailable" }], {
      failureThreshold: 1,
      maxRetries: 0,
      halfOpenAfterMs: 40,
    });
    await failureOf(generate());
    await sleep(50);
    provider.play([{ hang: true }]);
    const client = new AbortController();
    const trial = generate(call({ signal: client.signal }));
    await sleep(10);
    client.abort();
    expect((await failureOf(trial)).failure.kind).toBe("cancelled");
    await sleep(5);
    expect(policy.breakerState()).toBe("open");
  });
});

describe("streams", () => {
  function stream(env: ReturnType<typeof setup>, c = call()) {
    return env.policy.openStream(c, (signal) => env.provider.stream({ ...c, signal }));
  }

  it("retries the opening, then yields the deltas", async () => {
    const env = setup([{ fail: "unavailable" }, { reply: "a b c" }]);
    const opened = await stream(env);
    expect(await drain(opened)).toEqual(["a", "b", "c"]);
    expect(env.provider.calls).toBe(2);
  });

  it("the attempt timeout covers only the opening: a long stream is not cut by it", async () => {
    const env = setup([{ reply: Array.from({ length: 40 }, (_, i) => String(i)).join(" ") }], {
      attemptTimeoutMs: 20,
    });
    const opened = await stream(env);
    expect(await drain(opened)).toHaveLength(40);
  });

  it("a failure while iterating reaches the consumer and counts for the breaker", async () => {
    const env = setup([{ reply: "a b", failMidStream: "unavailable" }], { failureThreshold: 1 });
    const opened = await stream(env);
    const { failure } = await failureOf(drain(opened));
    expect(failure.kind).toBe("unavailable");
    await sleep(5);
    expect(env.policy.breakerState()).toBe("open");
  });
});

describe("stream outcomes for the breaker", () => {
  function stream(env: ReturnType<typeof setup>) {
    const c = call();
    return env.policy.openStream(c, (signal) => env.provider.stream({ ...c, signal }));
  }

  it("an accepted opening is neutral; a completed stream resets the count", async () => {
    const env = setup([{ fail: "unavailable" }, { reply: "a b" }], { failureThreshold: 5, maxRetries: 1 });
    const opened = await stream(env);
    expect(env.policy.consecutiveFailures()).toBe(1);
    await drain(opened);
    await sleep(5);
    expect(env.policy.consecutiveFailures()).toBe(0);
  });

  it("a provider that accepts every stream and then breaks trips the breaker", async () => {
    const env = setup([{ reply: "a", failMidStream: "invalid_response" }], { failureThreshold: 3 });
    for (let i = 0; i < 3; i += 1) await failureOf(drain(await stream(env)));
    await sleep(5);
    expect(env.policy.breakerState()).toBe("open");
    expect((await failureOf(stream(env))).failure.kind).toBe("circuit_open");
  });
});

describe("options", () => {
  it("rejects invalid options at construction", () => {
    expect(() => new ProviderPolicy("p", { failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => new ProviderPolicy("p", { maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => new ProviderPolicy("p", { attemptTimeoutMs: Number.NaN })).toThrow(/attemptTimeoutMs/);
  });
});
