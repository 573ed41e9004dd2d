/**
 * The `cache` section (PERF-004): the embedding cache in front of the configured embedder.
 * In memory by default (LRU with a TTL); Redis when `cache.embeddingBackend` is `redis` (the
 * server of the `redis` section, shared between replicas); `off` embeds every text.
 * See docs/performance/embedding-cache.md.
 */
import { z } from "zod";
import { integer, key, oneOf } from "./meta.js";

/** Where cached embeddings live. */
export const EMBEDDING_CACHE_BACKENDS = ["memory", "redis", "off"] as const;

export const cacheSection = z
  .strictObject({
    embeddingBackend: key(oneOf(EMBEDDING_CACHE_BACKENDS, "memory"), {
      env: "MLSDM_EMBEDDING_CACHE_BACKEND",
      description:
        "memory: an in-process LRU of embeddings; redis: the Redis server of redis.url (shared by replicas; Redis down means embedding without the cache, never a failed call); off: no cache.",
    }),
    embeddingSize: key(integer(1, 10_000_000, 10_000), {
      env: "MLSDM_EMBEDDING_CACHE_SIZE",
      description: "Embeddings the in-memory cache holds; the least recently used is evicted beyond it.",
    }),
    embeddingTtlSeconds: key(integer(1, 31_536_000, 3_600), {
      env: "MLSDM_EMBEDDING_CACHE_TTL_SECONDS",
      description: "Seconds a cached embedding is served before it is computed again (both backends).",
    }),
  })
  .prefault({});
