/**
 * The per-identity limits of the `limits` configuration (BASE-SEC-b): the request-rate policy,
 * the token-quota policy and its usage meter, over memory or the shared Redis connection, with
 * their metrics and the log lines of a Redis outage (one warning when limits fall back to local,
 * one info line when they are shared again).
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { Config } from "../config/index.js";
import { DEFAULT_REDIS_URL, parseRoleRates } from "../config/schema-redis.js";
import type { TokenUsage } from "../core/engine/ports.js";
import { createSharedRedis, redactRedisUrl, type SharedRedis } from "../store/redis-client.js";
import { logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics/registry.js";
import type { RoleName } from "./identity.js";
import type { Policy } from "./policy.js";
import { rateLimit, type Rate } from "./rate-limit.js";
import { FallbackQuotaCounter, MemoryQuotaCounter, RedisQuotaCounter, TokenQuota } from "./token-quota.js";

/** What the composition root wires: policies (after authentication), the meter, the shutdown. */
export interface Limits {
  /** Rate limit, then token quota; run after authentication and RBAC. */
  readonly policies: Policy[];
  readonly quota: TokenQuota;
  /** The usage callback of one call's model calls (for the Generate handlers). */
  meter(context: HandlerContext): ((usage: TokenUsage) => void) | undefined;
  /** The shared Redis connection when the redis backend is configured (for other shared state). */
  readonly redis: SharedRedis | undefined;
  stop(): Promise<void>;
}

/** Options for tests: a wall clock for the quota windows. */
export interface LimitsOptions {
  readonly clock?: () => number;
}

function roleRates(config: Config): Map<RoleName, Rate> {
  const parsed = parseRoleRates(config.limits.rateLimitRoles);
  return typeof parsed === "string" ? new Map<RoleName, Rate>() : parsed; // the schema already refused a bad value
}

/** Builds the limits; with the redis backend, waits up to the connect timeout for Redis. */
export async function limitsFromConfig(
  config: Config,
  metrics: Metrics,
  options: LimitsOptions = {},
): Promise<Limits> {
  const { limits } = config;
  const limited = metrics.counter({
    name: "mlsdm_rate_limit_exceeded_total",
    help: "Calls refused by the per-identity rate limit (E602), by method.",
    labels: ["method"],
  });
  const quotaExceeded = metrics.counter({
    name: "mlsdm_token_quota_exceeded_total",
    help: "Calls refused by the per-identity model-token quota (E608), by window (minute, day).",
    labels: ["window"],
  });
  let redis: SharedRedis | undefined;
  let fallback: ((labels: { limiter?: string }) => void) | undefined;
  if (limits.rateLimitBackend === "redis") {
    const redisUp = metrics.gauge({
      name: "mlsdm_redis_up",
      help: "Whether the shared Redis of rate limits and quotas is reachable (1) or limits are local (0).",
    });
    fallback = metrics.counter({
      name: "mlsdm_rate_limit_fallback_total",
      help: "Limit decisions taken locally because Redis could not answer, by limiter (rate, quota).",
      labels: ["limiter"],
    });
    redisUp({}, 0);
    const url = config.redis.url === "" ? DEFAULT_REDIS_URL : config.redis.url;
    const target = redactRedisUrl(url);
    let wasDown = false;
    redis = createSharedRedis({
      url,
      connectTimeoutMs: config.redis.connectTimeoutMs,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      onChange(up, detail) {
        redisUp({}, up ? 1 : 0);
        if (!up) {
          wasDown = true;
          logger.warn(
            "Redis unavailable: rate limits and token quotas fall back to local limits per replica",
            {
              event: "rate_limit_fallback",
              redis: target,
              error: detail,
            },
          );
        } else {
          logger.info(
            wasDown ? "Redis reachable again: limits are shared" : "Redis connected: limits are shared",
            {
              event: "rate_limit_shared",
              redis: target,
            },
          );
        }
      },
    });
    await redis.ready(config.redis.connectTimeoutMs);
  }
  const store = redis ? { client: redis.client, keyPrefix: config.redis.keyPrefix } : undefined;
  const rate = rateLimit({
    rps: limits.rateLimitRps,
    burst: limits.rateLimitBurst,
    roles: roleRates(config),
    limitAnonymous: limits.rateLimitAnonymous,
    ...(store ? { store } : {}),
    onLimited: (method) => {
      limited({ method });
    },
    onFallback: () => fallback?.({ limiter: "rate" }),
  });
  const local = new MemoryQuotaCounter(options.clock);
  const quota = new TokenQuota({
    perMinute: limits.tokenQuotaPerMinute,
    perDay: limits.tokenQuotaPerDay,
    limitAnonymous: limits.rateLimitAnonymous,
    counter: redis
      ? new FallbackQuotaCounter(new RedisQuotaCounter(redis.client), local, () =>
          fallback?.({ limiter: "quota" }),
        )
      : local,
    keyPrefix: config.redis.keyPrefix,
    ...(options.clock ? { clock: options.clock } : {}),
    onExceeded: (window) => {
      quotaExceeded({ window });
    },
  });
  const quotaPolicy = quota.policy();
  return {
    policies: [...(rate ? [rate] : []), ...(quotaPolicy ? [quotaPolicy] : [])],
    quota,
    meter: (context) => quota.meter(context),
    redis,
    async stop() {
      await quota.settled();
      await redis?.close();
    },
  };
}
