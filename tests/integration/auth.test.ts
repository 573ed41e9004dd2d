/**
 * Identity and RBAC on both listeners (SEC-001, SEC-002): API keys from the environment and from
 * a watched file, roles read ⊂ write ⊂ admin from the contract, expired keys, hot reload, and
 * health answering without a credential.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService, GetStatusRequestSchema } from "../../src/gen/mlsdm/v1/admin_pb.js";
import {
  EngineService,
  GetStateRequestSchema,
  ProcessEventRequestSchema,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { digestOf } from "../../src/policy/api-key-ring.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const READ = "read-key-0123456789abcdef";
const WRITE = "write-key-0123456789abcdef";
const ADMIN = "admin-key-0123456789abcdef";
const EXPIRED = "expired-key-0123456789abcdef";
const ROTATED = "rotated-key-0123456789abcdef";
const vector = Array.from({ length: 384 }, (_, i) => Math.sin(i) + 0.01);

const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-keys-"));
const keysFile = path.join(dir, "keys.yaml");
function writeKeys(extra = ""): void {
  writeFileSync(
    keysFile,
    `keys:\n  - id: old-partner\n    owner: partner\n    roles: [write]\n    sha256: ${digestOf(EXPIRED)}\n    expiresAt: "2020-01-01T00:00:00Z"\n${extra}`,
  );
}

async function connectCode(promise: Promise<unknown>): Promise<[Code | undefined, string | undefined]> {
  return promise.then(
    () => [undefined, undefined],
    (e: unknown) => [ConnectError.from(e).code, connectErrorInfo(e)?.metadata.code],
  );
}

function grpcMeta(key?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (key) metadata.set("authorization", `Bearer ${key}`);
  return metadata;
}

describe("API keys and roles", () => {
  let app: RunningApp;
  beforeAll(async () => {
    writeKeys();
    app = await startTestServer({
      MLSDM_READ_API_KEY: READ,
      MLSDM_API_KEY: WRITE,
      MLSDM_ADMIN_API_KEY: ADMIN,
      MLSDM_API_KEYS_FILE: keysFile,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(dir, { recursive: true, force: true });
  });

  const engine = (key?: string, header = "authorization") =>
    connectClient(EngineService, app.httpPort, "connect").getState(
      {},
      { headers: key ? { [header]: header === "authorization" ? `Bearer ${key}` : key } : {} },
    );

  it("refuses a call without a credential (E206) or with an unknown key (E204), on both listeners", async () => {
    expect(await connectCode(engine())).toEqual([Code.Unauthenticated, "E206"]);
    expect(await connectCode(engine("not-a-key-at-all-1234"))).toEqual([Code.Unauthenticated, "E204"]);
    const g = grpcClient(EngineService, app.grpcPort);
    const missing = await grpcUnary(g, "getState", create(GetStateRequestSchema), { metadata: grpcMeta() });
    const unknown = await grpcUnary(g, "getState", create(GetStateRequestSchema), {
      metadata: grpcMeta("nope-nope-nope"),
    });
    g.close();
    expect(missing.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(missing.error && grpcErrorInfo(missing.error)?.metadata.code).toBe("E206");
    expect(unknown.error && grpcErrorInfo(unknown.error)?.metadata.code).toBe("E204");
  });

  it("answers health without a credential", async () => {
    expect((await connectClient(Health, app.httpPort, "connect").check({ service: "" })).status).toBe(1);
  });

  it("enforces read ⊂ write ⊂ admin from the contract's roles, on both listeners", async () => {
    const process = (key: string) =>
      connectClient(EngineService, app.httpPort, "connect").processEvent(
        { vector, moralValue: 0.95 },
        { headers: { authorization: `Bearer ${key}` } },
      );
    const status = (key: string) =>
      connectClient(AdminService, app.httpPort, "connect").getStatus(
        {},
        { headers: { authorization: `Bearer ${key}` } },
      );
    expect(await connectCode(engine(READ))).toEqual([undefined, undefined]);
    expect(await connectCode(engine(READ, "x-api-key"))).toEqual([undefined, undefined]);
    expect(await connectCode(process(READ))).toEqual([Code.PermissionDenied, "E203"]);
    expect(await connectCode(process(WRITE))).toEqual([undefined, undefined]);
    expect(await connectCode(status(WRITE))).toEqual([Code.PermissionDenied, "E203"]);
    expect(await connectCode(status(ADMIN))).toEqual([undefined, undefined]);
    expect(await connectCode(process(ADMIN))).toEqual([undefined, undefined]);

    const g = grpcClient(EngineService, app.grpcPort);
    const denied = await grpcUnary(
      g,
      "processEvent",
      create(ProcessEventRequestSchema, { vector, moralValue: 0.95 }),
      {
        metadata: grpcMeta(READ),
      },
    );
    g.close();
    expect(denied.error?.code).toBe(grpc.status.PERMISSION_DENIED);
    const a = grpcClient(AdminService, app.grpcPort);
    const admin = await grpcUnary(a, "getStatus", create(GetStatusRequestSchema), {
      metadata: grpcMeta(ADMIN),
    });
    a.close();
    expect(admin.error).toBeUndefined();
  });

  it("refuses an expired key with E202 and picks up a new key from the file within a few seconds", async () => {
    expect(await connectCode(engine(EXPIRED))).toEqual([Code.Unauthenticated, "E202"]);
    const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/mlsdm_api_key_expiry_seconds\{key_id="old-partner"\} -\d/);
    expect(await connectCode(engine(ROTATED))).toEqual([Code.Unauthenticated, "E204"]);
    writeKeys(`  - id: rotated\n    owner: partner\n    roles: [read]\n    secret: ${ROTATED}\n`);
    await expect
      .poll(async () => (await connectCode(engine(ROTATED)))[0], { timeout: 5_000, interval: 200 })
      .toBeUndefined();
    // The keys from the environment stay valid throughout.
    expect(await connectCode(engine(READ))).toEqual([undefined, undefined]);
    // A broken file keeps the keys in force.
    writeFileSync(keysFile, "keys: [ {id: broken");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await connectCode(engine(ROTATED))).toEqual([undefined, undefined]);
  });
});

describe("anonymous access", () => {
  it("off loopback without any identity source, start-up is refused (E801) before anything binds", async () => {
    // MLSDM_AUTH_DISABLED=true would allow it; see tests/integration/auth-defaults.test.ts.
    const refused = await startTestServer({ MLSDM_HOST: "0.0.0.0" }).then(
      async (app) => {
        await app.shutdown("unexpected start");
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: "E801", key: "server.host" });
  });
});

describe("per-key rate limit", () => {
  it("lets a burst of 20 calls from one key through at about 10, with E602 and RetryInfo, other keys unaffected", async () => {
    const app = await startTestServer({ MLSDM_API_KEY: WRITE, MLSDM_READ_API_KEY: READ });
    try {
      const client = connectClient(EngineService, app.httpPort, "connect");
      const g = grpcClient(EngineService, app.grpcPort);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? connectCode(client.getState({}, { headers: { authorization: `Bearer ${WRITE}` } })).then(
                ([, c]) => c ?? "OK",
              )
            : grpcUnary(g, "getState", create(GetStateRequestSchema), { metadata: grpcMeta(WRITE) }).then(
                ({ error }) => (error ? (grpcErrorInfo(error)?.metadata.code ?? "missing") : "OK"),
              ),
        ),
      );
      const accepted = outcomes.filter((o) => o === "OK").length;
      expect(accepted).toBeGreaterThanOrEqual(10);
      expect(accepted).toBeLessThanOrEqual(15);
      expect(outcomes.filter((o) => o !== "OK").every((o) => o === "E602")).toBe(true);
      const limited = await grpcUnary(g, "getState", create(GetStateRequestSchema), {
        metadata: grpcMeta(WRITE),
      });
      g.close();
      expect(limited.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(
        await connectCode(client.getState({}, { headers: { authorization: `Bearer ${READ}` } })),
      ).toEqual([undefined, undefined]);
      const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/mlsdm_rate_limit_exceeded_total\{method="GetState"\} \d+/);
    } finally {
      await app.shutdown("test done");
    }
  });
});
