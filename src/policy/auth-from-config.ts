/**
 * The credential sources of the `auth` configuration: keys from the environment, keys from a
 * watched file, and whether anonymous calls are served (DESIGN "embedded defaults": with no key
 * configured, anonymous calls are served on a loopback host only, and start-up says so).
 */
import type { Config } from "../config/index.js";
import { logger } from "../telemetry/logger.js";
import { ApiKeyRing, digestOf, type ApiKeyEntry } from "./api-key-ring.js";
import { ANONYMOUS, apiKeyResolver, authenticate, authorize } from "./authenticate.js";
import type { Identity, RoleName } from "./identity.js";
import { watchKeysFile } from "./keys-file.js";
import type { Policy } from "./policy.js";

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

function envKeys(config: Config): ApiKeyEntry[] {
  const keys: [string, RoleName, string][] = [
    [config.auth.readApiKey, "read", "env-read"],
    [config.auth.apiKey, "write", "env-write"],
    [config.auth.adminApiKey, "admin", "env-admin"],
  ];
  return keys
    .filter(([secret]) => secret !== "")
    .map(([secret, role, id]) => ({
      id,
      owner: "environment",
      roles: [role],
      sha256: digestOf(secret),
      expiresAtMs: undefined,
    }));
}

/** Keys expiring within this window are warned about (SEC-002). */
export const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000;

/** Logs a warning for every key that expires within a week (called at load and daily). */
export function warnExpiring(ring: ApiKeyRing, now = Date.now()): string[] {
  const soon = ring.entries.filter(
    (key) =>
      key.expiresAtMs !== undefined && key.expiresAtMs > now && key.expiresAtMs - now < EXPIRY_WARNING_MS,
  );
  for (const key of soon) {
    logger.warn("API key expires soon", {
      event: "key_expiring",
      key_id: key.id,
      expires_in_hours: Math.round(((key.expiresAtMs ?? now) - now) / 3_600_000),
    });
  }
  return soon.map((key) => key.id);
}

/**
 * The authentication and RBAC policies, the current keys, and a stop function (rate limits and
 * token quotas, which run after these, are built by `limits-from-config.ts`).
 */
export function authFromConfig(config: Config): { policies: Policy[]; keys: () => ApiKeyRing; stop(): void } {
  const fromEnv = envKeys(config);
  let ring = new ApiKeyRing(fromEnv);
  let watch: { stop(): void } | undefined;
  if (config.auth.keysFile !== "") {
    watch = watchKeysFile(
      config.auth.keysFile,
      (entries) => {
        ring = new ApiKeyRing([...fromEnv, ...entries]);
        logger.info("API keys loaded", { event: "keys_loaded", keys: ring.size, file: config.auth.keysFile });
        warnExpiring(ring);
      },
      (error) => {
        logger.error("API keys file rejected; the previous keys stay in force", {
          event: "keys_file_invalid",
          error_code: "E801",
          error: error.message,
        });
      },
    );
  }
  const configured = fromEnv.length > 0 || config.auth.keysFile !== "";
  let anonymous: Identity | undefined;
  if (config.auth.allowAnonymous || (!configured && isLoopback(config.server.host))) {
    anonymous = ANONYMOUS;
    logger.warn("calls without a credential are served as admin", {
      event: "auth_anonymous",
      reason: config.auth.allowAnonymous ? "MLSDM_ALLOW_ANONYMOUS" : "no API key configured, loopback host",
    });
  } else if (!configured) {
    logger.warn("no credential source is configured: every call except health is refused", {
      event: "auth_no_keys",
      hint: "set MLSDM_API_KEY, MLSDM_ADMIN_API_KEY or MLSDM_API_KEYS_FILE",
    });
  }
  const policies = [authenticate([apiKeyResolver(() => ring)], anonymous), authorize];
  const daily = setInterval(() => warnExpiring(ring), 24 * 3600 * 1000);
  daily.unref();
  return {
    policies,
    keys: () => ring,
    stop: () => {
      clearInterval(daily);
      watch?.stop();
    },
  };
}
