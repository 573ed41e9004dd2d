/**
 * Router properties (core.md §8): candidates are always a permutation of the configured
 * providers with the chosen one first; the A/B split is deterministic per user id, matches the
 * reference's SHA-256 bucketing, and sends the configured share of users to the treatment;
 * misconfigurations fail when the router is built.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RouteHints } from "../../../src/core/engine/ports.js";
import { AbTestRouter, abBucket } from "../../../src/providers/routing/ab-test-router.js";
import type { RouteChoice } from "../../../src/providers/routing/router.js";
import { SingleRouter } from "../../../src/providers/routing/router.js";
import { RuleBasedRouter } from "../../../src/providers/routing/rule-based-router.js";

const providerIds = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/), {
  minLength: 1,
  maxLength: 6,
});
const userId = fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined });
const hints = fc.record({ userIntent: fc.string({ minLength: 1, maxLength: 20 }), userId });

function expectPermutation(choice: RouteChoice, providers: readonly string[], first: string): void {
  expect(choice.candidates[0]).toBe(first);
  expect([...choice.candidates].sort()).toEqual([...providers].sort());
  // The fallbacks keep the configuration order.
  expect(choice.candidates.slice(1)).toEqual(providers.filter((id) => id !== first));
}

describe("SingleRouter", () => {
  it("puts the primary first and the others after it in configuration order", () => {
    fc.assert(
      fc.property(providerIds, hints, (providers, h) => {
        expectPermutation(new SingleRouter(providers).select(h), providers, providers[0] ?? "");
        const last = providers.at(-1) ?? "";
        expectPermutation(new SingleRouter(providers, last).select(h), providers, last);
      }),
    );
  });

  it("rejects an empty list, duplicates and an unknown primary", () => {
    expect(() => new SingleRouter([])).toThrow(/at least one provider/);
    expect(() => new SingleRouter(["a", "a"])).toThrow(/duplicate provider id\(s\): a/);
    expect(() => new SingleRouter(["a"], "b")).toThrow(/unknown provider\(s\) b/);
  });
});

describe("RuleBasedRouter", () => {
  const setup = fc
    .tuple(providerIds, fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.nat())))
    .map(([providers, rawRules]) => {
      const pick = (n: number): string => providers[n % providers.length] ?? "";
      const rules = new Map(rawRules.map(([intent, n]) => [intent, pick(n)]));
      return { providers, rules, defaultProvider: pick(rawRules.length) };
    });

  it("always routes to a configured provider: the rule's for a matched intent, the default otherwise", () => {
    fc.assert(
      fc.property(setup, hints, (options, h) => {
        const router = new RuleBasedRouter(options);
        const expected = options.rules.get(h.userIntent) ?? options.defaultProvider;
        const choice = router.select(h);
        expectPermutation(choice, options.providers, expected);
        expect(choice.variant).toBe("");
        for (const intent of options.rules.keys()) {
          expect(router.select({ userIntent: intent, userId: undefined }).candidates[0]).toBe(
            options.rules.get(intent),
          );
        }
      }),
    );
  });

  it("accepts rules as a plain object", () => {
    const router = new RuleBasedRouter({
      providers: ["stub", "openai", "anthropic"],
      rules: { code: "anthropic", chat: "openai" },
      defaultProvider: "stub",
    });
    const select = (userIntent: string): readonly string[] =>
      router.select({ userIntent, userId: undefined }).candidates;
    expect(select("code")).toEqual(["anthropic", "stub", "openai"]);
    expect(select("chat")).toEqual(["openai", "stub", "anthropic"]);
    expect(select("poetry")).toEqual(["stub", "openai", "anthropic"]);
  });

  it("fails at construction, naming every unknown provider id", () => {
    const build =
      (rules: Record<string, string>, defaultProvider = "a") =>
      () =>
        new RuleBasedRouter({ providers: ["a", "b"], rules, defaultProvider });
    expect(build({ code: "x", chat: "y", other: "a", again: "x" })).toThrow(
      /routing rules name\(s\) unknown provider\(s\) x, y; configured providers: a, b/,
    );
    expect(build({ code: "b" }, "z")).toThrow(/default route name\(s\) unknown provider\(s\) z/);
  });
});

describe("AbTestRouter", () => {
  const PROVIDERS = ["stub", "control_llm", "treatment_llm"];
  const router = (ratio: number, random?: () => number): AbTestRouter =>
    new AbTestRouter({
      providers: PROVIDERS,
      control: "control_llm",
      treatment: "treatment_llm",
      ratio,
      ...(random ? { random } : {}),
    });
  const draws = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it("ratio 0 always picks the control, ratio 1 always the treatment", () => {
    fc.assert(
      fc.property(hints, draws, (h, draw) => {
        const control = router(0, () => draw).select(h);
        expect(control.variant).toBe("control");
        expectPermutation(control, PROVIDERS, "control_llm");
        const treatment = router(1, () => draw).select(h);
        expect(treatment.variant).toBe("treatment");
        expectPermutation(treatment, PROVIDERS, "treatment_llm");
      }),
    );
  });

  it("keeps a user on the same arm, across calls and router instances", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (id, ratio) => {
        const h: RouteHints = { userIntent: "x", userId: id };
        const first = router(ratio, Math.random).select(h);
        for (let i = 0; i < 3; i += 1) expect(router(ratio, Math.random).select(h)).toEqual(first);
        expect(first.variant).toBe(abBucket(id) < ratio ? "treatment" : "control");
      }),
    );
  });

  it("buckets exactly as the reference: SHA-256 as a big integer mod 1,000,000", () => {
    // Values from Python: int(hashlib.sha256(u.encode()).hexdigest(), 16) % 1_000_000 / 1_000_000
    expect(abBucket("user-1")).toBe(0.996379);
    expect(abBucket("alice")).toBe(0.85672);
    expect(abBucket("42")).toBe(0.089353);
  });

  it.each([0.1, 0.5])(
    "sends a share of %s of 10,000 users to the treatment, within a binomial bound",
    (ratio) => {
      const n = 10_000;
      // 5 standard deviations: a false alarm is a one-in-three-million event.
      const bound = 5 * Math.sqrt((ratio * (1 - ratio)) / n);
      fc.assert(
        fc.property(fc.uniqueArray(fc.uuid(), { minLength: n, maxLength: n }), (ids) => {
          const r = router(ratio);
          const treated = ids.filter(
            (id) => r.select({ userIntent: "x", userId: id }).variant === "treatment",
          );
          expect(Math.abs(treated.length / n - ratio)).toBeLessThan(bound);
        }),
        { numRuns: 5 },
      );
    },
  );

  it("draws from the random source when there is no user id (or an empty one)", () => {
    fc.assert(
      fc.property(draws, fc.double({ min: 0, max: 1, noNaN: true }), (draw, ratio) => {
        const r = router(ratio, () => draw);
        const expected = ratio >= 1 || draw < ratio ? "treatment" : "control";
        expect(r.select({ userIntent: "x", userId: undefined }).variant).toBe(expected);
        expect(r.select({ userIntent: "x", userId: "" }).variant).toBe(expected);
      }),
    );
  });

  it("fails at construction on an unknown arm or a ratio outside [0, 1]", () => {
    const build = (control: string, treatment: string, ratio: number) => () =>
      new AbTestRouter({ providers: PROVIDERS, control, treatment, ratio });
    expect(build("nope", "gone", 0.1)).toThrow(/unknown provider\(s\) nope, gone/);
    expect(build("stub", "control_llm", -0.1)).toThrow(RangeError);
    expect(build("stub", "control_llm", 1.5)).toThrow(RangeError);
    expect(build("stub", "control_llm", Number.NaN)).toThrow(RangeError);
  });
});
