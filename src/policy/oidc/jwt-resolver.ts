/**
 * OAuth 2.0 / OIDC bearer JWTs as an identity source (SEC-004). A bearer that looks like a JWT
 * (`authorization: Bearer eyJ….….…`) is verified with jose's `jwtVerify` against the IdP's keys:
 * signature with one of the configured asymmetric algorithms, issuer, audience, `exp` and `nbf`
 * within the clock skew, and a `sub`. The caller becomes `jwt:<sub>` with the roles found in the
 * configured claim (read, write, admin; other values ignored, so a token without a known role
 * authenticates and is then refused by RBAC with E203).
 *
 * Anything else in the header (an API key) is left to the next source. A JWT that fails answers
 * UNAUTHENTICATED: E202 when it is expired or not yet valid, E201 otherwise; both log a security
 * event with the reason, never the token. An unreachable IdP answers UNAVAILABLE E711 (retryable).
 */
import type { HandlerContext } from "@connectrpc/connect";
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Config } from "../../config/index.js";
import { listSetting } from "../../config/schema-oidc.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { logger } from "../../telemetry/logger.js";
import { security } from "../authenticate.js";
import type { CredentialResolver } from "../credential-resolver.js";
import { ROLE_ORDER, type Identity, type RoleName } from "../identity.js";
import { OidcUnavailableError, oidcKeys } from "./jwks.js";

/** What the resolver checks tokens against. */
export interface JwtResolverOptions {
  readonly issuer: string;
  /** Accepted audiences; the token's aud must contain one of them. */
  readonly audience: readonly string[];
  /** Accepted JWS algorithms (asymmetric only; the config refuses none and HS*). */
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** A claim name, or a dotted path into nested claims (`realm_access.roles`). */
  readonly rolesClaim: string;
  /** Resolves the verification key of a token (normally {@link oidcKeys}). */
  readonly keys: JWTVerifyGetKey;
}

/**
 * A compact JWS: three base64url segments, the first one a JSON object (`eyJ` is `{"`), the last
 * one possibly empty (an unsigned `alg: none` token, which is then refused).
 */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The bearer token of `authorization: Bearer <token>` when it looks like a JWT. */
export function bearerJwt(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  const token = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return token !== undefined && JWT_SHAPE.test(token) ? token : undefined;
}

/** The claim at `path`: a top-level claim of that exact name first (Auth0's URL-named claims), else a dotted path. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const segment of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** The known roles in the roles claim: an array of strings, or one space- or comma-separated string. */
export function rolesFrom(payload: JWTPayload, claim: string): RoleName[] {
  const value = claimAt(payload, claim);
  const names = Array.isArray(value) ? value : typeof value === "string" ? value.split(/[\s,]+/) : [];
  return ROLE_ORDER.filter((role) => names.includes(role));
}

/** Why a token was refused: a short reason for the security log, and whether it is a time problem. */
interface Refusal {
  readonly reason: string;
  readonly expired: boolean;
}

/** The refusal for a jose error, or undefined for an error that is not about the token. */
function refusalOf(error: unknown): Refusal | undefined {
  const invalid = (reason: string): Refusal => ({ reason, expired: false });
  if (error instanceof errors.JWTExpired) return { reason: "expired", expired: true };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return { reason: "not_yet_valid", expired: true };
    if (error.reason === "missing") return invalid(`missing_${error.claim}`);
    if (error.claim === "iss") return invalid("issuer");
    if (error.claim === "aud") return invalid("audience");
    return invalid(`claim_${error.claim}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("algorithm");
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("signature");
  if (error instanceof errors.JWKSNoMatchingKey) return invalid("unknown_kid");
  if (error instanceof errors.JWKSMultipleMatchingKeys) return invalid("ambiguous_kid");
  if (error instanceof errors.JOSENotSupported) return invalid("unsupported");
  if (error instanceof errors.JOSEError) return invalid("malformed");
  return undefined;
}

function refuse(context: HandlerContext, refusal: Refusal): never {
  const event = refusal.expired ? "token_expired" : "auth_failed";
  security(event, { method: context.method.name, source: "jwt", reason: refusal.reason });
  context.responseHeader.set("www-authenticate", 'Bearer realm="mlsdm", error="invalid_token"');
  throw new MlsdmError(refusal.expired ? "CREDENTIAL_EXPIRED" : "CREDENTIAL_INVALID", {
    metadata: { failed_check: refusal.reason },
  });
}

/** Bearer JWTs as an identity source. */
export function jwtResolver(options: JwtResolverOptions): CredentialResolver {
  const verifyOptions = {
    issuer: options.issuer,
    audience: [...options.audience],
    algorithms: [...options.algorithms],
    clockTolerance: options.clockSkewSeconds,
    requiredClaims: ["sub", "exp"],
  };
  return {
    name: "jwt",
    async resolve(context): Promise<Identity | undefined> {
      const token = bearerJwt(context.requestHeader);
      // eslint-disable-next-line security/detect-possible-timing-attacks -- compares with undefined (key presence), not a secret value
      if (token === undefined) return undefined;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, options.keys, verifyOptions));
      } catch (error) {
        if (error instanceof OidcUnavailableError) {
          throw new MlsdmError("UNAVAILABLE", {
            metadata: { dependency: "oidc" },
            retryDelayMs: Math.max(1_000, error.retryAfterMs),
            cause: error,
          });
        }
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        refuse(context, refusal);
      }
      const sub = payload.sub;
      if (typeof sub !== "string" || sub === "") refuse(context, { reason: "missing_sub", expired: false });
      return { id: `jwt:${sub}`, owner: sub, roles: rolesFrom(payload, options.rolesClaim), source: "jwt" };
    },
  };
}

/** The JWT source of the `oidc` configuration, or undefined when OIDC is off. */
export function oidcResolver(config: Config): CredentialResolver | undefined {
  const oidc = config.oidc;
  if (!oidc.enabled) return undefined;
  const keys = oidcKeys({
    issuer: oidc.issuer,
    jwksUri: oidc.jwksUri,
    cacheTtlMs: oidc.jwksCacheTtlSeconds * 1000,
    cooldownMs: oidc.jwksRefreshCooldownSeconds * 1000,
  });
  logger.info("OIDC bearer tokens accepted", {
    event: "oidc_enabled",
    issuer: oidc.issuer,
    jwks_uri: oidc.jwksUri === "" ? "(discovered)" : oidc.jwksUri,
    roles_claim: oidc.rolesClaim,
  });
  return jwtResolver({
    issuer: oidc.issuer,
    audience: listSetting(oidc.audience),
    algorithms: listSetting(oidc.algorithms),
    clockSkewSeconds: oidc.clockSkewSeconds,
    rolesClaim: oidc.rolesClaim,
    keys,
  });
}
