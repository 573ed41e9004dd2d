/**
 * The replay cache of request signing (SEC-007): every accepted signature is remembered until
 * it can no longer be accepted (the end of its timestamp's window), so an exact replay inside the
 * window is refused with E209. This file defines the port and the in-memory implementation; a
 * shared (Redis) implementation lets replicas refuse replays sent to another replica.
 */
import { MlsdmError } from "../../telemetry/errors/index.js";

/** Remembers signatures seen inside the replay window. */
export interface ReplayCache {
  /** Records `id` for `ttlMs`; resolves true when it was new, false when already seen (a replay). */
  remember(id: string, ttlMs: number): Promise<boolean>;
}

/** Options of the in-memory cache. */
export interface MemoryReplayCacheOptions {
  /** Most entries held at once (default 100 000; an entry is about 150 bytes). */
  readonly maxEntries?: number;
  /** The clock, ms since the epoch. */
  readonly now?: () => number;
}

/** Expired entries are swept at most this often on the request path (and whenever the cache is full). */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * An in-process replay cache, bounded: expired entries are swept (lazily, on `remember`), and
 * when `maxEntries` live entries are held a new id is REFUSED, never an old one forgotten (that
 * would reopen the replay window): `remember` rejects with RESOURCE_EXHAUSTED E702 whose
 * RetryInfo is the time until the oldest entry expires. Only requests with a valid signature
 * reach the cache, so filling it takes a signing key; lower the rate limit or raise the cap.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly expiries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private nextSweep = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Entries held (live, plus expired ones not yet swept). */
  get size(): number {
    return this.expiries.size;
  }

  remember(id: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    const expiry = this.expiries.get(id);
    if (expiry !== undefined && expiry > now) return Promise.resolve(false);
    if (expiry === undefined && this.expiries.size >= this.maxEntries) {
      this.sweep(now);
      if (this.expiries.size >= this.maxEntries) {
        return Promise.reject(
          new MlsdmError("RESOURCE_EXHAUSTED", {
            detail: "the replay cache of request signing is full",
            retryDelayMs: Math.max(1, this.oldestExpiry() - now),
          }),
        );
      }
    }
    this.expiries.set(id, now + Math.max(0, ttlMs));
    return Promise.resolve(true);
  }

  private sweep(now: number): void {
    for (const [id, expiry] of this.expiries) {
      if (expiry <= now) this.expiries.delete(id);
    }
    this.nextSweep = now + SWEEP_INTERVAL_MS;
  }

  private oldestExpiry(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const expiry of this.expiries.values()) oldest = Math.min(oldest, expiry);
    return oldest;
  }
}
