/**
 * The request-rate policy (BASE-SEC-b) over memory, without a network: the default bucket (5/s,
 * burst 10) lets about 10–15 of 20 calls in one second through, RetryInfo is the real time to the
 * next allowed call, other identities and roles have their own buckets, and idle buckets expire.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseRoleRates } from "../../src/config/schema-redis.js";
import { type Identity } from "../../src/policy/identity.js";
import type { Policy } from "../../src/policy/policy.js";
import { BURST_WINDOW_SECONDS, rateLimit, tierLimiter, tierOf } from "../../src/policy/rate-limit.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { policyContext } from "./support/handler-context.js";

const writer = (id: string): Identity => ({ id, owner: "", roles: ["write"], source: "api_key" });
const admin: Identity = { id: "boss", owner: "", roles: ["admin"], source: "api_key" };
const anonymous: Identity = { id: "anonymous", owner: "", roles: ["admin"], source: "anonymous" };

function contextFor(identity: Identity) {
  return policyContext({ identity });
}

/** Runs the policy once: "OK" or the refusal. */
async function call(policy: Policy, identity: Identity): Promise<"OK" | MlsdmError> {
  try {
    await policy(contextFor(identity), {});
    return "OK";
  } catch (error) {
    if (error instanceof MlsdmError) return error;
    throw error;
  }
}

function defaults(extra: Partial<Parameters<typeof rateLimit>[0]> = {}): Policy {
  const policy = rateLimit({ rps: 5, burst: 10, limitAnonymous: false, ...extra });
  if (!policy) throw new Error("expected a policy");
  return policy;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe("rate limit (memory)", () => {
  it("accepts about 10–15 of 20 calls spread over one second from one client (5/s, burst 10)", async () => {
    const policy = defaults();
    const outcomes: ("OK" | MlsdmError)[] = [];
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) {
      outcomes.push(await call(policy, writer("steady")));
      await sleep(Math.max(0, started + (i + 1) * 50 - Date.now()));
    }
    const accepted = outcomes.filter((o) => o === "OK").length;
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(15);
    for (const refusal of outcomes.filter((o): o is MlsdmError => o !== "OK")) {
      expect(refusal.entry.code).toBe("E602");
      expect(refusal.quotaViolations[0]).toEqual({
        subject: "client:steady",
        description: "5 requests per second, burst 10",
      });
    }
  });

  it("lets a burst of exactly 10 through at once; RetryInfo is the real time to the next allowed call", async () => {
    const policy = defaults();
    for (let i = 0; i < 10; i += 1) expect(await call(policy, writer("bursty"))).toBe("OK");
    const refused = await call(policy, writer("bursty"));
    const refusedAt = Date.now();
    if (refused === "OK") throw new Error("the 11th call was accepted");
    expect(refused.reason).toBe("RATE_LIMITED");
    const delay = refused.retryDelayMs ?? 0;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(1_000);
    // Just before the delay ends the call is still refused; once it ends, it is accepted.
    if (delay > 150) {
      await sleep(delay - 100);
      const early = await call(policy, writer("bursty"));
      // (a late timer on a busy machine may already have passed the refill)
      if (Date.now() < refusedAt + delay - 10) expect(early).not.toBe("OK");
    }
    await sleep(Math.max(0, refusedAt + delay + 20 - Date.now()));
    expect(await call(policy, writer("bursty"))).toBe("OK");
  });

  it("sustains the rate after the burst: about 5 calls a second", async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const policy = defaults();
    let accepted = 0;
    // 20 calls a second for 20 seconds.
    for (let i = 0; i < 400; i += 1) {
      if ((await call(policy, writer("greedy"))) === "OK") accepted += 1;
      vi.advanceTimersByTime(50);
    }
    // 5/s for 20 s plus the burst pool (5 every 10 s): at most 100 + 10, at least 100.
    expect(accepted).toBeGreaterThanOrEqual(100);
    expect(accepted).toBeLessThanOrEqual(100 + 5 * Math.ceil(20 / BURST_WINDOW_SECONDS) + 5);
  });

  it("keeps other clients unaffected", async () => {
    const policy = defaults();
    for (let i = 0; i < 15; i += 1) await call(policy, writer("noisy"));
    expect(await call(policy, writer("noisy"))).not.toBe("OK");
    expect(await call(policy, writer("quiet"))).toBe("OK");
  });

  it("applies per-role overrides: the identity's highest role with an override wins", async () => {
    const roles = parseRoleRates("admin=50/100,read=1/1");
    if (typeof roles === "string") throw new Error(roles);
    const policy = defaults({ roles });
    let adminAccepted = 0;
    for (let i = 0; i < 120; i += 1) if ((await call(policy, admin)) === "OK") adminAccepted += 1;
    expect(adminAccepted).toBe(100);
    const reader: Identity = { id: "reader", owner: "", roles: ["read"], source: "api_key" };
    expect(await call(policy, reader)).toBe("OK");
    const second = await call(policy, reader);
    expect(second === "OK" ? "OK" : second.quotaViolations[0]?.description).toBe(
      "1 requests per second, burst 1",
    );
    expect(tierOf({ ...admin, roles: ["read", "admin"] }, roles)).toBe("admin");
    expect(tierOf(writer("w"), roles)).toBe("default");
  });

  it("treats role=0 as unlimited for that role, and rps 0 as no policy at all", async () => {
    const roles = parseRoleRates("admin=0");
    if (typeof roles === "string") throw new Error(roles);
    const policy = defaults({ roles });
    for (let i = 0; i < 50; i += 1) expect(await call(policy, admin)).toBe("OK");
    expect(rateLimit({ rps: 0, burst: 10, limitAnonymous: true })).toBeUndefined();
  });

  it("limits anonymous callers only when asked to", async () => {
    const open = defaults();
    for (let i = 0; i < 30; i += 1) expect(await call(open, anonymous)).toBe("OK");
    const limited = defaults({ limitAnonymous: true });
    let accepted = 0;
    for (let i = 0; i < 30; i += 1) if ((await call(limited, anonymous)) === "OK") accepted += 1;
    expect(accepted).toBe(10);
  });

  it("counts refusals through onLimited", async () => {
    const limited: string[] = [];
    const policy = defaults({ onLimited: (method) => limited.push(method) });
    for (let i = 0; i < 12; i += 1) await call(policy, writer("counted"));
    expect(limited).toEqual(["GetState", "GetState"]);
  });

  it("drops the buckets of idle identities (bounded memory)", async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const limiter = tierLimiter("default", { rps: 5, burst: 10 });
    if (!limiter) throw new Error("expected a limiter");
    const storage = (inner: unknown): Map<string, unknown> =>
      (inner as { _memoryStorage: { _storage: Map<string, unknown> } })._memoryStorage._storage;
    const parts = limiter as unknown as { _rateLimiter: unknown; _burstLimiter: unknown };
    for (let i = 0; i < 1_000; i += 1) {
      for (let j = 0; j < 6; j += 1)
        await limiter.consume(`id-${i}`, 1, { attrs: {} }).catch(() => undefined);
    }
    expect(storage(parts._rateLimiter).size).toBe(1_000);
    expect(storage(parts._burstLimiter).size).toBe(1_000);
    vi.advanceTimersByTime(BURST_WINDOW_SECONDS * 1_000 + 1);
    expect(storage(parts._rateLimiter).size).toBe(0);
    expect(storage(parts._burstLimiter).size).toBe(0);
  });
});

describe("MLSDM_RATE_LIMIT_ROLES", () => {
  it("parses role=rps/burst pairs; role=rps means a burst of twice the rate", () => {
    expect(parseRoleRates("admin=50/100, read = 2")).toEqual(
      new Map([
        ["admin", { rps: 50, burst: 100 }],
        ["read", { rps: 2, burst: 4 }],
      ]),
    );
    expect(parseRoleRates("")).toEqual(new Map());
  });

  it("refuses unknown roles and malformed pairs", () => {
    expect(parseRoleRates("root=5")).toMatch(/not role=rps/);
    expect(parseRoleRates("admin=fast")).toMatch(/not role=rps/);
  });
});
