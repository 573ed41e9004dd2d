/**
 * The embedding cache (PERF-004): keys (embedder id + normalised text), hits and misses, LRU and
 * TTL evictions in memory, and the Redis backend against a real redis-server, including Redis
 * down → bypass (the embedder answers, the call never fails).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Embedder } from "../../src/core/engine/ports.js";
import {
  cachedEmbedder,
  embeddingCacheKey,
  memoryStore,
  normaliseText,
  redisStore,
  type EmbeddingCacheObserver,
} from "../../src/providers/embedding/embedding-cache.js";
import { createSharedRedis, type SharedRedis } from "../../src/store/redis-client.js";
import { TestRedis } from "../support/redis-server.js";

const signal = new AbortController().signal;

function countingEmbedder(dimension = 4): Embedder & { calls: string[] } {
  const calls: string[] = [];
  return {
    dimension,
    calls,
    embed(text) {
      calls.push(text);
      return Promise.resolve(Float32Array.from({ length: dimension }, (_, i) => text.length + i));
    },
  };
}

function counts(): EmbeddingCacheObserver & {
  hits: number;
  misses: number;
  evictions: number;
  bypasses: number;
} {
  const c = { hits: 0, misses: 0, evictions: 0, bypasses: 0 };
  return Object.assign(c, {
    hit: () => {
      c.hits++;
    },
    miss: () => {
      c.misses++;
    },
    eviction: () => {
      c.evictions++;
    },
    bypass: () => {
      c.bypasses++;
    },
  });
}

describe("embedding cache keys", () => {
  it("normalises Unicode form and whitespace, and keeps case", () => {
    expect(normaliseText("  caf\u0065\u0301 \t au\n lait ")).toBe("caf\u00e9 au lait");
    expect(normaliseText("Tea")).not.toBe(normaliseText("tea"));
  });

  it("keys by embedder id and text", () => {
    expect(embeddingCacheKey("hashing:384", "a")).toMatch(/^[0-9a-f]{64}$/);
    expect(embeddingCacheKey("hashing:384", "a")).not.toBe(embeddingCacheKey("openai:x:384", "a"));
    expect(embeddingCacheKey("hashing:384", "a")).not.toBe(embeddingCacheKey("hashing:384", "b"));
  });
});

describe("in-memory embedding cache", () => {
  it("answers a repeated (or re-spaced) text from the cache and returns a fresh copy", async () => {
    const inner = countingEmbedder();
    const observer = counts();
    const store = memoryStore({ maxEntries: 10, ttlSeconds: 60, observer });
    const embedder = cachedEmbedder(inner, "test:4", store, observer);
    const first = await embedder.embed("hello  world", signal);
    first[0] = 999; // a caller scaling its vector must not change the cached one
    const second = await embedder.embed(" hello world ", signal);
    expect(inner.calls).toEqual(["hello world"]);
    expect(second[0]).toBe(11);
    expect(observer).toMatchObject({ hits: 1, misses: 1 });
    expect(store.size()).toBe(1);
  });

  it("does not share entries between embedders", async () => {
    const inner = countingEmbedder();
    const store = memoryStore({ maxEntries: 10, ttlSeconds: 60 });
    await cachedEmbedder(inner, "a", store).embed("x", signal);
    await cachedEmbedder(inner, "b", store).embed("x", signal);
    expect(inner.calls).toHaveLength(2);
  });

  it("evicts the least recently used entry beyond its size and counts it", async () => {
    const inner = countingEmbedder();
    const observer = counts();
    const embedder = cachedEmbedder(
      inner,
      "t",
      memoryStore({ maxEntries: 2, ttlSeconds: 60, observer }),
      observer,
    );
    for (const text of ["a", "b", "a", "c", "a", "b"]) await embedder.embed(text, signal);
    // a, b miss; a hits; c evicts b; a hits; b misses again (evicting c).
    expect(inner.calls).toEqual(["a", "b", "c", "b"]);
    expect(observer).toMatchObject({ hits: 2, misses: 4, evictions: 2 });
  });

  it("expires an entry after its TTL", async () => {
    const inner = countingEmbedder();
    const observer = counts();
    const embedder = cachedEmbedder(
      inner,
      "t",
      memoryStore({ maxEntries: 5, ttlSeconds: 1, observer }),
      observer,
    );
    await embedder.embed("a", signal);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await embedder.embed("a", signal);
    expect(inner.calls).toEqual(["a", "a"]);
    expect(observer.evictions).toBe(1);
  });
});

describe("Redis embedding cache (real redis-server)", () => {
  let redis: TestRedis;
  let shared: SharedRedis;

  beforeAll(async () => {
    redis = await TestRedis.start();
    shared = createSharedRedis({ url: redis.url, connectTimeoutMs: 1_000, commandTimeoutMs: 200 });
    expect(await shared.ready(5_000)).toBe(true);
  });

  afterAll(async () => {
    await shared.close();
    await redis.close();
  });

  const build = (observer: EmbeddingCacheObserver, inner = countingEmbedder()) => ({
    inner,
    embedder: cachedEmbedder(
      inner,
      "test:4",
      redisStore({
        client: shared.client,
        up: () => shared.up(),
        keyPrefix: "t:",
        ttlSeconds: 60,
        dimension: 4,
        observer,
      }),
      observer,
    ),
  });

  it("stores under the prefix with a TTL and serves other replicas from it", async () => {
    const observer = counts();
    const one = build(observer);
    await one.embedder.embed("shared text", signal);
    const key = `t:emb:${embeddingCacheKey("test:4", "shared text")}`;
    await expect.poll(() => shared.client.exists(key)).toBe(1);
    expect(await shared.client.ttl(key)).toBeGreaterThan(50);
    const other = build(observer); // a second replica: same Redis, its own embedder
    expect(Array.from(await other.embedder.embed("shared text", signal))).toEqual([11, 12, 13, 14]);
    expect(other.inner.calls).toEqual([]);
    expect(observer).toMatchObject({ hits: 1, misses: 1, bypasses: 0 });
  });

  it("treats a malformed entry as a miss", async () => {
    const observer = counts();
    const { embedder, inner } = build(observer);
    await shared.client.set(`t:emb:${embeddingCacheKey("test:4", "bad")}`, "xx");
    await embedder.embed("bad", signal);
    expect(inner.calls).toEqual(["bad"]);
    expect(observer.bypasses).toBe(1);
  });

  it("bypasses the cache while Redis is down and uses it again once back", async () => {
    const observer = counts();
    const { embedder, inner } = build(observer);
    await redis.stop();
    await expect.poll(() => shared.up()).toBe(false);
    const vector = await embedder.embed("during outage", signal);
    expect(vector).toHaveLength(4);
    expect(inner.calls).toEqual(["during outage"]);
    expect(observer.bypasses).toBeGreaterThanOrEqual(1);
    await redis.start();
    expect(await shared.ready(5_000)).toBe(true);
    await embedder.embed("after outage", signal);
    const key = `t:emb:${embeddingCacheKey("test:4", "after outage")}`;
    await expect.poll(() => shared.client.exists(key)).toBe(1);
  });
});
