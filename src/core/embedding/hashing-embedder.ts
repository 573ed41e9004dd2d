/**
 * The default embedder: deterministic feature hashing, so retrieval means something without
 * any model or network (DESIGN "embedded defaults"). Text is normalised (NFKC, lower case),
 * split into words of letters and digits, and every word unigram and bigram adds ±1 to one
 * of `dimension` buckets (FNV-1a picks the bucket, one more hash bit the sign, so collisions
 * cancel out on average). Texts that share words share buckets, so lexically similar texts
 * get similar unit vectors. Term counts are damped (1 + ln tf) so one repeated word does not
 * dominate.
 */
import { ProviderFailure, type Embedder } from "../engine/ports.js";

/** FNV-1a over UTF-16 code units, 32-bit. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** The normalised words of `text`. */
export function words(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}

/** The deterministic local embedder. */
export class HashingEmbedder implements Embedder {
  readonly id = "hashing";

  constructor(readonly dimension = 384) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`bad dimension ${dimension}`);
  }

  /** The unit vector of `text` (never zero: text without words hashes as one feature). */
  embedSync(text: string): Float32Array {
    const tokens = words(text);
    const features = new Map<string, number>();
    const add = (feature: string): void => {
      features.set(feature, (features.get(feature) ?? 0) + 1);
    };
    tokens.forEach((word, i) => {
      add(word);
      const next = tokens[i + 1];
      if (next !== undefined) add(`${word} ${next}`);
    });
    if (features.size === 0) add(`\u0000${text.trim()}`);
    const vector = new Float64Array(this.dimension);
    for (const [feature, count] of features) {
      const hash = fnv1a(feature);
      const bucket = hash % this.dimension;
      const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
      vector[bucket] = (vector[bucket] ?? 0) + sign * (1 + Math.log(count));
    }
    let sum = 0;
    for (const value of vector) sum += value * value;
    const out = new Float32Array(this.dimension);
    if (sum === 0) {
      // Every feature cancelled out in its bucket: fall back to one signed bucket.
      out[fnv1a(text) % this.dimension] = 1;
      return out;
    }
    const inverse = 1 / Math.sqrt(sum);
    for (let i = 0; i < this.dimension; i++) out[i] = (vector[i] ?? 0) * inverse;
    return out;
  }

  embed(text: string, signal: AbortSignal): Promise<Float32Array> {
    if (signal.aborted) {
      return Promise.reject(new ProviderFailure("cancelled", "the call ended", { providerId: this.id }));
    }
    return Promise.resolve(this.embedSync(text));
  }
}
