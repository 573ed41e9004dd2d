/**
 * OAuth 2.0 / OIDC bearer JWTs on both listeners (SEC-004), against a local identity provider
 * (discovery document and JWKS on 127.0.0.1): valid tokens and their roles, every kind of bad
 * token with its status, catalogue code and security event, the rate-limited JWKS refresh on an
 * unknown key id and key rotation, API keys alongside, and an unreachable IdP.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
  type MockInstance,
} from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  EngineService,
  GetStateRequestSchema,
  ProcessEventRequestSchema,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { logger } from "../../src/telemetry/logger.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
  type ConnectProtocol,
} from "./support/clients.js";
import {
  mint,
  publicKeyAsSecretToken,
  signedGarbage,
  startFakeIdp,
  testKey,
  unsignedToken,
  type FakeIdp,
  type TestKey,
} from "./support/oidc-idp.js";
import { startTestServer } from "./support/server.js";

const WRITE_KEY = "write-key-0123456789abcdef";
const vector = Array.from({ length: 384 }, (_, i) => Math.sin(i) + 0.01);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Outcome = [status: number | undefined, code: string | undefined];
type Rpc = "getState" | "processEvent";

/** Calls `rpc` with `authorization: Bearer <credential>` through a connect client (HTTP listener). */
async function viaConnect(
  app: RunningApp,
  rpc: Rpc,
  credential: string | undefined,
  protocol: ConnectProtocol = "connect",
): Promise<Outcome> {
  const client = connectClient(EngineService, app.httpPort, protocol);
  const headers = credential === undefined ? {} : { authorization: `Bearer ${credential}` };
  const call =
    rpc === "getState"
      ? client.getState({}, { headers })
      : client.processEvent({ vector, moralValue: 0.95 }, { headers });
  return call.then(
    (): Outcome => [undefined, undefined],
    (e: unknown): Outcome => [ConnectError.from(e).code, connectErrorInfo(e)?.metadata.code],
  );
}

/** The same call through a grpc-js client (gRPC listener). */
async function viaGrpc(app: RunningApp, rpc: Rpc, credential: string | undefined): Promise<Outcome> {
  const client = grpcClient(EngineService, app.grpcPort);
  const metadata = new grpc.Metadata();
  if (credential !== undefined) metadata.set("authorization", `Bearer ${credential}`);
  const request =
    rpc === "getState"
      ? create(GetStateRequestSchema)
      : create(ProcessEventRequestSchema, { vector, moralValue: 0.95 });
  const { error } = await grpcUnary(client, rpc, request, { metadata });
  client.close();
  return error ? [error.code, grpcErrorInfo(error)?.metadata.code] : [undefined, undefined];
}

/** Both listeners' outcomes for one call (connect protocol, then grpc-js). */
async function both(app: RunningApp, rpc: Rpc, credential: string | undefined): Promise<Outcome[]> {
  return [await viaConnect(app, rpc, credential), await viaGrpc(app, rpc, credential)];
}

const OK: Outcome = [undefined, undefined];
const UNAUTHENTICATED = Code.Unauthenticated as number;
expect(UNAUTHENTICATED).toBe(grpc.status.UNAUTHENTICATED);

/** Security events logged since the spy was installed. */
function securityEvents(spy: MockInstance): Record<string, unknown>[] {
  return spy.mock.calls
    .filter(([message]) => message === "security event")
    .map(([, fields]) => fields as Record<string, unknown>);
}

describe("OIDC bearer tokens", () => {
  let idp: FakeIdp;
  let app: RunningApp;
  let k1: TestKey;
  let k2: TestKey;
  let stranger: TestKey;
  let warn: MockInstance;
  let allLogs: MockInstance[];

  const token = (roles: string[], extra: Partial<Parameters<typeof mint>[0]> = {}) =>
    mint({ key: k1, issuer: idp.issuer, claims: { realm_access: { roles } }, ...extra });

  beforeAll(async () => {
    [k1, k2, stranger] = await Promise.all([testKey("k1"), testKey("k2"), testKey("stranger")]);
    idp = await startFakeIdp([k1]);
    app = await startTestServer({
      MLSDM_OIDC_ENABLED: "true",
      MLSDM_OIDC_ISSUER: idp.issuer,
      MLSDM_OIDC_AUDIENCE: "mlsdm-api",
      MLSDM_OIDC_ROLES_CLAIM: "realm_access.roles",
      MLSDM_OIDC_JWKS_COOLDOWN_SECONDS: "1",
      MLSDM_API_KEY: WRITE_KEY,
      MLSDM_RATE_LIMIT_RPS: "0",
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0", // load shedding is not under test; a busy CI machine trips it
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    await idp.close();
  });
  beforeEach(() => {
    warn = vi.spyOn(logger, "warn");
    allLogs = [warn, vi.spyOn(logger, "error"), vi.spyOn(logger, "info")];
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("accepts a valid token on both listeners; the roles claim drives RBAC", async () => {
    const reader = await token(["read", "offline_access"]);
    const writer = await token(["write"]);
    expect(await both(app, "getState", reader)).toEqual([OK, OK]);
    expect(await viaConnect(app, "getState", reader, "grpc-web")).toEqual(OK);
    expect(await both(app, "processEvent", reader)).toEqual([
      [Code.PermissionDenied, "E203"],
      [grpc.status.PERMISSION_DENIED, "E203"],
    ]);
    expect(await both(app, "processEvent", writer)).toEqual([OK, OK]);
    // Discovery is read once, and the JWKS once, however many calls follow.
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it("authenticates a token without a known role, then refuses it with E203", async () => {
    const nobody = await token(["uma_authorization"]);
    expect(await both(app, "getState", nobody)).toEqual([
      [Code.PermissionDenied, "E203"],
      [grpc.status.PERMISSION_DENIED, "E203"],
    ]);
    expect(securityEvents(warn)).toContainEqual(
      expect.objectContaining({ event: "permission_denied", identity_id: "jwt:alice" }),
    );
  });

  const refusals: [string, string, string, () => Promise<string>][] = [
    ["wrong issuer", "E201", "issuer", () => token(["admin"], { issuer: "https://evil.example.test" })],
    ["wrong audience", "E201", "audience", () => token(["admin"], { audience: "another-api" })],
    ["expired beyond the skew", "E202", "expired", () => token(["admin"], { expiresIn: -120 })],
    [
      "nbf in the future beyond the skew",
      "E202",
      "not_yet_valid",
      () => token(["admin"], { notBefore: 300 }),
    ],
    ["alg none", "E201", "algorithm", () => Promise.resolve(unsignedToken(idp.issuer, { roles: ["admin"] }))],
    [
      "HS256 signed with the RSA public key",
      "E201",
      "algorithm",
      () => publicKeyAsSecretToken(k1, idp.issuer),
    ],
    ["unknown kid", "E201", "unknown_kid", () => mint({ key: stranger, issuer: idp.issuer })],
    ["bad signature", "E201", "signature", () => mint({ key: stranger, issuer: idp.issuer, kid: "k1" })],
    ["malformed", "E201", "malformed", () => Promise.resolve("eyJub3QganNvbg.e30.c2lnbmF0dXJl")],
    ["signed garbage payload", "E201", "malformed", () => signedGarbage(k1)],
  ];

  it.each(refusals)(
    "%s → UNAUTHENTICATED %s on both listeners, security event %s, server still serving",
    async (_, code, reason, make) => {
      const bad = await make();
      expect(await both(app, "getState", bad)).toEqual([
        [UNAUTHENTICATED, code],
        [UNAUTHENTICATED, code],
      ]);
      const events = securityEvents(warn).filter((fields) => fields.source === "jwt");
      expect(events).toHaveLength(2);
      for (const fields of events) {
        expect(fields).toMatchObject({
          event: code === "E202" ? "token_expired" : "auth_failed",
          method: "GetState",
          reason,
        });
      }
      // Never the token (nor its signature or payload) in any log line.
      const logged = JSON.stringify(allLogs.flatMap((spy) => spy.mock.calls));
      for (const segment of bad.split(".").filter((s) => s.length > 8)) expect(logged).not.toContain(segment);
      expect(await both(app, "getState", await token(["read"]))).toEqual([OK, OK]);
    },
  );

  it("refetches the JWKS once for an unknown kid, not again within the cooldown, and accepts a rotated-in key", async () => {
    await sleep(1_100); // past the 1 s cooldown of any earlier fetch
    const before = idp.requests.jwks;
    const unknown = () => mint({ key: stranger, issuer: idp.issuer, kid: `made-up-${Math.random()}` });
    expect(await viaConnect(app, "getState", await unknown())).toEqual([UNAUTHENTICATED, "E201"]);
    expect(idp.requests.jwks).toBe(before + 1);
    expect(await viaGrpc(app, "getState", await unknown())).toEqual([UNAUTHENTICATED, "E201"]);
    expect(idp.requests.jwks).toBe(before + 1);

    // The IdP rotates k2 in. Inside the cooldown the new kid is not fetched yet ...
    idp.published = [k1, k2];
    const rotated = await mint({
      key: k2,
      issuer: idp.issuer,
      claims: { realm_access: { roles: ["read"] } },
    });
    expect(await viaGrpc(app, "getState", rotated)).toEqual([UNAUTHENTICATED, "E201"]);
    expect(idp.requests.jwks).toBe(before + 1);
    // ... after it, one refresh picks it up, and it stays accepted without further fetches.
    await sleep(1_100);
    expect(await both(app, "getState", rotated)).toEqual([OK, OK]);
    expect(await both(app, "getState", await token(["read"]))).toEqual([OK, OK]);
    expect(idp.requests.jwks).toBe(before + 2);
    expect(idp.requests.discovery).toBe(1);
  });

  it("keeps API keys working alongside OIDC", async () => {
    expect(await both(app, "processEvent", WRITE_KEY)).toEqual([OK, OK]);
    expect(await both(app, "getState", "not-a-key-0123456789")).toEqual([
      [UNAUTHENTICATED, "E204"],
      [UNAUTHENTICATED, "E204"],
    ]);
    expect(await both(app, "getState", undefined)).toEqual([
      [UNAUTHENTICATED, "E206"],
      [UNAUTHENTICATED, "E206"],
    ]);
  });
});

describe("OIDC with an unreachable identity provider", () => {
  it("answers UNAVAILABLE E711 (retryable), serves health, refuses anonymous calls, and recovers", async () => {
    const key = await testKey("k1");
    const idp = await startFakeIdp([key]);
    idp.status = 503;
    const app = await startTestServer({
      MLSDM_OIDC_ENABLED: "true",
      MLSDM_OIDC_ISSUER: idp.issuer,
      MLSDM_OIDC_AUDIENCE: "mlsdm-api",
      MLSDM_OIDC_JWKS_COOLDOWN_SECONDS: "1",
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
    });
    try {
      const good = await mint({ key, issuer: idp.issuer, claims: { roles: ["read"] } });
      expect(await both(app, "getState", good)).toEqual([
        [Code.Unavailable, "E711"],
        [grpc.status.UNAVAILABLE, "E711"],
      ]);
      const g = grpcClient(EngineService, app.grpcPort);
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${good}`);
      const { error } = await grpcUnary(g, "getState", create(GetStateRequestSchema), { metadata });
      g.close();
      expect(error && grpcHasRetryInfo(error)).toBe(true);
      // Only OIDC is configured: a call without a credential is not served as anonymous.
      expect(await both(app, "getState", undefined)).toEqual([
        [UNAUTHENTICATED, "E206"],
        [UNAUTHENTICATED, "E206"],
      ]);
      expect((await connectClient(Health, app.httpPort, "connect").check({ service: "" })).status).toBe(1);
      // One discovery attempt per cooldown, however many calls arrive.
      expect(idp.requests.discovery).toBe(1);
      idp.status = 200;
      await sleep(1_100);
      expect(await both(app, "getState", good)).toEqual([OK, OK]);
    } finally {
      await app.shutdown("test done");
      await idp.close();
    }
  });
});
