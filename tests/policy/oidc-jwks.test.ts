/**
 * Where the keys come from (SEC-004), against a local IdP: discovery read once and checked, a
 * JWKS URI given directly, the cache TTL, and what an IdP outage does (unavailable, back-off,
 * cached keys kept in use).
 */
import { jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OidcUnavailableError, discoveryUrl, oidcKeys } from "../../src/policy/oidc/jwks.js";
import { logger } from "../../src/telemetry/logger.js";
import { mint, startFakeIdp, testKey, type FakeIdp, type TestKey } from "../integration/support/oidc-idp.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let idp: FakeIdp;
let k1: TestKey;
let k2: TestKey;
beforeAll(async () => {
  [k1, k2] = await Promise.all([testKey("k1"), testKey("k2")]);
  idp = await startFakeIdp([k1]);
});
afterAll(() => idp.close());
afterEach(() => {
  idp.status = 200;
  idp.published = [k1];
  vi.restoreAllMocks();
});

const verify = async (keys: ReturnType<typeof oidcKeys>, key = k1) =>
  jwtVerify(await mint({ key, issuer: idp.issuer }), keys, { issuer: idp.issuer, algorithms: ["RS256"] });

/** The request counts added by running `fn`. */
async function counting(fn: () => Promise<unknown>): Promise<{ discovery: number; jwks: number }> {
  const before = { ...idp.requests };
  await fn();
  return { discovery: idp.requests.discovery - before.discovery, jwks: idp.requests.jwks - before.jwks };
}

describe("OIDC keys", () => {
  it("builds the discovery URL with or without a trailing slash on the issuer", () => {
    expect(discoveryUrl("https://tenant.auth0.com/")).toBe(
      "https://tenant.auth0.com/.well-known/openid-configuration",
    );
    expect(discoveryUrl("https://kc/realms/x")).toBe("https://kc/realms/x/.well-known/openid-configuration");
  });

  it("discovers the JWKS once, then serves keys from the cache", async () => {
    const keys = oidcKeys({ issuer: idp.issuer, jwksUri: "", cacheTtlMs: 60_000, cooldownMs: 1_000 });
    expect(await counting(() => verify(keys))).toEqual({ discovery: 1, jwks: 1 });
    expect(await counting(() => Promise.all([verify(keys), verify(keys), verify(keys)]))).toEqual({
      discovery: 0,
      jwks: 0,
    });
  });

  it("uses a configured JWKS URI without discovery, and refetches after the cache TTL", async () => {
    const keys = oidcKeys({
      issuer: idp.issuer,
      jwksUri: `${idp.issuer}/jwks`,
      cacheTtlMs: 200,
      cooldownMs: 1_000,
    });
    expect(await counting(() => verify(keys))).toEqual({ discovery: 0, jwks: 1 });
    await sleep(250);
    expect(await counting(() => verify(keys))).toEqual({ discovery: 0, jwks: 1 });
  });

  it("refuses a discovery document that names another issuer", async () => {
    vi.spyOn(logger, "error");
    const keys = oidcKeys({
      issuer: `${idp.issuer}/other`,
      jwksUri: "",
      cacheTtlMs: 60_000,
      cooldownMs: 1_000,
    });
    const error = await verify(keys).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcUnavailableError);
    // discovery of <issuer>/other hits a 404 at the fake IdP: unavailable either way.
    expect((error as Error).message).toMatch(/OIDC discovery failed/);

    const fake = (() =>
      Promise.resolve(
        Response.json({ issuer: "https://evil.example.test", jwks_uri: `${idp.issuer}/jwks` }),
      )) as typeof fetch;
    const mismatched = oidcKeys({
      issuer: idp.issuer,
      jwksUri: "",
      cacheTtlMs: 60_000,
      cooldownMs: 1_000,
      fetch: fake,
    });
    await expect(verify(mismatched)).rejects.toThrow(/names issuer "https:\/\/evil\.example\.test"/);
  });

  it("answers unavailable while discovery fails, tries once per cooldown, and recovers", async () => {
    vi.spyOn(logger, "error");
    idp.status = 503;
    const keys = oidcKeys({ issuer: idp.issuer, jwksUri: "", cacheTtlMs: 60_000, cooldownMs: 300 });
    const tries = await counting(async () => {
      for (let i = 0; i < 5; i++) await expect(verify(keys)).rejects.toBeInstanceOf(OidcUnavailableError);
    });
    expect(tries.discovery).toBe(1);
    idp.status = 200;
    await sleep(350);
    await expect(verify(keys)).resolves.toBeDefined();
  });

  it("keeps cached keys in use when a refresh fails, but answers unavailable for a key id it does not hold", async () => {
    vi.spyOn(logger, "error");
    const keys = oidcKeys({
      issuer: idp.issuer,
      jwksUri: `${idp.issuer}/jwks`,
      cacheTtlMs: 100,
      cooldownMs: 300,
    });
    await verify(keys);
    idp.status = 503;
    await sleep(150); // the cache is stale: the next call tries a refresh, which fails
    expect(await counting(() => verify(keys))).toEqual({ discovery: 0, jwks: 1 });
    // Within the back-off: cached keys, no fetch; an unknown kid cannot be checked now.
    expect(await counting(() => verify(keys))).toEqual({ discovery: 0, jwks: 0 });
    await expect(verify(keys, k2)).rejects.toBeInstanceOf(OidcUnavailableError);
    idp.status = 200;
    idp.published = [k1, k2];
    await sleep(350);
    await expect(verify(keys, k2)).resolves.toBeDefined();
  });
});
