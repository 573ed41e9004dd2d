/**
 * Per-identity model-token quotas (issue 6, with BASE-SEC-b): tokens per UTC minute and per UTC
 * day, counted from the usage each provider reports for the calls made on the identity's behalf
 * (input + output, repairs included), checked before Generate and GenerateStream and charged after
 * each model call.
 *
 * Windows are fixed and aligned to the clock (minute n covers [n·60 s, (n+1)·60 s) of UTC epoch
 * time, day n the UTC day), so every replica agrees on them. A counter's key names its window
 * (`…:tq:minute:<identity>:<n>`), so a new window starts from zero by construction and never
 * needs resetting, and each key expires shortly after its window ends: counts cannot drift and
 * cannot fail to reset.
 *
 * rate-limiter-flexible is not used here because its windows start at a key's first use, not at
 * a clock boundary, and a quota is charged after the fact with amounts known only then.
 *
 * Backends: memory, and Redis (`INCRBY` + `PEXPIRE` to the window's end in one MULTI; reads with
 * `MGET`). The
 * memory counter is always charged too, so while Redis is unreachable the replica keeps
 * enforcing the quota on what it has counted itself in the window.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import type { TokenUsage } from "../core/engine/ports.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { logger } from "../telemetry/logger.js";
import { security } from "./authenticate.js";
import { IDENTITY, type Identity } from "./identity.js";
import type { Policy } from "./policy.js";

/** One quota window. */
export interface QuotaWindow {
  readonly name: "minute" | "day";
  readonly ms: number;
  /** Tokens per window; 0 means no quota for this window. */
  readonly limit: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Redis keys outlive their window by this much (clock skew between replicas). */
const KEY_GRACE_MS = 60_000;

/** One counter increment; the counter expires `ttlMs` after it (its window's end plus a grace). */
export interface QuotaCharge {
  readonly key: string;
  readonly amount: number;
  readonly ttlMs: number;
}

/** Counters of tokens used, keyed by window key. */
export interface QuotaCounter {
  read(keys: readonly string[]): Promise<number[]>;
  add(entries: readonly QuotaCharge[]): Promise<void>;
}

/** Counters in this process; expired windows are dropped on the way. */
export class MemoryQuotaCounter implements QuotaCounter {
  private readonly counts = new Map<string, { value: number; expireAtMs: number }>();
  private nextSweepMs = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** Windows held now (bounded memory: expired ones are swept). */
  get size(): number {
    return this.counts.size;
  }

  private sweep(now: number): void {
    if (now < this.nextSweepMs) return;
    this.nextSweepMs = now + 1_000;
    for (const [key, entry] of this.counts) if (entry.expireAtMs <= now) this.counts.delete(key);
  }

  read(keys: readonly string[]): Promise<number[]> {
    const now = this.clock();
    this.sweep(now);
    return Promise.resolve(
      keys.map((key) => {
        const entry = this.counts.get(key);
        return entry && entry.expireAtMs > now ? entry.value : 0;
      }),
    );
  }

  add(entries: readonly QuotaCharge[]): Promise<void> {
    const now = this.clock();
    this.sweep(now);
    for (const { key, amount, ttlMs } of entries) {
      const expireAtMs = now + ttlMs;
      const entry = this.counts.get(key);
      if (entry && entry.expireAtMs > now) entry.value += amount;
      else this.counts.set(key, { value: amount, expireAtMs });
    }
    return Promise.resolve();
  }
}

/** Counters in Redis, shared by every replica. */
export class RedisQuotaCounter implements QuotaCounter {
  constructor(private readonly client: Redis) {}

  async read(keys: readonly string[]): Promise<number[]> {
    const values = await this.client.mget(...keys);
    return values.map((value) => (value === null ? 0 : Number(value)));
  }

  async add(entries: readonly QuotaCharge[]): Promise<void> {
    const multi = this.client.multi();
    for (const { key, amount, ttlMs } of entries) {
      multi.incrby(key, amount);
      multi.pexpire(key, ttlMs);
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw failed?.[0] ?? new Error("Redis transaction aborted");
  }
}

/** Redis first; the memory counter (always charged) answers while Redis cannot. */
export class FallbackQuotaCounter implements QuotaCounter {
  constructor(
    private readonly shared: QuotaCounter,
    private readonly local: QuotaCounter,
    private readonly onFallback: () => void = () => undefined,
  ) {}

  async read(keys: readonly string[]): Promise<number[]> {
    try {
      const [shared, local] = await Promise.all([this.shared.read(keys), this.local.read(keys)]);
      // The local count is this replica's share; it exceeds Redis only for charges Redis missed.
      return shared.map((value, i) => Math.max(value, local[i] ?? 0));
    } catch {
      this.onFallback();
      return this.local.read(keys);
    }
  }

  async add(entries: readonly QuotaCharge[]): Promise<void> {
    await this.local.add(entries);
    try {
      await this.shared.add(entries);
    } catch {
      this.onFallback();
    }
  }
}

/** Settings of the token quotas. */
export interface TokenQuotaOptions {
  readonly perMinute: number;
  readonly perDay: number;
  readonly limitAnonymous: boolean;
  readonly counter: QuotaCounter;
  /** Prefix of every key (e.g. "mlsdm:"). */
  readonly keyPrefix: string;
  /** Wall clock in epoch ms (UTC); injected by tests to cross window boundaries. */
  readonly clock?: () => number;
  /** Called on every refusal, with the window(s) exhausted (metrics). */
  readonly onExceeded?: (window: string) => void;
}

/** Methods whose calls use model tokens. */
const METERED_METHODS = new Set(["Generate", "GenerateStream"]);

/** The quota state of one identity. */
export interface QuotaUse {
  readonly window: QuotaWindow;
  readonly used: number;
  /** When the window ends (epoch ms). */
  readonly endsAtMs: number;
}

/** Token quotas: the admission check, the charge, and a view for tests. */
export class TokenQuota {
  readonly windows: readonly QuotaWindow[];
  private readonly clock: () => number;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: TokenQuotaOptions) {
    this.clock = options.clock ?? Date.now;
    this.windows = [
      { name: "minute" as const, ms: MINUTE_MS, limit: options.perMinute },
      { name: "day" as const, ms: DAY_MS, limit: options.perDay },
    ].filter((window) => window.limit > 0);
  }

  /** Whether any quota is configured. */
  get enabled(): boolean {
    return this.windows.length > 0;
  }

  private applies(identity: Identity | undefined): identity is Identity {
    return identity !== undefined && (identity.source !== "anonymous" || this.options.limitAnonymous);
  }

  private key(window: QuotaWindow, identityId: string, index: number): string {
    return `${this.options.keyPrefix}tq:${window.name}:${identityId}:${index}`;
  }

  /** The tokens `identityId` used in the current windows. */
  async use(identityId: string): Promise<QuotaUse[]> {
    const now = this.clock();
    const indices = this.windows.map((window) => Math.floor(now / window.ms));
    const used = await this.options.counter.read(
      this.windows.map((window, i) => this.key(window, identityId, indices[i] ?? 0)),
    );
    return this.windows.map((window, i) => ({
      window,
      used: used[i] ?? 0,
      endsAtMs: ((indices[i] ?? 0) + 1) * window.ms,
    }));
  }

  /** Refuses the call (E608) when a window's quota is used up; the retry delay runs to its end. */
  async check(identity: Identity): Promise<void> {
    const now = this.clock();
    const exhausted = (await this.use(identity.id)).filter((use) => use.used >= use.window.limit);
    if (exhausted.length === 0) return;
    for (const use of exhausted) this.options.onExceeded?.(use.window.name);
    security("token_quota_exceeded", {
      identity_id: identity.id,
      source: identity.source,
      error_code: "E608",
      window: exhausted.map((use) => use.window.name).join(","),
    });
    throw new MlsdmError("TOKEN_QUOTA_EXCEEDED", {
      detail: `${exhausted.map((use) => `${use.window.limit} tokens per ${use.window.name}`).join(", ")} used up`,
      metadata: { identity_id: identity.id, window: exhausted.map((use) => use.window.name).join(",") },
      retryDelayMs: Math.max(1, Math.max(...exhausted.map((use) => use.endsAtMs)) - now),
      quotaViolations: exhausted.map((use) => ({
        subject: `client:${identity.id}`,
        description: `${use.window.limit} model tokens per UTC ${use.window.name}`,
      })),
    });
  }

  /** Adds `tokens` to the current windows of `identityId` (the charge of one model call). */
  charge(identityId: string, tokens: number): Promise<void> {
    if (!this.enabled || !(tokens > 0)) return Promise.resolve();
    const now = this.clock();
    const entries = this.windows.map((window) => {
      const index = Math.floor(now / window.ms);
      return {
        key: this.key(window, identityId, index),
        amount: Math.round(tokens),
        ttlMs: (index + 1) * window.ms - now + KEY_GRACE_MS,
      };
    });
    const done = this.options.counter.add(entries).catch((error: unknown) => {
      logger.warn("token quota charge failed", {
        event: "token_quota_error",
        identity_id: identityId,
        error: error instanceof Error ? error.message : String(error),
      });
    });
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  /** Resolves once every charge started so far has been recorded (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** The admission policy: checks the quota before Generate and GenerateStream. */
  policy(): Policy | undefined {
    if (!this.enabled) return undefined;
    return async (context: HandlerContext) => {
      if (!METERED_METHODS.has(context.method.name)) return;
      const identity = context.values.get(IDENTITY);
      if (this.applies(identity)) await this.check(identity);
    };
  }

  /** The usage callback for one call's model calls, or undefined when nothing is metered. */
  meter(context: HandlerContext): ((usage: TokenUsage) => void) | undefined {
    const identity = context.values.get(IDENTITY);
    if (!this.enabled || !this.applies(identity)) return undefined;
    return (usage) => {
      void this.charge(identity.id, (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0));
    };
  }
}
