/**
 * The embedding cache built from the configuration (src/providers/embedding/cache-from-config.ts):
 * `off` passes the embedder through; `memory` caches and reports hits, misses and size in the
 * `mlsdm_embedding_cache_*` metrics; `redis` without a shared connection opens its own to the
 * configured Redis (a real redis-server), shares entries between two caches, and closes it on
 * stop.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import type { Embedder } from "../../src/core/engine/ports.js";
import { embeddingCacheFromConfig } from "../../src/providers/embedding/cache-from-config.js";
import { Metrics } from "../../src/telemetry/metrics/registry.js";
import { TestRedis } from "../support/redis-server.js";

const signal = new AbortController().signal;

function countingEmbedder(dimension: number): Embedder & { calls: string[] } {
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

async function metric(metrics: Metrics, name: string): Promise<number | undefined> {
  const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values[0] as { value: number } | undefined)?.value;
}

describe("embeddingCacheFromConfig", () => {
  it("off: the embedder itself, no metrics", async () => {
    const config = loadConfig({ env: { MLSDM_EMBEDDING_CACHE_BACKEND: "off" } }).config;
    const metrics = new Metrics(false);
    const cache = embeddingCacheFromConfig(config, metrics, undefined);
    const embedder = countingEmbedder(config.core.dimension);
    expect(cache.wrap(embedder, "id")).toBe(embedder);
    await cache.stop();
    expect(await metric(metrics, "mlsdm_embedding_cache_hits_total")).toBeUndefined();
  });

  it("memory: a repeated text is a hit, counted with the size", async () => {
    const config = loadConfig({
      env: {
        MLSDM_EMBEDDING_CACHE_BACKEND: "memory",
        MLSDM_EMBEDDING_CACHE_SIZE: "10",
        MLSDM_DIMENSION: "8",
      },
    }).config;
    const metrics = new Metrics(false);
    const cache = embeddingCacheFromConfig(config, metrics, undefined);
    const inner = countingEmbedder(8);
    const embedder = cache.wrap(inner, "counting:8");
    const first = await embedder.embed("Hello  World", signal);
    const second = await embedder.embed(" Hello World ", signal); // the same text, normalised
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(inner.calls).toHaveLength(1);
    expect(await metric(metrics, "mlsdm_embedding_cache_hits_total")).toBe(1);
    expect(await metric(metrics, "mlsdm_embedding_cache_misses_total")).toBe(1);
    expect(await metric(metrics, "mlsdm_embedding_cache_size")).toBe(1);
    await cache.stop();
  });

  describe("redis, with a connection of its own", () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await TestRedis.start();
    });
    afterAll(async () => {
      await redis.close();
    });

    it("shares entries between caches through the configured Redis, and closes its connection on stop", async () => {
      const config = loadConfig({
        env: {
          MLSDM_EMBEDDING_CACHE_BACKEND: "redis",
          MLSDM_REDIS_URL: redis.url,
          MLSDM_REDIS_KEY_PREFIX: "cfgtest:",
          MLSDM_DIMENSION: "8",
        },
      }).config;
      const metrics = [new Metrics(false), new Metrics(false)] as const;
      const caches = metrics.map((m) => embeddingCacheFromConfig(config, m, undefined));
      const inner = countingEmbedder(8);
      const [a, b] = caches.map((cache) => cache.wrap(inner, "counting:8"));
      // The connections open in the background (lookups bypass the cache until then); once up,
      // what one cache stored the other finds.
      await vi.waitFor(
        async () => {
          await a!.embed("shared text", signal);
          const callsBefore = inner.calls.length;
          await b!.embed("shared text", signal);
          expect(inner.calls.length).toBe(callsBefore);
          expect(await metric(metrics[1], "mlsdm_embedding_cache_hits_total")).toBeGreaterThan(0);
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(await metric(metrics[0], "mlsdm_embedding_cache_misses_total")).toBeGreaterThan(0);
      // The Redis backend has no local size.
      expect(await metric(metrics[0], "mlsdm_embedding_cache_size")).toBe(0);
      for (const cache of caches) await cache.stop();
      // After stop the cache bypasses (its connection is closed) but the embedder still answers.
      const after = await a!.embed("shared text", signal);
      expect(after).toHaveLength(8);
    });
  });
});
