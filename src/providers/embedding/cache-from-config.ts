/**
 * Builds the embedding cache of the configuration (`cache` section) with its metrics
 * (`mlsdm_embedding_cache_*`). The Redis backend uses the replica's shared Redis connection when
 * the limits already opened one, else opens its own (same `redis` section) and closes it on stop.
 */
import type { Config } from "../../config/index.js";
import { DEFAULT_REDIS_URL } from "../../config/schema-redis.js";
import type { Embedder } from "../../core/engine/ports.js";
import { createSharedRedis, type SharedRedis } from "../../store/redis-client.js";
import type { Metrics } from "../../telemetry/metrics/registry.js";
import {
  cachedEmbedder,
  memoryStore,
  redisStore,
  type EmbeddingCacheObserver,
  type EmbeddingCacheStore,
} from "./embedding-cache.js";

/** The cache, ready to wrap the embedder. */
export interface EmbeddingCache {
  wrap(embedder: Embedder, embedderId: string): Embedder;
  stop(): Promise<void>;
}

/** Registers the cache metrics and returns the observer that feeds them. */
function cacheMetrics(metrics: Metrics): {
  observer: EmbeddingCacheObserver;
  sizeFrom: (store: EmbeddingCacheStore) => void;
} {
  const counts = { hits: 0, misses: 0, evictions: 0, bypasses: 0 };
  const counter = (name: keyof typeof counts, help: string): void => {
    metrics.sampledCounter({ name: `mlsdm_embedding_cache_${name}_total`, help }, () => counts[name]);
  };
  counter("hits", "Embeddings answered from the embedding cache.");
  counter("misses", "Embeddings computed because the cache had none (then stored).");
  counter("evictions", "Embedding cache entries removed for size (LRU) or age (TTL), in-memory backend.");
  counter("bypasses", "Embedding cache lookups or writes skipped because Redis was down or failed.");
  return {
    observer: {
      hit: () => {
        counts.hits++;
      },
      miss: () => {
        counts.misses++;
      },
      eviction: () => {
        counts.evictions++;
      },
      bypass: () => {
        counts.bypasses++;
      },
    },
    sizeFrom: (store) => {
      metrics.sampledGauge(
        { name: "mlsdm_embedding_cache_size", help: "Entries in the in-memory embedding cache." },
        () => store.size() ?? 0,
      );
    },
  };
}

/** The cache of `config.cache` (a pass-through when the backend is `off`). */
export function embeddingCacheFromConfig(
  config: Config,
  metrics: Metrics,
  shared: SharedRedis | undefined,
): EmbeddingCache {
  const { cache } = config;
  if (cache.embeddingBackend === "off")
    return { wrap: (embedder) => embedder, stop: () => Promise.resolve() };
  const { observer, sizeFrom } = cacheMetrics(metrics);
  let own: SharedRedis | undefined;
  let store: EmbeddingCacheStore;
  if (cache.embeddingBackend === "redis") {
    const redis =
      shared ??
      (own = createSharedRedis({
        url: config.redis.url === "" ? DEFAULT_REDIS_URL : config.redis.url,
        connectTimeoutMs: config.redis.connectTimeoutMs,
        commandTimeoutMs: config.redis.commandTimeoutMs,
      }));
    store = redisStore({
      client: redis.client,
      up: () => redis.up(),
      keyPrefix: config.redis.keyPrefix,
      ttlSeconds: cache.embeddingTtlSeconds,
      dimension: config.core.dimension,
      observer,
    });
  } else {
    store = memoryStore({ maxEntries: cache.embeddingSize, ttlSeconds: cache.embeddingTtlSeconds, observer });
  }
  sizeFrom(store);
  return {
    wrap: (embedder, embedderId) => cachedEmbedder(embedder, embedderId, store, observer),
    stop: async () => {
      await own?.close();
    },
  };
}
