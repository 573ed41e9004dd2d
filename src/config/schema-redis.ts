/**
 * Configuration of the per-identity limits (BASE-SEC-b: request rates and model-token quotas)
 * and of the Redis server that shares them between replicas. `redisSection` is the `redis`
 * section; `rateLimitKeys` are spread into the `limits` section of `schema.ts`, so the keys stay
 * `limits.rateLimit*` / `limits.tokenQuota*` next to the other admission limits.
 *
 * The backend is chosen explicitly (`limits.rateLimitBackend`): a Redis URL alone changes
 * nothing, so a replica never starts sharing limits by accident. See docs/security/rate-limits.md.
 */
import { z } from "zod";
import { flag, integer, key, oneOf, optionalText, secret, text } from "./meta.js";

/** The Redis server used when `redis.url` is empty. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Where the rate-limit and token-quota counters live. */
export const RATE_LIMIT_BACKENDS = ["memory", "redis"] as const;

/** Role names, lowest first (as `policy/identity.ts` ROLE_ORDER; config depends on no other layer). */
export const RATE_LIMIT_ROLES = ["read", "write", "admin"] as const;
type RoleName = (typeof RATE_LIMIT_ROLES)[number];

/** One role's request-rate override: sustained calls per second and bucket capacity. */
export interface RoleRate {
  readonly rps: number;
  readonly burst: number;
}

/**
 * Parses `role=rps/burst` pairs separated by commas (`admin=50/100,read=2/4`); `role=rps` means a
 * burst of twice the rate, and `role=0` turns limiting off for that role. Returns an error text
 * when a part is not of that form.
 */
export function parseRoleRates(text: string): Map<RoleName, RoleRate> | string {
  const parsed = new Map<RoleName, RoleRate>();
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
    const match = /^([a-z]+)\s*=\s*(\d+)(?:\s*\/\s*(\d+))?$/.exec(part);
    const role = match?.[1] as RoleName | undefined;
    if (!match || role === undefined || !(RATE_LIMIT_ROLES as readonly string[]).includes(role)) {
      return `"${part}" is not role=rps or role=rps/burst with a role of ${RATE_LIMIT_ROLES.join(", ")}`;
    }
    const rps = Number(match[2]);
    const burst = match[3] === undefined ? rps * 2 : Number(match[3]);
    if (rps > 1_000_000 || burst > 2_000_000) return `"${part}": at most 1000000 calls per second`;
    parsed.set(role, { rps, burst: Math.max(burst, rps) });
  }
  return parsed;
}

const roleRates = optionalText().superRefine((value, context) => {
  const parsed = parseRoleRates(value);
  if (typeof parsed === "string") context.addIssue({ code: "custom", input: value, message: parsed });
});

/** The rate-limit and token-quota keys of the `limits` section. */
export const rateLimitKeys = {
  rateLimitRps: key(integer(0, 1_000_000, 5), {
    env: "MLSDM_RATE_LIMIT_RPS",
    description:
      "Calls per second each identity may make, sustained; past it RESOURCE_EXHAUSTED E602 with RetryInfo (HTTP 429 with Retry-After). 0 turns request-rate limiting off (benchmarks).",
  }),
  rateLimitBurst: key(integer(0, 2_000_000, 10), {
    env: "MLSDM_RATE_LIMIT_BURST",
    description:
      "Calls an idle identity may make at once (bucket capacity, at least limits.rateLimitRps); the part above the rate refills over 10 s.",
  }),
  rateLimitAnonymous: key(flag(false), {
    env: "MLSDM_RATE_LIMIT_ANONYMOUS",
    description:
      "Also limit anonymous callers (one shared bucket and quota); off by default since anonymous means loopback development.",
  }),
  rateLimitRoles: key(roleRates, {
    env: "MLSDM_RATE_LIMIT_ROLES",
    description:
      "Per-role overrides as role=rps/burst pairs, e.g. admin=50/100,read=2/4 (role=0: unlimited). An identity gets the override of its highest role that has one.",
  }),
  rateLimitBackend: key(oneOf(RATE_LIMIT_BACKENDS, "memory"), {
    env: "MLSDM_RATE_LIMIT_BACKEND",
    description:
      "memory: limits per replica; redis: rate limits and token quotas shared by every replica through redis.url, falling back to local limits while Redis is down.",
  }),
  tokenQuotaPerMinute: key(integer(0, 1_000_000_000, 0), {
    env: "MLSDM_TOKEN_QUOTA_PER_MINUTE",
    description:
      "Model tokens (input + output, as the provider reports them) each identity may use per UTC minute; past it RESOURCE_EXHAUSTED E608. 0: no quota.",
  }),
  tokenQuotaPerDay: key(integer(0, 1_000_000_000_000, 0), {
    env: "MLSDM_TOKEN_QUOTA_PER_DAY",
    description:
      "Model tokens each identity may use per UTC day; past it RESOURCE_EXHAUSTED E608 until midnight UTC. 0: no quota.",
  }),
} as const;

/** The `redis` section: the server shared limits (and other shared state) use. */
export const redisSection = z
  .strictObject({
    url: key(secret(), {
      env: "MLSDM_REDIS_URL",
      description: `Redis server URL (redis://, or rediss:// for TLS; user and password go in the URL). Empty: ${DEFAULT_REDIS_URL}. Masked in config print; logged without its password.`,
      secret: true,
    }),
    keyPrefix: key(text("mlsdm:"), {
      env: "MLSDM_REDIS_KEY_PREFIX",
      description: "Prefix of every key MLSDM writes, so several deployments can share one Redis.",
    }),
    connectTimeoutMs: key(integer(50, 60_000, 1_000), {
      env: "MLSDM_REDIS_CONNECT_TIMEOUT_MS",
      description: "Longest wait for a connection to Redis; start-up waits at most this long for it.",
    }),
    commandTimeoutMs: key(integer(10, 60_000, 250), {
      env: "MLSDM_REDIS_COMMAND_TIMEOUT_MS",
      description:
        "Longest wait for one Redis command; past it (or at once while disconnected) the local fallback answers.",
    }),
  })
  .prefault({});
