/**
 * The Admin key RPCs on both listeners (SEC-002): create returns the secret once and it works
 * with its roles; list shows ids and hash prefixes only; rotate keeps the old key valid for the
 * overlap and then refuses it (E202); revoke refuses the key on the very next call (E204); and
 * the negative cases answer their status and catalogue code while the server keeps serving.
 */
import { toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  AdminService,
  ApiKeySource,
  ApiKeyState,
  ListApiKeysResponseSchema,
  type ApiKey,
  type CreateApiKeyResponse,
  type ListApiKeysResponse,
  type RevokeApiKeyResponse,
  type RotateApiKeyResponse,
} from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Role } from "../../src/gen/mlsdm/v1/options_pb.js";
import { digestOf } from "../../src/policy/api-key-ring.js";
import { Caller, LISTENERS, type Listener } from "./support/calls.js";
import { startTestServer } from "./support/server.js";

const ADMIN = "admin-key-0123456789abcdef";
const READ = "read-key-0123456789abcdef";
const vector = Array.from({ length: 384 }, (_, i) => Math.sin(i) + 0.01);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Admin API key RPCs", () => {
  let app: RunningApp;
  let calls: Caller;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_ADMIN_API_KEY: ADMIN,
      MLSDM_READ_API_KEY: READ,
      MLSDM_RATE_LIMIT_RPS: "0",
      // Keys, not load shedding, are under test (the machine may be busy).
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
    });
    calls = new Caller(app);
  });
  afterAll(async () => {
    calls.close();
    await app.shutdown("test done");
  });

  const admin = <T>(on: Listener, method: string, request: object, secret = ADMIN) =>
    calls.call<T>(on, AdminService, method, request, secret);
  /** GetState (read role) and ProcessEvent (write role) with `secret`: [status, code] of each. */
  const engine = async (on: Listener, secret: string) => {
    const read = await calls.call(on, EngineService, "getState", {}, secret);
    const write = await calls.call(on, EngineService, "processEvent", { vector, moralValue: 0.95 }, secret);
    return { read: read.code ?? "OK", write: write.code ?? "OK" };
  };
  const accepted = { read: "OK", write: "OK" };

  it.each(LISTENERS)("%s: create → works with its roles → list shows the hash prefix only", async (on) => {
    const created = await admin<CreateApiKeyResponse>(on, "createApiKey", {
      owner: "billing-service",
      roles: [Role.WRITE],
      expiry: { case: "ttl", value: { seconds: 3600n } },
      description: "billing batch jobs",
    });
    expect(created.code).toBeUndefined();
    const { key, secret } = created.response!;
    expect(secret).toMatch(/^mlsdm_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({
      owner: "billing-service",
      roles: [Role.WRITE],
      state: ApiKeyState.ACTIVE,
      source: ApiKeySource.ADMIN_API,
      hashPrefix: digestOf(secret).slice(0, 8),
    });
    expect(key?.keyId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(key?.createdAt).toBeDefined();
    expect(Number(key?.expiresAt?.seconds) * 1000).toBeGreaterThan(Date.now() + 3500_000);

    // Its roles on both listeners: write includes read, admin is refused.
    for (const other of LISTENERS) {
      expect(await engine(other, secret)).toEqual(accepted);
      expect((await admin(other, "getStatus", {}, secret)).code).toBe("E203");
    }

    const listed = await admin<ListApiKeysResponse>(on, "listApiKeys", {});
    const json = toJsonString(ListApiKeysResponseSchema, listed.response!);
    expect(json).not.toContain(secret);
    expect(json).not.toContain(digestOf(secret));
    expect(json).not.toContain(ADMIN);
    expect(json).not.toContain(digestOf(ADMIN));
    const mine = listed.response!.keys.find((k) => k.keyId === key?.keyId);
    expect(mine).toMatchObject({ hashPrefix: digestOf(secret).slice(0, 8), state: ApiKeyState.ACTIVE });
    expect(listed.response!.keys.find((k) => k.keyId === "env-admin")).toMatchObject({
      source: ApiKeySource.ENV,
      roles: [Role.ADMIN],
      hashPrefix: digestOf(ADMIN).slice(0, 8),
    });
  });

  it.each(LISTENERS)(
    "%s: rotate → old and successor both work during the overlap → old refused after it with E202 → revoke → E204 at once",
    async (on) => {
      const created = await admin<CreateApiKeyResponse>(on, "createApiKey", {
        owner: "ops",
        roles: [Role.READ],
      });
      const old = created.response!;
      const rotated = await admin<RotateApiKeyResponse>(on, "rotateApiKey", {
        keyId: old.key!.keyId,
        overlap: { seconds: 1n, nanos: 500_000_000 },
        reason: "quarterly rotation",
      });
      expect(rotated.code).toBeUndefined();
      const { key, secret, previousKey } = rotated.response!;
      expect(secret).not.toBe(old.secret);
      expect(key).toMatchObject({ owner: "ops", roles: [Role.READ], state: ApiKeyState.ACTIVE });
      expect(previousKey).toMatchObject({
        keyId: old.key!.keyId,
        state: ApiKeyState.SUPERSEDED,
        supersededBy: key!.keyId,
      });
      expect(Number(previousKey!.expiresAt!.seconds)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 2);
      for (const other of LISTENERS) {
        expect((await calls.call(other, EngineService, "getState", {}, old.secret)).code).toBeUndefined();
        expect((await calls.call(other, EngineService, "getState", {}, secret)).code).toBeUndefined();
      }
      await sleep(1_700);
      for (const other of LISTENERS) {
        const refusedOld = await calls.call(other, EngineService, "getState", {}, old.secret);
        expect([refusedOld.status, refusedOld.code]).toEqual([Code.Unauthenticated, "E202"]);
        expect((await calls.call(other, EngineService, "getState", {}, secret)).code).toBeUndefined();
      }
      const listed = await admin<ListApiKeysResponse>(on, "listApiKeys", { includeInactive: true });
      expect(listed.response!.keys.find((k) => k.keyId === old.key!.keyId)?.state).toBe(ApiKeyState.EXPIRED);

      const revoked = await admin<RevokeApiKeyResponse>(on, "revokeApiKey", {
        keyId: key!.keyId,
        reason: "laptop lost",
      });
      expect(revoked.response?.key).toMatchObject({
        state: ApiKeyState.REVOKED,
        revokeReason: "laptop lost",
      });
      expect(revoked.response?.key?.revokedAt).toBeDefined();
      for (const other of LISTENERS) {
        const next = await calls.call(other, EngineService, "getState", {}, secret);
        expect([next.status, next.code]).toEqual([Code.Unauthenticated, "E204"]);
      }
      // Idempotent: revoking again returns the same metadata.
      const again = await admin<RevokeApiKeyResponse>(on, "revokeApiKey", {
        keyId: key!.keyId,
        reason: "second try",
      });
      expect(again.response?.key).toMatchObject({ state: ApiKeyState.REVOKED, revokeReason: "laptop lost" });
      // Only keys still accepted are listed by default.
      const active = await admin<ListApiKeysResponse>(on, "listApiKeys", {});
      expect(active.response!.keys.map((k) => k.keyId)).not.toContain(key!.keyId);
      expect(active.response!.keys.map((k) => k.keyId)).not.toContain(old.key!.keyId);
    },
  );

  it("revokes a key from the environment at once (it returns on restart while the variable is set)", async () => {
    const revoked = await admin<RevokeApiKeyResponse>("grpc-js", "revokeApiKey", {
      keyId: "env-read",
      reason: "leaked",
    });
    expect(revoked.response?.key).toMatchObject({ source: ApiKeySource.ENV, state: ApiKeyState.REVOKED });
    for (const on of LISTENERS) {
      expect((await calls.call(on, EngineService, "getState", {}, READ)).code).toBe("E204");
    }
  });

  it("lists page by page, oldest first, with no key twice", async () => {
    for (let i = 0; i < 3; i++)
      await admin("connect", "createApiKey", { owner: `pager-${i}`, roles: [Role.READ] });
    const seen: ApiKey[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await admin<ListApiKeysResponse>(pages % 2 === 0 ? "grpc-js" : "connect", "listApiKeys", {
        pageSize: 2,
        pageToken: token,
        includeInactive: true,
      });
      expect(page.code).toBeUndefined();
      expect(page.response!.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.response!.keys);
      token = page.response!.nextPageToken;
      pages += 1;
    } while (token !== "" && pages < 50);
    const ids = seen.map((k) => k.keyId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 2)).toEqual(["env-read", "env-admin"]);
    expect(seen.filter((k) => k.owner.startsWith("pager-")).map((k) => k.owner)).toEqual([
      "pager-0",
      "pager-1",
      "pager-2",
    ]);
    const all = await admin<ListApiKeysResponse>("connect", "listApiKeys", { includeInactive: true });
    expect(all.response!.keys.map((k) => k.keyId)).toEqual(ids);
    expect(pages).toBe(Math.ceil(ids.length / 2));
  });

  it("exports the expiry of runtime keys as mlsdm_api_key_expiry_seconds", async () => {
    const created = await admin<CreateApiKeyResponse>("connect", "createApiKey", {
      owner: "metrics",
      roles: [Role.READ],
      expiry: { case: "ttl", value: { seconds: 7200n } },
    });
    const id = created.response!.key!.keyId;
    const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
    const value = new RegExp(`mlsdm_api_key_expiry_seconds\\{key_id="${id}"\\} ([0-9.]+)`).exec(metrics)?.[1];
    expect(Number(value)).toBeGreaterThan(7000);
    expect(Number(value)).toBeLessThanOrEqual(7200);
  });

  describe.each(LISTENERS)("%s: refusals", (on) => {
    it("a caller without the admin role → PERMISSION_DENIED E203", async () => {
      const created = await admin<CreateApiKeyResponse>(on, "createApiKey", {
        owner: "w",
        roles: [Role.WRITE],
      });
      const writer = created.response!.secret;
      for (const [method, request] of [
        ["createApiKey", { owner: "x", roles: [Role.ADMIN] }],
        ["listApiKeys", {}],
        ["rotateApiKey", { keyId: created.response!.key!.keyId }],
        ["revokeApiKey", { keyId: created.response!.key!.keyId, reason: "self" }],
      ] as const) {
        const outcome = await admin(on, method, request, writer);
        expect([method, outcome.status, outcome.code]).toEqual([method, Code.PermissionDenied, "E203"]);
      }
      expect(await engine(on, writer)).toEqual(accepted);
    });

    it("bad roles, past expiry, bad ttl and overlap → INVALID_ARGUMENT with their codes", async () => {
      const cases: [string, object, string][] = [
        ["createApiKey", { owner: "x", roles: [Role.PUBLIC] }, "E100"],
        ["createApiKey", { owner: "x", roles: [Role.READ, Role.UNSPECIFIED] }, "E100"],
        ["createApiKey", { owner: "x", roles: [] }, "E100"],
        ["createApiKey", { owner: " ", roles: [Role.READ] }, "E100"],
        [
          "createApiKey",
          {
            owner: "x",
            roles: [Role.READ],
            expiry: { case: "expiresAt", value: { seconds: 1_600_000_000n } },
          },
          "E102",
        ],
        [
          "createApiKey",
          { owner: "x", roles: [Role.READ], expiry: { case: "ttl", value: { seconds: 0n } } },
          "E102",
        ],
        [
          "createApiKey",
          { owner: "x", roles: [Role.READ], expiry: { case: "ttl", value: { seconds: -5n } } },
          "E102",
        ],
        // Past 10 years (here: past year 9999, which has no JSON form at all) is refused.
        [
          "createApiKey",
          { owner: "x", roles: [Role.READ], expiry: { case: "ttl", value: { seconds: 10n ** 12n } } },
          "E102",
        ],
        [
          "createApiKey",
          {
            owner: "x",
            roles: [Role.READ],
            expiry: { case: "expiresAt", value: { seconds: 4_000_000_000n } },
          },
          "E102",
        ],
        ["listApiKeys", { pageToken: "not-a-token" }, "E100"],
        ["listApiKeys", { pageSize: 5000 }, "E102"],
      ];
      const created = await admin<CreateApiKeyResponse>(on, "createApiKey", {
        owner: "r",
        roles: [Role.READ],
      });
      const id = created.response!.key!.keyId;
      cases.push(["rotateApiKey", { keyId: id, overlap: { seconds: 8n * 86_400n } }, "E102"]);
      cases.push(["rotateApiKey", { keyId: id, overlap: { seconds: -1n } }, "E102"]);
      cases.push(["rotateApiKey", { keyId: id, ttl: { seconds: 0n } }, "E102"]);
      cases.push(["revokeApiKey", { keyId: id, reason: "" }, "E100"]);
      for (const [method, request, code] of cases) {
        const outcome = await admin(on, method, request);
        expect([
          method,
          JSON.stringify(request, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
          outcome.status,
          outcome.code,
        ]).toEqual([method, expect.any(String), Code.InvalidArgument, code]);
      }
      // None of these changed the key.
      expect(
        (await calls.call(on, EngineService, "getState", {}, created.response!.secret)).code,
      ).toBeUndefined();
    });

    it("unknown ids → NOT_FOUND E404; env keys and keys no longer active cannot be rotated → FAILED_PRECONDITION E409", async () => {
      for (const [method, request] of [
        ["rotateApiKey", { keyId: "key_000000000000" }],
        ["revokeApiKey", { keyId: "key_000000000000", reason: "unknown" }],
      ] as const) {
        const outcome = await admin(on, method, request);
        expect([method, outcome.status, outcome.code]).toEqual([method, Code.NotFound, "E404"]);
      }
      const envRotate = await admin(on, "rotateApiKey", { keyId: "env-admin" });
      expect([envRotate.status, envRotate.code]).toEqual([Code.FailedPrecondition, "E409"]);
      const created = await admin<CreateApiKeyResponse>(on, "createApiKey", {
        owner: "r",
        roles: [Role.READ],
      });
      await admin(on, "rotateApiKey", { keyId: created.response!.key!.keyId });
      const twice = await admin(on, "rotateApiKey", { keyId: created.response!.key!.keyId });
      expect([twice.status, twice.code]).toEqual([Code.FailedPrecondition, "E409"]);
      // The server keeps serving.
      expect((await admin(on, "getStatus", {})).code).toBeUndefined();
      expect(await engine(on, ADMIN)).toEqual(accepted);
    });
  });
});
