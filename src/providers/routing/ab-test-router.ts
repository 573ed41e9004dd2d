/**
 * A/B split between a control and a treatment provider (core.md §8 ABTestRouter). With a user
 * id the arm is fixed by consistent hashing: bucket = (SHA-256(userId) read as one unsigned
 * 256-bit big-endian integer) mod 1,000,000 / 1,000,000 — the whole digest, exactly as the
 * reference computes it, so users keep their arm across the rewrite — and the user is in the
 * treatment iff bucket < ratio. SHA-256 is uniform, and 2^256 mod 10^6 leaves a bias far below
 * anything measurable. Without a user id the arm is drawn per call from `random`.
 */
import { createHash } from "node:crypto";
import type { RouteHints } from "../../core/engine/ports.js";
import { candidatesFrom, requireKnown, requireProviders, type RouteChoice, type Router } from "./router.js";

const BUCKETS = 1_000_000n;

/** The bucket of a user id, in [0, 1) with a resolution of 10^-6. Deterministic. */
export function abBucket(userId: string): number {
  const digest = createHash("sha256").update(userId, "utf8").digest("hex");
  return Number(BigInt(`0x${digest}`) % BUCKETS) / Number(BUCKETS);
}

export interface AbTestRouterOptions {
  /** Configured provider ids, in configuration order (the fallback order). */
  readonly providers: readonly string[];
  readonly control: string;
  readonly treatment: string;
  /** Share of users (or of anonymous calls) sent to the treatment, in [0, 1]. */
  readonly ratio: number;
  /** Source of draws in [0, 1) for calls without a user id; default Math.random. */
  readonly random?: () => number;
}

export class AbTestRouter implements Router {
  private readonly ratio: number;
  private readonly random: () => number;
  private readonly control: RouteChoice;
  private readonly treatment: RouteChoice;

  constructor(options: AbTestRouterOptions) {
    const { providers, ratio } = options;
    requireProviders(providers);
    requireKnown("the A/B test", [options.control, options.treatment], providers);
    if (!(ratio >= 0 && ratio <= 1))
      throw new RangeError(`the treatment ratio must be in [0, 1], got ${ratio}`);
    this.ratio = ratio;
    this.random = options.random ?? Math.random;
    this.control = { candidates: candidatesFrom(options.control, providers), variant: "control" };
    this.treatment = { candidates: candidatesFrom(options.treatment, providers), variant: "treatment" };
  }

  /** An empty user id counts as unknown (it would put every anonymous caller in one bucket). */
  select(hints: RouteHints): RouteChoice {
    if (this.ratio <= 0) return this.control;
    if (this.ratio >= 1) return this.treatment;
    const draw = hints.userId === undefined || hints.userId === "" ? this.random() : abBucket(hints.userId);
    return draw < this.ratio ? this.treatment : this.control;
  }
}
