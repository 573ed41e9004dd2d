/**
 * Configuration of OAuth 2.0 / OIDC bearer tokens (SEC-004): the identity provider's issuer and
 * this service's audience, where the signing keys come from (the JWKS, discovered from the
 * issuer unless given), which claim carries the roles, which signature algorithms are accepted,
 * and the key cache, refresh cooldown and clock skew. Part of the one schema (`schema.ts` mounts
 * it as `oidc`).
 *
 * Refused here, at start-up rather than per call: OIDC on without an issuer or an audience,
 * `none` and the shared-secret HS* algorithms (a verifier that accepts HS256 can be fooled with
 * the IdP's public key used as the HMAC secret), and a clock skew above 60 s.
 */
import { z } from "zod";
import { flag, integer, key, optionalText, text } from "./meta.js";

/** Asymmetric JWS algorithms a token may be signed with (RFC 7518 and RFC 8037). */
export const OIDC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

/** The items of a comma-separated setting, trimmed, empty items dropped. */
export function listSetting(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** Cross-field rules of the oidc section, each reported on the key at fault (E801). */
function checkOidc(
  oidc: { enabled: boolean; issuer: string; audience: string; jwksUri: string; algorithms: string },
  context: z.RefinementCtx,
): void {
  const issue = (path: string, input: string, message: string): void => {
    context.addIssue({ code: "custom", path: [path], input, message });
  };
  const algorithms = listSetting(oidc.algorithms);
  const refused = algorithms.filter((alg) => !(OIDC_ALGORITHMS as readonly string[]).includes(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    const why = refused.some((alg) => alg.toLowerCase() === "none" || /^HS/i.test(alg))
      ? ` ("none" and the shared-secret HS* algorithms are refused)`
      : "";
    issue("algorithms", oidc.algorithms, `a comma-separated list of ${OIDC_ALGORITHMS.join(", ")}${why}`);
  }
  if (oidc.issuer !== "" && !isHttpUrl(oidc.issuer)) {
    issue("issuer", oidc.issuer, "the issuer URL of the identity provider (https://...)");
  }
  if (oidc.jwksUri !== "" && !isHttpUrl(oidc.jwksUri)) {
    issue("jwksUri", oidc.jwksUri, "the URL of the identity provider's JWKS (https://...), or empty");
  }
  if (!oidc.enabled) return;
  if (oidc.issuer === "") {
    issue("issuer", "", "the issuer URL of the identity provider (required when oidc.enabled is true)");
  }
  if (listSetting(oidc.audience).length === 0) {
    issue(
      "audience",
      oidc.audience,
      "the audience of this service's tokens (required when oidc.enabled is true)",
    );
  }
}

/** The `oidc` section: bearer JWTs from an OpenID Connect identity provider. */
export const oidcSection = z
  .strictObject({
    enabled: key(flag(false), {
      env: "MLSDM_OIDC_ENABLED",
      description:
        "Accept OAuth 2.0 / OIDC bearer JWTs (authorization: Bearer <jwt>) besides API keys; needs oidc.issuer and oidc.audience.",
    }),
    issuer: key(optionalText(), {
      env: "MLSDM_OIDC_ISSUER",
      description:
        "Issuer URL of the identity provider, exactly as in the tokens' iss claim (e.g. https://keycloak.example.com/realms/mlsdm).",
    }),
    audience: key(optionalText(), {
      env: "MLSDM_OIDC_AUDIENCE",
      description:
        "Audience this service accepts in the tokens' aud claim (the API identifier or client id); several may be comma-separated.",
    }),
    jwksUri: key(optionalText(), {
      env: "MLSDM_OIDC_JWKS_URI",
      description:
        "URL of the identity provider's signing keys (JWKS). Empty: read jwks_uri from <issuer>/.well-known/openid-configuration.",
    }),
    rolesClaim: key(text("roles"), {
      env: "MLSDM_OIDC_ROLES_CLAIM",
      description:
        "Claim holding the caller's roles (read, write, admin; others ignored): a claim name, or a dotted path such as realm_access.roles.",
    }),
    algorithms: key(text("RS256"), {
      env: "MLSDM_OIDC_ALGORITHMS",
      description:
        "Comma-separated signature algorithms accepted (RS*, PS*, ES*, EdDSA); none and HS* are refused.",
    }),
    jwksCacheTtlSeconds: key(integer(60, 86_400, 3600), {
      env: "MLSDM_OIDC_JWKS_CACHE_TTL_SECONDS",
      description: "Seconds the fetched signing keys are used before they are fetched again.",
    }),
    jwksRefreshCooldownSeconds: key(integer(1, 3600, 30), {
      env: "MLSDM_OIDC_JWKS_COOLDOWN_SECONDS",
      description:
        "A token with an unknown key id refetches the JWKS at most once per this many seconds (key rotation without a fetch storm).",
    }),
    clockSkewSeconds: key(integer(0, 60, 30), {
      env: "MLSDM_OIDC_CLOCK_SKEW_SECONDS",
      description: "Seconds of clock difference tolerated when checking the tokens' exp and nbf claims.",
    }),
  })
  .superRefine(checkOidc)
  .prefault({});
