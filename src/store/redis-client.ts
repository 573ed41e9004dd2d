/**
 * The one shared Redis connection (ioredis) of a replica, for whatever must be shared between
 * replicas (rate-limit counters, token quotas, the request-signing replay cache).
 *
 * It is built to fail fast, never to hang a call: commands sent while disconnected fail at once
 * (offline queue off, one attempt per request), a command that gets no answer fails after
 * `commandTimeoutMs`, and the connection is retried in the background forever (capped backoff),
 * so callers fall back to local behaviour during an outage and share again when Redis is back.
 * Connection changes are reported once per transition (`onChange`), never per failed command.
 */
import { Redis } from "ioredis";

/** Settings of the connection (the `redis` configuration section). */
export interface RedisClientOptions {
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Called when the connection becomes usable (true) or stops being usable (false). */
  readonly onChange?: (up: boolean, detail: string) => void;
}

/** A shared connection and its state. */
export interface SharedRedis {
  readonly client: Redis;
  /** Whether the connection is usable now. */
  up(): boolean;
  /** Resolves true once connected, or false after `timeoutMs` (it keeps trying in the background). */
  ready(timeoutMs: number): Promise<boolean>;
  /** Closes the connection (no reconnect afterwards). */
  close(): Promise<void>;
}

/** `url` with any password replaced by "***", for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable Redis URL)";
  }
}

/** Background reconnect delays: 50 ms, 100 ms, ... capped at 1 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(1_000, attempt * 50);
}

/** Opens the shared connection (in the background: this returns at once). */
export function createSharedRedis(options: RedisClientOptions): SharedRedis {
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelayMs,
  });
  let up: boolean | undefined; // unknown until the first connect attempt ends
  let closed = false;
  const change = (next: boolean, detail: string): void => {
    if (next === up || closed) return;
    up = next;
    options.onChange?.(next, detail);
  };
  let lastError = "connection closed";
  client.on("ready", () => {
    change(true, "connected");
  });
  // Without a listener ioredis prints every connection error; the transition is what matters.
  client.on("error", (error: Error) => {
    lastError = error.message;
    change(false, lastError);
  });
  client.on("close", () => {
    change(false, lastError);
  });
  client.connect().catch((error: unknown) => {
    lastError = error instanceof Error ? error.message : String(error);
  });
  return {
    client,
    up: () => up === true && client.status === "ready",
    ready(timeoutMs) {
      if (up === true) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          client.off("ready", onReady);
          resolve(false);
        }, timeoutMs);
        timer.unref();
        const onReady = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        client.once("ready", onReady);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
