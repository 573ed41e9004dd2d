/**
 * Token quotas per identity over memory and a real Redis, with an injected clock: usage just
 * before a window boundary counts in the old window and just after in the new one, counts never
 * drift, expired windows are dropped, and the refusal is E608 with RetryInfo to the window end.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { type Identity } from "../../src/policy/identity.js";
import {
  FallbackQuotaCounter,
  MemoryQuotaCounter,
  RedisQuotaCounter,
  TokenQuota,
  type QuotaCounter,
} from "../../src/policy/token-quota.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { TestRedis } from "../support/redis-server.js";
import { policyContext } from "./support/handler-context.js";

const alice: Identity = { id: "alice", owner: "", roles: ["write"], source: "api_key" };
const bob: Identity = { id: "bob", owner: "", roles: ["write"], source: "api_key" };
/** 2026-12-01T10:00:00Z: a minute and hour boundary; days start at multiples of 86 400 000. */
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const MIDNIGHT = Date.UTC(2026, 11, 2);

function generateContext(
  identity: Identity,
  method: (typeof EngineService.methods)[number] = EngineService.method.generate,
) {
  return policyContext({ method, identity });
}

async function refusal(run: Promise<void>): Promise<MlsdmError | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    if (error instanceof MlsdmError) return error;
    throw error;
  }
}

let redis: TestRedis;
let client: Redis;
beforeAll(async () => {
  redis = await TestRedis.start();
  client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
});
afterAll(async () => {
  client.disconnect();
  await redis.close();
});

const backends: [string, (clock: () => number) => QuotaCounter][] = [
  ["memory", (clock) => new MemoryQuotaCounter(clock)],
  ["redis", () => new RedisQuotaCounter(client)],
];

describe.each(backends)("token quota over %s", (name, counterFor) => {
  const setup = (perMinute: number, perDay: number) => {
    const clock = { now: T0 };
    const quota = new TokenQuota({
      perMinute,
      perDay,
      limitAnonymous: false,
      counter: counterFor(() => clock.now),
      keyPrefix: `test:${name}:${Math.random()}:`,
      clock: () => clock.now,
    });
    return { clock, quota };
  };

  it("counts usage just before a minute boundary in the old window and just after in the new", async () => {
    const { clock, quota } = setup(100, 0);
    clock.now = T0 + 59_999;
    await quota.charge("alice", 60);
    expect((await quota.use("alice"))[0]?.used).toBe(60);
    clock.now = T0 + 60_000;
    expect((await quota.use("alice"))[0]?.used).toBe(0);
    await quota.charge("alice", 7);
    expect((await quota.use("alice"))[0]).toMatchObject({ used: 7, endsAtMs: T0 + 120_000 });
    clock.now = T0 + 59_999; // the old window kept exactly its own charges
    expect((await quota.use("alice"))[0]?.used).toBe(60);
  });

  it("refuses once the minute quota is used up, with RetryInfo to the window end, and lets the next minute in", async () => {
    const { clock, quota } = setup(100, 0);
    clock.now = T0 + 10_000;
    await quota.check(alice);
    await quota.charge("alice", 100);
    clock.now = T0 + 45_000;
    const refused = await refusal(quota.check(alice));
    expect(refused?.reason).toBe("TOKEN_QUOTA_EXCEEDED");
    expect(refused?.entry.code).toBe("E608");
    expect(refused?.retryDelayMs).toBe(15_000);
    expect(refused?.quotaViolations).toEqual([
      { subject: "client:alice", description: "100 model tokens per UTC minute" },
    ]);
    await quota.check(bob); // another identity is unaffected
    clock.now = T0 + 60_000;
    await quota.check(alice);
  });

  it("never drifts: many charges across boundaries sum exactly per window", async () => {
    const { clock, quota } = setup(1_000_000, 10_000_000);
    const expected = new Map<number, number>();
    let day = 0;
    for (let i = 0; i < 200; i += 1) {
      clock.now = T0 + i * 1_700; // crosses five minute boundaries
      const tokens = (i % 13) + 1;
      await quota.charge("alice", tokens);
      const minute = Math.floor(clock.now / 60_000);
      expected.set(minute, (expected.get(minute) ?? 0) + tokens);
      day += tokens;
      const [perMinute, perDay] = await quota.use("alice");
      expect(perMinute?.used).toBe(expected.get(minute));
      expect(perDay?.used).toBe(day);
    }
    expect(expected.size).toBe(6);
  });

  it("resets the day quota at midnight UTC; the retry delay runs to midnight", async () => {
    const { clock, quota } = setup(0, 500);
    clock.now = MIDNIGHT - 1_000;
    await quota.charge("alice", 500);
    const refused = await refusal(quota.check(alice));
    expect(refused?.retryDelayMs).toBe(1_000);
    expect(refused?.metadata.window).toBe("day");
    clock.now = MIDNIGHT;
    await quota.check(alice);
    expect((await quota.use("alice"))[0]?.used).toBe(0);
  });

  it("when both windows are used up, waits for the later end", async () => {
    const { clock, quota } = setup(10, 10);
    clock.now = MIDNIGHT - 30_000;
    await quota.charge("alice", 10);
    const refused = await refusal(quota.check(alice));
    expect(refused?.retryDelayMs).toBe(30_000);
    expect(refused?.quotaViolations).toHaveLength(2);
  });

  it("checks only Generate and GenerateStream, and meters the usage a model call reports", async () => {
    const { quota } = setup(10, 0);
    const policy = quota.policy();
    if (!policy) throw new Error("expected a policy");
    const meter = quota.meter(generateContext(alice));
    meter?.({ inputTokens: 4, outputTokens: 6 });
    await quota.settled();
    expect(await refusal(Promise.resolve(policy(generateContext(alice), {})))).toBeInstanceOf(MlsdmError);
    expect(
      await refusal(Promise.resolve(policy(generateContext(alice, EngineService.method.generateStream), {}))),
    ).toBeInstanceOf(MlsdmError);
    await policy(generateContext(alice, EngineService.method.getState), {});
    meter?.({ inputTokens: undefined, outputTokens: undefined }); // not reported: nothing charged
    await quota.settled();
    expect((await quota.use("alice"))[0]?.used).toBe(10);
  });
});

describe("token quota storage", () => {
  it("memory drops expired windows (bounded memory)", async () => {
    const clock = { now: T0 };
    const counter = new MemoryQuotaCounter(() => clock.now);
    const quota = new TokenQuota({
      perMinute: 100,
      perDay: 0,
      limitAnonymous: false,
      counter,
      keyPrefix: "",
      clock: () => clock.now,
    });
    for (let i = 0; i < 500; i += 1) await quota.charge(`id-${i}`, 1);
    expect(counter.size).toBe(500);
    clock.now = T0 + 3 * 60_000;
    await quota.use("someone");
    expect(counter.size).toBe(0);
  });

  it("Redis keys expire shortly after their window (no key outlives it)", async () => {
    const prefix = `ttl:${Math.random()}:`;
    const quota = new TokenQuota({
      perMinute: 100,
      perDay: 1_000,
      limitAnonymous: false,
      counter: new RedisQuotaCounter(client),
      keyPrefix: prefix,
    });
    await quota.charge("alice", 5);
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      const ttl = await client.pttl(key);
      const windowMs = key.includes(":minute:") ? 60_000 : 86_400_000;
      expect(ttl).toBeGreaterThan(60_000 - 1_000);
      expect(ttl).toBeLessThanOrEqual(windowMs + 60_000);
    }
  });

  it("falls back to the local count while Redis cannot answer, and takes the larger count after", async () => {
    let fallbacks = 0;
    const local = new MemoryQuotaCounter();
    const broken: QuotaCounter = {
      read: () => Promise.reject(new Error("Connection is closed.")),
      add: () => Promise.reject(new Error("Connection is closed.")),
    };
    const during = new FallbackQuotaCounter(broken, local, () => (fallbacks += 1));
    await during.add([{ key: "k", amount: 9, ttlMs: 60_000 }]);
    expect(await during.read(["k"])).toEqual([9]);
    expect(fallbacks).toBe(2);
    const healed = new FallbackQuotaCounter(new RedisQuotaCounter(client), local);
    await client.set("k", "3");
    expect(await healed.read(["k"])).toEqual([9]); // Redis missed the outage's charges
    await client.set("k", "30");
    expect(await healed.read(["k"])).toEqual([30]);
    await client.del("k");
  });
});
