/**
 * The start-up decision on authentication, TLS and secure mode (BASE-SEC-g and the "safe and
 * still easy" defaults), as one pure function over facts about the configuration, so every
 * combination is a table-driven unit test and new identity sources only add facts.
 *
 * - Some identity source configured: calls must carry a credential.
 * - None, both listeners on loopback: anonymous calls are served as admin, with a warning.
 * - None, any other address: refused (E801) unless `auth.disabled` is set (then a warning).
 * - Secure mode additionally refuses (E804): `auth.disabled`, no identity source, no TLS off
 *   loopback, and the `local_stub` LLM provider as primary or secondary.
 *
 * A refusal is a `ConfigError` naming one key, so `src/main.ts` prints it on one line and
 * exits with code 2 like any other bad value.
 */
import { isIP } from "node:net";
import { ConfigError, invalidValue, showValue } from "../config/errors.js";

/** What the start-up check needs to know; computed from the configuration by `startupFacts`. */
export interface StartupFacts {
  /** The address both listeners bind to (server.host). */
  readonly host: string;
  /** Configured identity sources ("api_key", "jwt", "mtls"); empty when none. */
  readonly identitySources: readonly string[];
  /** TLS on both listeners. */
  readonly tlsEnabled: boolean;
  /** MLSDM_SECURE_MODE. */
  readonly secureMode: boolean;
  /** The backend of each LLM provider slot ("none" for an unused secondary). */
  readonly providerBackends: { readonly primary: string; readonly secondary: string };
  /** MLSDM_AUTH_DISABLED. */
  readonly authDisabled: boolean;
}

/** A warning start-up logs (event name for the log line, and the text). */
export interface StartupWarning {
  readonly event: string;
  readonly message: string;
}

/** The verdict: refuse with one error, or start (serving anonymous calls or not) with warnings. */
export type StartupVerdict =
  | { readonly ok: false; readonly error: ConfigError }
  | { readonly ok: true; readonly anonymous: boolean; readonly warnings: readonly StartupWarning[] };

/** The LLM backend secure mode refuses: it answers without any model (tests, local development). */
export const STUB_BACKEND = "local_stub";

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return /^(::ffff:|0:0:0:0:0:ffff:)127\./.test(bare) || bare === "0:0:0:0:0:0:0:1";
}

function insecure(key: string, env: string, value: unknown, problem: string): ConfigError {
  return new ConfigError({
    code: "E804",
    key,
    source: env,
    value,
    allowed: "a setting secure mode accepts",
    detail: `${key} (${env}) = ${showValue(value)}: ${problem}`,
  });
}

const SOURCES_HINT =
  "set MLSDM_ADMIN_API_KEY (a bootstrap admin key) or MLSDM_API_KEYS_FILE, or configure OIDC or mTLS";

function secureModeRefusal(facts: StartupFacts): ConfigError | undefined {
  if (facts.authDisabled)
    return insecure(
      "auth.disabled",
      "MLSDM_AUTH_DISABLED",
      true,
      "secure mode requires authentication; unset MLSDM_AUTH_DISABLED",
    );
  if (facts.identitySources.length === 0)
    return insecure(
      "secureMode",
      "MLSDM_SECURE_MODE",
      true,
      `secure mode requires an identity source and none is configured; ${SOURCES_HINT}`,
    );
  if (!facts.tlsEnabled && !isLoopback(facts.host))
    return insecure(
      "server.host",
      "MLSDM_HOST",
      facts.host,
      "secure mode requires TLS on a non-loopback address; enable TLS or bind to 127.0.0.1",
    );
  for (const slot of ["primary", "secondary"] as const) {
    if (facts.providerBackends[slot] === STUB_BACKEND)
      return insecure(
        `llm.${slot}.backend`,
        `MLSDM_LLM_${slot.toUpperCase()}_BACKEND`,
        STUB_BACKEND,
        "secure mode refuses the local stub provider; configure openai or anthropic",
      );
  }
  return undefined;
}

/** Decides whether the service may start with `facts`, and whether it serves anonymous calls. */
export function checkStartup(facts: StartupFacts): StartupVerdict {
  if (facts.secureMode) {
    const error = secureModeRefusal(facts);
    if (error) return { ok: false, error };
  }
  const configured = facts.identitySources.length > 0;
  const loopback = isLoopback(facts.host);
  if (facts.authDisabled) {
    const also = configured
      ? `; credentials that are sent are still checked (${facts.identitySources.join(", ")})`
      : "";
    return {
      ok: true,
      anonymous: true,
      warnings: [
        {
          event: "auth_disabled",
          message: `authentication is disabled (MLSDM_AUTH_DISABLED=true): calls without a credential are served as admin on ${facts.host}${also}`,
        },
      ],
    };
  }
  if (configured) return { ok: true, anonymous: false, warnings: [] };
  if (loopback) {
    return {
      ok: true,
      anonymous: true,
      warnings: [
        {
          event: "auth_anonymous",
          message: `no identity source is configured: calls without a credential are served as admin, on loopback (${facts.host}) only; ${SOURCES_HINT}`,
        },
      ],
    };
  }
  return {
    ok: false,
    error: invalidValue({
      key: "server.host",
      source: "MLSDM_HOST",
      value: facts.host,
      allowed: "a loopback address while no identity source is configured",
      problem: `not a loopback address and no identity source is configured; ${SOURCES_HINT}, or set MLSDM_AUTH_DISABLED=true to serve anonymous calls on purpose`,
    }),
  };
}
