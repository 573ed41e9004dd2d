/**
 * Where the identity provider's signing keys come from (SEC-004): the JWKS URI, given or read from
 * `<issuer>/.well-known/openid-configuration` on first use, and the keys behind it, fetched and
 * cached by jose's `createRemoteJWKSet`: `cacheMaxAge` is the cache TTL, and a token with an
 * unknown key id refetches the set only when `cooldownDuration` has passed since the last fetch
 * (so a rotated-in key is picked up, and a stream of made-up key ids cannot make us hammer the
 * IdP).
 *
 * An IdP that cannot be reached is not the caller's fault: every fetch failure becomes an
 * {@link OidcUnavailableError} (UNAVAILABLE, retryable). After a failed fetch, keys fetched
 * before stay in use for one cooldown without another attempt (the IdP is not hammered, and known
 * keys keep working through an IdP outage); a key id they do not hold answers unavailable until
 * a fetch succeeds, since the IdP may have rotated it in.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTVerifyGetKey,
  type CryptoKey,
} from "jose";
import { logger } from "../../telemetry/logger.js";

/** The signing keys of the IdP could not be obtained (discovery or JWKS fetch failed). */
export class OidcUnavailableError extends Error {
  constructor(
    message: string,
    /** Milliseconds until the next fetch attempt. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "OidcUnavailableError";
  }
}

/** What {@link oidcKeys} needs. */
export interface OidcKeysOptions {
  /** The configured issuer; discovery must name exactly this issuer. */
  readonly issuer: string;
  /** The JWKS URI, or "" to discover it from the issuer. */
  readonly jwksUri: string;
  /** How long fetched keys are used before they are fetched again. */
  readonly cacheTtlMs: number;
  /** Least time between two fetches caused by unknown key ids, and the back-off after a failure. */
  readonly cooldownMs: number;
  /** Longest one HTTP request to the IdP may take (default 5 s). */
  readonly timeoutMs?: number;
  /** The fetch implementation (tests); default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The OpenID Connect discovery document of `issuer` (OIDC Discovery 1.0 §4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads `jwks_uri` from the issuer's discovery document; throws a plain Error saying why not. */
async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  const url = discoveryUrl(issuer);
  const response = await fetchImpl(url, {
    headers: { accept: "application/json" },
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`${url} answered HTTP ${response.status}`);
  const document: unknown = await response.json();
  if (typeof document !== "object" || document === null) throw new Error(`${url} is not a JSON object`);
  const { issuer: named, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (named !== issuer) {
    throw new Error(
      `${url} names issuer ${JSON.stringify(named)}, not the configured ${JSON.stringify(issuer)}`,
    );
  }
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) throw new Error(`${url} has no valid jwks_uri`);
  return jwksUri;
}

/** A key lookup that failed because of the token (its kid or alg matches no key, or several). */
function isKeyMismatch(error: unknown): boolean {
  return error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys;
}

/**
 * The key function for `jwtVerify`: resolves the token's key from the IdP's JWKS. Throws jose's
 * `JWKSNoMatchingKey` for an unknown key id (after the one allowed refresh) and
 * {@link OidcUnavailableError} when the keys cannot be fetched.
 */
export function oidcKeys(options: OidcKeysOptions): JWTVerifyGetKey {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  let discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let stale: ReturnType<typeof createLocalJWKSet> | undefined;

  const backoffLeft = (): number => Math.max(0, failedAt + options.cooldownMs - Date.now());
  const failed = (what: string, error: unknown): OidcUnavailableError => {
    failedAt = Date.now();
    const message = `${what}: ${describe(error)}`;
    logger.error("OIDC identity provider unavailable; bearer tokens cannot be verified", {
      event: "oidc_unavailable",
      error_code: "E711",
      error: message,
    });
    return new OidcUnavailableError(message, options.cooldownMs, { cause: error });
  };
  const remoteSet = (uri: string) =>
    createRemoteJWKSet(new URL(uri), {
      cacheMaxAge: options.cacheTtlMs,
      cooldownDuration: options.cooldownMs,
      timeoutDuration: timeoutMs,
      [customFetch]: fetchImpl,
    });

  async function keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (remote) return remote;
    if (options.jwksUri !== "") return (remote = remoteSet(options.jwksUri));
    const wait = backoffLeft();
    if (wait > 0) throw new OidcUnavailableError("OIDC discovery failed recently", wait);
    discovering ??= discoverJwksUri(options.issuer, fetchImpl, timeoutMs)
      .then((uri) => (remote = remoteSet(uri)))
      .catch((error: unknown) => {
        throw failed("OIDC discovery failed", error);
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  }

  return async (header, token): Promise<CryptoKey> => {
    const set = await keySet();
    if (stale && backoffLeft() > 0) {
      try {
        return await stale(header, token);
      } catch (error) {
        if (!isKeyMismatch(error)) throw error;
        throw new OidcUnavailableError(
          "JWKS fetch failed recently; key id not in the cached keys",
          backoffLeft(),
        );
      }
    }
    try {
      return await set(header, token);
    } catch (error) {
      if (isKeyMismatch(error)) throw error;
      const unavailable = failed("JWKS fetch failed", error);
      const cached = set.jwks();
      stale = cached ? createLocalJWKSet(cached) : undefined;
      if (!stale) throw unavailable;
      try {
        return await stale(header, token);
      } catch (staleError) {
        if (isKeyMismatch(staleError)) throw unavailable;
        throw staleError;
      }
    }
  };
}
