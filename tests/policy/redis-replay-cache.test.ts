/**
 * The Redis replay cache for request signing against a real redis-server: an id is new once per
 * TTL across every replica (two connections share it), and with Redis down it fails closed
 * (UNAVAILABLE E711, retryable) instead of accepting a possible replay.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisReplayCache } from "../../src/policy/redis/redis-replay-cache.js";
import type { ReplayCache } from "../../src/policy/signing/replay-cache.js";
import { createSharedRedis, type SharedRedis } from "../../src/store/redis-client.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { TestRedis } from "../support/redis-server.js";

let redis: TestRedis;
let a: SharedRedis;
let b: SharedRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
  const options = { url: redis.url, connectTimeoutMs: 500, commandTimeoutMs: 200 };
  a = createSharedRedis(options);
  b = createSharedRedis(options);
  expect(await a.ready(5_000)).toBe(true);
  expect(await b.ready(5_000)).toBe(true);
});
afterAll(async () => {
  await a.close();
  await b.close();
  await redis.close();
});

describe("RedisReplayCache", () => {
  it("accepts an id once within its TTL, across replicas, and again after it expired", async () => {
    const first: ReplayCache = new RedisReplayCache(a.client, "t1:");
    const second: ReplayCache = new RedisReplayCache(b.client, "t1:");
    expect(await first.remember("sig-1", 300)).toBe(true);
    expect(await first.remember("sig-1", 300)).toBe(false);
    expect(await second.remember("sig-1", 300)).toBe(false);
    expect(await second.remember("sig-2", 300)).toBe(true);
    const raw = new Redis(redis.url);
    const ttl = await raw.pttl("t1:replay:sig-1");
    raw.disconnect();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await new Promise((r) => setTimeout(r, 350));
    expect(await second.remember("sig-1", 300)).toBe(true);
  });

  it("fails closed while Redis is down: UNAVAILABLE E711, never a silent accept", async () => {
    const cache = new RedisReplayCache(a.client, "t2:");
    expect(await cache.remember("seen", 60_000)).toBe(true);
    await redis.stop();
    try {
      const started = Date.now();
      const outcome = await cache.remember("seen", 60_000).then(
        (value) => value,
        (error: unknown) => error,
      );
      expect(Date.now() - started).toBeLessThan(1_000); // fails fast, no hang
      expect(outcome).toBeInstanceOf(MlsdmError);
      expect((outcome as MlsdmError).entry.code).toBe("E711");
      expect((outcome as MlsdmError).entry.retryable).toBe(true);
    } finally {
      await redis.start();
    }
    expect(await a.ready(5_000)).toBe(true);
    // Redis restarted empty (no persistence): the cache works again.
    expect(await cache.remember("fresh", 60_000)).toBe(true);
    expect(await cache.remember("fresh", 60_000)).toBe(false);
  });
});
