/**
 * The embedding cache (PERF-004): an Embedder that answers from a cache keyed by the SHA-256
 * of the embedder id and the normalised text, and otherwise asks the embedder it wraps and
 * stores the result. Two stores: an in-process LRU with a TTL (lru-cache, the default) and
 * Redis (shared by replicas). A Redis that is down, slow or answers garbage is bypassed: the
 * text is embedded as if there were no cache, the call never fails because of the cache.
 *
 * Embeddings are a pure function of (embedder, text), so an entry is tenant-neutral: caching
 * across identities returns exactly what each would have computed (docs/performance/embedding-cache.md).
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Redis } from "ioredis";
import type { Embedder } from "../../core/engine/ports.js";

/** Counts the cache reports (metrics). */
export interface EmbeddingCacheObserver {
  hit(): void;
  miss(): void;
  eviction(): void;
  /** A Redis command failed or was skipped (Redis down): the call went on without the cache. */
  bypass(): void;
}

/** Where entries live. */
export interface EmbeddingCacheStore {
  get(key: string): Float32Array | undefined | Promise<Float32Array | undefined>;
  set(key: string, vector: Float32Array): void;
  /** Entries held now (undefined when the store cannot tell cheaply, e.g. Redis). */
  size(): number | undefined;
}

/** The normal form texts are keyed (and embedded) by: NFC, trimmed, runs of whitespace as one space. */
export function normaliseText(text: string): string {
  return text.normalize("NFC").trim().replace(/\s+/gu, " ");
}

/** The cache key: hex SHA-256 of the embedder id, a NUL and the normalised text. */
export function embeddingCacheKey(embedderId: string, normalised: string): string {
  return createHash("sha256").update(embedderId).update("\0").update(normalised).digest("hex");
}

/** In-process LRU with a TTL; size- and TTL-driven removals are reported as evictions. */
export function memoryStore(options: {
  maxEntries: number;
  ttlSeconds: number;
  observer?: EmbeddingCacheObserver;
}): EmbeddingCacheStore {
  const lru = new LRUCache<string, Float32Array>({
    max: options.maxEntries,
    ttl: options.ttlSeconds * 1000,
    dispose: (_value, _key, reason) => {
      if (reason === "evict" || reason === "expire") options.observer?.eviction();
    },
  });
  return {
    get: (key) => lru.get(key),
    set: (key, vector) => {
      lru.set(key, vector);
    },
    size: () => lru.size,
  };
}

/**
 * Redis store: `<prefix>emb:<key>` → the float32 bytes, with `EX ttlSeconds`. Skipped while the
 * connection is down (`up()` false); a failed or malformed answer counts as a bypass.
 */
export function redisStore(options: {
  client: Redis;
  up: () => boolean;
  keyPrefix: string;
  ttlSeconds: number;
  dimension: number;
  observer?: EmbeddingCacheObserver;
}): EmbeddingCacheStore {
  const redisKey = (key: string): string => `${options.keyPrefix}emb:${key}`;
  const bytes = options.dimension * 4;
  return {
    async get(key) {
      if (!options.up()) {
        options.observer?.bypass();
        return undefined;
      }
      try {
        const value = await options.client.getBuffer(redisKey(key));
        if (value === null) return undefined;
        if (value.length !== bytes) {
          options.observer?.bypass();
          return undefined;
        }
        const vector = new Float32Array(options.dimension);
        new Uint8Array(vector.buffer).set(value);
        return vector;
      } catch {
        options.observer?.bypass();
        return undefined;
      }
    },
    set(key, vector) {
      if (!options.up()) return;
      const value = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
      options.client.set(redisKey(key), value, "EX", options.ttlSeconds).catch(() => {
        options.observer?.bypass();
      });
    },
    size: () => undefined,
  };
}

/** Wraps `inner` with the cache; `embedderId` names the embedder (backend, model, dimension). */
export function cachedEmbedder(
  inner: Embedder,
  embedderId: string,
  store: EmbeddingCacheStore,
  observer?: EmbeddingCacheObserver,
): Embedder {
  return {
    dimension: inner.dimension,
    async embed(text, signal) {
      const normalised = normaliseText(text);
      const key = embeddingCacheKey(embedderId, normalised);
      const cached = await store.get(key);
      if (cached !== undefined) {
        observer?.hit();
        return cached.slice(); // callers may scale or normalise the vector in place
      }
      observer?.miss();
      const vector = await inner.embed(normalised, signal);
      store.set(key, vector.slice());
      return vector;
    },
  };
}
