/**
 * The JWT identity source without a network (SEC-004): which bearers it takes, the identity and
 * roles it derives, and the status, catalogue code and security event of every refusal.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OidcUnavailableError } from "../../src/policy/oidc/jwks.js";
import { bearerJwt, jwtResolver, rolesFrom } from "../../src/policy/oidc/jwt-resolver.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { logger } from "../../src/telemetry/logger.js";
import {
  mint,
  publicKeyAsSecretToken,
  signedGarbage,
  testKey,
  unsignedToken,
  type TestKey,
} from "../integration/support/oidc-idp.js";
import { policyContext } from "./support/handler-context.js";

const ISSUER = "https://idp.example.test/realms/mlsdm";
let k1: TestKey;
let other: TestKey;
beforeAll(async () => {
  [k1, other] = await Promise.all([testKey("k1"), testKey("other")]);
});
afterEach(() => {
  vi.restoreAllMocks();
});

function resolver(keys: JWTVerifyGetKey = createLocalJWKSet({ keys: [k1.jwk] })) {
  return jwtResolver({
    issuer: ISSUER,
    audience: ["mlsdm-api"],
    algorithms: ["RS256"],
    clockSkewSeconds: 30,
    rolesClaim: "realm_access.roles",
    keys,
  });
}

function context(authorization?: string) {
  return policyContext({ headers: authorization ? { authorization } : {} });
}

/** The catalogue code and security event of a refused token. */
async function refusal(token: string, keys?: JWTVerifyGetKey) {
  const warn = vi.spyOn(logger, "warn");
  const call = context(`Bearer ${token}`);
  const error = await Promise.resolve(resolver(keys).resolve(call)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof MlsdmError)) throw new Error(`expected an MlsdmError, got ${String(error)}`);
  const connect = error.toConnectError();
  const events = warn.mock.calls.map((call) => (call as unknown[])[1] as Record<string, unknown>);
  expect(JSON.stringify(events)).not.toContain(token.split(".")[1]);
  return {
    status: connect.code,
    code: error.entry.code,
    event: events.find((fields) => fields.source === "jwt"),
    challenge: call.responseHeader.get("www-authenticate"),
  };
}

describe("which bearers the JWT source takes", () => {
  it("takes three base64url segments starting with a JSON header, and nothing else", () => {
    const h = (v: string) => new Headers({ authorization: v });
    expect(bearerJwt(h("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))).toBe("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    expect(bearerJwt(h("bearer eyJhbGciOiJub25lIn0.e30."))).toBe("eyJhbGciOiJub25lIn0.e30.");
    expect(bearerJwt(h("Bearer write-key-0123456789abcdef"))).toBeUndefined();
    expect(bearerJwt(h("Bearer key.with.dots"))).toBeUndefined();
    expect(bearerJwt(h("Bearer eyJa.b"))).toBeUndefined();
    expect(bearerJwt(h("Basic eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))).toBeUndefined();
    expect(bearerJwt(new Headers())).toBeUndefined();
  });

  it("returns undefined for an API key, so the next source runs", async () => {
    expect(await resolver().resolve(context("Bearer write-key-0123456789abcdef"))).toBeUndefined();
    expect(await resolver().resolve(context())).toBeUndefined();
  });
});

describe("identity from a valid token", () => {
  it("is jwt:<sub>, owner sub, roles from the dotted claim, source jwt", async () => {
    const token = await mint({
      key: k1,
      issuer: ISSUER,
      sub: "user-42",
      claims: { realm_access: { roles: ["read", "offline_access", "uma_authorization"] } },
    });
    expect(await resolver().resolve(context(`Bearer ${token}`))).toEqual({
      id: "jwt:user-42",
      owner: "user-42",
      roles: ["read"],
      source: "jwt",
    });
  });

  it("reads roles from an array, a space- or comma-separated string, or a URL-named claim", () => {
    expect(rolesFrom({ roles: ["admin", "bogus", "read"] }, "roles")).toEqual(["read", "admin"]);
    expect(rolesFrom({ scope: "openid read write" }, "scope")).toEqual(["read", "write"]);
    expect(rolesFrom({ groups: "write,admin" }, "groups")).toEqual(["write", "admin"]);
    expect(rolesFrom({ "https://mlsdm.example/roles": ["write"] }, "https://mlsdm.example/roles")).toEqual([
      "write",
    ]);
    expect(
      rolesFrom({ resource_access: { mlsdm: { roles: ["admin"] } } }, "resource_access.mlsdm.roles"),
    ).toEqual(["admin"]);
    expect(rolesFrom({ roles: 7 }, "roles")).toEqual([]);
    expect(rolesFrom({}, "realm_access.roles")).toEqual([]);
  });

  it("authenticates a token without a known role with no roles (RBAC then refuses it)", async () => {
    const token = await mint({ key: k1, issuer: ISSUER, claims: { realm_access: { roles: ["superuser"] } } });
    expect((await resolver().resolve(context(`Bearer ${token}`)))?.roles).toEqual([]);
  });

  it("accepts a token expired by less than the clock skew", async () => {
    const token = await mint({ key: k1, issuer: ISSUER, expiresIn: -10 });
    expect((await resolver().resolve(context(`Bearer ${token}`)))?.id).toBe("jwt:alice");
  });
});

describe("refused tokens", () => {
  const cases: [string, string, string, () => Promise<string>][] = [
    ["wrong issuer", "E201", "issuer", () => mint({ key: k1, issuer: "https://evil.example.test" })],
    ["wrong audience", "E201", "audience", () => mint({ key: k1, issuer: ISSUER, audience: "other-api" })],
    ["expired", "E202", "expired", () => mint({ key: k1, issuer: ISSUER, expiresIn: -120 })],
    ["not yet valid", "E202", "not_yet_valid", () => mint({ key: k1, issuer: ISSUER, notBefore: 120 })],
    ["bad signature", "E201", "signature", () => mint({ key: other, issuer: ISSUER, kid: "k1" })],
    ["unknown kid", "E201", "unknown_kid", () => mint({ key: other, issuer: ISSUER })],
    ["alg none", "E201", "algorithm", () => Promise.resolve(unsignedToken(ISSUER))],
    ["HS256 with the public key as secret", "E201", "algorithm", () => publicKeyAsSecretToken(k1, ISSUER)],
    ["malformed header", "E201", "malformed", () => Promise.resolve("eyJub3Q.e30.c2ln")],
    ["signed non-JSON payload", "E201", "malformed", () => signedGarbage(k1)],
    ["no sub", "E201", "missing_sub", () => mint({ key: k1, issuer: ISSUER, sub: "" })],
    ["no exp", "E201", "missing_exp", () => mint({ key: k1, issuer: ISSUER, expiresIn: null })],
  ];

  it.each(cases)(
    "%s → UNAUTHENTICATED %s (%s), security event, challenge header",
    async (_, code, reason, token) => {
      const result = await refusal(await token());
      expect(result.status).toBe(Code.Unauthenticated);
      expect(result.code).toBe(code);
      expect(result.event).toMatchObject({
        event: code === "E202" ? "token_expired" : "auth_failed",
        method: "GetState",
        source: "jwt",
        reason,
      });
      expect(result.challenge).toContain('error="invalid_token"');
    },
  );

  it("answers UNAVAILABLE E711 with a retry delay when the IdP's keys cannot be fetched", async () => {
    const token = await mint({ key: k1, issuer: ISSUER });
    const down = () => Promise.reject(new OidcUnavailableError("JWKS fetch failed: ECONNREFUSED", 5_000));
    const error = await Promise.resolve(resolver(down).resolve(context(`Bearer ${token}`))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MlsdmError);
    const connect = (error as MlsdmError).toConnectError();
    expect(connect).toBeInstanceOf(ConnectError);
    expect(connect.code).toBe(Code.Unavailable);
    expect((error as MlsdmError).entry.code).toBe("E711");
  });
});
