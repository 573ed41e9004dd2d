/**
 * Secure mode on a real server (BASE-SEC-g): reflection off (checked with buf curl), RestoreSnapshot
 * refused with PERMISSION_DENIED E205 on both listeners whatever the role, /readyz without
 * per-service details; authentication required. The start-up refusals are the pure-function
 * matrix in tests/policy/startup-checks.test.ts plus the process exit tests in
 * tests/config/exit.test.ts; here one in-process refusal shows nothing is bound first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { ConfigError } from "../../src/config/index.js";
import { AdminService, RestoreSnapshotRequestSchema } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import {
  bufCurl,
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const ADMIN = "admin-key-secure-0123456789";
const READ = "read-key-secure-0123456789";
const SECURE_ENV = {
  MLSDM_SECURE_MODE: "true",
  MLSDM_ADMIN_API_KEY: ADMIN,
  MLSDM_READ_API_KEY: READ,
  // Secure mode refuses the local stub; no call reaches this endpoint in these tests.
  MLSDM_LLM_PRIMARY_BACKEND: "openai",
  MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:9/v1",
  MLSDM_STATE: "sqlite",
};

function bearer(key?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (key) metadata.set("authorization", `Bearer ${key}`);
  return metadata;
}

async function connectOutcome(promise: Promise<unknown>): Promise<[Code | undefined, string | undefined]> {
  return promise.then(
    () => [undefined, undefined],
    (e: unknown) => [ConnectError.from(e).code, connectErrorInfo(e)?.metadata.code],
  );
}

describe("secure mode", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-secure-"));
  let app: RunningApp;
  let snapshotId = "";
  beforeAll(async () => {
    app = await startTestServer({ ...SECURE_ENV, MLSDM_DATA_DIR: dataDir });
    const created = await connectClient(AdminService, app.httpPort, "connect").createSnapshot(
      { label: "before" },
      { headers: { authorization: `Bearer ${ADMIN}` } },
    );
    snapshotId = created.snapshot?.snapshotId ?? "";
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves no reflection on the grpc-js listener (buf curl cannot list services or methods)", async () => {
    for (const flag of ["--list-services", "--list-methods"]) {
      const { code, stderr } = await bufCurl([
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        flag,
        `http://127.0.0.1:${app.grpcPort}`,
      ]);
      expect(code, flag).not.toBe(0);
      expect(stderr.toLowerCase()).toMatch(/reflection|unimplemented/);
    }
  });

  it("refuses RestoreSnapshot with PERMISSION_DENIED E205 for an admin, on the Connect listener (all protocols)", async () => {
    expect(snapshotId).not.toBe("");
    for (const protocol of ["connect", "grpc-web", "grpc"] as const) {
      const admin = connectClient(AdminService, app.httpPort, protocol);
      const outcome = await connectOutcome(
        admin.restoreSnapshot(
          { snapshotId, reason: "test" },
          { headers: { authorization: `Bearer ${ADMIN}` } },
        ),
      );
      expect(outcome, protocol).toEqual([Code.PermissionDenied, "E205"]);
      const imported = await connectOutcome(
        admin.importSnapshot(
          { offset: 0n, chunk: new Uint8Array(8), totalSize: 8n, checksumSha256: "0".repeat(64) },
          { headers: { authorization: `Bearer ${ADMIN}` } },
        ),
      );
      expect(imported, `${protocol} ImportSnapshot`).toEqual([Code.PermissionDenied, "E205"]);
    }
  });

  it("refuses RestoreSnapshot with PERMISSION_DENIED E205 for an admin, on the grpc-js listener", async () => {
    const client = grpcClient(AdminService, app.grpcPort);
    const { error } = await grpcUnary(
      client,
      "restoreSnapshot",
      create(RestoreSnapshotRequestSchema, { snapshotId, reason: "test" }),
      { metadata: bearer(ADMIN) },
    );
    client.close();
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error && grpcErrorInfo(error)?.metadata.code).toBe("E205");
    expect(error && grpcErrorInfo(error)?.reason).toBe("DISABLED_IN_SECURE_MODE");
  });

  it("still answers E206 without a credential and E203 without the role, before E205", async () => {
    const client = grpcClient(AdminService, app.grpcPort);
    const request = create(RestoreSnapshotRequestSchema, { snapshotId, reason: "test" });
    const missing = await grpcUnary(client, "restoreSnapshot", request, { metadata: bearer() });
    const reader = await grpcUnary(client, "restoreSnapshot", request, { metadata: bearer(READ) });
    client.close();
    expect(missing.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(missing.error && grpcErrorInfo(missing.error)?.metadata.code).toBe("E206");
    expect(reader.error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(reader.error && grpcErrorInfo(reader.error)?.metadata.code).toBe("E203");
  });

  it("requires a credential for engine reads (no anonymous access) and serves a valid one", async () => {
    const engine = connectClient(EngineService, app.httpPort, "connect");
    expect(await connectOutcome(engine.getState({}))).toEqual([Code.Unauthenticated, "E206"]);
    const state = await engine.getState({}, { headers: { authorization: `Bearer ${READ}` } });
    expect(state.state).toBeDefined();
  });

  it("keeps other admin RPCs working (CreateSnapshot) and the server serving", async () => {
    const admin = connectClient(AdminService, app.httpPort, "grpc");
    const created = await admin.createSnapshot(
      { label: "after" },
      { headers: { authorization: `Bearer ${ADMIN}` } },
    );
    expect(created.snapshot?.snapshotId).toMatch(/\S/);
  });

  it("answers /readyz with the ready flag only, no per-service details", async () => {
    const response = await fetch(`http://127.0.0.1:${app.httpPort}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "SERVING" });
  });
});

describe("outside secure mode (the contrast)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_ADMIN_API_KEY: ADMIN });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("/readyz lists the per-service statuses", async () => {
    const response = await fetch(`http://127.0.0.1:${app.httpPort}/readyz`);
    expect(await response.json()).toEqual({
      status: "SERVING",
      services: { "": "SERVING", "mlsdm.v1.EngineService": "SERVING", "mlsdm.v1.AdminService": "SERVING" },
    });
  });

  it("RestoreSnapshot is not refused by secure mode (E408 here: memory state)", async () => {
    const client = grpcClient(AdminService, app.grpcPort);
    const { error } = await grpcUnary(
      client,
      "restoreSnapshot",
      create(RestoreSnapshotRequestSchema, { snapshotId: "x", reason: "test" }),
      { metadata: bearer(ADMIN) },
    );
    client.close();
    expect(error && grpcErrorInfo(error)?.metadata.code).toBe("E408");
  });
});

describe("start-up refusals in process", () => {
  it.each([
    ["secure mode with the local stub", { ...SECURE_ENV, MLSDM_LLM_PRIMARY_BACKEND: "local_stub" }, "E804"],
    ["secure mode with auth disabled", { ...SECURE_ENV, MLSDM_AUTH_DISABLED: "true" }, "E804"],
    ["no identity source on 0.0.0.0", { MLSDM_HOST: "0.0.0.0" }, "E801"],
  ])("%s: startApp throws the ConfigError before binding anything", async (_name, env, code) => {
    const error: unknown = await startTestServer({ ...env, MLSDM_STATE: "memory" }).then(
      (app) => app.shutdown("unexpected"),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(code);
  });
});
