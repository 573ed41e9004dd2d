/**
 * AdminService.CreateSnapshot and RestoreSnapshot through both listeners, on a real server
 * with persistent state in a temporary directory; and the clear refusal with MLSDM_STATE=memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  AdminService,
  CreateSnapshotRequestSchema,
  RestoreSnapshotRequestSchema,
  type CreateSnapshotResponse,
} from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.cos(i + j / 10) + 0.01);

describe("snapshots with persistent state", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-snap-"));
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_STATE: "sqlite", MLSDM_DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates a snapshot over Connect and restores it over grpc-js", async () => {
    const engine = connectClient(EngineService, app.httpPort, "connect");
    const admin = connectClient(AdminService, app.httpPort, "connect");
    for (let i = 0; i < 3; i++) await engine.processEvent({ vector: vector(i), moralValue: 0.95 });
    const created = await admin.createSnapshot({ label: "three events" });
    expect(created.snapshot).toMatchObject({ label: "three events", pelmUsed: 3, dimension: 384 });
    expect(created.snapshot?.checksumSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(created.snapshot?.sizeBytes).toBeGreaterThan(0n);
    for (let i = 3; i < 6; i++) await engine.processEvent({ vector: vector(i), moralValue: 0.95 });
    expect((await engine.getState({})).state?.pelmUsed).toBe(6);

    const grpc = grpcClient(AdminService, app.grpcPort);
    const { response, error } = await grpcUnary(
      grpc,
      "restoreSnapshot",
      create(RestoreSnapshotRequestSchema, {
        snapshotId: created.snapshot?.snapshotId ?? "",
        reason: "test",
      }),
    );
    expect(error).toBeUndefined();
    expect((response as CreateSnapshotResponse).snapshot?.snapshotId).toBe(created.snapshot?.snapshotId);
    expect((await engine.getState({})).state?.pelmUsed).toBe(3);

    const missing = await grpcUnary(
      grpc,
      "restoreSnapshot",
      create(RestoreSnapshotRequestSchema, { snapshotId: "nope" }),
    );
    grpc.close();
    expect(missing.error?.code).toBe(status.NOT_FOUND);
    expect(missing.error && grpcErrorInfo(missing.error)?.metadata.code).toBe("E402");
  });
});

describe("snapshots without persistent state", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_STATE: "memory" });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("refuses with FAILED_PRECONDITION E408 on both listeners", async () => {
    const error = await connectClient(AdminService, app.httpPort, "connect")
      .createSnapshot({})
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.FailedPrecondition);
    expect(connectErrorInfo(error)?.metadata.code).toBe("E408");
    const grpc = grpcClient(AdminService, app.grpcPort);
    const { error: grpcError } = await grpcUnary(
      grpc,
      "createSnapshot",
      create(CreateSnapshotRequestSchema, {}),
    );
    grpc.close();
    expect(grpcError?.code).toBe(status.FAILED_PRECONDITION);
  });
});

describe("persistence metrics", () => {
  it("exports snapshot age, journal lag and journalled writes", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-snap-metrics-"));
    const app = await startTestServer({ MLSDM_STATE: "sqlite", MLSDM_DATA_DIR: dataDir });
    try {
      await connectClient(EngineService, app.httpPort, "connect").processEvent({
        vector: vector(9),
        moralValue: 0.95,
      });
      const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
      expect(text).toMatch(/^mlsdm_journal_entries_total 1$/m);
      expect(text).toMatch(/^mlsdm_journal_pending_entries 0$/m);
      expect(text).toMatch(/^mlsdm_snapshot_age_seconds \d/m);
    } finally {
      await app.shutdown("test done");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
