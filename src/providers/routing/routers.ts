/**
 * Routers pick the provider for a call (core.md §8): single, fallback, rule-based by intent,
 * and an A/B split with consistent hashing on the caller's user id. A router returns every
 * configured provider as a candidate, the chosen one first, so the gateway can fall back to
 * the next one while a breaker is open.
 */
import { createHash } from "node:crypto";
import type { RouteHints } from "../../core/engine/ports.js";

/** The router's choice for one call. */
export interface RouteChoice {
  /** Provider ids to try in order: the chosen one first, then the fallbacks. */
  readonly candidates: readonly string[];
  /** "control" / "treatment" for an A/B router, "" otherwise. */
  readonly variant: string;
}

/** Picks providers for calls. */
export interface Router {
  select(hints: RouteHints): RouteChoice;
}

function ordered(first: string, all: readonly string[]): string[] {
  return [first, ...all.filter((id) => id !== first)];
}

function requireKnown(ids: readonly string[], all: readonly string[]): void {
  const unknown = ids.filter((id) => !all.includes(id));
  if (unknown.length > 0) {
    throw new Error(`unknown provider(s) ${unknown.join(", ")}; configured: ${all.join(", ")}`);
  }
}

/** Always the first provider; the others are fallbacks only when `fallback` is true. */
export function singleRouter(providers: readonly string[], fallback: boolean): Router {
  const [first] = providers;
  if (first === undefined) throw new Error("at least one provider is required");
  const candidates = fallback ? [...providers] : [first];
  return { select: () => ({ candidates, variant: "" }) };
}

/** Routes by user intent (`rules`: intent → provider id); unmatched intents go to `fallbackId`. */
export function ruleBasedRouter(
  providers: readonly string[],
  rules: ReadonlyMap<string, string>,
  fallbackId: string,
): Router {
  requireKnown([...rules.values(), fallbackId], providers);
  return {
    select: (hints) => ({
      candidates: ordered(rules.get(hints.userIntent) ?? fallbackId, providers),
      variant: "",
    }),
  };
}

/** The bucket of a user id in [0, 1): SHA-256, first 6 bytes as an integer, mod 1,000,000. */
export function abBucket(userId: string): number {
  const digest = createHash("sha256").update(userId, "utf8").digest();
  return (digest.readUIntBE(0, 6) % 1_000_000) / 1_000_000;
}

/**
 * A/B split: `treatment` for a share `ratio` of users, `control` for the rest. With a user id
 * the arm is fixed by hashing (the same user always gets the same arm); without one it is
 * drawn per call from `random`.
 */
export function abTestRouter(
  providers: readonly string[],
  control: string,
  treatment: string,
  ratio: number,
  random: () => number = Math.random,
): Router {
  requireKnown([control, treatment], providers);
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`treatment ratio must be in [0, 1], got ${ratio}`);
  return {
    select: (hints) => {
      const draw = hints.userId === undefined ? random() : abBucket(hints.userId);
      const treated = ratio > 0 && (ratio >= 1 || draw < ratio);
      return treated
        ? { candidates: ordered(treatment, providers), variant: "treatment" }
        : { candidates: ordered(control, providers), variant: "control" };
    },
  };
}
