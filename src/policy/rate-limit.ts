/**
 * Per-identity request-rate limiting (BASE-SEC-b) with rate-limiter-flexible.
 *
 * Shape: a token bucket of `burst` calls refilled at `rps` per second, built from two
 * rate-limiter-flexible limiters combined by its BurstyRateLimiter: `rps` calls per one-second
 * window, plus a pool of `burst − rps` extra calls per {@link BURST_WINDOW_SECONDS}. An idle
 * identity can therefore make `burst` calls at once (10 by default), then `rps` per second
 * (5.5 per second at most over long runs with the defaults). Exceeding it answers
 * RESOURCE_EXHAUSTED E602 whose RetryInfo is the limiter's `msBeforeNext`: the real time until the
 * next call is allowed (Connect turns it into HTTP 429 with Retry-After).
 *
 * Keys are the identity id (API key id, JWT subject, certificate CN; anonymous callers share one
 * bucket) under the tier that applies: the per-role override of the identity's highest role that
 * has one, else the default. Buckets expire with their window, in memory and in Redis, so idle
 * identities cost nothing.
 *
 * Backends: memory (per replica), or Redis shared by every replica, each Redis limiter carrying
 * the same limiter in memory as its `insuranceLimiter` (rate-limiter-flexible's own fallback):
 * while Redis is unreachable or slow the local limiter decides, so an outage never hangs or
 * fails a call; it only makes the limit per replica until Redis is back.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { logger } from "../telemetry/logger.js";
import { security } from "./authenticate.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { IDENTITY, ROLE_ORDER, type Identity, type RoleName } from "./identity.js";
import type { Policy } from "./policy.js";

/** The extra calls above the sustained rate refill over this many seconds. */
export const BURST_WINDOW_SECONDS = 10;

/** One tier's rate: sustained calls per second (0: unlimited) and bucket capacity. */
export interface Rate {
  readonly rps: number;
  readonly burst: number;
}

/** Where shared counters live; without it the limits are per replica. */
export interface SharedStore {
  readonly client: Redis;
  /** Prefix of every key (e.g. "mlsdm:"). */
  readonly keyPrefix: string;
}

/** Rate limit settings. */
export interface RateLimitOptions extends Rate {
  /** Per-role overrides; an identity gets the one of its highest role that has one. */
  readonly roles?: ReadonlyMap<RoleName, Rate>;
  readonly limitAnonymous: boolean;
  /** Redis, for limits shared by every replica. */
  readonly store?: SharedStore;
  /** Called on every refusal (metrics). */
  readonly onLimited?: (method: string) => void;
  /** Called for every call the local fallback decided because Redis could not (metrics). */
  readonly onFallback?: () => void;
}

/** Marks the calls a fallback limiter answered (rate-limiter-flexible hands it the same options). */
interface CallMarker {
  readonly attrs: Record<string, unknown>;
  fallback?: boolean;
}

/** The in-memory limiter used as a Redis limiter's insurance: it marks the call it answered. */
class InsuranceLimiter extends RateLimiterMemory {
  override consume(key: string | number, points?: number, options?: object): Promise<RateLimiterRes> {
    if (options) (options as CallMarker).fallback = true;
    return super.consume(key, points, options ?? {});
  }
}

interface Consumer {
  consume(key: string, points: number, options: CallMarker): Promise<RateLimiterRes>;
}

function limiter(store: SharedStore | undefined, options: IRateLimiterOptions): RateLimiterAbstract {
  if (!store) return new RateLimiterMemory(options);
  return new RateLimiterRedis({
    ...options,
    keyPrefix: `${store.keyPrefix}rl:${options.keyPrefix ?? ""}`,
    storeClient: store.client,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new InsuranceLimiter(options),
  });
}

/** The limiter of one tier, or undefined when the tier is unlimited. */
export function tierLimiter(tier: string, rate: Rate, store?: SharedStore): Consumer | undefined {
  if (rate.rps <= 0) return undefined;
  const sustained = limiter(store, { keyPrefix: tier, points: rate.rps, duration: 1 });
  const extra = rate.burst - rate.rps;
  if (extra <= 0) return sustained;
  const burst = limiter(store, { keyPrefix: `${tier}:burst`, points: extra, duration: BURST_WINDOW_SECONDS });
  return new BurstyRateLimiter(sustained, burst);
}

/** The tier that applies to `identity`: its highest role with an override, else the default. */
export function tierOf(
  identity: Identity,
  roles: ReadonlyMap<RoleName, Rate> | undefined,
): RoleName | "default" {
  if (!roles) return "default";
  for (const role of [...ROLE_ORDER].reverse()) {
    if (roles.has(role) && identity.roles.includes(role)) return role;
  }
  return "default";
}

/** The rate-limit policy (runs after authentication, so the key is the caller's identity). */
export function rateLimit(options: RateLimitOptions): Policy | undefined {
  const roles = options.roles ?? new Map<RoleName, Rate>();
  if (options.rps <= 0 && [...roles.values()].every((rate) => rate.rps <= 0)) return undefined;
  const tiers = new Map<string, { limiter: Consumer | undefined; rate: Rate }>();
  const rateOf = (tier: RoleName | "default"): Rate =>
    tier === "default" ? options : (roles.get(tier) ?? options);
  for (const tier of ["default", ...roles.keys()] as const) {
    const rate = rateOf(tier);
    tiers.set(tier, { limiter: tierLimiter(tier, rate, options.store), rate });
  }
  return async (context: HandlerContext) => {
    const identity = context.values.get(IDENTITY);
    if (!identity || (identity.source === "anonymous" && !options.limitAnonymous)) return;
    const tier = tiers.get(tierOf(identity, options.roles));
    if (!tier?.limiter) return;
    const marker: CallMarker = { attrs: {} };
    try {
      await tier.limiter.consume(identity.id, 1, marker);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        // Not reachable with the memory insurance in place; never turn a limiter fault into E700.
        logger.warn("rate limiter failed; the call is let through", {
          event: "rate_limit_error",
          identity_id: identity.id,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      options.onLimited?.(context.method.name);
      security("rate_limited", {
        method: context.method.name,
        identity_id: identity.id,
        source: identity.source,
        error_code: "E602",
        retry_after_ms: Math.max(1, error.msBeforeNext),
      });
      throw new MlsdmError("RATE_LIMITED", {
        metadata: { identity_id: identity.id },
        retryDelayMs: Math.max(1, error.msBeforeNext),
        quotaViolations: [
          {
            subject: `client:${identity.id}`,
            description: `${tier.rate.rps} requests per second, burst ${Math.max(tier.rate.burst, tier.rate.rps)}`,
          },
        ],
      });
    } finally {
      if (marker.fallback) options.onFallback?.();
    }
  };
}
