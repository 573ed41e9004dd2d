/**
 * The facts `checkStartup` decides on, read from the configuration. Identity sources (API keys,
 * OIDC, mTLS) and TLS add their facts here, and nowhere else: `startApp` refuses or warns from these
 * facts, and `authFromConfig` serves anonymous calls exactly when the same verdict says so.
 */
import type { Config } from "../config/index.js";
import { logger } from "../telemetry/logger.js";
import { checkStartup, type StartupFacts } from "./startup-checks.js";

/** The identity sources the configuration sets up, in the order the resolvers try them. */
export function identitySources(config: Config): string[] {
  const sources: string[] = [];
  const { tls } = config;
  const mapping = tls.clientIdentities !== "" || tls.clientIdentitiesFile !== "";
  if (tls.enabled && tls.clientCaFile !== "" && mapping) sources.push("mtls");
  if (config.oidc.enabled) sources.push("jwt");
  const { apiKey, readApiKey, adminApiKey, keysFile } = config.auth;
  if (apiKey !== "" || readApiKey !== "" || adminApiKey !== "" || keysFile !== "") sources.push("api_key");
  return sources;
}

/** The start-up facts of `config`. */
export function startupFacts(config: Config): StartupFacts {
  return {
    host: config.server.host,
    identitySources: identitySources(config),
    tlsEnabled: config.tls.enabled,
    secureMode: config.secureMode,
    providerBackends: { primary: config.llm.primary.backend, secondary: config.llm.secondary.backend },
    authDisabled: config.auth.disabled,
  };
}

/**
 * Runs `checkStartup` on `config`: throws the refusal (a `ConfigError`, which `src/main.ts`
 * prints on one line before exiting with code 2) or logs the warnings.
 */
export function enforceStartup(config: Config): void {
  const verdict = checkStartup(startupFacts(config));
  if (!verdict.ok) throw verdict.error;
  for (const warning of verdict.warnings) logger.warn(warning.message, { event: warning.event });
  if (config.secureMode) {
    logger.info(
      "secure mode: reflection off, RestoreSnapshot and ImportSnapshot disabled, /readyz without details",
      {
        event: "secure_mode",
      },
    );
  }
}
