/**
 * Per-principal rate limiting (BASE-SEC-b) with rate-limiter-flexible, in memory: a caller gets
 * `perSecond` calls a second plus a burst allowance of the same size again, keyed by its
 * identity id (an API key id). Exceeding it answers RESOURCE_EXHAUSTED E602 with RetryInfo set to
 * the time until the next call is allowed. Idle buckets expire with their window, so memory stays
 * bounded. Anonymous callers (loopback development) are not limited unless configured.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { MlsdmError } from "../telemetry/errors/index.js";
import { IDENTITY } from "./identity.js";
import type { Policy } from "./policy.js";

/** Rate limit settings. */
export interface RateLimitOptions {
  /** Sustained calls per second per caller; 0 turns limiting off. */
  readonly perSecond: number;
  /** Extra calls a caller may burst above the sustained rate, per second. */
  readonly burst: number;
  readonly limitAnonymous: boolean;
  /** Called on every refusal (metrics). */
  readonly onLimited?: (method: string) => void;
}

/** The rate-limit policy (runs after authentication, so the key is the caller's identity). */
export function rateLimit(options: RateLimitOptions): Policy | undefined {
  if (options.perSecond <= 0) return undefined;
  const limiter = new BurstyRateLimiter(
    new RateLimiterMemory({ points: options.perSecond, duration: 1 }),
    new RateLimiterMemory({ keyPrefix: "burst", points: Math.max(1, options.burst), duration: 1 }),
  );
  return async (context: HandlerContext) => {
    const identity = context.values.get(IDENTITY);
    if (!identity || (identity.source === "anonymous" && !options.limitAnonymous)) return;
    try {
      await limiter.consume(identity.id);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      options.onLimited?.(context.method.name);
      throw new MlsdmError("RATE_LIMITED", {
        metadata: { identity_id: identity.id },
        retryDelayMs: Math.max(1, error.msBeforeNext),
      });
    }
  };
}
