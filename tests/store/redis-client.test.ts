/**
 * The shared Redis connection (src/store/redis-client.ts) against a real redis-server: ready()
 * resolves true once connected, false after its timeout when nothing listens (and keeps trying),
 * each up/down transition is reported once however many reconnects fail, commands fail fast
 * while down, and close() is idempotent, also while disconnected. Plus its URL redaction and
 * reconnect pacing.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  createSharedRedis,
  reconnectDelayMs,
  redactRedisUrl,
  type SharedRedis,
} from "../../src/store/redis-client.js";
import { freePort } from "../support/free-port.js";
import { TestRedis } from "../support/redis-server.js";

describe("the shared Redis connection", () => {
  const opened: SharedRedis[] = [];
  const servers: TestRedis[] = [];
  afterAll(async () => {
    for (const shared of opened) await shared.close();
    for (const server of servers) await server.close();
  });

  it("reports down once while nothing listens, then up once when Redis appears, and down when it dies", async () => {
    const redis = await TestRedis.start();
    servers.push(redis);
    await redis.stop();
    const changes: [boolean, string][] = [];
    const shared = createSharedRedis({
      url: redis.url,
      connectTimeoutMs: 300,
      commandTimeoutMs: 200,
      onChange: (up, detail) => changes.push([up, detail]),
    });
    opened.push(shared);
    expect(await shared.ready(300)).toBe(false);
    expect(shared.up()).toBe(false);
    // Several reconnects fail meanwhile (50 ms, 100 ms, ...): still one transition.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(changes).toEqual([[false, expect.stringMatching(/ECONNREFUSED|connect/i)]]);
    // Commands fail at once instead of queueing while down.
    const startedAt = Date.now();
    await expect(shared.client.ping()).rejects.toThrow();
    expect(Date.now() - startedAt).toBeLessThan(200);

    await redis.start();
    expect(await shared.ready(5_000)).toBe(true);
    expect(shared.up()).toBe(true);
    expect(await shared.ready(10)).toBe(true); // already up: at once
    expect(await shared.client.ping()).toBe("PONG");
    expect(changes.map(([up]) => up)).toEqual([false, true]);
    expect(changes[1]?.[1]).toBe("connected");

    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(shared.up()).toBe(false);
    expect(changes.map(([up]) => up)).toEqual([false, true, false]);
  });

  it("close() is idempotent, works while disconnected, and reports nothing afterwards", async () => {
    const port = await freePort();
    const changes: boolean[] = [];
    const shared = createSharedRedis({
      url: `redis://127.0.0.1:${port}`,
      connectTimeoutMs: 200,
      commandTimeoutMs: 100,
      onChange: (up) => changes.push(up),
    });
    expect(await shared.ready(250)).toBe(false);
    await shared.close();
    await shared.close();
    const count = changes.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(changes).toHaveLength(count);
    expect(shared.up()).toBe(false);
  });

  it("redacts passwords from URLs for logs", () => {
    expect(redactRedisUrl("redis://user:hunter2@cache.internal:6380/2")).toBe(
      "redis://user:***@cache.internal:6380/2",
    );
    expect(redactRedisUrl("redis://cache.internal:6379")).toBe("redis://cache.internal:6379");
    expect(redactRedisUrl("not a url")).toBe("(unparseable Redis URL)");
  });

  it("backs off 50 ms per attempt, capped at a second", () => {
    expect([1, 2, 5, 20, 21, 1000].map(reconnectDelayMs)).toEqual([50, 100, 250, 1000, 1000, 1000]);
  });
});
