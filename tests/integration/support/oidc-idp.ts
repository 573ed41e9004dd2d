/**
 * A local OpenID Connect identity provider for tests: a node:http server on 127.0.0.1 serving
 * the discovery document and a JWKS whose keys the test controls, counting requests per path,
 * plus RSA signing keys (jose `generateKeyPair`) and helpers that mint good and bad tokens.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CompactSign,
  SignJWT,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";

/** A signing key of the fake IdP. */
export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public key as published in the JWKS. */
  readonly jwk: JWK;
}

/** A running fake IdP. */
export interface FakeIdp {
  /** `http://127.0.0.1:<port>`, also the `iss` of its tokens. */
  readonly issuer: string;
  /** Requests served so far, by path. */
  readonly requests: { discovery: number; jwks: number };
  /** The keys the JWKS publishes (replace to rotate). */
  published: TestKey[];
  /** HTTP status answered to every request; anything but 200 simulates an outage. */
  status: number;
  close(): Promise<void>;
}

/** A new RS256 key pair with key id `kid`. */
export async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, jwk };
}

/** Starts the fake IdP on an ephemeral loopback port. */
export async function startFakeIdp(published: TestKey[]): Promise<FakeIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: FakeIdp = {
    issuer,
    requests: { discovery: 0, jwks: 0 },
    published,
    status: 200,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
  server.on("request", (request, response) => {
    const send = (body: unknown): void => {
      response.writeHead(idp.status, { "content-type": "application/json" });
      response.end(idp.status === 200 ? JSON.stringify(body) : "{}");
    };
    if (request.url === "/.well-known/openid-configuration") {
      idp.requests.discovery += 1;
      send({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ["RS256"] });
    } else if (request.url === "/jwks") {
      idp.requests.jwks += 1;
      send({ keys: idp.published.map((key) => key.jwk) });
    } else {
      response.writeHead(404).end();
    }
  });
  return idp;
}

/** What a minted token says; every field has a good default. */
export interface TokenSpec {
  readonly key: TestKey;
  readonly issuer: string;
  readonly audience?: string;
  readonly sub?: string;
  readonly claims?: JWTPayload;
  /** Seconds from now; null leaves `exp` out. */
  readonly expiresIn?: number | null;
  readonly notBefore?: number;
  /** Header kid (default the key's). */
  readonly kid?: string;
}

/** An RS256 token signed with `spec.key`. */
export async function mint(spec: TokenSpec): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...spec.claims })
    .setProtectedHeader({ alg: "RS256", kid: spec.kid ?? spec.key.kid, typ: "JWT" })
    .setIssuer(spec.issuer)
    .setAudience(spec.audience ?? "mlsdm-api")
    .setSubject(spec.sub ?? "alice")
    .setIssuedAt(now);
  if (spec.expiresIn !== null) jwt.setExpirationTime(now + (spec.expiresIn ?? 300));
  if (spec.notBefore !== undefined) jwt.setNotBefore(now + spec.notBefore);
  return jwt.sign(spec.key.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An unsigned `alg: none` token with otherwise good claims. */
export function unsignedToken(issuer: string, claims: JWTPayload = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: issuer, aud: "mlsdm-api", sub: "mallory", iat: now, exp: now + 300, ...claims };
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`;
}

/** An HS256 token whose HMAC secret is the IdP's RSA public key (PEM): the algorithm-confusion attack. */
export async function publicKeyAsSecretToken(
  key: TestKey,
  issuer: string,
  claims: JWTPayload = {},
): Promise<string> {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ["admin"], ...claims })
    .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience("mlsdm-api")
    .setSubject("mallory")
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(secret);
}

/** A correctly signed compact JWS whose payload is not a JSON claims set. */
export function signedGarbage(key: TestKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode("not json"))
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .sign(key.privateKey);
}
