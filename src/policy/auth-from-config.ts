/**
 * The credential sources of the `auth` configuration: keys from the environment, keys from a
 * watched file, and whether anonymous calls are served (DESIGN "embedded defaults": with no
 * identity source, anonymous calls are served on a loopback host only; `checkStartup` decides,
 * and start-up refuses or warns from the same verdict).
 */
import type { Config } from "../config/index.js";
import { logger } from "../telemetry/logger.js";
import { openApiKeyStore } from "../store/api-key-store.js";
import { digestOf, type ApiKeyEntry, type ApiKeyRing } from "./api-key-ring.js";
import { ApiKeyManager } from "./api-key-manager.js";
import { ANONYMOUS, apiKeyResolver, authenticate, authorize } from "./authenticate.js";
import type { Identity, RoleName } from "./identity.js";
import { watchKeysFile } from "./keys-file.js";
import { oidcResolver } from "./oidc/jwt-resolver.js";
import { mtlsFromConfig } from "./mtls-resolver.js";
import type { Policy } from "./policy.js";
import { signingFromConfig } from "./signing/signing-from-config.js";
import type { ReplayCache } from "./signing/replay-cache.js";
import { checkStartup } from "./startup-checks.js";
import { startupFacts } from "./startup-facts.js";

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
 * The authentication, RBAC and request-signing policies, the current keys, and stop functions
 * (rate limits and token quotas, which run after these, are built by `limits-from-config.ts`).
 */
export function authFromConfig(
  config: Config,
  replayCache?: ReplayCache,
): { policies: Policy[]; keys: () => ApiKeyRing; manager: ApiKeyManager; stop(): void; close(): void } {
  const fromEnv = envKeys(config);
  const mtls = mtlsFromConfig(config);
  const manager = new ApiKeyManager(fromEnv, openApiKeyStore(config.state.mode, config.dataDir), {
    defaultOverlapMs: config.keys.rotationOverlapSeconds * 1000,
  });
  const ring = (): ApiKeyRing => manager.ring();
  let watch: { stop(): void } | undefined;
  if (config.auth.keysFile !== "") {
    watch = watchKeysFile(
      config.auth.keysFile,
      (entries) => {
        manager.setFileEntries(entries);
        logger.info("API keys loaded", {
          event: "keys_loaded",
          keys: ring().size,
          file: config.auth.keysFile,
        });
        warnExpiring(ring());
      },
      (error) => {
        logger.error("API keys file rejected; the previous keys stay in force", {
          event: "keys_file_invalid",
          error_code: "E801",
          error: error.message,
        });
      },
      config.keys.filePollMs,
    );
  }
  const jwt = oidcResolver(config);
  // The verdict's warnings are logged (and a refusal thrown) by startApp before this runs.
  const verdict = checkStartup(startupFacts(config));
  const anonymous: Identity | undefined = verdict.ok && verdict.anonymous ? ANONYMOUS : undefined;
  const signing = signingFromConfig(config, replayCache);
  const policies = [
    authenticate([...mtls.resolvers, ...(jwt ? [jwt] : []), apiKeyResolver(ring)], anonymous),
    authorize,
    signing.policy,
  ];
  if (config.auth.keysFile === "") warnExpiring(ring());
  const daily = setInterval(() => warnExpiring(ring()), 24 * 3600 * 1000);
  daily.unref();
  return {
    policies,
    keys: ring,
    manager,
    stop: () => {
      clearInterval(daily);
      watch?.stop();
      signing.stop();
    },
    close: () => {
      manager.close();
    },
  };
}
