/**
 * The model gateway: routing, fallback only past open breakers, failures surfaced as errors
 * (never as text, W9), streams, the status view and the observer.
 */
import { describe, expect, it } from "vitest";
import type { ProviderFailureKind, RouteHints, TokenUsage } from "../../../src/core/engine/ports.js";
import { createModelGateway, type GatewayObserver } from "../../../src/providers/gateway.js";
import type { BreakerState } from "../../../src/providers/resilience/provider-policy.js";
import { AbTestRouter } from "../../../src/providers/routing/ab-test-router.js";
import { SingleRouter } from "../../../src/providers/routing/router.js";
import { ScriptedProvider, USAGE, type Step } from "./scripted-provider.js";
import { call, drain, failureOf, sleep } from "./support.js";

function setup(scripts: Readonly<Record<string, readonly Step[]>>, halfOpenAfterMs = 10_000) {
  const providers = new Map(
    Object.entries(scripts).map(([id, steps]) => [id, new ScriptedProvider(id, steps)]),
  );
  const attempts: [string, "ok" | ProviderFailureKind][] = [];
  const breakers: [string, BreakerState][] = [];
  const tokens: [string, TokenUsage][] = [];
  const observer: GatewayObserver = {
    attempt: (id, outcome) => attempts.push([id, outcome]),
    breaker: (id, state) => breakers.push([id, state]),
    tokens: (id, usage) => tokens.push([id, usage]),
  };
  const gateway = createModelGateway({
    providers,
    router: new SingleRouter([...providers.keys()]),
    policy: { failureThreshold: 2, maxRetries: 1, initialBackoffMs: 1, maxBackoffMs: 2, halfOpenAfterMs },
    observer,
  });
  const provider = (id: string): ScriptedProvider => {
    const found = providers.get(id);
    if (!found) throw new Error(id);
    return found;
  };
  return { gateway, provider, attempts, breakers, tokens };
}

describe("createModelGateway", () => {
  it("serves from the first candidate and says who served", async () => {
    const { gateway, tokens } = setup({ a: [{ reply: "from a" }], b: [{ reply: "from b" }] });
    await expect(gateway.generate(call())).resolves.toEqual({
      text: "from a",
      usage: USAGE,
      providerId: "a",
      variant: "",
    });
    expect(tokens).toEqual([["a", USAGE]]);
  });

  it("reports the A/B arm as the variant", async () => {
    const providers = new Map([
      ["a", new ScriptedProvider("a", [{ reply: "A" }])],
      ["b", new ScriptedProvider("b", [{ reply: "B" }])],
    ]);
    const router = new AbTestRouter({ providers: ["a", "b"], control: "a", treatment: "b", ratio: 1 });
    const gateway = createModelGateway({ providers, router });
    const route: RouteHints = { userIntent: "code", userId: "u1" };
    await expect(gateway.generate(call({ route }))).resolves.toMatchObject({
      text: "B",
      providerId: "b",
      variant: "treatment",
    });
  });

  it("falls back while the first candidate's breaker is open, and never calls it meanwhile", async () => {
    const { gateway, provider, breakers } = setup({ a: [{ fail: "unavailable" }], b: [{ reply: "from b" }] });
    // Two counted failures (one call with its retry) open a's breaker; that call fails as it is.
    expect((await failureOf(gateway.generate(call()))).failure.kind).toBe("unavailable");
    expect(provider("b").calls).toBe(0);
    expect(breakers).toEqual([["a", "open"]]);
    for (let i = 0; i < 3; i += 1) {
      await expect(gateway.generate(call())).resolves.toMatchObject({ text: "from b", providerId: "b" });
    }
    expect(provider("a").calls).toBe(2);
    expect(gateway.status()).toEqual([
      { id: "a", breaker: "open", consecutiveFailures: 2 },
      { id: "b", breaker: "closed", consecutiveFailures: 0 },
    ]);
  });

  it.each<ProviderFailureKind>(["rejected", "unavailable", "timeout", "rate_limited", "invalid_response"])(
    "a %s failure of the chosen provider is thrown, not hidden by a fallback nor turned into text",
    async (kind) => {
      const { gateway, provider } = setup({ a: [{ fail: kind }], b: [{ reply: "from b" }] });
      const { failure } = await failureOf(gateway.generate(call()));
      expect(failure.kind).toBe(kind);
      expect(failure.details.providerId).toBe("a");
      expect(provider("b").calls).toBe(0);
    },
  );

  it("fails with circuit_open when every candidate's breaker is open", async () => {
    const { gateway, provider } = setup({ a: [{ fail: "unavailable" }], b: [{ fail: "timeout" }] });
    await failureOf(gateway.generate(call()));
    provider("a").play([{ reply: "a is back" }]);
    // a is open now: the call goes to b, which fails twice and opens too.
    expect((await failureOf(gateway.generate(call()))).failure.kind).toBe("timeout");
    const { failure } = await failureOf(gateway.generate(call()));
    expect(failure.kind).toBe("circuit_open");
    expect(failure.details.retryAfterMs).toBeGreaterThan(9_000);
    expect(failure.details.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(gateway.status().map((s) => s.breaker)).toEqual(["open", "open"]);
    expect(provider("a").calls + provider("b").calls).toBe(4);
  });

  it("returns to the first candidate through one trial call once half-open is due", async () => {
    const { gateway, provider, breakers } = setup({ a: [{ fail: "unavailable" }], b: [{ reply: "b" }] }, 40);
    await failureOf(gateway.generate(call()));
    await expect(gateway.generate(call())).resolves.toMatchObject({ providerId: "b" });
    await sleep(50);
    provider("a").play([{ reply: "a again" }]);
    await expect(gateway.generate(call())).resolves.toMatchObject({ providerId: "a", text: "a again" });
    expect(gateway.status()[0]).toMatchObject({ breaker: "closed", consecutiveFailures: 0 });
    expect(breakers).toEqual([
      ["a", "open"],
      ["a", "half_open"],
      ["a", "closed"],
    ]);
  });

  it("reports every attempt to the observer", async () => {
    const { gateway, attempts } = setup({ a: [{ fail: "rate_limited" }, { reply: "ok" }] });
    await gateway.generate(call());
    expect(attempts).toEqual([
      ["a", "rate_limited"],
      ["a", "ok"],
    ]);
  });

  it("passes a cancellation through as cancelled, without trying the fallback", async () => {
    const { gateway, provider } = setup({ a: [{ hang: true }], b: [{ reply: "b" }] });
    const client = new AbortController();
    const pending = gateway.generate(call({ signal: client.signal }));
    await sleep(10);
    client.abort();
    expect((await failureOf(pending)).failure.kind).toBe("cancelled");
    expect(provider("a").signals[0]?.aborted).toBe(true);
    expect(provider("b").calls).toBe(0);
  });

  it("honours deadlines on the injected clock", async () => {
    const providers = new Map([["a", new ScriptedProvider("a", [{ hang: true }])]]);
    const clock = (): number => performance.now() + 1_000_000;
    const gateway = createModelGateway({ providers, router: new SingleRouter(["a"]), clock });
    const started = performance.now();
    const { failure, elapsedMs } = await failureOf(
      gateway.generate(call({ deadlineAt: clock() + 60 })),
      started,
    );
    expect(failure.kind).toBe("timeout");
    expect(elapsedMs).toBeLessThan(110);
  });

  describe("stream", () => {
    it("streams from the chosen provider and reports usage once the iteration ended", async () => {
      const { gateway, tokens } = setup({ a: [{ reply: "one two three" }] });
      const stream = await gateway.stream(call());
      expect(stream).toMatchObject({ providerId: "a", variant: "" });
      expect(tokens).toEqual([]);
      expect(await drain(stream)).toEqual(["one", "two", "three"]);
      expect(stream.usage()).toEqual(USAGE);
      expect(tokens).toEqual([["a", USAGE]]);
    });

    it("retries and falls back while opening the stream", async () => {
      const { gateway } = setup({ a: [{ fail: "unavailable" }], b: [{ reply: "from b" }] });
      await failureOf(gateway.stream(call()));
      const stream = await gateway.stream(call());
      expect(stream.providerId).toBe("b");
      expect(await drain(stream)).toEqual(["from", "b"]);
    });

    it("a failure while iterating reaches the consumer and counts for the breaker", async () => {
      const { gateway } = setup({ a: [{ reply: "x y", failMidStream: "unavailable" }] });
      for (let i = 0; i < 2; i += 1) {
        const stream = await gateway.stream(call());
        const { failure } = await failureOf(drain(stream));
        expect(failure.kind).toBe("unavailable");
      }
      await sleep(5);
      expect(gateway.status()[0]?.breaker).toBe("open");
    });
  });
});
