import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  abBucket,
  abTestRouter,
  ruleBasedRouter,
  singleRouter,
} from "../../src/providers/routing/routers.js";

const ids = ["primary", "secondary"];
const hints = (userIntent = "conversational", userId?: string) => ({ userIntent, userId });

describe("routers (core.md §8)", () => {
  it("single: the first provider, with the others as fallbacks only when asked", () => {
    expect(singleRouter(ids, false).select(hints())).toEqual({ candidates: ["primary"], variant: "" });
    expect(singleRouter(ids, true).select(hints()).candidates).toEqual(ids);
    expect(() => singleRouter([], false)).toThrow();
  });

  it("rule-based: by intent, unmatched to the default, always a permutation of the providers", () => {
    const router = ruleBasedRouter(ids, new Map([["code", "secondary"]]), "primary");
    expect(router.select(hints("code")).candidates).toEqual(["secondary", "primary"]);
    fc.assert(
      fc.property(fc.string(), (intent) => {
        const { candidates } = router.select(hints(intent));
        expect([...candidates].sort()).toEqual([...ids].sort());
        if (intent !== "code") expect(candidates[0]).toBe("primary");
      }),
    );
    expect(() => ruleBasedRouter(ids, new Map([["code", "tertiary"]]), "primary")).toThrow(/tertiary/);
  });

  it("A/B: ratio 0 always control, 1 always treatment, the same user always the same arm", () => {
    fc.assert(
      fc.property(fc.string(), (userId) => {
        expect(abTestRouter(ids, "primary", "secondary", 0).select(hints("x", userId)).variant).toBe(
          "control",
        );
        expect(abTestRouter(ids, "primary", "secondary", 1).select(hints("x", userId)).variant).toBe(
          "treatment",
        );
        const router = abTestRouter(ids, "primary", "secondary", 0.3);
        expect(router.select(hints("x", userId))).toEqual(router.select(hints("x", userId)));
        const bucket = abBucket(userId);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(1);
      }),
    );
  });

  it.each([0.1, 0.5])("A/B: the treatment share over 10,000 users is %s within 4 sigma", (ratio) => {
    const router = abTestRouter(ids, "primary", "secondary", ratio);
    let treated = 0;
    for (let i = 0; i < 10_000; i++)
      if (router.select(hints("x", `user-${i}`)).variant === "treatment") treated += 1;
    const sigma = Math.sqrt(10_000 * ratio * (1 - ratio));
    expect(Math.abs(treated - 10_000 * ratio)).toBeLessThan(4 * sigma);
  });

  it("A/B: without a user id the injected random source decides; bad settings are refused", () => {
    const draws = [0.05, 0.95];
    const router = abTestRouter(ids, "primary", "secondary", 0.1, () => draws.shift() ?? 0);
    expect(router.select(hints()).variant).toBe("treatment");
    expect(router.select(hints()).variant).toBe("control");
    expect(() => abTestRouter(ids, "primary", "secondary", 1.5)).toThrow(RangeError);
    expect(() => abTestRouter(ids, "primary", "nope", 0.5)).toThrow(/nope/);
  });
});
