/**
 * The request-signing replay cache in Redis, shared by every replica: a signature id is accepted
 * once within its TTL across the whole deployment (`SET key 1 PX ttl NX`, true when it was set).
 *
 * On a Redis failure (down, or slower than the command timeout) it FAILS CLOSED: `remember`
 * rejects with UNAVAILABLE E711 and a RetryInfo, so the signed call is refused and the client
 * retries it. A memory fallback would accept a replay sent to another replica during the outage,
 * which is exactly what a shared cache exists to prevent (docs/security/rate-limits.md,
 * "Replay cache").
 */
import type { Redis } from "ioredis";
import { MlsdmError } from "../../telemetry/errors/index.js";
import type { ReplayCache } from "../signing/replay-cache.js";

/** A replay cache over the shared Redis connection; keys are `<prefix>replay:<id>`. */
export class RedisReplayCache implements ReplayCache {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix = "mlsdm:",
  ) {}

  async remember(id: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    let reply: string | null;
    try {
      reply = await this.client.set(`${this.keyPrefix}replay:${id}`, "1", "PX", ttl, "NX");
    } catch (error) {
      throw new MlsdmError("UNAVAILABLE", {
        detail: "the replay cache cannot be reached; retry the signed call",
        cause: error,
      });
    }
    return reply === "OK";
  }
}
